#pragma once
// Idle servers from proxy traffic (JupyterHub's update_last_activity): configurable-http-proxy stamps
// each route's data with last_activity when it forwards a request; hubd copies the newer stamps onto
// the server and its user. Pure: the route table and the stored times come in, the updates go out.
#include "core/model/timestamp.hpp"
#include "core/proxy/proxy.hpp"

#include <functional>
#include <string>
#include <vector>

namespace hubd::core::spawn {

struct activity_update {
  std::string user;
  std::string server;
  model::time_point when;
};

// stored(user, server): the server's recorded last_activity (nullopt: none, or no such server: then
// the route's stamp is ignored). Only routes of user servers with a parseable stamp that is newer than
// the stored one, and not in the future beyond `now` + 1 min (clock skew), become updates.
std::vector<activity_update> activity_from_routes(
    const proxy::route_table& routes, model::time_point now,
    const std::function<std::optional<model::opt_time>(const std::string& user, const std::string& server)>& stored);

}  // namespace hubd::core::spawn
