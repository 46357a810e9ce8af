#pragma once
// The login's state, kept in the browser between oauth_login and oauth_callback: a cookie sealed
// with AES-256-GCM under a key drawn at start-up, so the browser can neither read the nonce and PKCE
// verifier nor change anything, and a cookie of another hub process (or an earlier run) does not open.
// A hub restart in the middle of a login therefore asks the person to start the login again.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace generic_oauth {

inline constexpr std::string_view state_cookie_name = "oauthenticator-state";
// A login that takes longer than this at the provider starts again.
inline constexpr std::int64_t state_cookie_max_age = 600;

struct login_state {
  std::string state_id;       // the `state` parameter sent to the provider
  std::string nonce;          // the id_token's expected nonce
  std::string code_verifier;  // PKCE; empty when PKCE is off
  std::string next;           // a local path to land on, or empty
  std::string redirect_uri;   // the callback URL the code was issued for
  std::int64_t issued_at = 0;
};

class state_sealer {
public:
  state_sealer();  // draws a fresh random key
  explicit state_sealer(std::string key);  // 32 bytes (tests)

  std::string seal(const login_state& s) const;
  // nullopt when the value was not sealed by this key or was changed.
  std::optional<login_state> open(std::string_view cookie_value) const;

private:
  std::string key_;
};

// A random string of n bytes' entropy, base64url (state ids, nonces, PKCE verifiers).
std::string random_token(std::size_t n = 32);

// The Set-Cookie values: path is the hub's prefix ("/hub/"); secure for an https hub.
std::string state_cookie_header(std::string_view value, std::string_view path, bool secure);
std::string clear_state_cookie_header(std::string_view path, bool secure);

}  // namespace generic_oauth
