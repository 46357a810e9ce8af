#include "core/proxy/proxy.hpp"

namespace hubd::core::proxy {

nlohmann::json user_route_data(const std::string& user, const std::string& server_name) {
  return {{"user", user}, {"server_name", server_name}};
}
nlohmann::json service_route_data(const std::string& service) { return {{"service", service}}; }
nlohmann::json hub_route_data() { return {{"hub", true}}; }

sync_plan plan_route_sync(const route_table& current, const std::vector<route>& wanted,
                          const std::set<std::string>& pending_specs) {
  sync_plan plan;
  std::set<std::string> good = pending_specs;
  for (const auto& w : wanted) {
    good.insert(w.routespec);
    auto it = current.find(w.routespec);
    // Only the target matters: CHP adds last_activity to data, which must not cause a rewrite.
    if (it == current.end() || it->second.target != w.target) plan.add.push_back(w);
  }
  for (const auto& [spec, r] : current) {
    if (!good.count(spec)) plan.remove.push_back(spec);
  }
  return plan;
}

}  // namespace hubd::core::proxy
