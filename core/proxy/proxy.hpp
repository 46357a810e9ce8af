#pragma once
// The proxy interface (JupyterHub's Proxy class) and the pure route-sync decision of check_routes.
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace hubd::core::proxy {

// A route as JupyterHub's Proxy API shows it: routespec ("/user/alice/"), target ("http://127.0.0.1:4567"),
// data ({"user": "alice", "server_name": "", "last_activity": "..."} or {"hub": true} or {"service": "x"}).
struct route {
  std::string routespec;
  std::string target;
  nlohmann::json data = nlohmann::json::object();
  bool operator==(const route&) const = default;
};
using route_table = std::map<std::string, route>;  // by routespec

// Every callback runs exactly once, on an io thread, never before the call returns. `error` is empty on
// success and names what failed otherwise.
using done_callback = std::function<void(std::string error)>;
using routes_callback = std::function<void(route_table routes, std::string error)>;

class proxy {
public:
  virtual ~proxy() = default;
  virtual void add_route(const route& r, done_callback cb) = 0;
  virtual void delete_route(const std::string& routespec, done_callback cb) = 0;  // missing: not an error
  // Only routes hubd added (CHP's "jupyterhub": true marker); other routes are left out.
  virtual void get_all_routes(routes_callback cb) = 0;
};

// Route data the way JupyterHub attaches it.
nlohmann::json user_route_data(const std::string& user, const std::string& server_name);
nlohmann::json service_route_data(const std::string& service);
nlohmann::json hub_route_data();

// check_routes as a pure function: what to add (missing, or pointing at another target) and what to
// delete (routes hubd owns that nobody wants, unless their spec is pending: a spawn or stop in flight).
struct sync_plan {
  std::vector<route> add;
  std::vector<std::string> remove;
  bool empty() const { return add.empty() && remove.empty(); }
};
sync_plan plan_route_sync(const route_table& current, const std::vector<route>& wanted,
                          const std::set<std::string>& pending_specs);

}  // namespace hubd::core::proxy
