#include "core/rbac/scope_table.hpp"

#include "core/rbac/scope.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <set>

namespace hubd::core::rbac {

namespace {

struct builtin_row {
  builtin id;
  std::string_view name;
  std::string_view description;
  resource_kind resource;
  std::vector<builtin> subscopes;
};

using rk = resource_kind;
using b = builtin;

// Descriptions follow upstream's wording, because they are shown on the OAuth confirm page and
// services' users compare them with JupyterHub's documentation.
const std::vector<builtin_row>& builtin_rows() {
  static const std::vector<builtin_row> rows = {
      {b::no_scope, "(no_scope)", "Identify the owner of the requesting entity.", rk::unknown, {}},
      {b::self, "self", "Your own resources", rk::unknown, {}},
      {b::inherit, "inherit", "Anything you have access to", rk::unknown, {}},
      {b::admin_ui, "admin-ui", "Access the admin page.", rk::none, {}},
      {b::admin_users, "admin:users",
       "Read, modify, create, and delete users and their authentication state, not including their servers or "
       "tokens. This is an extremely privileged scope and should be considered tantamount to superuser.",
       rk::user, {b::admin_auth_state, b::users, b::read_roles_users, b::delete_users}},
      {b::admin_auth_state, "admin:auth_state", "Read a user’s authentication state.", rk::user, {}},
      {b::users, "users",
       "Read and write permissions to user models (excluding servers, tokens and authentication state).", rk::user,
       {b::read_users, b::list_users, b::users_activity}},
      {b::delete_users, "delete:users", "Delete users.", rk::user, {}},
      {b::list_users, "list:users", "List users, including at least their names.", rk::user, {b::read_users_name}},
      {b::read_users, "read:users", "Read user models (including the URL of the default server if it is running).",
       rk::user, {b::read_users_name, b::read_users_groups, b::read_users_activity}},
      {b::read_users_name, "read:users:name", "Read names of users.", rk::user, {}},
      {b::read_users_groups, "read:users:groups", "Read users’ group membership.", rk::user, {}},
      {b::read_users_activity, "read:users:activity", "Read time of last user activity.", rk::user, {}},
      {b::read_roles, "read:roles", "Read role assignments.", rk::user,
       {b::read_roles_users, b::read_roles_services, b::read_roles_groups}},
      {b::read_roles_users, "read:roles:users", "Read user role assignments.", rk::user, {}},
      {b::read_roles_services, "read:roles:services", "Read service role assignments.", rk::service, {}},
      {b::read_roles_groups, "read:roles:groups", "Read group role assignments.", rk::group, {}},
      {b::users_activity, "users:activity", "Update time of last user activity.", rk::user, {b::read_users_activity}},
      {b::admin_servers, "admin:servers", "Read, start, stop, create and delete user servers and their state.",
       rk::server, {b::admin_server_state, b::servers}},
      {b::admin_server_state, "admin:server_state", "Read and write users’ server state.", rk::server, {}},
      {b::servers, "servers", "Start and stop user servers.", rk::server,
       {b::read_servers, b::start_servers, b::delete_servers}},
      {b::read_servers, "read:servers", "Read users’ names and their server models (excluding the server state).",
       rk::server, {b::read_users_name}},
      {b::start_servers, "start:servers", "Start and edit users' servers. (added in JupyterHub 6)", rk::server, {}},
      {b::delete_servers, "delete:servers", "Stop and delete users' servers.", rk::server, {}},
      {b::tokens, "tokens", "Read, write, create and delete user tokens.", rk::user, {b::read_tokens}},
      {b::read_tokens, "read:tokens", "Read user tokens.", rk::user, {}},
      {b::admin_groups, "admin:groups", "Read and write group information, create and delete groups.", rk::group,
       {b::groups, b::read_roles_groups, b::delete_groups}},
      {b::groups, "groups",
       "Read and write group information, including adding/removing any users to/from groups. Note: adding users "
       "to groups may affect permissions.",
       rk::group, {b::read_groups, b::list_groups}},
      {b::list_groups, "list:groups", "List groups, including at least their names.", rk::group,
       {b::read_groups_name}},
      {b::read_groups, "read:groups", "Read group models.", rk::group, {b::read_groups_name}},
      {b::read_groups_name, "read:groups:name", "Read group names.", rk::group, {}},
      {b::delete_groups, "delete:groups", "Delete groups.", rk::group, {}},
      {b::admin_services, "admin:services",
       "Create, read, update, delete services, not including services defined from config files.", rk::service,
       {b::list_services, b::read_services, b::read_roles_services}},
      {b::list_services, "list:services", "List services, including at least their names.", rk::service,
       {b::read_services_name}},
      {b::read_services, "read:services", "Read service models.", rk::service, {b::read_services_name}},
      {b::read_services_name, "read:services:name", "Read service names.", rk::service, {}},
      {b::read_hub, "read:hub", "Read detailed information about the Hub.", rk::none, {}},
      {b::access_servers, "access:servers", "Access user servers via API or browser.", rk::server, {}},
      {b::access_services, "access:services", "Access services via API or browser.", rk::service, {}},
      {b::users_shares, "users:shares", "Read and revoke a user's access to shared servers.", rk::user,
       {b::read_users_shares}},
      {b::read_users_shares, "read:users:shares", "Read servers shared with a user.", rk::user, {}},
      {b::groups_shares, "groups:shares", "Read and revoke a group's access to shared servers.", rk::group,
       {b::read_groups_shares}},
      {b::read_groups_shares, "read:groups:shares", "Read servers shared with a group.", rk::group, {}},
      {b::read_shares, "read:shares", "Read information about shared access to servers.", rk::server, {}},
      {b::shares, "shares", "Manage access to shared servers.", rk::server,
       {b::access_servers, b::read_shares, b::users_shares, b::groups_shares}},
      {b::proxy, "proxy",
       "Read information about the proxy’s routing table, sync the Hub with the proxy and notify the Hub about a "
       "new proxy.",
       rk::none, {}},
      {b::shutdown, "shutdown", "Shutdown the hub.", rk::none, {}},
      // hubd decision: only the unfiltered form passes, so it is checked like read:hub.
      {b::read_metrics, "read:metrics", "Read prometheus metrics.", rk::none, {}},
      {b::admin_roles, "admin:roles", "Create, change, assign and delete roles", rk::none, {}},
  };
  return rows;
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }


}  // namespace

scope_table::scope_table() {
  const auto& rows = builtin_rows();
  defs_.reserve(rows.size());
  for (const auto& row : rows) {
    scope_id got = add(std::string(row.name), std::string(row.description), row.resource, false);
    (void)got;  // ids follow enum order by construction; the unit tests pin it
  }
  for (const auto& row : rows)
    for (builtin sub : row.subscopes) defs_[id(row.id)].subscopes.push_back(id(sub));
  rebuild_closures();
}

scope_id scope_table::add(std::string name, std::string description, resource_kind resource, bool custom) {
  auto sid = static_cast<scope_id>(defs_.size());
  index_.emplace(name, sid);
  defs_.push_back(scope_def{std::move(name), std::move(description), {}, resource, custom});
  return sid;
}

std::optional<scope_id> scope_table::find(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

bool scope_table::valid_custom_name(std::string_view name) {
  constexpr std::string_view prefix = "custom:";
  if (name.substr(0, prefix.size()) != prefix) return false;
  std::string_view rest = name.substr(prefix.size());
  if (rest.size() < 3) return false;
  if (!is_lower_alnum(rest.front())) return false;
  char last = rest.back();
  if (!(is_lower_alnum(last) || last == '_' || last == '*')) return false;
  for (char c : rest.substr(1, rest.size() - 2))
    if (!(is_lower_alnum(c) || c == '_' || c == '-' || c == '*' || c == ':')) return false;
  return true;
}

void scope_table::rebuild_closures() {
  closure_.assign(defs_.size(), {});
  server_closure_.assign(defs_.size(), {});
  for (scope_id s = 0; s < defs_.size(); ++s) {
    std::vector<bool> seen(defs_.size(), false);
    std::vector<scope_id> stack{s};
    while (!stack.empty()) {
      scope_id cur = stack.back();
      stack.pop_back();
      if (seen[cur]) continue;
      seen[cur] = true;
      closure_[s].push_back(cur);
      for (scope_id sub : defs_[cur].subscopes) stack.push_back(sub);
    }
    std::sort(closure_[s].begin(), closure_[s].end());
    for (scope_id c : closure_[s])
      if (defs_[c].name.rfind("read:user", 0) != 0) server_closure_[s].push_back(c);
  }
}

std::string custom_scope_error(const nlohmann::json& defined, const std::string& name, const nlohmann::json& definition) {
  // One table holding what came before (a differing redefinition is refused against it) and the
  // same scopes again plus the new one (so its subscopes may name them).
  scope_table t;
  nlohmann::json all = defined.is_object() ? defined : nlohmann::json::object();
  if (!all.empty())
    if (auto before = t.add_custom_scopes(all); !before.ok()) return before.errors.front();
  all[name] = definition;
  auto r = t.add_custom_scopes(all);
  return r.ok() ? std::string() : r.errors.front();
}

custom_scopes_result scope_table::add_custom_scopes(const nlohmann::json& defs) {
  custom_scopes_result out;
  if (!defs.is_object()) {
    out.errors.push_back("custom scopes must be a table of \"custom:NAME\" = {description = ..., subscopes = [...]}");
    return out;
  }
  struct pending {
    std::string name;
    std::string description;
    std::vector<std::string> subscopes;
  };
  std::vector<pending> todo;
  for (const auto& [name, value] : defs.items()) {
    if (!valid_custom_name(name)) {
      if (find(name)) {
        out.errors.push_back("cannot redefine built-in scope " + single_quoted(name));
      } else {
        out.errors.push_back("invalid custom scope name " + single_quoted(name) +
                             ": custom scopes start with 'custom:' followed by at least 3 characters from lowercase "
                             "ascii letters, digits, '-', '_', ':' and '*'; the part after 'custom:' starts with a "
                             "letter or digit and the name may not end with '-' or ':'");
      }
      continue;
    }
    if (!value.is_object()) {
      out.errors.push_back("custom scope " + single_quoted(name) + ": definition must be a table with a 'description'");
      continue;
    }
    pending p{name, {}, {}};
    auto desc = value.find("description");
    if (desc == value.end()) {
      out.errors.push_back("custom scope " + single_quoted(name) + ": missing key 'description'");
      continue;
    }
    if (!desc->is_string()) {
      out.errors.push_back("custom scope " + single_quoted(name) + ": 'description' must be a string");
      continue;
    }
    p.description = desc->get<std::string>();
    bool bad = false;
    if (auto subs = value.find("subscopes"); subs != value.end()) {
      if (!subs->is_array()) {
        out.errors.push_back("custom scope " + single_quoted(name) + ": 'subscopes' must be a list of scope names");
        continue;
      }
      for (const auto& sub : *subs) {
        if (!sub.is_string()) {
          out.errors.push_back("custom scope " + single_quoted(name) + ": 'subscopes' must be a list of scope names");
          bad = true;
          break;
        }
        std::string sname = sub.get<std::string>();
        if (!defs.contains(sname)) {
          if (auto existing = find(sname); existing && !defs_[*existing].custom)
            out.errors.push_back("custom scope " + single_quoted(name) + ": subscope " + single_quoted(sname) +
                                 " is a built-in scope; custom scopes may only have custom subscopes (use a role "
                                 "to grant several scopes together)");
          else
            out.errors.push_back("custom scope " + single_quoted(name) + ": subscope " + single_quoted(sname) +
                                 " is not defined in the same custom scopes table");
          bad = true;
        } else {
          p.subscopes.push_back(std::move(sname));
        }
      }
    }
    if (bad) continue;
    for (const auto& [key, _] : value.items())
      if (key != "description" && key != "subscopes")
        out.warnings.push_back("custom scope " + single_quoted(name) + ": ignoring unknown key " + single_quoted(key));
    todo.push_back(std::move(p));
  }
  if (!out.errors.empty()) return out;

  // Cycles would make expansion loop forever upstream; hubd rejects them, naming the cycle.
  std::unordered_map<std::string, const pending*> by_name;
  for (const auto& p : todo) by_name.emplace(p.name, &p);
  std::unordered_map<std::string, int> state;  // 0 new, 1 on stack, 2 done
  std::vector<std::string> path;
  std::function<bool(const std::string&)> visit = [&](const std::string& n) {
    int& st = state[n];
    if (st == 2) return false;
    if (st == 1) {
      std::string cycle;
      auto start = std::find(path.begin(), path.end(), n);
      for (auto it = start; it != path.end(); ++it) cycle += *it + " -> ";
      out.errors.push_back("custom scope " + single_quoted(n) + ": subscopes form a cycle: " + cycle + n);
      return true;
    }
    st = 1;
    path.push_back(n);
    for (const auto& sub : by_name.at(n)->subscopes)
      if (visit(sub)) return true;
    path.pop_back();
    state[n] = 2;
    return false;
  };
  for (const auto& p : todo)
    if (visit(p.name)) return out;

  // Redefinition: identical is a no-op, different is an error.
  std::vector<const pending*> fresh;
  for (const auto& p : todo) {
    auto existing = find(p.name);
    if (!existing) {
      fresh.push_back(&p);
      continue;
    }
    const scope_def& d = defs_[*existing];
    std::vector<std::string> have;
    for (scope_id s : d.subscopes) have.push_back(defs_[s].name);
    std::vector<std::string> want = p.subscopes;
    std::sort(have.begin(), have.end());
    std::sort(want.begin(), want.end());
    if (d.description != p.description || have != want)
      out.errors.push_back("cannot redefine custom scope " + single_quoted(p.name) +
                           " with a different description or subscopes");
  }
  if (!out.errors.empty()) return out;
  if (defs_.size() + fresh.size() > std::numeric_limits<scope_id>::max()) {
    out.errors.push_back("too many custom scopes (at most " +
                         std::to_string(std::numeric_limits<scope_id>::max() - id(builtin::count_)) + ")");
    return out;
  }
  for (const pending* p : fresh) {
    add(p->name, p->description, resource_kind::unknown, true);
    out.added.push_back(p->name);
  }
  for (const pending* p : fresh) {
    scope_def& d = defs_[*find(p->name)];
    for (const auto& sub : p->subscopes) d.subscopes.push_back(*find(sub));
  }
  rebuild_closures();
  return out;
}

}  // namespace hubd::core::rbac
