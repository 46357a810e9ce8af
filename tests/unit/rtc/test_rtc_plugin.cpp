// Loads the real rtc_collab.so (and dummy_authenticator.so) through the C ABI with a minimal host that
// has no internal API: the ABI glue, the barriers, "completed exactly once", and the paths that must
// hold without the API (refusing collaborative logins, failing closed in pre_spawn). What the plugin
// makes through the API is tested against a real hubd in tests/integration/test_rtc_collab.py.
#include <hubd/plugin.h>

#include <catch2/catch.hpp>
#include <dlfcn.h>
#include <nlohmann/json.hpp>

#include <mutex>
#include <string>
#include <vector>

using nlohmann::json;

namespace {

struct completion {
  hubd_status status;
  std::string result;
};

struct recorder {
  std::mutex mu;
  std::vector<std::string> logs;
  std::vector<completion> completions;
  void clear() {
    std::lock_guard lock(mu);
    logs.clear();
    completions.clear();
  }
  bool logged(const std::string& part) {
    std::lock_guard lock(mu);
    for (const auto& l : logs)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }
};
recorder rec;

void host_log(hubd_host_obj*, int32_t, hubd_str msg) {
  std::lock_guard lock(rec.mu);
  rec.logs.emplace_back(msg.ptr, msg.len);
}
hubd_status host_complete(hubd_op*, hubd_status status, hubd_str result) {
  std::lock_guard lock(rec.mu);
  rec.completions.push_back({status, std::string(result.ptr, result.len)});
  return HUBD_OK;
}
hubd_status host_progress(hubd_op*, hubd_str) { return HUBD_OK; }
hubd_status host_post_event(hubd_host_obj*, uint64_t) { return HUBD_OK; }
const void* host_extension(const hubd_host*, const char*) { return nullptr; }  // no internal API
bool host_is_pool_thread() { return true; }

hubd_host make_host() {
  hubd_host h{};
  h.struct_size = sizeof h;
  h.abi_major = HUBD_ABI_MAJOR;
  h.abi_minor = HUBD_ABI_MINOR;
  h.log = &host_log;
  h.complete = &host_complete;
  h.progress = &host_progress;
  h.post_event = &host_post_event;
  h.get_extension = &host_extension;
  h.is_pool_thread = &host_is_pool_thread;
  return h;
}
const hubd_host host = make_host();

void write_string(void* ctx, hubd_str piece) { static_cast<std::string*>(ctx)->append(piece.ptr, piece.len); }

// A loaded plugin library (never unloaded, as hubd does).
const hubd_plugin_desc& load(const char* path) {
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  INFO(path << ": " << (lib ? "" : dlerror()));
  REQUIRE(lib);
  auto entry_fn = reinterpret_cast<hubd_plugin_entry_fn>(dlsym(lib, HUBD_ENTRY_SYMBOL));
  REQUIRE(entry_fn);
  const hubd_plugin_entry* entry = entry_fn();
  REQUIRE(entry->abi_major == HUBD_ABI_MAJOR);
  REQUIRE(entry->plugin_count == 1);
  std::string err;
  hubd_sink sink{&err, &write_string};
  REQUIRE(entry->init(&host, &sink));
  return *entry->plugins[0];
}

const hubd_hooks_vtbl& rtc_vtbl() {
  static const hubd_plugin_desc& desc = load(RTC_PLUGIN_PATH);
  REQUIRE(std::string(desc.name) == "rtc_collab");
  REQUIRE(desc.kind == HUBD_KIND_HOOKS);
  return *static_cast<const hubd_hooks_vtbl*>(desc.get_factory(HUBD_FACTORY_HOOKS));
}

hubd_plugin_obj* create(const hubd_hooks_vtbl& v, const json& cfg, std::string& err) {
  auto text = cfg.dump();
  hubd_sink sink{&err, &write_string};
  return v.create(nullptr, hubd_str{text.data(), text.size()}, &sink);
}

completion call(const hubd_hooks_vtbl& v, hubd_plugin_obj* obj, const char* point, const std::string& input) {
  rec.clear();
  int op_storage = 0;
  v.call(obj, nullptr, reinterpret_cast<hubd_op*>(&op_storage), point, hubd_str{input.data(), input.size()});
  std::lock_guard lock(rec.mu);
  REQUIRE(rec.completions.size() == 1);  // exactly once, before returning (a synchronous plugin)
  return rec.completions[0];
}

}  // namespace

