#include "plan.hpp"

#include <algorithm>

namespace hubd::plugins::rtc {
namespace {

using nlohmann::json;

std::set<std::string> string_set(const json& obj, const char* key) {
  std::set<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return out;
  for (const auto& x : *it)
    if (x.is_string()) out.insert(x.get<std::string>());
  return out;
}

std::string message_of(int status, const json& body) {
  if (body.is_object() && body.contains("message") && body["message"].is_string())
    return "HTTP " + std::to_string(status) + ": " + body["message"].get<std::string>();
  return "HTTP " + std::to_string(status);
}

// 200 with an object: parse; 404: absent; else an error.
bool readable(int status, const json& body, const char* what, std::string& error, bool& exists) {
  exists = false;
  if (status == 404) return true;
  if (status != 200) {
    error = message_of(status, body);
    return false;
  }
  if (!body.is_object()) {
    error = std::string("the answer is not a JSON ") + what + " object";
    return false;
  }
  exists = true;
  return true;
}

std::string seg(std::string_view s) { return path_segment(s); }

api_call call(std::string method, std::string path, json body, std::string what, std::vector<int> done_if = {}) {
  return api_call{std::move(method), std::move(path), std::move(body), std::move(done_if), std::move(what)};
}

// Roles the plugin may rewrite: not the defaults, not those the config or the authenticator own (the
// roles API refuses those with 400).
bool role_is_ours(const role_view& r) {
  return r.source != "default" && r.source != "config" && r.source != "authenticator";
}

// Ensure role `name` exists with exactly these scopes and description; grant it to group (if any).
void ensure_role(std::vector<api_call>& calls, const std::string& name, const std::vector<std::string>& scopes,
                 const std::string& description, const role_view& role) {
  if (!role.exists) {
    calls.push_back(call("POST", "/roles", json{{"name", name}, {"description", description}, {"scopes", scopes}},
                         "create role " + name, {409}));
    return;
  }
  auto have = std::set<std::string>(role.scopes.begin(), role.scopes.end());
  auto want = std::set<std::string>(scopes.begin(), scopes.end());
  if (role_is_ours(role) && (have != want || role.description != description))
    calls.push_back(call("PATCH", "/roles/" + seg(name), json{{"description", description}, {"scopes", scopes}},
                         "update role " + name + " to the configured scopes"));
}

}  // namespace

std::optional<user_view> parse_user(int status, const json& body, std::string& error) {
  user_view v;
  if (!readable(status, body, "user", error, v.exists)) return std::nullopt;
  if (v.exists) {
    v.groups = string_set(body, "groups");
    v.roles = string_set(body, "roles");
  }
  return v;
}

std::optional<group_view> parse_group(int status, const json& body, std::string& error) {
  group_view v;
  if (!readable(status, body, "group", error, v.exists)) return std::nullopt;
  if (v.exists) v.users = string_set(body, "users");
  return v;
}

std::optional<role_view> parse_role(int status, const json& body, std::string& error) {
  role_view v;
  if (!readable(status, body, "role", error, v.exists)) return std::nullopt;
  if (v.exists) {
    auto s = string_set(body, "scopes");
    v.scopes.assign(s.begin(), s.end());
    v.users = string_set(body, "users");
    v.groups = string_set(body, "groups");
    if (body.contains("description") && body["description"].is_string()) v.description = body["description"];
    if (body.contains("source") && body["source"].is_string()) v.source = body["source"];
  }
  return v;
}

collaboration_names names_of(const rtc_config& cfg, std::string_view collaboration) {
  collaboration_names n;
  n.name = std::string(collaboration);
  n.user = cfg.user_pattern.expand(collaboration);
  n.group = n.user;
  n.role = cfg.role_pattern.expand(collaboration);
  if (collaboration.empty()) n.problem = "the collaboration name is empty";
  else if (auto bad = username_problem(n.user)) n.problem = "'" + n.user + "' is not a valid user name: " + *bad;
  else if (auto bad_role = role_name_problem(n.role)) n.problem = "'" + n.role + "' is not a valid role name: " + *bad_role;
  else if (n.user == cfg.marker_group) n.problem = "'" + n.user + "' is the marker group's name";
  return n;
}

std::vector<std::string> role_scopes_of(const rtc_config& cfg, const collaboration_names& n) {
  std::vector<std::string> out;
  for (const auto& s : cfg.role_scopes)
    out.push_back(substitute(s, {{"user", n.user}, {"name", n.name}, {"group", n.group}}));
  return out;
}

std::vector<std::string> collaborations_of(const rtc_config& cfg, const json& auth_model) {
  std::set<std::string> out;
  std::string me = auth_model.is_object() && auth_model.contains("name") && auth_model["name"].is_string()
                       ? auth_model["name"].get<std::string>()
                       : std::string();
  if (cfg.group_pattern && auth_model.is_object())
    for (const auto& g : string_set(auth_model, "groups"))
      if (auto name = cfg.group_pattern->match(g)) out.insert(*name);
  for (const auto& [name, members] : cfg.collaborations)
    if (std::find(members.begin(), members.end(), me) != members.end()) out.insert(name);
  return {out.begin(), out.end()};
}

std::vector<std::string> left_collaborations(const rtc_config& cfg, const user_view& me,
                                             const std::vector<std::string>& current, const json& auth_model) {
  const bool groups_known =
      cfg.group_pattern && auth_model.is_object() && auth_model.contains("groups") && auth_model["groups"].is_array();
  std::vector<std::string> out;
  for (const auto& g : me.groups) {
    if (g == cfg.marker_group) continue;
    auto name = cfg.user_pattern.match(g);
    if (!name || std::find(current.begin(), current.end(), *name) != current.end()) continue;
    if (groups_known || cfg.collaborations.count(*name)) out.push_back(*name);
  }
  return out;
}

std::optional<std::string> login_refusal(const rtc_config& cfg, std::string_view name, const user_view& me) {
  if (cfg.collaborations_enabled() && cfg.user_pattern.match(name))
    return "'" + std::string(name) + "' has the shape of a collaborative user (" + cfg.user_pattern.text() +
           "); collaborative users cannot log in";
  if (me.exists && me.groups.count(cfg.marker_group))
    return "'" + std::string(name) + "' is a collaborative user (in group " + cfg.marker_group +
           "); collaborative users cannot log in";
  return std::nullopt;
}

unit_plan plan_user(const rtc_config& cfg, std::string_view me, const user_view& me_view, const group_view& marker,
                    const role_view& self_role, bool participates) {
  unit_plan p;
  p.unit = "user " + std::string(me);
  if (!participates) return p;
  if (cfg.collaborations_enabled() && !marker.exists)
    p.calls.push_back(call("POST", "/groups/" + seg(cfg.marker_group), nullptr,
                           "create marker group " + cfg.marker_group, {409}));
  if (!cfg.self_role.empty() && !self_role.exists)
    p.calls.push_back(call("POST", "/roles",
                           json{{"name", cfg.self_role},
                                {"description", "Explicit self for users of RTC collaborations"},
                                {"scopes", {"self"}}},
                           "create role " + cfg.self_role, {409}));
  // The login creates the user only after the post_auth hooks; group membership needs it now.
  if (!me_view.exists) {
    p.calls.push_back(call("POST", "/users/" + seg(me), nullptr, "create user " + std::string(me), {409}));
    auto give_back = call("DELETE", "/roles/user/users", json{{"users", {me}}},
                          "leave the default role of " + std::string(me) + " to the login");
    give_back.only_after_create = true;
    p.calls.push_back(std::move(give_back));
  }
  if (!cfg.self_role.empty() && !me_view.roles.count(cfg.self_role))
    p.calls.push_back(call("POST", "/roles/" + seg(cfg.self_role) + "/users", json{{"users", {me}}},
                           "grant role " + cfg.self_role + " to " + std::string(me)));
  return p;
}

unit_plan plan_join(const rtc_config& cfg, std::string_view me, std::string_view collaboration,
                    const collaboration_view& v) {
  unit_plan p;
  p.unit = "collaboration " + std::string(collaboration);
  auto n = names_of(cfg, collaboration);
  if (n.problem) {
    p.error = *n.problem;
    return p;
  }
  if (v.user.exists && !v.user.groups.count(cfg.marker_group)) {
    p.error = "user '" + n.user + "' exists and is not collaborative (not in group " + cfg.marker_group +
              "): it is a real user; rename the collaboration or change user_pattern";
    return p;
  }
  if (!v.user.exists)
    p.calls.push_back(call("POST", "/users/" + seg(n.user), nullptr, "create collaborative user " + n.user, {409}));
  if (!v.user.groups.count(cfg.marker_group))
    p.calls.push_back(call("POST", "/groups/" + seg(cfg.marker_group) + "/users", json{{"users", {n.user}}},
                           "mark " + n.user + " as collaborative"));
  if (!cfg.self_role.empty() && !v.user.roles.count(cfg.self_role))
    p.calls.push_back(call("POST", "/roles/" + seg(cfg.self_role) + "/users", json{{"users", {n.user}}},
                           "grant role " + cfg.self_role + " to " + n.user));
  if (!v.group.exists)
    p.calls.push_back(call("POST", "/groups/" + seg(n.group), nullptr, "create group " + n.group, {409}));
  if (!v.group.users.count(std::string(me)))
    p.calls.push_back(call("POST", "/groups/" + seg(n.group) + "/users", json{{"users", {me}}},
                           "add " + std::string(me) + " to group " + n.group));
  auto description = substitute(cfg.role_description, {{"user", n.user}, {"name", n.name}, {"group", n.group}});
  ensure_role(p.calls, n.role, role_scopes_of(cfg, n), description, v.role);
  if (!v.role.groups.count(n.group))
    p.calls.push_back(call("POST", "/roles/" + seg(n.role) + "/groups", json{{"groups", {n.group}}},
                           "grant role " + n.role + " to group " + n.group));
  return p;
}

unit_plan plan_leave(const rtc_config& cfg, std::string_view me, std::string_view collaboration,
                     const collaboration_view& v) {
  unit_plan p;
  p.unit = "collaboration " + std::string(collaboration);
  auto n = names_of(cfg, collaboration);
  // Only what is provably a collaboration is touched: a group of that shape made by someone else stays.
  if (n.problem || !v.user.exists || !v.user.groups.count(cfg.marker_group)) return p;
  if (v.group.users.count(std::string(me)))
    p.calls.push_back(call("DELETE", "/groups/" + seg(n.group) + "/users", json{{"users", {me}}},
                           "remove " + std::string(me) + " from group " + n.group));
  auto rest = v.group.users;
  rest.erase(std::string(me));
  if (cfg.on_empty == on_empty_policy::remove && rest.empty()) {
    if (v.role.exists && role_is_ours(v.role))
      p.calls.push_back(call("DELETE", "/roles/" + seg(n.role), nullptr, "delete role " + n.role, {404}));
    if (v.group.exists)
      p.calls.push_back(call("DELETE", "/groups/" + seg(n.group), nullptr, "delete group " + n.group, {404}));
    p.calls.push_back(call("DELETE", "/users/" + seg(n.user), nullptr, "delete collaborative user " + n.user, {404}));
  }
  return p;
}

unit_plan plan_sharing(const rtc_config& cfg, std::string_view me, const user_view& me_view, const group_view& group,
                       const role_view& role, const role_view& owner_role) {
  unit_plan p;
  p.unit = "sharing " + std::string(me);
  std::string g = cfg.sharing_group_pattern.expand(me);
  std::string r = cfg.sharing_role_pattern.expand(me);
  std::string o = cfg.sharing_owner_role_pattern.expand(me);
  if (auto bad = group_name_problem(g)) p.error = "'" + g + "' is not a valid group name: " + *bad;
  else if (auto bad_r = role_name_problem(r)) p.error = "'" + r + "' is not a valid role name: " + *bad_r;
  else if (auto bad_o = role_name_problem(o); bad_o && !cfg.sharing_owner_scopes.empty())
    p.error = "'" + o + "' is not a valid role name: " + *bad_o;
  if (p.error) return p;
  const std::vector<std::pair<std::string, std::string>> values{{"user", std::string(me)}, {"group", g}};
  if (!group.exists) p.calls.push_back(call("POST", "/groups/" + seg(g), nullptr, "create group " + g, {409}));
  std::vector<std::string> scopes;
  for (const auto& s : cfg.sharing_scopes) scopes.push_back(substitute(s, values));
  ensure_role(p.calls, r, scopes, "Members of " + g + " may use the servers of " + std::string(me), role);
  if (!role.groups.count(g))
    p.calls.push_back(call("POST", "/roles/" + seg(r) + "/groups", json{{"groups", {g}}},
                           "grant role " + r + " to group " + g));
  if (!cfg.sharing_owner_scopes.empty()) {
    std::vector<std::string> owner_scopes;
    for (const auto& s : cfg.sharing_owner_scopes) owner_scopes.push_back(substitute(s, values));
    ensure_role(p.calls, o, owner_scopes, std::string(me) + " chooses the members of " + g, owner_role);
    if (!me_view.roles.count(o))
      p.calls.push_back(call("POST", "/roles/" + seg(o) + "/users", json{{"users", {me}}},
                             "grant role " + o + " to " + std::string(me)));
  }
  return p;
}

json spawn_patch(const rtc_config& cfg, const json& spawner, bool collaborative) {
  if (!collaborative) return json::object();
  json patch = json::object();
  if (!cfg.server_args.empty()) {
    // The patch is a JSON merge patch (RFC 7396): a list replaces the list, so the spawner's own args
    // are kept in front and ours appended once.
    json args = json::array();
    if (spawner.is_object() && spawner.contains("args") && spawner["args"].is_array())
      for (const auto& a : spawner["args"])
        if (a.is_string()) args.push_back(a);
    for (const auto& a : cfg.server_args)
      if (std::find(args.begin(), args.end(), json(a)) == args.end()) args.push_back(a);
    patch["args"] = std::move(args);
  }
  if (!cfg.server_env.empty()) patch["env"] = cfg.server_env;
  return patch;
}

}  // namespace hubd::plugins::rtc
