#pragma once
// Roles: name rules, the four default roles, validation against a scope table,
// `load_roles` merged over the defaults, and the warnings about filters that never match.
#include "core/rbac/expand.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::rbac {

struct role_def {
  std::string name;
  std::string description;
  std::vector<std::string> scopes;  // raw
  bool operator==(const role_def&) const = default;
};

// A bad role. `index` is the position in `load_roles` (-1 when not from it) and `key` the offending
// field ("name", "scopes", "description", ...), so callers can point at the config file line.
class role_error : public std::invalid_argument {
public:
  role_error(const std::string& message, int index = -1, std::string key = {})
      : std::invalid_argument(message), index_(index), key_(std::move(key)) {}
  int index() const { return index_; }
  const std::string& key() const { return key_; }

private:
  int index_;
  std::string key_;
};

// nullopt when valid; otherwise why not (3-255 chars, lowercase ascii, starts with a letter,
// ends with a letter or digit, middle a-z 0-9 - _ ~ .).
std::optional<std::string> role_name_error(std::string_view name);

// user, admin, server, token exactly as JupyterHub 6 (admin also gets hubd's admin:roles).
// `extra_user_scopes` are appended to the user role (JupyterHub.extra_user_scopes).
std::vector<role_def> default_roles(std::span<const std::string> extra_user_scopes = {});
bool is_default_role(std::string_view name);

// Throws role_error naming the role and the bad scope.
void validate_role(const scope_table& table, const role_def& role);

// Warnings for filters that can never match for their scope, naming both the holder
// (e.g. "role 'x'") and the scope. Bare filters count as their kind.
std::vector<std::string> never_matching_filters(const scope_table& table, std::span<const std::string> raw,
                                                std::string_view who);

// One `load_roles` entry after merging. Holder lists are as written: nullopt when the key was left
// out (the model applies the start-up membership rules, which differ per role).
struct configured_role {
  role_def role;
  std::optional<std::vector<std::string>> users, groups, services;
  int index = -1;             // position in load_roles; -1 for a default role not in the config
  bool is_default = false;
};

struct loaded_roles {
  std::vector<configured_role> roles;  // the 4 default roles first (merged), then the config's roles
  std::vector<std::string> warnings;
};

// `load_roles` (a JSON array of tables) merged over the default roles. Throws role_error
// (duplicate names, bad names, unknown scopes, a changed admin role, wrong types).
loaded_roles load_roles(const scope_table& table, const nlohmann::json& load_roles,
                        std::span<const std::string> extra_user_scopes = {});

// The raw scopes of a set of roles (their union, as upstream's roles_to_scopes), duplicates removed.
std::vector<std::string> role_scopes(std::span<const role_def* const> roles);

}  // namespace hubd::core::rbac
