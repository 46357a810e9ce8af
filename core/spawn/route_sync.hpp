#pragma once
// The proxy's routes against the table: the routes that should be there (the hub's, each service
// with a url, each ready server), the periodic check that adds missing and removes stale ones, and
// proxy traffic recorded as activity.
#include "core/spawn/server_table.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace hubd::core::spawn {

std::vector<proxy::route> wanted_routes(const spawn_env& env);

// done(error) once every repair finished.
void check_routes(const std::shared_ptr<spawn_env>& env, std::function<void(std::string error)> done);

// The routes' last_activity stamps onto servers and users. done(error).
void update_route_activity(const std::shared_ptr<spawn_env>& env, std::function<void(std::string error)> done);

}  // namespace hubd::core::spawn
