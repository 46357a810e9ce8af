#pragma once
// The host side of the plugin ABI: the bounded plugin pool, the completion thread, op bookkeeping
// (timeouts, late and double completions), the internal API slot and custom scopes registered by
// plugins. One per process. Core never sees ABI structs: it talks to adapters (authenticator_adapter,
// spawner_adapter, hooks_adapter) created through plugin_registry.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hubd::core::plugins {

namespace detail {
class host_core;
}

// A request a plugin makes through the internal API ("hubd.host.api/1").
struct api_request {
  std::string method;               // "GET", "POST", ...
  std::string path;                 // relative to /hub/api, e.g. "/users/alice"
  nlohmann::json body;              // null when empty
  std::string plugin_name;          // the principal: the plugin's registered name
  std::vector<std::string> roles;   // its [plugins.NAME] roles
};
// Answer exactly once (any thread): HTTP status and JSON body ({"status": N, "message": ...} on errors).
using api_responder = std::function<void(int status, nlohmann::json body)>;
// Installed by the app. Called on the plugin's thread; must not block (post to your own executor).
using api_handler = std::function<void(api_request, api_responder)>;

struct host_counters {
  uint64_t completed = 0;
  uint64_t timeouts = 0;
  uint64_t late_completions = 0;    // completed after their timeout: dropped
  uint64_t double_completions = 0;  // completed again: rejected
  uint64_t misbehaving = 0;         // malformed or invalid results
};

class plugin_host {
public:
  // `threads` is JupyterHub.plugin_threads (at least 1).
  explicit plugin_host(unsigned threads);
  ~plugin_host();
  plugin_host(const plugin_host&) = delete;
  plugin_host& operator=(const plugin_host&) = delete;

  // The internal API: until installed, every request is answered 503 (asynchronously).
  void set_api_handler(api_handler handler);
  // Custom scopes plugins registered during create(), {"custom:name": {"description", "subscopes"}}.
  nlohmann::json custom_scopes() const;
  // Which plugin registered each of those scopes (its registered name).
  std::map<std::string, std::string> custom_scope_plugins() const;
  // After this, register_scope answers HUBD_ERR_STATE (call it once roles are loaded).
  void close_scope_registration();

  host_counters counters() const;

  // Waits for running plugin calls, answers every pending op as cancelled ("hub is shutting down"),
  // drops timed-out ops and stops the threads. Idempotent; the destructor calls it.
  void shutdown();

  const std::shared_ptr<detail::host_core>& core() const { return core_; }

private:
  std::shared_ptr<detail::host_core> core_;
};

}  // namespace hubd::core::plugins
