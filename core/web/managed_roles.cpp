#include "core/web/managed_roles.hpp"

#include "core/rbac/roles.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace hubd::core::web {
namespace {

using model::holder_kind;
constexpr std::string_view authenticator_source = "authenticator";

bool has(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

bool holder_exists(const model::hub_model& m, holder_kind kind, const std::string& name) {
  switch (kind) {
    case holder_kind::user: return m.find_user(name) != nullptr;
    case holder_kind::group: return m.find_group(name) != nullptr;
    case holder_kind::service: return m.find_service(name) != nullptr;
  }
  return false;
}

}  // namespace

managed_roles_plan plan_managed_roles(const rbac::scope_table& table, const model::hub_model& m, const std::string& user,
                                      const nlohmann::json& roles, const managed_roles_options& options) {
  managed_roles_plan plan;
  if (!roles.is_array()) {
    plan.error = "the auth model's roles must be a list of role dicts";
    return plan;
  }
  std::set<std::string> listed;
  std::map<std::string, std::vector<std::string>> final_scopes;  // of every role the user ends up with
  for (const auto& dict : roles) {
    if (!dict.is_object() || !dict.contains("name") || !dict["name"].is_string()) {
      plan.error = "every managed role needs a name";
      return plan;
    }
    std::string name = dict["name"];
    if (auto bad = rbac::role_name_error(name)) {
      plan.error = "invalid role name " + name + ": " + *bad;
      return plan;
    }
    if (dict.contains("scopes") && !dict["scopes"].is_array()) {
      plan.error = "role " + name + ": scopes must be a list";
      return plan;
    }
    std::optional<std::vector<std::string>> scopes;
    if (dict.contains("scopes")) {
      scopes.emplace();
      for (const auto& s : dict["scopes"]) {
        if (!s.is_string()) {
          plan.error = "role " + name + ": scopes must be strings";
          return plan;
        }
        scopes->push_back(s.get<std::string>());
      }
      try {
        rbac::validate_role(table, rbac::role_def{name, "", *scopes});
      } catch (const std::exception& e) {
        plan.error = e.what();
        return plan;
      }
    }
    std::optional<std::string> description;
    if (dict.contains("description") && dict["description"].is_string()) description = dict["description"].get<std::string>();
    listed.insert(name);
    auto existing = m.find_role(name);
    if (!existing) {
      plan.create.push_back(model::new_role{name, description.value_or(""), scopes.value_or(std::vector<std::string>{}),
                                            std::string(authenticator_source), true});
      final_scopes[name] = scopes.value_or(std::vector<std::string>{});
    } else {
      // Left-out fields are kept; roles other sources own are used as they are.
      final_scopes[name] = scopes.value_or(existing->scopes);
      if (existing->from == authenticator_source || existing->managed_by_auth) {
        model::role_patch p;
        if (description && *description != existing->description) p.description = description;
        if (scopes && *scopes != existing->scopes) p.scopes = scopes;
        if (!existing->managed_by_auth) p.managed_by_auth = true;
        if (p.description || p.scopes || p.managed_by_auth) plan.update.emplace_back(name, std::move(p));
      } else if (scopes && *scopes != existing->scopes) {
        plan.warnings.push_back("role " + name + " comes from the " + existing->from +
                                "; the authenticator's scopes for it are ignored");
        final_scopes[name] = existing->scopes;
      }
    }
    // users, groups, services in a dict set that role's holders of that kind exactly (authenticator grants).
    static const std::pair<const char*, holder_kind> kinds[] = {
        {"users", holder_kind::user}, {"groups", holder_kind::group}, {"services", holder_kind::service}};
    for (const auto& [key, kind] : kinds) {
      if (!dict.contains(key) || !dict[key].is_array()) continue;
      std::set<std::string> want;
      for (const auto& h : dict[key]) {
        if (!h.is_string()) continue;
        std::string hn = h.get<std::string>();
        if (kind == holder_kind::user && hn == user) continue;  // the user's own grants follow `listed`
        if (!holder_exists(m, kind, hn)) {
          plan.warnings.push_back("role " + name + ": no " + std::string(key).substr(0, std::string(key).size() - 1) +
                                  " named " + hn + "; skipped");
          continue;
        }
        want.insert(hn);
      }
      auto holders = existing ? m.holders_of(name) : model::role_holders{};
      const auto& current = kind == holder_kind::user    ? holders.users
                            : kind == holder_kind::group ? holders.groups
                                                         : holders.services;
      for (const auto& hn : want)
        if (!has(current, hn)) plan.holders_assign.push_back({name, {kind, hn}});
      for (const auto& hn : current) {
        if (want.count(hn) || (kind == holder_kind::user && hn == user)) continue;
        for (const auto& a : m.assignments_of(kind, hn))
          if (existing && a.role_id == existing->id && a.from == authenticator_source)
            plan.holders_unassign.push_back({name, {kind, hn}});
      }
    }
  }

  // The user's direct grants: listed roles come from the authenticator; unlisted authenticator
  // grants go (the default `user` role included, as in JupyterHub, unless keep_default_roles).
  std::set<std::string> direct;
  std::map<std::int64_t, std::string> role_names;
  for (const auto& role : m.roles_of(holder_kind::user, user)) role_names[role->id] = role->name;
  for (const auto& a : m.assignments_of(holder_kind::user, user)) {
    auto found = role_names.find(a.role_id);
    if (found == role_names.end()) continue;
    const std::string& role_name = found->second;
    bool kept_default = options.keep_default_roles && (role_name == "user" || (role_name == "admin" && options.admin));
    if (a.from == authenticator_source && !listed.count(role_name) && !kept_default) {
      if (!has(plan.unassign, role_name)) plan.unassign.push_back(role_name);
      continue;
    }
    direct.insert(role_name);
  }
  for (const auto& name : listed)
    if (!direct.count(name)) plan.assign.push_back(name);
  if (options.keep_default_roles && !direct.count("user") && !listed.count("user")) {
    plan.assign.push_back("user");
    direct.insert("user");
  }

  // A stripped managed role that nobody else holds, and that the config does not define, goes.
  for (const auto& name : plan.unassign) {
    auto r = m.find_role(name);
    if (!r || !r->managed_by_auth || r->from == "config" || rbac::is_default_role(name)) continue;
    auto holders = m.holders_of(name);
    if (holders.groups.empty() && holders.services.empty() && holders.users.size() == 1 && holders.users[0] == user)
      plan.remove.push_back(name);
  }

  // Does the user keep `self`? Directly or through a group's roles.
  auto grants_self = [&](const std::string& role) {
    auto it = final_scopes.find(role);
    if (it != final_scopes.end()) return has(it->second, "self");
    auto r = m.find_role(role);
    return r && has(r->scopes, "self");
  };
  bool self = false;
  for (const auto& name : direct) self = self || grants_self(name);
  for (const auto& name : listed) self = self || grants_self(name);
  for (const auto& g : m.user_groups(user))
    for (const auto& r : m.roles_of(holder_kind::group, g)) self = self || has(r->scopes, "self");
  plan.loses_self = !self;
  return plan;
}

}  // namespace hubd::core::web
