#include "core/model/plugin_views.hpp"

#include <spdlog/spdlog.h>

namespace hubd::core::model {

nlohmann::json plugin_user_view(const hub_model& m, std::string_view user) {
  nlohmann::json u{{"name", user}};
  if (auto row = m.find_user(user)) {
    u["admin"] = row->admin;
    u["groups"] = m.user_groups(user);
    nlohmann::json roles = nlohmann::json::array();
    for (const auto& r : m.roles_of(holder_kind::user, user)) roles.push_back(r->name);
    u["roles"] = std::move(roles);
  }
  return u;
}

nlohmann::json plugin_auth_state(const hub_model& m, std::string_view user, bool enable_auth_state) {
  if (!enable_auth_state || !m.auth_state_enabled()) return nullptr;
  auto r = m.get_auth_state(user);
  if (!r) {
    spdlog::error("model: auth_state of {} could not be decrypted: {}", user, r.err().message);
    return nullptr;
  }
  return r.value() ? *r.value() : nlohmann::json(nullptr);
}

nlohmann::json plugin_role_view(const hub_model& m, std::string_view role) {
  nlohmann::json r{{"name", role}};
  if (auto row = m.find_role(role)) {
    r["description"] = row->description;
    r["scopes"] = row->scopes;
  }
  return r;
}

}  // namespace hubd::core::model
