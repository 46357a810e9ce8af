#include "core/app/service_env.hpp"

#include "core/spawn/spawn_settings.hpp"

extern char** environ;

namespace hubd::core::app {

std::string service_prefix(const std::string& base_url, const std::string& name) {
  return base_url + "services/" + name + "/";
}

std::map<std::string, std::string> current_environment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) out.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return out;
}

std::map<std::string, std::string> service_environment(const service_env_input& in) {
  std::map<std::string, std::string> env;
  // LocalProcessSpawner's env_keep default (JupyterHub's service spawner is one): nothing else of
  // hubd's environment (CONFIGPROXY_AUTH_TOKEN, JUPYTERHUB_CRYPT_KEY) reaches the service.
  for (const char* key : {"CONDA_DEFAULT_ENV", "CONDA_ROOT", "JUPYTERHUB_SINGLEUSER_APP", "LANG", "LC_ALL",
                          "LD_LIBRARY_PATH", "PATH", "PYTHONPATH", "VIRTUAL_ENV"})
    if (auto it = in.parent_env.find(key); it != in.parent_env.end()) env[key] = it->second;

  const std::string prefix = service_prefix(in.base_url, in.name);
  const std::string public_origin = spawn::url_origin(in.public_url);
  const nlohmann::json access = {"access:services", "access:services!service=" + in.name};

  env["JUPYTERHUB_API_TOKEN"] = in.api_token;
  env["JPY_API_TOKEN"] = in.api_token;  // deprecated since 0.7, still read as a fallback
  if (in.admin_access) env["JUPYTERHUB_ADMIN_ACCESS"] = "1";
  env["JUPYTERHUB_CLIENT_ID"] = in.client_id;
  if (in.cookie_options.is_object() && !in.cookie_options.empty())
    env["JUPYTERHUB_COOKIE_OPTIONS"] = in.cookie_options.dump();
  env["JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"] = in.cookie_host_prefix_enabled ? "1" : "0";
  env["JUPYTERHUB_HOST"] = public_origin;
  // Derived from the prefix, not from a custom oauth_redirect_uri, as JupyterHub does; a service
  // reached outside the proxy sets it in its `environment` (docs/services.md).
  env["JUPYTERHUB_OAUTH_CALLBACK_URL"] = prefix + "oauth_callback";
  env["JUPYTERHUB_OAUTH_SCOPES"] = access.dump();
  env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"] = access.dump();
  // hubd decision: the configured list (JupyterHub always sends []).
  env["JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES"] = nlohmann::json(in.allowed_scopes).dump();
  env["JUPYTERHUB_USER"] = in.user;
  env["JUPYTERHUB_SERVER_NAME"] = "";
  env["JUPYTERHUB_API_URL"] = in.hub_api_url;
  env["JUPYTERHUB_BASE_URL"] = in.base_url;
  env["JUPYTERHUB_PUBLIC_URL"] = in.url && !public_origin.empty() ? public_origin + prefix : "";
  env["JUPYTERHUB_PUBLIC_HUB_URL"] = public_origin.empty() ? "" : public_origin + in.base_url + "hub/";

  // The service's `environment` overrides all of the above, except what names the service itself
  // (JupyterHub sets these three after applying it).
  for (const auto& [k, v] : in.environment) env[k] = v;
  env["JUPYTERHUB_SERVICE_NAME"] = in.name;
  if (in.url) {
    env["JUPYTERHUB_SERVICE_URL"] = *in.url;
    env["JUPYTERHUB_SERVICE_PREFIX"] = prefix;
  }
  return env;
}

}  // namespace hubd::core::app
