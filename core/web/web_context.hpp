#pragma once
// Everything the page handlers, the login pipeline and the OAuth provider need, filled in by the
// app at start-up. A plain struct: slots that other layers supply (authenticator, spawn) may stay
// empty, and the handlers then answer as if the feature were absent.
#include "core/http/signed_value.hpp"
#include "core/model/hub_model.hpp"
#include "core/names/username.hpp"
#include "core/plugins/op_result.hpp"
#include "core/rbac/scope_table.hpp"
#include "core/session/session_identifier.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::web {

class template_renderer;

// Settings read once from the config (web_options_from_config).
struct web_options {
  std::string base_url = "/";   // always starts and ends with '/'
  std::string hub_prefix = "/hub/";
  std::string version;          // shown in the footer
  std::string public_url;       // https public URL makes cookies Secure
  std::chrono::seconds cookie_max_age{14 * 24 * 3600};
  bool cookie_host_prefix = false;
  std::string default_url;      // JupyterHub.default_url
  bool redirect_to_server = true;
  bool shutdown_on_logout = false;
  bool allow_named_servers = false;
  std::int64_t named_server_limit = 0;
  std::int64_t user_redirect_limit = 4;  // JupyterHub.user_redirect_limit: /hub/user/... loop guard
  std::int64_t token_expires_in_max_seconds = 0;
  // OAuth provider
  bool oauth_require_pkce = false;
  std::chrono::seconds oauth_token_expires_in{14 * 24 * 3600};
  // Authenticator settings the pages apply
  bool auto_login = false;
  bool auto_login_oauth2_authorize = false;
  std::set<std::string, std::less<>> allowed_users, blocked_users, admin_users;
  bool allow_all = false;
  bool allow_existing_users = false;
  bool enable_auth_state = false;
  bool manage_groups = false;
  bool manage_roles = false;
  bool keep_default_roles = false;
  std::map<std::string, std::string, std::less<>> username_map;
  std::filesystem::path static_dir;  // served under /hub/static/
  std::filesystem::path logo_file;   // /hub/logo
};

// Reads the keys above from the whole config values JSON ({"JupyterHub": {...}, ...}).
web_options web_options_from_config(const nlohmann::json& config);

// The authenticator as the login pipeline sees it. `authenticate` and `post_auth` complete through
// their callbacks on another thread (plugin completion thread), never inline on an io thread.
struct authenticator_port {
  std::string name = "dummy";
  std::function<void(nlohmann::json login_data, plugins::op_callback)> authenticate;
  // The plugin's normalize_username and hubd's rule; default: hubd's rule (core/names) alone.
  std::function<names::username_result(std::string_view)> normalize_username;
  std::function<std::optional<std::string>(std::string_view)> validate_username;  // nullopt = valid
  // Optional plugin opinions; empty = JupyterHub's default rule from the config lists.
  std::function<void(nlohmann::json input, plugins::op_callback)> check_blocked;
  std::function<void(nlohmann::json input, plugins::op_callback)> check_allowed;
  std::function<void(nlohmann::json input, plugins::op_callback)> is_admin;
  // A redirect-based authenticator's own login URL (auto_login, the "Sign in with" button); "" = form.
  std::string login_url;
  std::string login_service;
  // Where the browser goes after the hub's logout (oauthenticator's logout_redirect_url, from the
  // authenticator's logout_url); empty: the hub's own page.
  std::string logout_redirect;
  // Extra routes under /hub/ served by the plugin's handle_request op.
  std::vector<std::string> routes;
  std::function<void(nlohmann::json request, plugins::op_callback)> handle_request;
  // The plugin's logout op ({"user", "auth_state"}), called before the session ends; empty when the
  // plugin has none. Its result is ignored.
  std::function<void(nlohmann::json input, plugins::op_callback)> logout;
};

// One post_auth hook: completes ok with null/{} (no change) or a JSON merge patch for the auth
// model, or denied (refuse the login).
using post_auth_hook = std::function<void(nlohmann::json auth_model, plugins::op_callback)>;

// What the spawn layer offers the pages (empty slots: the pages show servers as stopped).
struct spawn_port {
  // Stops every server of the user (shutdown_on_logout); done() after the stops were requested.
  std::function<void(std::string user, std::function<void()> done)> stop_all;
  // Does the user (or server) have a spawner options form? Returns its HTML or "".
  std::function<std::string(std::string user, std::string server)> options_form;
  // Starts a server with options; done(status, message) when it became ready or pending.
  std::function<void(std::string user, std::string server, nlohmann::json options,
                     std::function<void(int status, std::string message)> done)>
      start;
  // The message of the server's last failed spawn while nothing runs (the spawn-pending page), or nullopt.
  std::function<std::optional<std::string>(std::string user, std::string server)> last_failure;
};

struct web_context {
  model::hub_model& model;
  const rbac::scope_table& scopes;
  const http::cookie_signer& signer;
  // Who a request comes from and what it may do: the same identifier and permission cache as the API's.
  session::session_identifier& sessions;
  web_options options;
  std::shared_ptr<const template_renderer> templates;  // null: pages answer with a plain HTML body
  authenticator_port authenticator;
  std::vector<post_auth_hook> post_auth_hooks;
  spawn_port spawn;
};

}  // namespace hubd::core::web
