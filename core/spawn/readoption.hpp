#pragma once
// Re-adoption after a restart: the servers the database records as active are set aside at start-up
// (busy until adopted), then, once the proxy answers, each is re-adopted if its spawner still runs
// it (load_state + poll), stopped if it was pending, cleared otherwise.
#include "core/spawn/server_table.hpp"

#include <memory>

namespace hubd::core::spawn {

// Claims the recorded servers that have no entry yet (a spawn of this run is never touched).
void claim_recorded_servers(const std::shared_ptr<spawn_env>& env);

// Claims what is left, opens the routes (those that waited go in) and starts each adoption.
void adopt_claimed_servers(const std::shared_ptr<spawn_env>& env);

}  // namespace hubd::core::spawn