TEST_CASE("rtc_collab.so: create checks the config and names the key", "[rtc][plugin]") {
  const auto& v = rtc_vtbl();
  CHECK(v.flags & HUBD_FLAG_CONCURRENT);
  std::vector<std::string> points;
  for (auto p = v.hook_points; *p; ++p) points.emplace_back(*p);
  CHECK(points == std::vector<std::string>{"post_auth", "pre_spawn"});
  std::string err;
  CHECK_FALSE(create(v, json{{"group_prefix", "team-"}, {"colour", "red"}}, err));
  CHECK(err.find("[plugins.rtc_collab] colour: unknown key") == 0);
  err.clear();
  auto obj = create(v, json{{"group_prefix", "team-"}}, err);
  REQUIRE(obj);
  CHECK(err.empty());
  CHECK(rec.logged("rtc: this hubd has no internal API"));
  v.destroy(obj);
}

TEST_CASE("rtc_collab.so: post_auth without an internal API", "[rtc][plugin]") {
  const auto& v = rtc_vtbl();
  std::string err;
  auto obj = create(v, json{{"group_prefix", "team-"}}, err);
  REQUIRE(obj);

  // A collaborative user's name is refused without asking the hub.
  auto c = call(v, obj, "post_auth", R"({"auth_model": {"name": "collab-a", "groups": []}})");
  CHECK(c.status == HUBD_DENIED);
  CHECK(json::parse(c.result)["message"] == "Collaborative users cannot log in");
  CHECK(rec.logged("rtc: login refused: 'collab-a' has the shape of a collaborative user (collab-{name})"));

  // A real user: the failure to read the hub is logged, and (on_error = "log") the login goes on.
  c = call(v, obj, "post_auth", R"({"name": "alice", "groups": ["team-a"]})");
  CHECK(c.status == HUBD_OK);
  CHECK(c.result == "{}");
  CHECK(rec.logged("rtc: login of alice: reading user alice: HTTP 500"));

  // Malformed input fails the op, once.
  CHECK(call(v, obj, "post_auth", "not json").status == HUBD_FAILED);
  CHECK(call(v, obj, "post_auth", R"({"auth_model": {}})").status == HUBD_FAILED);
  v.destroy(obj);

  obj = create(v, json{{"group_prefix", "team-"}, {"on_error", "deny"}}, err);
  REQUIRE(obj);
  CHECK(call(v, obj, "post_auth", R"({"name": "alice", "groups": ["team-a"]})").status == HUBD_DENIED);
  v.destroy(obj);
}

