// The "dummy" authenticator, like JupyterHub's DummyAuthenticator: accepts any user name, and when
// [plugins.dummy] password is set, requires that shared password. [plugins.dummy] groups = {alice =
// ["team-a"]} makes it an identity source for groups: the auth model then carries `groups` (the listed
// groups, or [] for an unlisted user), as an OAuth authenticator's would; [plugins.dummy] auth_roles =
// {alice = ["user"]} does the same for `roles` (a list of {"name": ...} role dicts, only for listed
// users), to exercise Authenticator.manage_roles. (`roles` itself is hubd's key of every plugin table.)
// [plugins.dummy] managed_roles = [{name, scopes, users, ...}] is what load_managed_roles() returns.
// For testing only.
#include <hubd/sdk.hpp>

#include <nlohmann/json.hpp>

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

const hubd_host* g_host = nullptr;

struct dummy {
  std::string password;  // empty: any password
  // user -> groups; nullopt: the auth model has no `groups` at all
  std::optional<std::map<std::string, std::vector<std::string>>> groups;
  std::map<std::string, std::vector<std::string>> roles;  // user -> role names
  json managed_roles = json::array();                      // load_managed_roles() at start-up
};

// A table of user = [names]; false (with err written) when it is not one.
bool read_table(const json& value, const std::string& key, std::map<std::string, std::vector<std::string>>& out,
                hubd_sink* err) {
  if (!value.is_object()) {
    hubd::sdk::write(err, "[plugins.dummy] " + key + ": must be a table of user = [names]");
    return false;
  }
  for (const auto& [user, list] : value.items()) {
    bool ok = list.is_array();
    for (const auto& g : ok ? list : json::array()) ok = ok && g.is_string();
    if (!ok) {
      hubd::sdk::write(err, "[plugins.dummy] " + key + "." + user + ": must be a list of strings");
      return false;
    }
    out[user] = list.get<std::vector<std::string>>();
  }
  return true;
}

// Config keys are matched against the name as typed and as hubd normalizes it (lower case).
template <class M>
auto find_user(const M& table, const std::string& username) {
  std::string lower = username;
  for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  auto it = table.find(username);
  return it != table.end() ? it : table.find(lower);
}

hubd_plugin_obj* create(hubd_host_obj*, hubd_str config_json, hubd_sink* err) noexcept {
  return hubd::sdk::barrier<hubd_plugin_obj*>(nullptr, [&]() -> hubd_plugin_obj* {
    json cfg = json::parse(hubd::sdk::view(config_json), nullptr, false);
    if (!cfg.is_object()) {
      hubd::sdk::write(err, "[plugins.dummy] config is not a JSON object");
      return nullptr;
    }
    auto d = std::make_unique<dummy>();
    for (const auto& [key, value] : cfg.items()) {
      if (key == "password") {
        if (!value.is_string()) {
          hubd::sdk::write(err, "[plugins.dummy] password: must be a string");
          return nullptr;
        }
        d->password = value.get<std::string>();
      } else if (key == "groups") {
        if (!read_table(value, key, d->groups.emplace(), err)) return nullptr;
      } else if (key == "auth_roles") {
        if (!read_table(value, key, d->roles, err)) return nullptr;
      } else if (key == "managed_roles") {
        if (!value.is_array()) {
          hubd::sdk::write(err, "[plugins.dummy] managed_roles: must be a list of role tables");
          return nullptr;
        }
        d->managed_roles = value;
      } else {
        hubd::sdk::write(err, "[plugins.dummy] unknown config key '" + key +
                                  "' (known: password, groups, auth_roles, managed_roles)");
        return nullptr;
      }
    }
    return reinterpret_cast<hubd_plugin_obj*>(d.release());
  });
}

void destroy(hubd_plugin_obj* self) noexcept { delete reinterpret_cast<dummy*>(self); }

void authenticate(hubd_plugin_obj* self, hubd_host_obj*, hubd_op* op, hubd_str input) noexcept {
  hubd::sdk::op_barrier(g_host, op, [&] {
    const auto* d = reinterpret_cast<const dummy*>(self);
    json data = json::parse(hubd::sdk::view(input), nullptr, false);
    if (!data.is_object()) {
      hubd::sdk::fail(g_host, op, 400, "login data is not a JSON object");
      return;
    }
    std::string username = data.value("username", std::string());
    std::string password = data.contains("password") && data["password"].is_string() ? data["password"].get<std::string>() : "";
    if (username.empty() || (!d->password.empty() && password != d->password)) {
      hubd::sdk::complete(g_host, op, HUBD_DENIED, R"({"message":"Invalid username or password"})");
      return;
    }
    json model{{"name", username}};
    if (d->groups) {
      auto it = find_user(*d->groups, username);
      model["groups"] = it == d->groups->end() ? json::array() : json(it->second);
    }
    if (auto it = find_user(d->roles, username); it != d->roles.end()) {
      json roles = json::array();
      for (const auto& r : it->second) roles.push_back(json{{"name", r}});
      model["roles"] = std::move(roles);
    }
    hubd::sdk::complete(g_host, op, HUBD_OK, model.dump());
  });
}

// Authenticator.load_managed_roles(): the configured role dicts (none by default, as in JupyterHub).
void load_managed_roles(hubd_plugin_obj* self, hubd_host_obj*, hubd_op* op, hubd_str) noexcept {
  hubd::sdk::op_barrier(g_host, op, [&] {
    const auto* d = reinterpret_cast<const dummy*>(self);
    hubd::sdk::complete(g_host, op, HUBD_OK, json{{"roles", d->managed_roles}}.dump());
  });
}

hubd_authenticator_vtbl make_vtbl() {
  hubd_authenticator_vtbl v{};
  v.struct_size = sizeof v;
  v.flags = HUBD_FLAG_CONCURRENT;  // read-only after create
  v.create = &create;
  v.destroy = &destroy;
  v.authenticate = &authenticate;
  v.load_managed_roles = &load_managed_roles;
  return v;
}
const hubd_authenticator_vtbl vtbl = make_vtbl();

const void* get_factory(const char* id) noexcept {
  return std::strcmp(id, HUBD_FACTORY_AUTHENTICATOR) == 0 ? &vtbl : nullptr;
}

const hubd_plugin_desc desc = {sizeof(hubd_plugin_desc), HUBD_KIND_AUTHENTICATOR, "dummy", "1.0.0",
                               "accepts any user; optional shared password (testing only)", &get_factory};
const hubd_plugin_desc* const plugin_list[] = {&desc};

bool init(const hubd_host* host, hubd_sink*) noexcept {
  g_host = host;
  return true;
}
void deinit() noexcept { g_host = nullptr; }

const hubd_plugin_entry entry = {sizeof(hubd_plugin_entry), HUBD_ABI_MAJOR, HUBD_ABI_MINOR, "dummy_authenticator",
                                 "1.0.0", &init, &deinit, 1, plugin_list};

}  // namespace

extern "C" HUBD_EXPORT const hubd_plugin_entry* hubd_plugin_entry_v1(void) { return &entry; }
