#pragma once
// Start-up: makes the database agree with the config, in JupyterHub's order:
// custom scopes → roles (create, update, delete) → users (admin_users, allowed_users) → load_groups
// → services → role assignments → admin flags ↔ admin role → blocked-user stripping.
//
// hubd's provenance rule decides what "delete roles not in the config" means: only
// roles whose source is `config` disappear when the config drops them; roles made through the roles
// API or by a plugin or authenticator stay.
#include "core/app/config.hpp"

#include <string>
#include <vector>

namespace hubd::core::model {
class hub_model;
}
namespace hubd::core::rbac {
class scope_table;
}

namespace hubd::core::app {

struct bootstrap_report {
  std::vector<std::string> warnings;  // logged by the caller
  std::size_t users_created = 0;
  std::size_t roles_created = 0;
  std::size_t roles_deleted = 0;
};

// The authenticator's load_managed_roles() result ({"roles": [role dicts]}) at start-up:
// each role is created or updated as managed (fields left out are kept), its `users`, `groups` and
// `services` keys set those holders exactly; with Authenticator.reset_managed_roles_on_startup,
// managed roles it does not return are deleted, and managed grants it does not re-declare go (a dict
// without `users` keeps its user grants). Throws config_error naming the role for a bad dict.
void apply_managed_roles(const config& cfg, const rbac::scope_table& table, model::hub_model& model,
                         const nlohmann::json& loaded, std::vector<std::string>& warnings);

// Adds JupyterHub.custom_scopes (and `plugin_scopes`, registered by plugins: {"custom:x": {...}})
// to the table. Throws config_error naming the scope, the key and the file line.
void define_custom_scopes(const config& cfg, const nlohmann::json& plugin_scopes, rbac::scope_table& table,
                          std::vector<std::string>& warnings);

// A plugin that acts on the hub through the internal API ([plugins.NAME] roles = [...]). It is
// kept as a row of the services table of the same name and kind plugin (so its roles and scope
// checks are exactly a service's), hidden from the service list pages, and re-synced with its
// roles at every start.
struct plugin_principal {
  std::string name;
  std::vector<std::string> roles;
};

// Applies roles, users, groups, services and assignments, all in one commit group: one store
// transaction whatever the number of users. Blocks until everything is durable (start-up only).
// Throws config_error naming the key and file line for config mistakes, and std::runtime_error for
// database failures.
bootstrap_report apply_config(const config& cfg, const rbac::scope_table& table, model::hub_model& model,
                              const std::vector<plugin_principal>& plugins = {});

}  // namespace hubd::core::app
