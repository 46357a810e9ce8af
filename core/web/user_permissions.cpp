#include "core/web/user_permissions.hpp"

#include <spdlog/spdlog.h>

namespace hubd::core::web {

std::vector<std::string> user_raw_scopes(const model::hub_model& m, std::string_view user) {
  return m.user_role_scopes(user);
}

rbac::scope_set user_scope_set(const model::hub_model& m, const rbac::scope_table& table, std::string_view user) {
  rbac::scope_set out;
  auto raw = m.user_role_scopes(user);
  try {
    out = rbac::expand(table, raw, rbac::principal_ref::user(std::string(user))).scopes;
  } catch (const rbac::scope_not_found& e) {
    spdlog::warn("pages: ignoring invalid role scopes of user {}: {}", user, e.what());
  }
  for (const auto& sh : m.shares_reaching_user(user)) {
    auto server = m.find_server(sh->server_id);
    if (!server) continue;
    auto owner = m.find_user(server->user_id);
    if (!owner) continue;
    try {
      out.merge(rbac::expand_share_scopes(table, sh->scopes, owner->name, server->name));
    } catch (const rbac::scope_not_found& e) {
      spdlog::warn("pages: ignoring invalid share scopes for user {}: {}", user, e.what());
    }
  }
  return out;
}

}  // namespace hubd::core::web
