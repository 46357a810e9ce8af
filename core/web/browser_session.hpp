#pragma once
// The hub's browser cookies: setting them at login and clearing them at logout (reading them is
// core/session's). The login cookie carries the user's cookie_id signed under the cookie's
// name; the session cookie carries a model session id in clear (services read it).
#include "core/http/request.hpp"
#include "core/http/response.hpp"
#include "core/model/hub_model.hpp"
#include "core/web/web_context.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hubd::core::web {

using session::browser_identity;
using session::services_cookie_name;
using session::session_cookie_name;
using session::xsrf_id_for;

// Whether cookies for this request must be Secure: https public_url or a TLS request.
bool cookies_secure(const web_options& o, const http::request& req);

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
