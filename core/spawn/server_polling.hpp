#pragma once
// The periodic poll of running servers (Spawner.poll_interval): one that exited on its own gets an
// `exited` event, and its lifecycle cleans up its route and record so the user can start again.
#include "core/spawn/server_table.hpp"

#include <memory>

namespace hubd::core::spawn {

// Arms the poll timer (again after each round) unless the hub is shutting down or poll_interval is 0.
void arm_server_polling(const std::shared_ptr<spawn_env>& env);

// One round: every running server is polled once.
void poll_running_servers(const spawn_env& env);

}  // namespace hubd::core::spawn
