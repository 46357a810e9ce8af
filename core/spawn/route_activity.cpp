#include "core/spawn/route_activity.hpp"

namespace hubd::core::spawn {

std::vector<activity_update> activity_from_routes(
    const proxy::route_table& routes, model::time_point now,
    const std::function<std::optional<model::opt_time>(const std::string&, const std::string&)>& stored) {
  std::vector<activity_update> out;
  for (const auto& [spec, r] : routes) {
    const auto& d = r.data;
    if (!d.is_object() || !d.contains("user") || !d["user"].is_string()) continue;
    if (!d.contains("last_activity") || !d["last_activity"].is_string()) continue;
    auto when = model::parse_iso8601(d["last_activity"].get<std::string>());
    if (!when || *when > now + std::chrono::minutes(1)) continue;
    std::string user = d["user"].get<std::string>();
    std::string server = d.contains("server_name") && d["server_name"].is_string() ? d["server_name"].get<std::string>() : "";
    auto known = stored(user, server);
    if (!known) continue;  // no such server (a stale route): nothing to update
    if (*known && **known >= *when) continue;
    out.push_back({std::move(user), std::move(server), *when});
  }
  return out;
}

}  // namespace hubd::core::spawn
