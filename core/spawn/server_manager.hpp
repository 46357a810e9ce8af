#pragma once
// The spawn port: starts, stops, progress, re-adoption after a restart and route checks for every
// server. Thin: admission and the table of active servers here; each server's steps are decided by
// its lifecycle (lifecycle.hpp) and performed by its spawn_flow on a strand of its own; the poll,
// re-adoption and route sync live in server_polling, readoption and route_sync.
//
// Threads: every entry point returns at once; answers come on an io thread. The table's mutex is
// never held while calling a plugin, the proxy or the model.
#include "core/spawn/spawn_settings.hpp"
#include "core/proxy/proxy.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hubd::core {
namespace model {
class hub_model;
}
namespace rbac {
class scope_table;
class membership_view;
}  // namespace rbac
namespace plugins {
class plugin_registry;
class hooks_adapter;
}  // namespace plugins
namespace http {
class io_pool;
class client;
}  // namespace http
}  // namespace hubd::core

namespace hubd::core::http {
class body_stream;
}

namespace hubd::core::spawn {

// What a start or stop request is answered with: 201 ready / 202 pending / 204 stopped, or an error
// status with a message (and Retry-After seconds for the 429 spawn throttle).
struct spawn_answer {
  int status = 0;
  std::string message;
  int retry_after = 0;
};
using answer_callback = std::function<void(spawn_answer)>;

// Progress: status 200 with a text/event-stream body, or an error status with a message. While the
// spawn runs, `stream` is set instead of the body: each event is pushed as it happens and the stream
// closes after the final ready or failed event.
using progress_callback =
    std::function<void(int status, std::string body, std::shared_ptr<http::body_stream> stream)>;

struct server_manager_deps {
  model::hub_model& model;
  const rbac::scope_table& scopes;
  const rbac::membership_view& membership;
  plugins::plugin_registry& registry;
  http::io_pool& io;
  http::client& client;
  proxy::proxy* proxy = nullptr;  // null: no proxy (people talk to hubd directly)
  std::vector<std::shared_ptr<plugins::hooks_adapter>> hooks;  // config order
  // The hub's own route ("/" → hubd) that check_routes keeps in the proxy; empty target: none.
  proxy::route hub_route;
  // The authenticator's pre_spawn_start / post_spawn_stop (run before the pre_spawn hooks and with
  // the post_stop hooks); empty when the plugin does not implement them.
  std::function<void(nlohmann::json input, std::function<void(bool ok, int status, std::string message,
                                                              nlohmann::json patch)>)>
      authenticator_pre_spawn;
  std::function<void(nlohmann::json input)> authenticator_post_stop;
};

class server_manager {
public:
  server_manager(server_manager_deps deps, spawn_settings settings);
  ~server_manager();
  server_manager(const server_manager&) = delete;
  server_manager& operator=(const server_manager&) = delete;

  // POST /users/{u}/server[s/{s}]. user_options null: reuse the previous options. done gets 201 once
  // ready or 202 after `answer_within` (default Spawner slow_spawn_timeout; the pages use about a
  // second) while the spawn goes on.
  void start(const std::string& user, const std::string& server, const nlohmann::json& user_options,
             answer_callback done, std::optional<std::chrono::milliseconds> answer_within = std::nullopt);
  // DELETE /users/{u}/server[s/{s}]; `remove` deletes the (named) server record after the stop.
  void stop(const std::string& user, const std::string& server, bool remove, answer_callback done);
  // Every active server of the user (shutdown_on_logout, deleting a user); done once all are stopped.
  void stop_all(const std::string& user, std::function<void()> done);
  // GET .../progress: the events so far and, once finished, the final one.
  void progress(const std::string& user, const std::string& server, progress_callback done);
  // The last spawn of this server failed (and nothing runs): its message. For the spawn-pending page.
  std::optional<std::string> last_failure(const std::string& user, const std::string& server) const;

  // Start-up, before the hub answers requests: sets aside the servers the model records as active
  // (they answer as busy until adopted). Only these are adopted or cleared by resume(); a spawn
  // requested meanwhile is never touched by the adoption pass.
  void claim_recorded();
  // Start-up, once the proxy answers: re-adopt the claimed servers that still run (load_state + poll),
  // stop those that were pending, clear the rest; route additions that waited for the proxy go in;
  // start the poll timer. (server_started/server_stopped reach hook plugins as model change events.)
  void resume();
  // The proxy's routes against what should be there (adds missing, removes stale). done(error).
  void check_routes(std::function<void(std::string error)> done);
  // Proxy traffic as activity (the routes' last_activity stamps onto servers and users). done(error).
  void update_activity(std::function<void(std::string error)> done);
  // What check_routes wants: the hub route plus one per ready server.
  std::vector<proxy::route> wanted_routes() const;
  // Shutdown (main thread, blocking, bounded): stops the poll timer, cancels every pending spawn
  // (stopping its process) and, with cleanup_servers (or stop_servers), stops every running server;
  // otherwise running servers and their records stay for the next start to re-adopt.
  void shutdown();
  void shutdown(bool stop_servers);

  const spawn_settings& settings() const;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

}  // namespace hubd::core::spawn
