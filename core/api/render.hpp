#pragma once
// REST models rendered from model rows, then filtered field by field with the
// caller's scopes (JupyterHub's field-level filtering). Timestamps are ISO 8601 with "Z".
#include "core/api/api_context.hpp"
#include "core/model/hub_model.hpp"
#include "core/rbac/access.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace hubd::core::api {

struct user_render_options {
  bool include_stopped_servers = false;
  // GET /users/{u} and PATCH decrypt auth_state when visible; lists show null.
  bool decrypt_auth_state = false;
};

// The server's public URL path: <base_url>user/<u>/[<s>/] (names escaped like JupyterHub's url_path_join).
std::string server_url(const api_context& ctx, std::string_view user, std::string_view server);
std::string server_progress_url(const api_context& ctx, std::string_view user, std::string_view server);
// Percent-encoding of one path segment, keeping what Python's quote(safe="@~") keeps.
std::string escape_path_segment(std::string_view s);

bool server_ready(const model::server& s);
bool server_active(const model::server& s);

// Server model, `state` only with `with_state`.
nlohmann::json server_model(const api_context& ctx, std::string_view user, const model::server& s, bool with_state);

// User model as `held` may see it on that user; an empty object when nothing is visible.
nlohmann::json render_user(const api_context& ctx, const model::user& u, const rbac::scope_set& held,
                           const user_render_options& opts = {});
// Visible field mask only (to skip users cheaply in lists).
std::uint32_t user_fields(const api_context& ctx, const model::user& u, const rbac::scope_set& held);

nlohmann::json render_group(const api_context& ctx, const model::group& g, const rbac::scope_set& held);
nlohmann::json render_service(const api_context& ctx, const model::service& s, const rbac::scope_set& held);

// Token model. `scopes` is the token's resolved set (permission_cache::token_scopes).
nlohmann::json render_token(const api_context& ctx, const model::token& t, std::string_view owner_kind,
                            std::string_view owner_name, const rbac::scope_set* resolved);

}  // namespace hubd::core::api
