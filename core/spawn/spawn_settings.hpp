#pragma once
// The spawn layer's settings, read once from the config values: the Spawner section, the
// JupyterHub keys that shape servers (limits, URLs, timeouts) and the spawner plugin's table.
// Pure: the hub's own environment is passed in, never read here.
#include "core/spawn/admission.hpp"
#include "core/spawn/env_contract.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace hubd::core::spawn {

struct spawn_settings {
  spawn_limits limits;
  std::string spawner_class = "local";
  nlohmann::json spawner_section = nlohmann::json::object();  // [plugins.<spawner_class>]

  std::string base_url = "/";  // starts and ends with '/'
  std::string hub_api_url;     // as reachable from servers: http://127.0.0.1:8081/hub/api
  std::string public_host;     // scheme://host[:port] of JupyterHub.public_url, or ""

  std::vector<std::string> cmd{"jupyterhub-singleuser"};
  std::vector<std::string> args;
  env_map environment;
  std::vector<std::string> env_keep;
  std::string default_url;
  std::string notebook_dir;
  std::string ip = "127.0.0.1";
  int port = 0;
  std::vector<std::string> oauth_client_allowed_scopes;
  std::vector<std::string> server_token_scopes;
  bool debug = false;
  bool disable_user_config = false;
  bool admin_access = false;
  bool cookie_host_prefix_enabled = false;
  bool enable_auth_state = false;  // Authenticator.enable_auth_state: the context carries auth_state
  std::string mem_limit, mem_guarantee;
  double cpu_limit = 0, cpu_guarantee = 0;

  std::chrono::milliseconds start_timeout{60'000};
  std::chrono::milliseconds http_timeout{30'000};
  std::chrono::milliseconds poll_interval{30'000};
  std::chrono::milliseconds slow_spawn_timeout{10'000};  // the API answers 202 after this
  std::chrono::milliseconds slow_stop_timeout{10'000};   // DELETE answers 202 after this
  // No config keys (JupyterHub has none either): how long a graceful stop may take, a forced stop
  // (after a failed graceful one, or the rollback of a failed spawn) may take, and the shutdown waits
  // for pending spawns and stopping servers.
  std::chrono::milliseconds stop_timeout{60'000};
  std::chrono::milliseconds forced_stop_timeout{30'000};
  std::chrono::milliseconds shutdown_timeout{30'000};
  bool cleanup_servers = true;                           // stop servers when hubd shuts down
};

// `config` is the whole config values object ({"JupyterHub": {...}, "Spawner": {...}, "plugins": {...}}).
spawn_settings spawn_settings_from_config(const nlohmann::json& config);

// "http://127.0.0.1:8081/hub/api" from hub_connect_url (or hub_bind_url, with an all-interfaces host
// reached over loopback) and base_url.
std::string hub_api_url_of(const std::string& connect_or_bind_url, const std::string& base_url);

// scheme://host[:port] of a URL ("" for "").
std::string url_origin(const std::string& url);

}  // namespace hubd::core::spawn
