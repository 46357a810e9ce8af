#include "core/api/names.hpp"

#include "core/http/url_codec.hpp"

namespace hubd::core::api {

std::string normalize_username(const api_context& ctx, std::string_view name) {
  if (ctx.authenticator.normalize_username) return ctx.authenticator.normalize_username(name);
  std::string out(name);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool validate_username(const api_context& ctx, std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos || !http::is_clean_text(name)) return false;
  if (ctx.authenticator.validate_username) return ctx.authenticator.validate_username(name);
  return true;
}

}  // namespace hubd::core::api
