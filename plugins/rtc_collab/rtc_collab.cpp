// The `rtc_collab` hook plugin (docs/rtc.md): real-time collaboration set up at login.
//
// post_auth reads what the hub holds through the internal API, asks plan.hpp what is missing, and
// makes it, unit by unit. pre_spawn gives collaborative users' servers the collaboration settings.
// Every call runs on a plugin-pool thread and blocks on the internal API (call_sync), which never needs
// the pool, so this cannot deadlock as JupyterHub's REST calls from hooks do. The instance is concurrent: logins of
// overlapping collaborations run in parallel, and a collaboration's read-plan-make runs under its own
// lock so two logins never both create it; a 409 from anyone else counts as done and is re-read.
#include "config.hpp"
#include "plan.hpp"

#include <hubd/sdk.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>

namespace {

namespace rtc = hubd::plugins::rtc;
namespace sdk = hubd::sdk;
using nlohmann::json;

const hubd_host* g_host = nullptr;

// A unit that still finds work after this many read-plan-make rounds has someone fighting it.
constexpr int max_rounds = 3;

struct instance {
  rtc::rtc_config cfg;
  // One lock per collaboration name, by hash: a login holds at most one at a time, so stripes shared by
  // two names only serialize them and cannot deadlock.
  std::array<std::mutex, 64> stripes;
  std::mutex& lock_for(std::string_view name) { return stripes[std::hash<std::string_view>{}(name) % stripes.size()]; }
};

instance* self_of(hubd_plugin_obj* p) { return reinterpret_cast<instance*>(p); }

void log(hubd_host_obj* obj, int32_t level, const std::string& msg) { sdk::log(g_host, obj, level, "rtc: " + msg); }

struct answer {
  int status = 0;
  json body;
};

answer api(hubd_host_obj* obj, const std::string& method, const std::string& path, const json& body = nullptr) {
  auto r = sdk::call_sync(g_host, obj, method, path, body.is_null() ? std::string() : body.dump());
  answer a;
  a.status = r.status_code;
  if (!r.body.empty()) {
    a.body = json::parse(r.body, nullptr, false);
    if (a.body.is_discarded()) a.body = json(r.body);
  }
  return a;
}

std::string message_of(const answer& a) {
  std::string m = "HTTP " + std::to_string(a.status);
  if (a.body.is_object() && a.body.contains("message") && a.body["message"].is_string())
    m += ": " + a.body["message"].get<std::string>();
  return m;
}

// Reads, each returning an error through `error` (nullopt result).
std::optional<rtc::user_view> read_user(hubd_host_obj* obj, const std::string& name, std::string& error) {
  auto a = api(obj, "GET", "/users/" + rtc::path_segment(name));
  auto v = rtc::parse_user(a.status, a.body, error);
  if (!v) error = "reading user " + name + ": " + error;
  return v;
}
std::optional<rtc::group_view> read_group(hubd_host_obj* obj, const std::string& name, std::string& error) {
  auto a = api(obj, "GET", "/groups/" + rtc::path_segment(name));
  auto v = rtc::parse_group(a.status, a.body, error);
  if (!v) error = "reading group " + name + ": " + error;
  return v;
}
std::optional<rtc::role_view> read_role(hubd_host_obj* obj, const std::string& name, std::string& error) {
  if (name.empty()) return rtc::role_view{};
  auto a = api(obj, "GET", "/roles/" + rtc::path_segment(name));
  auto v = rtc::parse_role(a.status, a.body, error);
  if (!v) error = "reading role " + name + ": " + error;
  return v;
}

std::optional<rtc::collaboration_view> read_collaboration(hubd_host_obj* obj, const rtc::rtc_config& cfg,
                                                          const std::string& collaboration, std::string& error) {
  auto n = rtc::names_of(cfg, collaboration);
  if (n.problem) return rtc::collaboration_view{};  // the planner reports it; nothing to read
  rtc::collaboration_view v;
  auto u = read_user(obj, n.user, error);
  if (!u) return std::nullopt;
  auto g = read_group(obj, n.group, error);
  if (!g) return std::nullopt;
  auto r = read_role(obj, n.role, error);
  if (!r) return std::nullopt;
  v.user = std::move(*u);
  v.group = std::move(*g);
  v.role = std::move(*r);
  return v;
}

// Runs one unit to a fixed point: read, plan, make; again after a race. Returns the error, if any.
std::optional<std::string> run_unit(hubd_host_obj* obj, const std::function<rtc::unit_plan()>& plan_now) {
  std::string unit;
  for (int round = 0; round < max_rounds; ++round) {
    rtc::unit_plan plan = plan_now();
    unit = plan.unit;
    if (plan.error) return plan.unit + ": " + *plan.error;
    if (plan.calls.empty()) return std::nullopt;
    bool raced = false, previous_raced = false;
    for (const auto& c : plan.calls) {
      if (c.only_after_create && previous_raced) continue;
      previous_raced = false;
      auto a = api(obj, c.method, c.path, c.body);
      if (a.status >= 200 && a.status < 300) {
        log(obj, HUBD_LOG_INFO, c.what);
        continue;
      }
      if (std::find(c.done_if.begin(), c.done_if.end(), a.status) != c.done_if.end()) {
        log(obj, HUBD_LOG_DEBUG, c.what + ": already done by someone else (" + message_of(a) + "), re-reading");
        raced = previous_raced = true;
        continue;
      }
      // Later calls of the unit depend on this one: stop here; the next login picks up from the state.
      return plan.unit + ": " + c.what + " failed: " + message_of(a);
    }
    if (!raced) return std::nullopt;
  }
  return unit + ": not settled after " + std::to_string(max_rounds) + " rounds (concurrent changes)";
}

std::string name_in(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("name") && v["name"].is_string()) return v["name"].get<std::string>();
  return {};
}

