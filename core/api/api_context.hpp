#pragma once
// Everything a REST handler needs, filled in by the app at start-up. Slots for layers that land
// later (authenticator, spawn, proxy, shutdown) may stay empty: handlers then answer honestly
// (for example 501 or a no-op) instead of crashing.
#include "core/http/jupyterhub_version.hpp"
#include "core/http/response.hpp"
#include "core/http/signed_value.hpp"
#include "core/model/hub_model.hpp"
#include "core/names/username.hpp"
#include "core/rbac/scope_table.hpp"
#include "core/session/session_identifier.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::api {

// The authenticator as the API sees it (core/plugins adapts the plugin to this).
struct authenticator_slot {
  // JupyterHub's Authenticator.normalize_username followed by hubd's rule; empty: hubd's rule
  // (core/names) alone.
  std::function<names::username_result(std::string_view)> normalize_username;
  // Authenticator.validate_username; empty: not empty, no '/', valid UTF-8 without NUL.
  std::function<bool(std::string_view)> validate_username;
  // POST /users/{name}/tokens with "auth": login data → the authenticated user name or nullopt.
  // `done` may run on any thread.
  std::function<void(const nlohmann::json& auth, std::function<void(std::optional<std::string>)> done)> authenticate;
  // For GET /info.
  std::string class_name = "hubd.dummy";
  std::string version;
};

// The spawn layer (core/spawn). `done` gets the HTTP answer to send, on any thread.
struct spawn_slot {
  using answer = std::function<void(http::response)>;
  std::function<void(const std::string& user, const std::string& server, const nlohmann::json& options, answer done)>
      start;
  std::function<void(const std::string& user, const std::string& server, answer done)> stop;
  // DELETE with {"remove": true}: stop, then delete the server record.
  std::function<void(const std::string& user, const std::string& server, answer done)> remove;
  // GET .../progress: a text/event-stream response (or the JSON error).
  std::function<void(const std::string& user, const std::string& server, answer done)> progress;
  std::string class_name = "hubd.noop";
  std::string version;
};

// The proxy (core/proxy) for GET/POST/PATCH /proxy.
struct proxy_slot {
  std::function<void(std::function<void(std::optional<nlohmann::json> routes)> done)> get_routes;
  std::function<void(std::function<void(bool ok)> done)> resync;
  std::function<void(const nlohmann::json& patch, std::function<void(bool ok)> done)> reconfigure;
};

// Managed services (core/app/managed_services) for the `command` and `pid` of GET /services.
struct managed_service_slot {
  struct info {
    std::vector<std::string> command;
    int pid = 0;  // 0 while it is not running
  };
  // nullopt: not a managed service (or no manager): the model shows [] and 0.
  std::function<std::optional<info>(std::string_view name)> status;
};

struct api_context {
  // `sessions` is shared with the pages and the OAuth provider.
  api_context(model::hub_model& model, const rbac::scope_table& scopes, const nlohmann::json& config,
              session::session_identifier& sessions);
  api_context(const api_context&) = delete;
  api_context& operator=(const api_context&) = delete;

  model::hub_model& model;
  const rbac::scope_table& scopes;
  const nlohmann::json& config;  // the whole config values: config["JupyterHub"]["api_page_max_limit"]
  // Who a request comes from, and the expanded scopes per principal (keyed by model.generation()).
  session::session_identifier& sessions;
  session::permission_cache& permissions;
  std::string version{http::jupyterhub_api_version};  // GET /hub/api/ "version" (hubd_version: HUBD_VERSION)
  std::string base_url = "/";          // normalised: starts and ends with '/'

  authenticator_slot authenticator;
  spawn_slot spawn;
  proxy_slot proxy;
  managed_service_slot managed_services;
  // POST /shutdown: called after the 202 is queued. Empty: the request is answered and ignored.
  std::function<void(bool stop_proxy, bool stop_servers)> shutdown;

  // config["JupyterHub"][key], or `fallback` when absent or of another type.
  std::int64_t hub_int(std::string_view key, std::int64_t fallback) const;
  double hub_number(std::string_view key, double fallback) const;
  bool hub_bool(std::string_view key, bool fallback) const;
  // config["Authenticator"][key] (manage_groups, manage_roles).
  bool auth_bool(std::string_view key, bool fallback) const;
  // "<base_url>hub/api"
  std::string api_prefix() const { return base_url + "hub/api"; }
};

}  // namespace hubd::core::api
