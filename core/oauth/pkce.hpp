#pragma once
// PKCE (RFC 7636) as the token endpoint checks it.
#include <string_view>

namespace hubd::core::oauth {

// "S256" or "plain" (the default when a challenge comes without a method); anything else is invalid.
bool valid_challenge_method(std::string_view method);

// A verifier or challenge is 43-128 characters of [A-Za-z0-9-._~].
bool valid_pkce_string(std::string_view s);

// Whether `verifier` answers the stored challenge. Constant-time comparison.
bool verify_pkce(std::string_view method, std::string_view challenge, std::string_view verifier);

}  // namespace hubd::core::oauth