// ---- post_auth ----

void post_auth(instance& self, hubd_host_obj* obj, hubd_op* op, const json& input) {
  const auto& cfg = self.cfg;
  // The auth model, as hooks.h documents ({"auth_model": ...}) or bare, as hubd passes it today.
  const json& auth = input.is_object() && input.contains("auth_model") && input["auth_model"].is_object()
                         ? input["auth_model"]
                         : input;
  std::string me = name_in(auth);
  if (me.empty()) {
    sdk::fail(g_host, op, 400, "post_auth input has no auth model name");
    return;
  }
  std::vector<std::string> errors;
  auto finish = [&] {
    for (const auto& e : errors) log(obj, HUBD_LOG_ERROR, "login of " + me + ": " + e);
    if (!errors.empty() && cfg.on_error == rtc::on_error_policy::deny) {
      sdk::complete(g_host, op, HUBD_DENIED,
                    json{{"message", "Login failed: the collaborations of this user could not be set up"}}.dump());
      return;
    }
    sdk::complete(g_host, op, HUBD_OK, "{}");
  };

  auto refuse = [&](const std::string& why) {
    log(obj, HUBD_LOG_WARNING, "login refused: " + why);
    sdk::complete(g_host, op, HUBD_DENIED, json{{"message", "Collaborative users cannot log in"}}.dump());
  };
  // The name's shape first: it needs no API call, so the refusal holds even when the API fails.
  if (auto refusal = rtc::login_refusal(cfg, me, rtc::user_view{})) return refuse(*refusal);
  std::string error;
  auto me_view = read_user(obj, me, error);
  if (!me_view) {
    errors.push_back(error);
    return finish();
  }
  if (auto refusal = rtc::login_refusal(cfg, me, *me_view)) return refuse(*refusal);
  const auto current = rtc::collaborations_of(cfg, auth);
  const auto left = rtc::left_collaborations(cfg, *me_view, current, auth);
  const bool participates = !current.empty() || cfg.sharing;

  auto user_error = run_unit(obj, [&] {
    std::string e;
    auto u = read_user(obj, me, e);
    auto marker = u && cfg.collaborations_enabled() ? read_group(obj, cfg.marker_group, e) : rtc::group_view{};
    auto self_role = u && marker ? read_role(obj, cfg.self_role, e) : std::nullopt;
    if (!u || !marker || !self_role) return rtc::unit_plan{"user " + me, e, {}};
    return rtc::plan_user(cfg, me, *u, *marker, *self_role, participates);
  });
  if (user_error) {
    errors.push_back(*user_error);
    if (!current.empty()) errors.push_back("collaborations skipped: user " + me + " is not set up");
  }

  for (const auto& c : user_error ? std::vector<std::string>{} : current) {
    std::lock_guard lock(self.lock_for(c));
    if (auto e = run_unit(obj, [&] {
          std::string err;
          auto v = read_collaboration(obj, cfg, c, err);
          if (!v) return rtc::unit_plan{"collaboration " + c, err, {}};
          return rtc::plan_join(cfg, me, c, *v);
        }))
      errors.push_back(*e);
  }
  for (const auto& c : left) {
    std::lock_guard lock(self.lock_for(c));
    if (auto e = run_unit(obj, [&] {
          std::string err;
          auto v = read_collaboration(obj, cfg, c, err);
          if (!v) return rtc::unit_plan{"collaboration " + c, err, {}};
          return rtc::plan_leave(cfg, me, c, *v);
        }))
      errors.push_back(*e);
  }
  if (cfg.sharing && !user_error) {
    if (auto e = run_unit(obj, [&] {
          std::string err;
          auto u = read_user(obj, me, err);
          auto g = u ? read_group(obj, cfg.sharing_group_pattern.expand(me), err) : std::nullopt;
          auto r = g ? read_role(obj, cfg.sharing_role_pattern.expand(me), err) : std::nullopt;
          auto o = r ? read_role(obj, cfg.sharing_owner_scopes.empty() ? std::string() : cfg.sharing_owner_role_pattern.expand(me), err)
                     : std::nullopt;
          if (!u || !g || !r || !o) return rtc::unit_plan{"sharing " + me, err, {}};
          return rtc::plan_sharing(cfg, me, *u, *g, *r, *o);
        }))
      errors.push_back(*e);
  }
  finish();
}

