#pragma once
// Whether a spawn may begin: named-server rules, the per-user named-server limit,
// concurrent_spawn_limit (429 with Retry-After) and active_server_limit (429). Pure: counts are passed in.
#include <string>
#include <string_view>

namespace hubd::core::spawn {

struct spawn_limits {
  bool allow_named_servers = false;
  int named_server_limit_per_user = 0;  // 0: unlimited
  int concurrent_spawn_limit = 100;     // 0: unlimited
  int active_server_limit = 0;          // 0: unlimited
};

struct spawn_counts {
  int pending_spawns = 0;       // spawns in flight, hub-wide
  int active_servers = 0;       // running or pending servers, hub-wide
  int user_named_servers = 0;   // the user's existing named servers (not counting this one)
  bool server_exists = false;   // this named server already has a record
  bool server_running = false;  // ready
  bool spawn_pending = false;
  bool stop_pending = false;
};

struct admission {
  int status = 0;  // 0: go ahead; 202: a spawn is already pending (answer 202); else the HTTP error
  std::string message;
  int retry_after = 0;  // seconds, with 429 from concurrent_spawn_limit
  bool ok() const { return status == 0; }
};

// JupyterHub 6 named-server names: 1-30 of [a-z0-9-], starting with a letter, ending with a letter or
// digit, no "--".
bool valid_server_name(std::string_view name);

// `retry_seed` (any integer, e.g. a counter) spreads Retry-After over 30..60 s as JupyterHub does.
admission admit_spawn(std::string_view user, std::string_view server_name, const spawn_limits& limits,
                      const spawn_counts& counts, unsigned retry_seed = 0);

}  // namespace hubd::core::spawn
