#pragma once
// What the spawn layer shares between servers: the active servers (each with its flow and the phase
// and target it last published), the failures kept for progress and the spawn-pending page, and the
// start-up state (claims, routes waiting for the proxy). One mutex guards it; it is never held while
// calling a plugin, the proxy or the model, and a flow's own state is only touched on its strand.
#include "core/spawn/lifecycle.hpp"
#include "core/spawn/server_manager.hpp"

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace hubd::core::spawn {

class spawn_flow;

using server_key = std::pair<std::string, std::string>;  // (user, server name)

struct server_entry {
  std::shared_ptr<spawn_flow> flow;
  server_phase phase = server_phase::starting;
  std::string prefix;  // /user/alice/
  std::string target;  // http://127.0.0.1:PORT once started
};

struct spawn_failure {
  std::string message;
  std::vector<nlohmann::json> events;
};

// One step before the spawner's start: the authenticator's pre_spawn_start or a pre_spawn hook.
// done(ok, status, message, patch): on refusal, status and message are what the spawn answers.
struct pre_spawn_step {
  std::string name;  // "authenticator" or the hook plugin's name
  std::function<void(const std::string& who, nlohmann::json input,
                     std::function<void(bool ok, int status, std::string message, nlohmann::json patch)> done)>
      run;
};

struct spawn_env {
  server_manager_deps deps;
  spawn_settings settings;
  env_map hub_environ;
  std::vector<pre_spawn_step> pre_spawn;

  mutable std::mutex mutex;
  std::condition_variable changed;  // a server left the table or changed phase (the shutdown waits on it)
  std::map<server_key, server_entry> servers;
  std::map<server_key, spawn_failure> failures;
  unsigned retry_seed = 0;
  bool shut = false;
  // Until resume() (the proxy answers), route additions wait here instead of failing the spawn.
  bool routes_open = false;
  std::vector<std::function<void()>> deferred_routes;
  // Servers the database recorded as active at start-up, set aside for the adoption pass.
  std::vector<std::shared_ptr<spawn_flow>> claimed;
  std::unique_ptr<boost::asio::steady_timer> poll_timer;

  spawn_env(server_manager_deps d, spawn_settings s);
};

}  // namespace hubd::core::spawn
