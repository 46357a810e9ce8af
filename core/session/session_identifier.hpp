#pragma once
// The one place that decides who a request comes from, for the REST API, the pages and the OAuth
// provider alike: the in-process plugin attached by the internal API, an API token, or the hub
// login cookie (whose name depends on cookie_host_prefix_enabled). It also names the cookies.
#include "core/http/request.hpp"
#include "core/http/signed_value.hpp"
#include "core/model/hub_model.hpp"
#include "core/session/login_refresh.hpp"
#include "core/session/login_throttle.hpp"
#include "core/session/permissions.hpp"
#include "core/session/principal.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace hubd::core::session {

inline constexpr std::string_view login_cookie_base = "jupyterhub-hub-login";
inline constexpr std::string_view session_cookie_name = "jupyterhub-session-id";
inline constexpr std::string_view services_cookie_name = "jupyterhub-services";

struct session_settings {
  bool cookie_host_prefix = false;  // JupyterHub.cookie_host_prefix_enabled
  std::chrono::seconds cookie_max_age{14 * 24 * 3600};
  std::chrono::seconds activity_resolution{30};
  throttle_settings throttle;
};

// "jupyterhub-hub-login", or "__Host-jupyterhub-hub-login" with cookie_host_prefix_enabled.
std::string login_cookie_name(const session_settings& s);

// A logged-in browser.
struct browser_identity {
  model::user_ptr user;
  std::string session_id;  // the browser session the login cookie belongs to
  bool refreshed = false;  // this request already refreshed the user's login (at most once per request)
};

// The XSRF id the _xsrf cookie of this browser is bound to (session-bound once logged in).
std::string xsrf_id_for(const http::request& req, const std::optional<browser_identity>& who);

// What the login cookie signs: the user's cookie id and the browser session it belongs to. A cookie
// is valid only while its session exists, so a copy of it is dead once that browser logged out.
std::string login_cookie_payload(std::string_view cookie_id, std::string_view session_id);

class session_identifier {
public:
  session_identifier(model::hub_model& model, const rbac::scope_table& table, const http::cookie_signer& signer,
                     session_settings settings);

  const session_settings& settings() const { return settings_; }
  // The one permission resolver: the API, the pages and the OAuth provider all read scopes here.
  permission_cache& permissions() const { return permissions_; }
  std::string login_cookie_name() const { return session::login_cookie_name(settings_); }

  // The user and session of the login cookie, if it is valid, unexpired, names an existing user and
  // a session of that user that has not ended (logout, or the authenticator ended the login).
  std::optional<browser_identity> browser(const http::request& req) const;

  // The user a signed login cookie value names (the deprecated cookie lookup), on the same terms, or
  // null.
  model::user_ptr user_of_cookie(std::string_view cookie_name, std::string_view value) const;

  // The plugin attached by the internal API, else token (a bad token falls through to the cookie),
  // else the login cookie with XSRF and the content-type rule. Records token and user activity at
  // most once per activity_resolution. Sets req.principal for the access log. Never throws.
  principal identify(http::request& req) const;

  // Marks a token (and its owner, unless null or the token is a server's own) active, at most once
  // per activity_resolution, as JupyterHub does.
  void record_token_activity(const model::token& t, const model::user* owner) const;

  // The login refresh (the authenticator's refresh_user), or null when the authenticator has none.
  // Set once at start-up, before requests arrive.
  login_refresh* refresher() const { return refresher_; }

  // Failed-login throttling for the login page and the token API's credentials alike.
  login_throttle& throttle() const { return throttle_; }
  void set_refresher(login_refresh* r) { refresher_ = r; }
  // A user request whose login is due for a refresh (cheap: see login_refresh::due).
  bool refresh_due(const model::user& u) const { return refresher_ && refresher_->due(u.name); }

private:
  std::optional<browser_identity> identity_of_cookie(std::string_view cookie_name, std::string_view value) const;
  bool from_plugin(const http::request& req, principal& p) const;
  bool from_token(const http::request& req, principal& p) const;
  void from_cookie(const http::request& req, principal& p) const;

  model::hub_model& model_;
  const http::cookie_signer& signer_;
  session_settings settings_;
  mutable login_throttle throttle_;
  mutable permission_cache permissions_;  // thread-safe; a cache, so usable from const lookups
  login_refresh* refresher_ = nullptr;
};

}  // namespace hubd::core::session
