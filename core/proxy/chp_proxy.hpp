#pragma once
// configurable-http-proxy driven over its REST API exactly as JupyterHub's ConfigurableHTTPProxy:
// routes are POST/DELETE /api/routes/<path> with {"target", "jupyterhub": true, ...data}, listed with
// GET /api/routes, all with "Authorization: token <CONFIGPROXY_AUTH_TOKEN>". hubd may start CHP itself
// (should_start) or use an external one.
#include "core/http/client.hpp"
#include "core/http/io_pool.hpp"
#include "core/proxy/proxy.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hubd::core::proxy {

struct chp_options {
  std::string api_url = "http://127.0.0.1:8001";
  std::string auth_token;  // required (the app fills it from config, $CONFIGPROXY_AUTH_TOKEN or a random one)
  bool should_start = true;
  std::vector<std::string> command = {"configurable-http-proxy"};
  std::string public_url = "http://:8000";  // JupyterHub.bind_url: where CHP listens for people
  std::string error_target;                 // <hub url>/hub/error
  bool debug = false;
  std::chrono::milliseconds start_timeout{15'000};
  // Where the pid of the CHP hubd starts is kept (ConfigurableHTTPProxy.pid_file, absolute). A CHP
  // left running by a hubd that was killed is found there and stopped before a new one starts.
  // Empty: no pid file.
  std::string pid_file;
};

// "/user/alice/" -> "/user/alice" (CHP's DELETE dislikes trailing slashes); "/" stays.
std::string routespec_to_chp_path(const std::string& routespec);
// CHP keys are unescaped: re-escape (safe "@/~") and end with '/'.
std::string routespec_from_chp_path(const std::string& chp_path);
// CHP's command line for the options (without the command itself).
std::vector<std::string> chp_arguments(const chp_options& o);

// The pid in a pid file when it names a live process whose command line contains `command0` (a
// reused pid of something else is never taken for the proxy); nullopt otherwise.
std::optional<int> live_proxy_pid(const std::string& pid_file, const std::string& command0);

class chp_proxy : public proxy {
public:
  chp_proxy(http::io_pool& pool, http::client& client, chp_options opts);
  ~chp_proxy() override;  // does not stop CHP: call stop() for JupyterHub.cleanup_proxy
  chp_proxy(const chp_proxy&) = delete;
  chp_proxy& operator=(const chp_proxy&) = delete;

  // Starts CHP (when should_start) and calls cb once its API answers, or with why it did not (the
  // process exited, timed out). With an external proxy only checks that the API answers.
  void start(done_callback cb);
  // SIGTERM to the CHP process we started, SIGKILL after 5 s; removes the pid file. Blocking; for shutdown.
  void stop();
  // True when hubd started CHP and that process still runs (reaps it otherwise).
  bool process_running();
  int pid() const;
  const chp_options& options() const;
  // PATCH /hub/api/proxy: another API URL and/or token for the proxy (empty: keep). Applies to the next
  // request; the CHP process, if hubd started it, is not restarted.
  void reconfigure(const std::string& api_url, const std::string& auth_token);

  void add_route(const route& r, done_callback cb) override;
  void delete_route(const std::string& routespec, done_callback cb) override;
  void get_all_routes(routes_callback cb) override;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

}  // namespace hubd::core::proxy
