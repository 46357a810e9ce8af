#include "core/rbac/roles.hpp"

#include <algorithm>
#include <set>

namespace hubd::core::rbac {

namespace {

bool lower(char c) { return c >= 'a' && c <= 'z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }


bool filter_can_match(const scope_def& d, filter_kind k) {
  switch (d.resource) {
    case resource_kind::user: return k == filter_kind::user || k == filter_kind::group;
    case resource_kind::server: return k != filter_kind::service;
    case resource_kind::group: return k == filter_kind::group;
    case resource_kind::service: return k == filter_kind::service;
    case resource_kind::none: return false;
    case resource_kind::unknown: return d.custom;  // metascopes take no filter; custom scopes: services decide
  }
  return false;
}

std::string_view resource_text(const scope_def& d) {
  switch (d.resource) {
    case resource_kind::user: return "is checked against users (only !user= and !group= filters apply)";
    case resource_kind::server:
      return "is checked against servers (only !server=, !user= and !group= filters apply)";
    case resource_kind::group: return "is checked against groups (only !group= filters apply)";
    case resource_kind::service: return "is checked against services (only !service= filters apply)";
    case resource_kind::none: return "is checked without a resource, so only the unfiltered form works";
    case resource_kind::unknown: break;
  }
  return "is a metascope and takes no filter";
}

std::optional<std::vector<std::string>> string_list(const nlohmann::json& entry, const char* key, int index,
                                                    const std::string& role) {
  auto it = entry.find(key);
  if (it == entry.end() || it->is_null()) return std::nullopt;
  if (!it->is_array())
    throw role_error("role " + single_quoted(role) + ": '" + key + "' must be a list of strings", index, key);
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string())
      throw role_error("role " + single_quoted(role) + ": '" + key + "' must be a list of strings", index, key);
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

std::optional<std::string> role_name_error(std::string_view name) {
  if (name.size() < 3 || name.size() > 255)
    return "role name " + single_quoted(name) + " must be 3 to 255 characters long";
  if (!lower(name.front())) return "role name " + single_quoted(name) + " must start with a lowercase letter (a-z)";
  if (!lower(name.back()) && !digit(name.back()))
    return "role name " + single_quoted(name) + " must end with a lowercase letter or a digit";
  for (char c : name.substr(1, name.size() - 2))
    if (!lower(c) && !digit(c) && c != '-' && c != '_' && c != '~' && c != '.')
      return "role name " + single_quoted(name) + " may only contain lowercase letters, digits and - _ ~ .";
  return std::nullopt;
}

std::vector<role_def> default_roles(std::span<const std::string> extra_user_scopes) {
  std::vector<role_def> out = {
      {"user", "Standard user privileges", {"self"}},
      {"admin",
       "Elevated privileges (can do anything)",
       {"admin-ui", "admin:users", "admin:servers", "admin:services", "tokens", "admin:groups", "list:services",
        "read:services", "read:hub", "proxy", "shutdown", "access:services", "access:servers", "read:roles",
        "read:metrics", "shares", "admin:roles"}},
      {"server", "Post activity only", {"users:activity!user", "access:servers!server"}},
      {"token", "Token with same permissions as its owner", {"inherit"}},
  };
  for (const auto& s : extra_user_scopes)
    if (std::find(out[0].scopes.begin(), out[0].scopes.end(), s) == out[0].scopes.end()) out[0].scopes.push_back(s);
  return out;
}

bool is_default_role(std::string_view name) {
  return name == "user" || name == "admin" || name == "server" || name == "token";
}

void validate_role(const scope_table& table, const role_def& role) {
  if (auto err = role_name_error(role.name)) throw role_error(*err, -1, "name");
  std::string who = "role " + single_quoted(role.name);
  try {
    validate_scopes(table, role.scopes, who);
  } catch (const scope_not_found& e) {
    throw role_error(e.what(), -1, "scopes");
  }
}

std::vector<std::string> never_matching_filters(const scope_table& table, std::span<const std::string> raw,
                                                std::string_view who) {
  std::vector<std::string> out;
  for (const auto& s : raw) {
    raw_scope r;
    try {
      r = parse_scope(table, s);
    } catch (const scope_not_found&) {
      continue;  // reported as an error by validation
    }
    if (r.kind == filter_kind::none) continue;
    const auto& closure = r.kind == filter_kind::server ? table.server_closure(r.base) : table.closure(r.base);
    bool can = std::any_of(closure.begin(), closure.end(),
                           [&](scope_id c) { return filter_can_match(table.def(c), r.kind); });
    if (!can)
      out.push_back(std::string(who) + ": the filter '!" + std::string(to_string(r.kind)) +
                    (r.bare ? "" : "=" + r.value) + "' in scope " + single_quoted(s) + " can never match: " +
                    table.name(r.base) + " " + std::string(resource_text(table.def(r.base))));
  }
  return out;
}

loaded_roles load_roles(const scope_table& table, const nlohmann::json& config_roles,
                        std::span<const std::string> extra_user_scopes) {
  loaded_roles out;
  const std::vector<role_def> defaults = default_roles(extra_user_scopes);
  for (const auto& d : defaults) {
    configured_role c;
    c.role = d;
    c.is_default = true;
    out.roles.push_back(std::move(c));
  }
  try {
    validate_scopes(table, extra_user_scopes, "JupyterHub.extra_user_scopes");
  } catch (const scope_not_found& e) {
    throw role_error(std::string("role 'user': ") + e.what(), -1, "extra_user_scopes");
  }
  if (config_roles.is_null()) return out;
  if (!config_roles.is_array()) throw role_error("load_roles must be a list of role tables", -1, {});

  std::set<std::string> seen;
  int index = -1;
  for (const auto& entry : config_roles) {
    ++index;
    if (!entry.is_object()) throw role_error("load_roles entry must be a table", index, {});
    auto name_it = entry.find("name");
    if (name_it == entry.end() || name_it->is_null()) throw role_error("role without a 'name'", index, "name");
    if (!name_it->is_string()) throw role_error("role 'name' must be a string", index, "name");
    std::string name = name_it->get<std::string>();
    if (auto err = role_name_error(name)) throw role_error(*err, index, "name");
    if (!seen.insert(name).second) throw role_error("duplicate role name " + single_quoted(name) + " in load_roles", index, "name");

    std::optional<std::string> description;
    if (auto d = entry.find("description"); d != entry.end() && !d->is_null()) {
      if (!d->is_string()) throw role_error("role " + single_quoted(name) + ": 'description' must be a string", index, "description");
      description = d->get<std::string>();
    }
    auto scopes = string_list(entry, "scopes", index, name);

    configured_role* target = nullptr;
    for (auto& r : out.roles)
      if (r.is_default && r.role.name == name) target = &r;
    if (!target) {
      out.roles.push_back({});
      target = &out.roles.back();
      target->role.name = name;
    }
    target->index = index;
    target->users = string_list(entry, "users", index, name);
    target->groups = string_list(entry, "groups", index, name);
    target->services = string_list(entry, "services", index, name);

    if (target->is_default) {
      const role_def& def = *std::find_if(defaults.begin(), defaults.end(), [&](const role_def& d) { return d.name == name; });
      if (name == "admin") {
        if (description && *description != def.description)
          throw role_error("role 'admin': its description cannot be changed (only its holders may be configured)", index,
                           "description");
        if (scopes && std::set<std::string>(scopes->begin(), scopes->end()) !=
                          std::set<std::string>(def.scopes.begin(), def.scopes.end()))
          throw role_error("role 'admin': its scopes cannot be changed (only its holders may be configured)", index,
                           "scopes");
      }
      if (description) target->role.description = *description;
      if (scopes) {
        if (name == "user" && !extra_user_scopes.empty())
          out.warnings.push_back("role 'user' has explicit scopes in load_roles: JupyterHub.extra_user_scopes is ignored");
        if (name == "user" && std::find(scopes->begin(), scopes->end(), "self") == scopes->end())
          out.warnings.push_back("role 'user' is configured without 'self': users lose access to their own resources");
        target->role.scopes = *scopes;
      }
    } else {
      target->role.description = description.value_or("");
      target->role.scopes = scopes.value_or(std::vector<std::string>{});
      if (target->role.scopes.empty()) out.warnings.push_back("role " + single_quoted(name) + " has no scopes");
    }
    try {
      validate_role(table, target->role);
    } catch (const role_error& e) {
      throw role_error(e.what(), index, e.key());
    }
  }
  for (const auto& r : out.roles) {
    auto w = never_matching_filters(table, r.role.scopes, "role " + single_quoted(r.role.name));
    out.warnings.insert(out.warnings.end(), w.begin(), w.end());
  }
  return out;
}

std::vector<std::string> role_scopes(std::span<const role_def* const> roles) {
  std::set<std::string> all;
  for (const role_def* r : roles)
    if (r) all.insert(r->scopes.begin(), r->scopes.end());
  return {all.begin(), all.end()};
}

}  // namespace hubd::core::rbac
