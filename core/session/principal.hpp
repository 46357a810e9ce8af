#pragma once
// Who made a request: a token's owner, the user of the hub login cookie, or a plugin calling the
// internal API in process, with the expanded scopes the request may use.
#include "core/model/hub_model.hpp"
#include "core/rbac/expand.hpp"
#include "core/rbac/scope_set.hpp"
#include "core/session/permissions.hpp"

#include <memory>
#include <optional>
#include <string>

namespace hubd::core::session {

struct principal {
  // A plugin acts as the service row of its name (its roles are a service's), so its kind is
  // service; `plugin` tells its calls apart (their changes are recorded as "plugin:NAME").
  enum class kind_t : std::uint8_t { none, user, service };
  kind_t kind = kind_t::none;
  std::string name;
  model::token_ptr token;  // null for cookie auth and for plugins
  std::optional<std::string> session_id;  // the token's session (OAuth tokens); null for cookie auth
  bool via_cookie = false;
  bool plugin = false;  // an in-process internal API call of the plugin `name`
  // Shared with the permission cache: never copied per request.
  resolved_ptr scopes;
  rbac::principal_ref ref;
  model::user_ptr user;        // kind user
  model::service_ptr service;  // kind service
  // Cookie credentials that failed the XSRF check: the 403 message (JupyterHub answers it rather
  // than "Missing or invalid credentials.").
  std::optional<std::string> xsrf_error;
  // A user whose login the authenticator ended while this request was identified (refresh_user
  // said false): the request is unauthenticated and the 403 says why.
  std::optional<std::string> login_expired;
  bool refreshed = false;  // this request already refreshed the user's login (at most once per request)

  bool authenticated() const { return kind != kind_t::none; }
  const rbac::scope_set& held() const;      // an empty set when unauthenticated
  const rbac::scope_set& identity() const;  // held() plus the identify scopes
};

}  // namespace hubd::core::session
