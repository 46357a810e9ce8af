#include "core/http/authorization.hpp"

#include "core/http/url_codec.hpp"

namespace hubd::core::http {

std::optional<std::string_view> parse_authorization_token(std::string_view v) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
  std::size_t sp = 0;
  while (sp < v.size() && !is_space(v[sp])) ++sp;
  std::string_view scheme = v.substr(0, sp);
  if (!iequals(scheme, "token") && !iequals(scheme, "bearer")) return std::nullopt;
  std::string_view token = v.substr(sp);
  while (!token.empty() && is_space(token.front())) token.remove_prefix(1);
  if (token.empty()) return std::nullopt;
  for (char c : token) {
    if (is_space(c)) return std::nullopt;
  }
  return token;
}

}  // namespace hubd::core::http
