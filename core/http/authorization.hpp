#pragma once
// The API token carried by an Authorization header.
#include <optional>
#include <string_view>

namespace hubd::core::http {

// "token T" or "Bearer T" (scheme case-insensitive, surrounding spaces ignored) → T.
// nullopt for any other scheme, a missing or empty token, or a token with inner spaces.
std::optional<std::string_view> parse_authorization_token(std::string_view header_value);

}  // namespace hubd::core::http
