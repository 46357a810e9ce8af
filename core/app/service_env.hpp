#pragma once
// The environment a managed service is started with: JupyterHub's service spawner contract
// (what JupyterHub's service spawner sets), so `jupyterhub.services.auth.HubAuth`/`HubOAuth` find
// the hub, their token and their OAuth client without any setting of their own.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hubd::core::app {

struct service_env_input {
  std::string name;
  std::optional<std::string> url;           // the configured `url`
  std::string api_token;                    // configured or generated at start-up
  std::string client_id;                    // service-<name> unless configured
  std::string base_url = "/";               // JupyterHub.base_url, normalised
  std::string hub_api_url;                  // as reachable from a local process (loopback for 0.0.0.0)
  std::string public_url;                   // JupyterHub.public_url, may be empty
  std::vector<std::string> allowed_scopes;  // the configured oauth_client_allowed_scopes
  std::string user;                         // the service's `user`, usually empty
  bool admin_access = false;
  bool cookie_host_prefix_enabled = false;
  nlohmann::json cookie_options = nlohmann::json::object();
  std::map<std::string, std::string> environment;  // the service's `environment`
  std::map<std::string, std::string> parent_env;   // hubd's own, for the env_keep variables
};

// "<base_url>services/<name>/": where the proxy routes the service.
std::string service_prefix(const std::string& base_url, const std::string& name);

std::map<std::string, std::string> service_environment(const service_env_input& in);

// hubd's environment as a map (for parent_env).
std::map<std::string, std::string> current_environment();

}  // namespace hubd::core::app
