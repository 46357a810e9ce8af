#pragma once
// The internal API for plugins (docs/architecture.md "Threads and the internal API"): a plugin's request
// goes through the same router and scope checks as a REST call, in process, under the plugin's own
// principal: the plugin's row in the services table (kind plugin, bootstrap.hpp plugin_principal)
// holding its [plugins.NAME] roles. The request carries that principal from the start
// (http::request::plugin_principal); no token is minted and no Authorization header is made up.
#include "core/app/bootstrap.hpp"
#include "core/plugins/plugin_host.hpp"

#include <set>
#include <string>
#include <vector>

namespace hubd::core::http {
class router;
class io_pool;
}  // namespace hubd::core::http

namespace hubd::core::app {

// [plugins.NAME] tables that name roles, in config order.
std::vector<plugin_principal> plugin_principals(const nlohmann::json& plugin_tables);

class internal_api {
public:
  // `principals`: the plugins that may call (those with roles); others get a 403 that says how.
  internal_api(http::router& router, http::io_pool& io, std::string base_url,
               const std::vector<plugin_principal>& principals);

  // plugins::api_handler: posts the request to the io threads (the plugin's thread may be a pool
  // thread that must not run REST handlers) and answers from the router's completion.
  void handle(plugins::api_request request, plugins::api_responder respond) const;

private:
  http::router& router_;
  http::io_pool& io_;
  std::string api_prefix_;                      // <base_url>hub/api
  std::set<std::string, std::less<>> principals_;  // plugin names; written at construction only
};

}  // namespace hubd::core::app
