#pragma once
// A spawner plugin instance (one per user server), JupyterHub's Spawner with std::function callbacks.
// Callbacks run on the plugin completion thread, exactly once, never inline.
#include "core/plugins/op_result.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace hubd::core::plugins {

namespace detail {
class instance;
}

class spawner_adapter {
public:
  explicit spawner_adapter(std::shared_ptr<detail::instance> inst);
  ~spawner_adapter();

  const std::string& name() const;
  bool implements(std::string_view op) const;

  // ctx: the spawner context (user, server_name, user_options, env, ...). progress gets each event
  // ({"progress": n, "message": ...}); done gets {"url": ...}. timeout: Spawner.start_timeout.
  void start(nlohmann::json ctx, progress_callback progress, op_callback done,
             std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // auth_state: the user's (null without enable_auth_state), for a spawner that acts with the user's
  // token when it stops (Authenticator.refresh_pre_stop refreshed it just before).
  void stop(bool now, op_callback done, std::optional<std::chrono::milliseconds> timeout = std::nullopt,
            nlohmann::json auth_state = nullptr);
  // value: {"running": true} or {"exit_status": n}
  void poll(op_callback done);
  void options_form(nlohmann::json ctx, op_callback done);        // value: {"html": ...}
  void options_from_form(nlohmann::json form, op_callback done);  // value: {"user_options": {...}}
  void delete_forever(nlohmann::json ctx, op_callback done);
  void rename(std::string old_name, std::string new_name, op_callback done);

  // State round trip (runs on the pool, answers on the completion thread). get_state: null when none.
  void get_state(std::function<void(nlohmann::json state)> done);
  void load_state(nlohmann::json state, std::function<void(bool accepted)> done);
  void clear_state(std::function<void()> done);

private:
  std::shared_ptr<detail::instance> inst_;
};

}  // namespace hubd::core::plugins
