#pragma once
// What every page handler does: render a template with the common layout data, answer errors as
// HTML for browsers and JSON for API clients, and send people without a login to the login page.
#include "core/http/request.hpp"
#include "core/http/response.hpp"
#include "core/web/browser_session.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace hubd::core::web {

// An API client rather than a browser: under /hub/api, or Accept prefers JSON over HTML.
bool wants_json(const web_context& ctx, const http::request& req);

// The layout data of every page (base_url, static_url, xsrf_token, user, admin_access, services).
nlohmann::json common_page_data(const web_context& ctx, const std::optional<browser_identity>& who,
                                std::string_view xsrf_token);

// Renders `page` with `data` over the common data (keys of `data` win), setting the _xsrf cookie
// when the browser needs one.
http::response render_page(const web_context& ctx, const http::request& req, const std::optional<browser_identity>& who,
                           const std::string& page, nlohmann::json data, int status = 200);

// 4xx/5xx for people (error.mustache) or {"status", "message"} for API clients.
http::response error_page(const web_context& ctx, const http::request& req, int status, std::string_view message = {},
                          nlohmann::json extra = nlohmann::json::object());

// 302 to <hub>/login?next=<this request's target>.
http::response login_redirect(const web_context& ctx, const http::request& req);

// A safe local `next` (only paths on this hub), or "" when it must be ignored.
std::string safe_next(const web_context& ctx, const http::request& req, std::string_view next);

// Where a logged-in user goes when there is no `next`: default_url, else the server or spawn
// page (redirect_to_server), else home.
std::string default_next(const web_context& ctx, const model::user& user);

// "/user/<u>/" or "/user/<u>/<s>/" under the base URL, with the names percent-encoded.
std::string server_url(const web_context& ctx, std::string_view user, std::string_view server);

}  // namespace hubd::core::web
