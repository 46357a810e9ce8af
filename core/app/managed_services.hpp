#pragma once
// Supervision of managed services (`[[JupyterHub.services]]` with a `command`): hubd starts each
// process, sends its output to the hub log under the service's name, starts it again when it dies
// (with a growing delay, and gives up after too many quick deaths), and stops it with SIGTERM, then
// SIGKILL, at shutdown.
//
// What goes into the process's environment is not decided here (see service_env.hpp): this file only
// runs processes. One supervisor thread does all of it with poll() and waitpid(pid, WNOHANG) on its
// own children, so it never reaps a process someone else started (the CHP proxy, the local spawner).
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::app {

struct managed_service_spec {
  std::string name;
  std::vector<std::string> command;           // argv; argv[0] is looked up in hubd's PATH
  std::map<std::string, std::string> env;     // the whole environment of the process
  std::string cwd;                            // empty: hubd's working folder
};

struct managed_services_options {
  // Delay before the first restart after a death; doubled for every further quick death.
  std::chrono::milliseconds first_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  // A process that lived at least this long died of something new: the death count starts over.
  std::chrono::milliseconds stable_after{60'000};
  // Deaths in a row (each quicker than stable_after) after which hubd stops trying.
  int max_quick_deaths = 8;
  // SIGTERM, then SIGKILL after this long; then at most another 2 s to reap.
  std::chrono::milliseconds stop_grace{5'000};
};

class managed_services {
public:
  explicit managed_services(std::vector<managed_service_spec> specs, managed_services_options opts = {});
  ~managed_services();  // stop()
  managed_services(const managed_services&) = delete;
  managed_services& operator=(const managed_services&) = delete;

  // Starts every process and the supervisor thread. A command that cannot be run is logged and
  // retried like a death: it never throws for a bad command.
  void start();
  // Stops every process (SIGTERM to its process group, SIGKILL after stop_grace) and joins the
  // supervisor. Bounded by stop_grace + 2 s. Idempotent.
  void stop();

  struct status {
    std::vector<std::string> command;
    int pid = 0;  // 0 while it is not running (between restarts, or given up)
  };
  // nullopt: not a managed service.
  std::optional<status> status_of(std::string_view name) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hubd::core::app
