#pragma once
// ID token verification (OpenID Connect Core 3.1.3.7): a JWS in compact form, signed RS256 or ES256
// with a key of the provider's JWKS, then its claims. OpenSSL does the cryptography; only RS256 and
// ES256 are accepted, so "none", HS256 (a public key used as an HMAC secret) and anything else fail.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace generic_oauth {

enum class jws_error {
  none,
  malformed,      // not three base64url parts, or header/payload not JSON objects
  bad_alg,        // an algorithm other than RS256/ES256
  unknown_kid,    // no key of the JWKS matches (the JWKS may be stale: refetch and retry)
  bad_signature,  // a matching key, a wrong signature
  bad_claims,     // iss, aud, azp, exp, iat or nonce wrong
};

struct id_token_expectations {
  std::string issuer;
  std::string client_id;
  std::optional<std::string> nonce;  // nullopt: no nonce required (refresh answers)
  std::int64_t now = 0;              // seconds since the epoch
  std::int64_t skew = 10;            // seconds of clock difference tolerated
};

struct id_token_result {
  jws_error error = jws_error::none;
  std::string message;  // why, for the log and the error page; never the token
  nlohmann::json claims;
  bool ok() const { return error == jws_error::none; }
};

// A JSON number of seconds as an integer, clamped to ±2^53 so that a provider's absurd value
// (1e300, a fraction) cannot overflow a conversion.
std::int64_t clamp_seconds(const nlohmann::json& number);

// A JWKS with each member's OpenSSL key imported once: importing an RSA key costs about as much as
// checking a signature with it, and the provider keeps one set for all logins until it refetches.
// Immutable once built, so threads share it; EVP_PKEY allows concurrent verification.
class key_set {
public:
  struct member {
    nlohmann::json jwk;                // matched against the token's header at each verification
    std::shared_ptr<evp_pkey_st> key;  // null: not a usable RSA (2048 bits or more) or P-256 key
  };
  key_set() = default;
  explicit key_set(const nlohmann::json& jwks);  // {"keys": [...]}; anything else is an empty set
  const std::vector<member>& members() const { return members_; }

private:
  std::vector<member> members_;
};

// Verifies the signature against keys and the claims against expect.
id_token_result verify_id_token(std::string_view token, const key_set& keys, const id_token_expectations& expect);
id_token_result verify_id_token(std::string_view token, const nlohmann::json& jwks, const id_token_expectations& expect);

// The signature alone (no claims): the JOSE header and payload when it verifies.
id_token_result verify_jws(std::string_view token, const key_set& keys);
id_token_result verify_jws(std::string_view token, const nlohmann::json& jwks);

}  // namespace generic_oauth
