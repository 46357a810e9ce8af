#pragma once
// The credential lifecycle of a login after it began (JupyterHub's BaseHandler.refresh_auth): the
// authenticator's refresh_user is asked when a request's user was last refreshed more than
// auth_refresh_age seconds ago, and before a spawn or a stop when the config says so. Its answer:
//   true                  the login goes on;
//   a partial auth model  {"auth_state", "groups" (with manage_groups), "admin", "user_info"} is
//                         stored (auth_state encrypted) and committed, then the login goes on;
//   false                 the login is over: every browser session of the user ends (the login
//                         cookies stop working); API tokens stay, and their requests are refused
//                         while refresh_user keeps saying false;
//   failure or timeout    transient: logged, the login goes on, asked again on a later request.
// One refresh per user at a time (refresh_tracker). Nothing here blocks: the plugin op runs on the
// plugin pool and the caller's continuation is posted back (to the io pool), never run inline.
#include "core/model/hub_model.hpp"
#include "core/session/refresh_tracker.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace hubd::core::session {

struct refresh_settings {
  std::chrono::seconds auth_refresh_age{300};  // Authenticator.auth_refresh_age (0: never by age)
  bool refresh_pre_spawn = false;              // Authenticator.refresh_pre_spawn
  bool refresh_pre_stop = false;               // Authenticator.refresh_pre_stop
  bool enable_auth_state = false;              // Authenticator.enable_auth_state
  bool manage_groups = false;                  // Authenticator.manage_groups
  std::set<std::string, std::less<>> admin_users;  // stay admins whatever a refresh says, as at login
};

// What the authenticator's refresh_user op answered, as core/plugins reports it.
struct refresh_answer {
  bool completed = false;  // the op completed with a well-formed result in `value`
  nlohmann::json value;    // true, false or a partial auth model
  std::string failure;     // when !completed: why (safe to log)
};

// Calls the plugin op with {"user", "auth_state"}; `done` may run on any thread.
using refresh_call = std::function<void(nlohmann::json input, std::function<void(refresh_answer)> done)>;
// Runs a continuation elsewhere (the io pool): never inline.
using post_fn = std::function<void(std::function<void()>)>;

// The 403 message of a refused spawn or request once the login is over (JupyterHub's words).
std::string login_expired_message(std::string_view user);

class login_refresh {
public:
  login_refresh(model::hub_model& model, refresh_settings settings, refresh_call call, post_fn post,
                refresh_tracker::now_fn now = {});

  const refresh_settings& settings() const { return settings_; }

  // The request path's whole cost when nothing is due: a hash lookup and a time comparison.
  bool due(std::string_view user) const { return tracker_->due(user); }
  // A login counts as a refresh (JupyterHub sets _auth_refreshed in login_user).
  void logged_in(std::string_view user) { tracker_->logged_in(user); }

  // Refreshes the user now, or joins the refresh in flight, and calls `then` with the verdict once
  // every change it made is durable. `then` is posted, never run inline.
  void refresh(const std::string& user, std::function<void(refresh_verdict)> then);

private:
  void on_answer(const std::string& user, refresh_answer a);
  void store_update(const std::string& user, const nlohmann::json& update);
  void end_login(const std::string& user);
  void finish(const std::string& user, refresh_verdict v);

  model::hub_model& model_;
  refresh_settings settings_;
  refresh_call call_;
  post_fn post_;
  // Shared with the model's subscriber (a deleted or renamed user's stamp goes, as JupyterHub's new
  // User object has none), which outlives this object.
  std::shared_ptr<refresh_tracker> tracker_;
};

}  // namespace hubd::core::session
