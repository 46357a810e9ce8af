#pragma once
// The scope table: every scope hubd knows (JupyterHub 6 built-ins, hubd's `admin:roles`, then custom
// scopes), each with its description, direct subscopes and the kind of resource it is checked against.
// Scopes are interned: a scope is a small integer id, so sets and checks never compare strings.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hubd::core::rbac {

using scope_id = std::uint16_t;

// Built-in scope ids, in table order. Handlers use these directly instead of looking names up.
enum class builtin : scope_id {
  no_scope,
  self,
  inherit,
  admin_ui,
  admin_users,
  admin_auth_state,
  users,
  delete_users,
  list_users,
  read_users,
  read_users_name,
  read_users_groups,
  read_users_activity,
  read_roles,
  read_roles_users,
  read_roles_services,
  read_roles_groups,
  users_activity,
  admin_servers,
  admin_server_state,
  servers,
  read_servers,
  start_servers,
  delete_servers,
  tokens,
  read_tokens,
  admin_groups,
  groups,
  list_groups,
  read_groups,
  read_groups_name,
  delete_groups,
  admin_services,
  list_services,
  read_services,
  read_services_name,
  read_hub,
  access_servers,
  access_services,
  users_shares,
  read_users_shares,
  groups_shares,
  read_groups_shares,
  read_shares,
  shares,
  proxy,
  shutdown,
  read_metrics,
  admin_roles,  // hubd extension (the roles API)
  count_,
};

constexpr scope_id id(builtin b) { return static_cast<scope_id>(b); }

// What a scope's filter is matched against when an endpoint checks it.
enum class resource_kind : std::uint8_t {
  user,     // user models, tokens, roles of users, ...
  server,   // servers of a user
  group,
  service,
  none,     // hub-wide: only the unfiltered form works
  unknown,  // metascopes and custom scopes: the hub enforces nothing itself
};

struct scope_def {
  std::string name;
  std::string description;
  std::vector<scope_id> subscopes;  // direct children
  resource_kind resource = resource_kind::unknown;
  bool custom = false;
};

// Outcome of add_custom_scopes: on any error nothing was added.
struct custom_scopes_result {
  std::vector<std::string> errors;    // each names the scope
  std::vector<std::string> warnings;  // e.g. ignored extra keys
  std::vector<std::string> added;     // names actually added (identical redefinitions are skipped)
  bool ok() const { return errors.empty(); }
};

// Whether a plugin may register custom scope `name` with `definition` beside the custom scopes
// registered before it (`defined`: {"custom:x": {"description": ..., "subscopes": [...]}}, whose
// subscopes it may name): the rules of add_custom_scopes. The first error, or "" when it may.
std::string custom_scope_error(const nlohmann::json& defined, const std::string& name, const nlohmann::json& definition);

class scope_table {
public:
  // The built-in table. Cheap to copy; build once at start-up and share it read-only.
  scope_table();

  // Adds `{"custom:NAME": {"description": str, "subscopes": [str, ...]?}, ...}` (docs/custom-scopes.md).
  // All or nothing: validates every entry first. Plugins register their scopes the same way.
  custom_scopes_result add_custom_scopes(const nlohmann::json& defs);

  std::optional<scope_id> find(std::string_view name) const;
  const scope_def& def(scope_id s) const { return defs_[s]; }
  const std::string& name(scope_id s) const { return defs_[s].name; }
  std::size_t size() const { return defs_.size(); }

  // Transitive closure including the scope itself, sorted by id.
  const std::vector<scope_id>& closure(scope_id s) const { return closure_[s]; }
  // The closure as carried by a `!server=` filter: children named `read:user*` are dropped.
  const std::vector<scope_id>& server_closure(scope_id s) const { return server_closure_[s]; }

  // True when the name matches the custom scope pattern (JupyterHub's: `custom:` then 3+ of a-z 0-9 _ - * :).
  static bool valid_custom_name(std::string_view name);

private:
  void rebuild_closures();
  scope_id add(std::string name, std::string description, resource_kind resource, bool custom);

  std::vector<scope_def> defs_;
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, scope_id, name_hash, std::equal_to<>> index_;
  std::vector<std::vector<scope_id>> closure_;
  std::vector<std::vector<scope_id>> server_closure_;
};

}  // namespace hubd::core::rbac
