#pragma once
// What every REST handler does the same way: JSON bodies, the scope guard, pagination
// (JupyterHub's offset/limit), model errors as HTTP statuses, and answering once a change is durable.
#include "core/api/api_context.hpp"
#include "core/session/principal.hpp"
#include "core/http/request.hpp"
#include "core/http/responder.hpp"
#include "core/http/router.hpp"
#include "core/http/response.hpp"
#include "core/rbac/access.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace hubd::core::api {

using http::response;

// Sends `r` (so handlers can `return answer(res, ...)` on every path).
inline void answer(http::responder& res, response r) { res(std::move(r)); }

using session::principal;
using session::resolved_ptr;

// A REST handler: the request is already authenticated (the principal may be nobody).
using api_handler = std::function<void(api_context& ctx, const http::request_ptr& req, const principal& who,
                                       http::responder res)>;
// Wraps `h` for the router: authenticates, and turns an escaping exception into a JSON 500.
http::handler make_handler(api_context& ctx, api_handler h);

// Authenticator.refresh_pre_spawn / refresh_pre_stop (`wanted`): refreshes `user`'s login before the
// action, unless this request already refreshed it, then calls then(over) on an io thread (at once
// when nothing is refreshed). `over`: refresh_user said the login is over.
void refresh_before(api_context& ctx, const principal& who, const std::string& user, bool wanted,
                    std::function<void(bool over)> then);

// Empty body → `out` is null (no body). Invalid JSON → 400 "Invalid JSON in body of request".
std::optional<response> parse_json_body(const http::request& req, nlohmann::json& out);

// No credentials → 403 "Missing or invalid credentials." (or the XSRF message).
std::optional<response> require_auth(const principal& p);
// The endpoint guard: require_auth, then any one of `any_of` on `r` (403 or 404 with rbac's message).
std::optional<response> guard(const api_context& ctx, const principal& p, std::initializer_list<rbac::builtin> any_of,
                              const rbac::resource_ref& r);
// The held set has `s` on `r` (for handler-internal checks).
bool holds(const api_context& ctx, const principal& p, rbac::builtin s, const rbac::resource_ref& r);

struct page {
  std::size_t offset = 0;
  std::size_t limit = 0;
  bool envelope = false;  // Accept has application/jupyterhub-pagination+json
};
// Offset/limit as JupyterHub pages lists. `always_envelope` for share lists. 400 for non-integers.
std::optional<response> parse_page(const api_context& ctx, const http::request& req, page& out,
                                   bool always_envelope = false);
// The bare list or the envelope for items[offset, offset+limit) of `total`; `items` is that slice.
response page_response(const http::request& req, const page& pg, nlohmann::json items, std::size_t total);
// The full URL of this request with offset and limit replaced (next.url).
std::string page_url(const http::request& req, std::size_t offset, std::size_t limit);

// errc → HTTP status: invalid 400, not_found 404, conflict 409, anything else 500.
int status_for(model::errc code);
response model_error_response(const model::error& e);

// A completion for a model mutation: once durable, answers `make()`; if the commit failed, 500
// naming the failure. The responder is thread-safe; this runs on the writer thread.
model::completion reply_when_durable(http::responder res, std::function<response()> make);
model::completion reply_when_durable(http::responder res, response answer);

// Provenance of what a request changes: "plugin:NAME" for a plugin's in-process internal API call
// (core/app/internal_api.hpp), else "api".
std::string change_source(const principal& who);
inline constexpr std::string_view authenticator_source = "authenticator";

// Presence of a query argument (JupyterHub's `"x" in self.request.arguments`).
bool has_query_flag(const http::request& req, std::string_view name);

// JSON helpers for bodies.
bool is_string_list(const nlohmann::json& v);
std::vector<std::string> string_list(const nlohmann::json& v);

// Standard ISO text for an optional time (null when absent).
nlohmann::json iso_or_null(const model::opt_time& t);

}  // namespace hubd::core::api
