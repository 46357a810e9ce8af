#pragma once
// Everything the OAuth provider's routes need, filled in by the app at start-up. The consent page
// and the errors a browser sees share the hub's page layout: the pages layer supplies them through
// `pages`, so the provider needs no page code of its own.
#include "core/http/request.hpp"
#include "core/http/response.hpp"
#include "core/http/signed_value.hpp"
#include "core/model/hub_model.hpp"
#include "core/rbac/scope_table.hpp"
#include "core/session/session_identifier.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <string_view>

namespace hubd::core::oauth {

struct oauth_settings {
  bool require_pkce = false;                                    // JupyterHub.oauth_require_pkce
  std::chrono::seconds token_expires_in{14 * 24 * 3600};        // JupyterHub.oauth_token_expires_in
  // Authenticator.auto_login_oauth2_authorize with a redirect-based authenticator's login URL ("": off).
  std::string auto_login_url;
  // OAuth clients that never need the confirm page (services with oauth_no_confirm).
  std::set<std::string, std::less<>> no_confirm;
};

// The hub's pages as the provider shows them.
struct page_port {
  // Renders the template `page` (the consent page: "oauth") for a logged-in browser.
  std::function<http::response(const http::request&, const session::browser_identity&, const std::string& page,
                               nlohmann::json data)>
      render;
  // An error page for people, {"status", "message"} for API clients.
  std::function<http::response(const http::request&, int status, std::string_view message)> error;
  // 302 to the login page, back here afterwards.
  std::function<http::response(const http::request&)> login_redirect;
};

struct oauth_context {
  model::hub_model& model;
  const rbac::scope_table& scopes;
  const http::cookie_signer& signer;
  session::session_identifier& sessions;
  oauth_settings settings;
  page_port pages;
};

}  // namespace hubd::core::oauth
