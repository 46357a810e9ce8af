#pragma once
// Signed cookie values: HMAC-SHA256 keyed by the cookie secret, with the cookie name and a
// timestamp under the signature so a value cannot be moved to another cookie or kept forever.
// Wire form (Tornado's v2 layout, so the values are opaque but familiar):
//   2|1:0|<len>:<unix seconds>|<len>:<name>|<len>:<base64 value>|<hex hmac of everything before>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace hubd::core::http {

class cookie_signer {
public:
  // `secret` is the raw cookie secret bytes. Throws std::invalid_argument if it is empty.
  explicit cookie_signer(std::string secret);

  std::string sign(std::string_view name, std::string_view value,
                   std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

  // The value if the signature matches (constant-time), the name matches and the timestamp is
  // no older than `max_age` (and not implausibly far in the future); otherwise nullopt.
  std::optional<std::string> verify(std::string_view name, std::string_view signed_value, std::chrono::seconds max_age,
                                    std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

  // Same, URL-safe base64 without padding around the signed form (for _xsrf, which also travels
  // in headers and form fields).
  std::string sign_urlsafe(std::string_view name, std::string_view value,
                           std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;
  std::optional<std::string> verify_urlsafe(std::string_view name, std::string_view token, std::chrono::seconds max_age,
                                            std::chrono::system_clock::time_point now =
                                                std::chrono::system_clock::now()) const;

private:
  std::string hmac_hex(std::string_view data) const;
  std::string secret_;
};

// Base64 helpers over libsodium (standard alphabet with padding, or URL-safe without).
std::string base64_encode(std::string_view bytes, bool urlsafe_no_padding = false);
std::optional<std::string> base64_decode(std::string_view text, bool urlsafe_no_padding = false);

// Constant-time equality of two strings (length is not secret).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace hubd::core::http
