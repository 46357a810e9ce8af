#pragma once
// An authenticator plugin instance as core sees it: JupyterHub's Authenticator methods with
// std::function callbacks. Callbacks run on the plugin completion thread, exactly once, never inline;
// post to your own strand from there. Every failure (denied, timeout, malformed result) is reported
// as a non-ok op_result: callers fail closed.
#include "core/names/username.hpp"
#include "core/plugins/op_result.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::plugins {

namespace detail {
class instance;
}

class authenticator_adapter {
public:
  explicit authenticator_adapter(std::shared_ptr<detail::instance> inst);
  ~authenticator_adapter();

  const std::string& name() const;
  // Whether the plugin implements an op ("refresh_user", "check_allowed", ...). An op it does not
  // implement completes as failed with "not implemented": check first and apply JupyterHub's default.
  bool implements(std::string_view op) const;

  // {"username", "password", ...} -> ok with an auth model {"name", ...} (a bare name string from the
  // plugin is turned into {"name": ...}), or denied.
  void authenticate(nlohmann::json login_data, op_callback done);
  void refresh_user(nlohmann::json input, op_callback done);  // value: true, false or a partial model
  void check_allowed(nlohmann::json input, op_callback done);  // value: bool
  void check_blocked(nlohmann::json input, op_callback done);  // value: bool
  void is_admin(nlohmann::json input, op_callback done);       // value: bool or null
  void pre_spawn_start(nlohmann::json input, op_callback done);  // value: {} or a patch
  void post_spawn_stop(nlohmann::json input, op_callback done);
  void add_user(nlohmann::json input, op_callback done);
  void delete_user(nlohmann::json input, op_callback done);
  void load_managed_roles(op_callback done);                       // value: {"roles": [...]}
  void handle_request(nlohmann::json request, op_callback done);   // value: {status, headers, body|redirect}
  // {"user", "auth_state"} when the user logs out (ABI 1.1); the value is ignored.
  void logout(nlohmann::json input, op_callback done);

  // Quick synchronous calls (the plugin promises they are thread-safe and do no I/O).
  // The plugin's own normalize_username and then hubd's rule (core/names) on its result without
  // case folding (the plugin chose the case); when the plugin has no answer, the whole rule on
  // the name. A plugin can map names, never past NFC and the refusals.
  names::username_result normalize_username(std::string_view username) const;
  // nullopt when valid; otherwise the reason. Without a plugin rule: JupyterHub's default (non-empty,
  // no '/').
  std::optional<std::string> validate_username(std::string_view username) const;
  std::string login_url(std::string_view base_url) const;   // default base_url + "login"
  std::string logout_url(std::string_view base_url) const;  // default base_url + "logout"
  // Extra routes under /hub/ served by handle_request.
  std::vector<std::string> routes() const;

private:
  std::shared_ptr<detail::instance> inst_;
};

}  // namespace hubd::core::plugins
