#pragma once
// JupyterHub's login sequence (Authenticator.get_authenticated_user + BaseHandler.login_user):
// authenticate → normalize (+ username_map) → validate → blocked → allowed → admin → post_auth
// hooks → create or update the user (default roles on first login) → groups (manage_groups) →
// auth_state → a new browser session. Every step is asynchronous and fails closed; the result is
// delivered once, on whichever thread the last step completed on, after every change is durable.
#include "core/web/web_context.hpp"

#include <functional>
#include <string>

namespace hubd::core::web {

struct login_result {
  bool ok = false;
  int status = 403;           // on failure
  std::string message;        // on failure: what the person sees ("Invalid username or password")
  model::user_ptr user;       // on success
  std::string session_id;     // on success: the new session
  nlohmann::json auth_model;  // on success, after hooks
};

using login_callback = std::function<void(login_result)>;

// A name someone typed, fit for a log line: at most 64 bytes ("..." after), control characters
// and backslashes escaped (\x0a, \\), "(unknown)" when empty.
std::string loggable_name(std::string_view raw);

// Whether a login ends in a new browser session (the login page) or only in the admitted user (the
// REST API's POST /users/{name}/tokens with "auth", which answers with a token instead).
enum class login_session : std::uint8_t { create, none };

// The whole sequence from the login form's data ({"username", "password", ...}). Every caller that
// turns credentials into a user goes through it, so every check applies to every caller.
void run_login(web_context& ctx, nlohmann::json login_data, login_callback done,
               login_session session = login_session::create);

// From an auth model an authenticator already produced (redirect-based logins through
// handle_request): everything after `authenticate`.
void complete_login(web_context& ctx, nlohmann::json auth_model, login_callback done);

}  // namespace hubd::core::web