TEST_CASE("rtc_collab.so: pre_spawn", "[rtc][plugin]") {
  const auto& v = rtc_vtbl();
  std::string err;
  auto obj = create(v, json{{"group_prefix", "team-"}, {"server_env", json{{"HUBD_RTC", "1"}}}}, err);
  REQUIRE(obj);
  // A real user's server: nothing.
  auto c = call(v, obj, "pre_spawn", R"({"user": {"name": "alice", "groups": ["collab-a"]}, "spawner": {"args": []}})");
  CHECK(c.status == HUBD_OK);
  CHECK(json::parse(c.result) == json::object());
  // A collaborative user's server (the user model shows the marker group): the settings.
  c = call(v, obj, "pre_spawn",
           R"({"user": {"name": "collab-a", "groups": ["collaborative"]}, "spawner": {"args": ["--debug"]}})");
  CHECK(c.status == HUBD_OK);
  auto patch = json::parse(c.result);
  CHECK(patch["args"] == json{"--debug", "--LabApp.collaborative=True"});
  CHECK(patch["env"] == json{{"HUBD_RTC", "1"}});
  // The collaborative shape without the marker group is a real user from before the plugin: nothing.
  c = call(v, obj, "pre_spawn", R"({"user": {"name": "collab-a", "groups": []}, "spawner": {}})");
  CHECK(json::parse(c.result) == json::object());
  // Without groups in the input the plugin must ask the hub; it cannot, so the spawn fails (closed).
  c = call(v, obj, "pre_spawn", R"({"user": "collab-a", "spawner": {}})");
  CHECK(c.status == HUBD_FAILED);
  CHECK(rec.logged("rtc: pre_spawn of collab-a: reading user collab-a: HTTP 500"));
  v.destroy(obj);
}

TEST_CASE("dummy_authenticator.so: the groups table makes it an identity source for groups", "[rtc][dummy]") {
  static const hubd_plugin_desc& desc = load(DUMMY_PLUGIN_PATH);
  const auto& v = *static_cast<const hubd_authenticator_vtbl*>(desc.get_factory(HUBD_FACTORY_AUTHENTICATOR));
  auto make = [&](const json& cfg, std::string& err) {
    auto text = cfg.dump();
    hubd_sink sink{&err, &write_string};
    return v.create(nullptr, hubd_str{text.data(), text.size()}, &sink);
  };
  auto login = [&](hubd_plugin_obj* obj, const std::string& name) {
    rec.clear();
    int op_storage = 0;
    auto input = json{{"username", name}, {"password", "x"}}.dump();
    v.authenticate(obj, nullptr, reinterpret_cast<hubd_op*>(&op_storage), hubd_str{input.data(), input.size()});
    std::lock_guard lock(rec.mu);
    REQUIRE(rec.completions.size() == 1);
    REQUIRE(rec.completions[0].status == HUBD_OK);
    return json::parse(rec.completions[0].result);
  };
  std::string err;
  auto plain = make(json::object(), err);
  REQUIRE(plain);
  CHECK_FALSE(login(plain, "alice").contains("groups"));
  v.destroy(plain);

  auto with_groups = make(json{{"groups", json{{"alice", {"team-a", "staff"}}}}}, err);
  REQUIRE(with_groups);
  CHECK(login(with_groups, "alice")["groups"] == json{"team-a", "staff"});
  CHECK(login(with_groups, "Alice")["groups"] == json{"team-a", "staff"});
  CHECK(login(with_groups, "bob")["groups"] == json::array());
  CHECK_FALSE(login(with_groups, "bob").contains("roles"));
  v.destroy(with_groups);

  auto with_roles = make(json{{"auth_roles", json{{"alice", {"user", "team-lead"}}, {"bob", json::array()}}}}, err);
  REQUIRE(with_roles);
  CHECK(login(with_roles, "alice")["roles"] == json::parse(R"([{"name": "user"}, {"name": "team-lead"}])"));
  CHECK(login(with_roles, "bob")["roles"] == json::array());
  CHECK_FALSE(login(with_roles, "carol").contains("roles"));
  CHECK_FALSE(login(with_roles, "carol").contains("groups"));
  v.destroy(with_roles);

  CHECK_FALSE(make(json{{"groups", {"alice"}}}, err));
  CHECK(err.find("[plugins.dummy] groups: must be a table of user = [names]") == 0);
  err.clear();
  CHECK_FALSE(make(json{{"groups", json{{"alice", "team-a"}}}}, err));
  CHECK(err.find("[plugins.dummy] groups.alice: must be a list of strings") == 0);
  err.clear();
  CHECK_FALSE(make(json{{"auth_roles", json{{"alice", {1}}}}}, err));
  CHECK(err.find("[plugins.dummy] auth_roles.alice: must be a list of strings") == 0);
}
