#include "core/api/api_context.hpp"

namespace hubd::core::api {

api_context::api_context(model::hub_model& m, const rbac::scope_table& s, const nlohmann::json& c,
                         session::session_identifier& sessions)
    : model(m), scopes(s), config(c), sessions(sessions), permissions(sessions.permissions()) {}

namespace {
const nlohmann::json* section_value(const nlohmann::json& config, std::string_view section, std::string_view key) {
  if (!config.is_object()) return nullptr;
  auto hub = config.find(section);
  if (hub == config.end() || !hub->is_object()) return nullptr;
  auto it = hub->find(key);
  return it == hub->end() ? nullptr : &*it;
}
const nlohmann::json* hub_value(const nlohmann::json& config, std::string_view key) {
  return section_value(config, "JupyterHub", key);
}
}  // namespace

std::int64_t api_context::hub_int(std::string_view key, std::int64_t fallback) const {
  const auto* v = hub_value(config, key);
  if (v && v->is_number_integer()) return v->get<std::int64_t>();
  if (v && v->is_number()) return static_cast<std::int64_t>(v->get<double>());
  return fallback;
}

double api_context::hub_number(std::string_view key, double fallback) const {
  const auto* v = hub_value(config, key);
  return v && v->is_number() ? v->get<double>() : fallback;
}

bool api_context::hub_bool(std::string_view key, bool fallback) const {
  const auto* v = hub_value(config, key);
  return v && v->is_boolean() ? v->get<bool>() : fallback;
}

bool api_context::auth_bool(std::string_view key, bool fallback) const {
  const auto* v = section_value(config, "Authenticator", key);
  return v && v->is_boolean() ? v->get<bool>() : fallback;
}

}  // namespace hubd::core::api
