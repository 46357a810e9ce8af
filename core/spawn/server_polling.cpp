#include "core/spawn/server_polling.hpp"

#include "core/http/io_pool.hpp"
#include "core/spawn/spawn_flow.hpp"

namespace hubd::core::spawn {

void poll_running_servers(const spawn_env& env) {
  std::vector<std::shared_ptr<spawn_flow>> running;
  {
    std::lock_guard lk(env.mutex);
    for (const auto& [k, e] : env.servers)
      if (e.phase == server_phase::running) running.push_back(e.flow);
  }
  for (auto& f : running) f->poll_exit();
}

void arm_server_polling(const std::shared_ptr<spawn_env>& env) {
  std::lock_guard lk(env->mutex);
  if (env->shut || env->settings.poll_interval.count() <= 0) return;
  if (!env->poll_timer) env->poll_timer = std::make_unique<boost::asio::steady_timer>(env->deps.io.context());
  env->poll_timer->expires_after(env->settings.poll_interval);
  std::weak_ptr<spawn_env> weak = env;
  env->poll_timer->async_wait([weak](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      poll_running_servers(*self);
      arm_server_polling(self);
    }
  });
}

}  // namespace hubd::core::spawn
