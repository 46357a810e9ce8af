#pragma once
// XSRF protection for cookie-authenticated requests, with JupyterHub 4.1+ semantics
// (as JupyterHub does for API and pages): the _xsrf cookie holds a signed id (session:cookie_id after login,
// a hash of client IP and User-Agent before), it is only set on navigation requests, and the
// token comes back in X-XSRFToken, X-CSRFToken or an `_xsrf` argument.
#include "core/http/request.hpp"
#include "core/http/signed_value.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hubd::core::http {

inline constexpr std::string_view xsrf_cookie_name = "_xsrf";

// Id bound into the token for a logged-in browser.
std::string session_xsrf_id(std::string_view session_id, std::string_view cookie_id);
// Id for an anonymous browser (login page): URL-safe base64 of sha256(ip, User-Agent).
std::string anonymous_xsrf_id(const request& req);

struct xsrf_token {
  std::string token;        // the value pages embed and clients send back
  bool set_cookie = false;  // the caller should send it as the _xsrf cookie (see xsrf_set_cookie)
};

// The request's token for `xsrf_id`: the cookie's own token when it is valid and bound to that id,
// otherwise a fresh one, which is to be set as a cookie only on navigation requests
// (Sec-Fetch-Mode absent or "navigate") so scripts cannot fetch one.
xsrf_token xsrf_token_for(const request& req, const cookie_signer& signer, std::string_view xsrf_id);

// Set-Cookie value for the token; anonymous tokens live one hour.
std::string xsrf_set_cookie(std::string_view token, std::string_view cookie_path, bool authenticated, bool secure);

// Whether a cookie-authenticated request must pass the check: not for read-only methods (GET,
// HEAD, OPTIONS) that are navigations, send no Sec-Fetch-Mode, or are same-origin no-cors; not
// for websockets; yes for everything else. Token-authenticated requests never need it (the caller
// knows which it is).
bool xsrf_check_needed(const request& req);

// Runs the check. nullopt when the request passes (or needs no check); otherwise the message of
// the 403. `form` is the parsed urlencoded body, if any, searched for `_xsrf` after the query.
std::optional<std::string> check_xsrf(const request& req, const cookie_signer& signer, std::string_view xsrf_id,
                                      const query_map* form = nullptr);

// JupyterHub's CORS rule for cookie auth on the API: a POST whose Content-Type is present and is
// not application/json counts as unauthenticated (a cross-site form can send it without preflight).
bool cookie_auth_allowed_for_content_type(const request& req);

}  // namespace hubd::core::http
