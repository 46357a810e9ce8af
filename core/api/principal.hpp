#pragma once
// Who made an API request : a token's owner, or the user of the hub
// login cookie, with the expanded scopes the request may use.
#include "core/api/api_context.hpp"
#include "core/api/permissions.hpp"
#include "core/http/request.hpp"
#include "core/model/hub_model.hpp"
#include "core/rbac/expand.hpp"
#include "core/rbac/scope_set.hpp"

#include <memory>
#include <optional>
#include <string>

namespace hubd::core::api {

inline constexpr std::string_view login_cookie_name = "jupyterhub-hub-login";
inline constexpr std::string_view session_cookie_name = "jupyterhub-session-id";

struct principal {
  enum class kind_t : std::uint8_t { none, user, service };
  kind_t kind = kind_t::none;
  std::string name;
  model::token_ptr token;  // null for cookie auth
  std::optional<std::string> session_id;  // the token's session (OAuth tokens); null for cookie auth
  bool via_cookie = false;
  // Shared with the permission cache: never copied per request.
  resolved_ptr scopes;
  rbac::principal_ref ref;
  model::user_ptr user;        // kind user
  model::service_ptr service;  // kind service
  // Cookie credentials that failed the XSRF check: the 403 message (JupyterHub answers it rather
  // than "Missing or invalid credentials.").
  std::optional<std::string> xsrf_error;

  bool authenticated() const { return kind != kind_t::none; }
  const rbac::scope_set& held() const;      // an empty set when unauthenticated
  const rbac::scope_set& identity() const;  // held() plus the identify scopes
};

// Token first (a bad token falls through to the cookie), then the login cookie with XSRF and the
// content-type rule. Records token and user activity at most once per activity_resolution.
// Sets req.principal for the access log. Never throws.
principal authenticate(const api_context& ctx, http::request& req);

}  // namespace hubd::core::api
