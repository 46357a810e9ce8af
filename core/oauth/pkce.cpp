#include "core/oauth/pkce.hpp"

#include "core/http/signed_value.hpp"

#include <sodium.h>

namespace hubd::core::oauth {

bool valid_challenge_method(std::string_view method) { return method == "S256" || method == "plain"; }

bool valid_pkce_string(std::string_view s) {
  if (s.size() < 43 || s.size() > 128) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || c == '~';
    if (!ok) return false;
  }
  return true;
}

bool verify_pkce(std::string_view method, std::string_view challenge, std::string_view verifier) {
  if (!valid_pkce_string(verifier)) return false;
  if (method == "plain") return http::constant_time_equals(challenge, verifier);
  if (method != "S256") return false;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size());
  auto expected = http::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest), true);
  return http::constant_time_equals(challenge, expected);
}

}  // namespace hubd::core::oauth
