#pragma once
// The internal API for plugins (docs/architecture.md "Threads and the internal API"): a plugin's request
// goes through the same router, authentication and scope checks as a REST call, in process, under
// the plugin's own principal. That principal is a service of the plugin's name holding the roles of
// its [plugins.NAME] roles (bootstrap.hpp plugin_principal) and a token minted at every start; the
// token never leaves the process and never reaches a log.
#include "core/app/bootstrap.hpp"
#include "core/plugins/plugin_host.hpp"

#include <map>
#include <string>
#include <vector>

namespace hubd::core::model {
class hub_model;
}
namespace hubd::core::http {
class router;
class io_pool;
}  // namespace hubd::core::http

namespace hubd::core::app {

// [plugins.NAME] tables that name roles, in config order.
std::vector<plugin_principal> plugin_principals(const nlohmann::json& plugin_tables);

class internal_api {
public:
  internal_api(http::router& router, http::io_pool& io, std::string base_url);

  // Replaces each principal's earlier internal token with a fresh one. Start-up only: blocks until
  // the tokens are durable. Throws std::runtime_error on a database failure.
  void issue_tokens(model::hub_model& model, const std::vector<plugin_principal>& principals);

  // plugins::api_handler: posts the request to the io threads (the plugin's thread may be a pool
  // thread that must not run REST handlers) and answers from the router's completion.
  void handle(plugins::api_request request, plugins::api_responder respond) const;

private:
  http::router& router_;
  http::io_pool& io_;
  std::string api_prefix_;                      // <base_url>hub/api
  std::map<std::string, std::string> secrets_;  // plugin name -> token secret; written at start-up only
};

}  // namespace hubd::core::app