// ---- pre_spawn ----

void pre_spawn(instance& self, hubd_host_obj* obj, hubd_op* op, const json& input) {
  const auto& cfg = self.cfg;
  const json spawner = input.is_object() && input.contains("spawner") ? input["spawner"] : json::object();
  json user = input.is_object() && input.contains("user") ? input["user"] : json();
  if (name_in(user).empty() && spawner.is_object() && spawner.contains("user")) user = spawner["user"];
  std::string name = name_in(user);
  bool collaborative = false;
  if (cfg.collaborations_enabled() && !name.empty() && cfg.user_pattern.match(name)) {
    // A name of the collaborative shape is not enough: only members of the marker group are (a real
    // user of that shape from before the plugin was enabled is not).
    if (user.is_object() && user.contains("groups") && user["groups"].is_array()) {
      for (const auto& g : user["groups"])
        if (g.is_string() && g.get<std::string>() == cfg.marker_group) collaborative = true;
    } else {
      std::string error;
      auto v = read_user(obj, name, error);
      if (!v) {
        // Fail the spawn rather than start a collaborative server without its settings.
        log(obj, HUBD_LOG_ERROR, "pre_spawn of " + name + ": " + error);
        sdk::fail(g_host, op, 500, "could not tell whether " + name + " is a collaborative user");
        return;
      }
      collaborative = v->groups.count(cfg.marker_group) > 0;
    }
  }
  json patch = rtc::spawn_patch(cfg, spawner, collaborative);
  if (collaborative) log(obj, HUBD_LOG_INFO, "server of collaborative user " + name + " gets the collaboration settings");
  sdk::complete(g_host, op, HUBD_OK, patch.dump());
}

// ---- ABI ----

hubd_plugin_obj* create(hubd_host_obj* obj, hubd_str config_json, hubd_sink* err) noexcept {
  return sdk::barrier<hubd_plugin_obj*>(nullptr, [&]() -> hubd_plugin_obj* {
    json table = json::parse(sdk::view(config_json), nullptr, false);
    std::string error;
    auto cfg = rtc::parse_config(table.is_discarded() ? json() : table, error);
    if (!cfg) {
      sdk::write(err, error);
      return nullptr;
    }
    if (!g_host->get_extension(g_host, HUBD_EXT_HOST_API))
      log(obj, HUBD_LOG_WARNING, "this hubd has no internal API (" HUBD_EXT_HOST_API "): logins will log errors");
    auto inst = std::make_unique<instance>();
    inst->cfg = std::move(*cfg);
    return reinterpret_cast<hubd_plugin_obj*>(inst.release());
  });
}

void destroy(hubd_plugin_obj* self) noexcept { delete self_of(self); }

void call(hubd_plugin_obj* self, hubd_host_obj* obj, hubd_op* op, const char* hook_point, hubd_str input) noexcept {
  sdk::op_barrier(g_host, op, [&] {
    json in = json::parse(sdk::view(input), nullptr, false);
    if (in.is_discarded()) {
      sdk::fail(g_host, op, 400, "hook input is not JSON");
      return;
    }
    if (std::strcmp(hook_point, HUBD_HOOK_POST_AUTH) == 0) return post_auth(*self_of(self), obj, op, in);
    if (std::strcmp(hook_point, HUBD_HOOK_PRE_SPAWN) == 0) return pre_spawn(*self_of(self), obj, op, in);
    sdk::complete(g_host, op, HUBD_OK, "{}");
  });
}

const char* const hook_points[] = {HUBD_HOOK_POST_AUTH, HUBD_HOOK_PRE_SPAWN, nullptr};

hubd_hooks_vtbl make_vtbl() {
  hubd_hooks_vtbl v{};
  v.struct_size = sizeof v;
  v.flags = HUBD_FLAG_CONCURRENT;  // config is read-only after create; collaborations lock themselves
  v.create = &create;
  v.destroy = &destroy;
  v.hook_points = hook_points;
  v.call = &call;
  return v;
}
const hubd_hooks_vtbl vtbl = make_vtbl();

const void* get_factory(const char* id) noexcept { return std::strcmp(id, HUBD_FACTORY_HOOKS) == 0 ? &vtbl : nullptr; }

const hubd_plugin_desc desc = {sizeof(hubd_plugin_desc), HUBD_KIND_HOOKS, rtc::plugin_name, "1.0.0",
                               "real-time collaboration: collaborative users, groups and roles made at login",
                               &get_factory};
const hubd_plugin_desc* const plugin_list[] = {&desc};

bool init(const hubd_host* host, hubd_sink*) noexcept {
  g_host = host;
  return true;
}
void deinit() noexcept { g_host = nullptr; }

const hubd_plugin_entry entry = {sizeof(hubd_plugin_entry), HUBD_ABI_MAJOR, HUBD_ABI_MINOR, "rtc_collab", "1.0.0",
                                 &init, &deinit, 1, plugin_list};

}  // namespace

extern "C" HUBD_EXPORT const hubd_plugin_entry* hubd_plugin_entry_v1(void) { return &entry; }
