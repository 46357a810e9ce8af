#pragma once
// Authenticator-managed roles at login (with hubd's provenance rule): what the auth model's `roles`
// list does to the hub, decided without touching it. The login pipeline carries the plan out.
#include "core/model/hub_model.hpp"
#include "core/rbac/scope_table.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hubd::core::web {

struct managed_roles_options {
  bool keep_default_roles = false;  // hubd: `user` (and `admin` for admins) are never stripped
  bool admin = false;               // the user's admin flag after this login
};

struct holder_change {
  std::string role;
  model::holder_ref holder;
};

struct managed_roles_plan {
  std::vector<model::new_role> create;                             // source authenticator, managed
  std::vector<std::pair<std::string, model::role_patch>> update;  // only the fields the dict gave
  std::vector<std::string> assign;                                 // to the user, source authenticator
  std::vector<std::string> unassign;                               // the user's authenticator grants not listed
  std::vector<std::string> remove;                                 // stripped managed roles left without holders
  std::vector<holder_change> holders_assign, holders_unassign;     // role dicts' users/groups/services
  std::vector<std::string> warnings;
  std::optional<std::string> error;  // an invalid role: the login fails with 409
  bool loses_self = false;           // no role of the user (direct or through groups) grants `self`
};

// `roles` is the auth model's list of role dicts. Reads `model` only.
managed_roles_plan plan_managed_roles(const rbac::scope_table& table, const model::hub_model& model,
                                      const std::string& user, const nlohmann::json& roles,
                                      const managed_roles_options& options);

}  // namespace hubd::core::web
