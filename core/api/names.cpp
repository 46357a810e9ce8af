#include "core/api/names.hpp"

#include "core/http/url_codec.hpp"

#include <nlohmann/json.hpp>

namespace hubd::core::api {

names::username_result normalize_username(const api_context& ctx, std::string_view name) {
  if (ctx.authenticator.normalize_username) return ctx.authenticator.normalize_username(name);
  return names::normalize_username(name);
}

bool validate_username(const api_context& ctx, std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos || !http::is_clean_text(name)) return false;
  if (ctx.authenticator.validate_username) return ctx.authenticator.validate_username(name);
  return true;
}

std::optional<http::response> normalized_or_error(const api_context& ctx, std::string_view raw, std::string& out) {
  auto r = normalize_username(ctx, raw);
  if (r.ok()) {
    out = std::move(r.name);
    return std::nullopt;
  }
  // The name is quoted as JSON would: it may hold control characters or invalid UTF-8.
  return http::error_response(400, "Invalid username " + nlohmann::json(std::string(raw)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + ": " + r.error);
}

}  // namespace hubd::core::api
