#pragma once
// The hub's browser cookies: setting them at login, reading them on pages, and
// clearing them at logout. The login cookie carries the user's cookie_id signed under the cookie's
// name; the session cookie carries a model session id in clear (services read it).
#include "core/http/request.hpp"
#include "core/http/response.hpp"
#include "core/model/hub_model.hpp"
#include "core/web/web_context.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hubd::core::web {

inline constexpr std::string_view login_cookie_base = "jupyterhub-hub-login";
inline constexpr std::string_view session_cookie_name = "jupyterhub-session-id";
inline constexpr std::string_view services_cookie_name = "jupyterhub-services";

// "jupyterhub-hub-login", or "__Host-jupyterhub-hub-login" with cookie_host_prefix_enabled.
std::string login_cookie_name(const web_options& o);

// A logged-in browser.
struct browser_identity {
  model::user_ptr user;
  std::string session_id;  // "" when the browser has no (valid) session cookie
};

// The user of the login cookie, if it is valid, unexpired and names an existing user.
std::optional<browser_identity> identify_browser(const web_context& ctx, const http::request& req);

// Whether cookies for this request must be Secure: https public_url or a TLS request.
bool cookies_secure(const web_options& o, const http::request& req);

// The XSRF id the _xsrf cookie of this browser is bound to (session-bound once logged in).
std::string xsrf_id_for(const http::request& req, const std::optional<browser_identity>& who);

// Set-Cookie headers of a fresh login: login cookie, session cookie and a session-bound _xsrf.
// Returns the _xsrf token set (pages embed it).
std::string set_login_cookies(const web_context& ctx, const http::request& req, http::response& r,
                              const model::user& user, std::string_view session_id);

// Removes the login, session, services and _xsrf cookies.
void clear_login_cookies(const web_context& ctx, const http::request& req, http::response& r);

// The XSRF token for a page and, when the browser needs one, its Set-Cookie.
std::string page_xsrf_token(const web_context& ctx, const http::request& req,
                            const std::optional<browser_identity>& who, http::response& r);

}  // namespace hubd::core::web
