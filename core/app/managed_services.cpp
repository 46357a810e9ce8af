#include "core/app/managed_services.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace hubd::core::app {
namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t max_line = 8192;  // longer output lines are cut, like the local spawner's

std::string exit_text(int st) {
  if (WIFEXITED(st)) return "status " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return "signal " + std::to_string(WTERMSIG(st));
  return "wait status " + std::to_string(st);
}

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

}  // namespace

struct managed_services::impl {
  struct entry {
    managed_service_spec spec;
    pid_t pid = 0;
    int out_fd = -1;  // read end of the process's stdout+stderr pipe
    std::string partial;
    clock::time_point started{};
    int quick_deaths = 0;
    std::optional<clock::time_point> next_start = clock::time_point{};  // nullopt: given up
  };

  managed_services_options opts;
  mutable std::mutex mutex;  // guards entries' pid (status_of) against the supervisor
  std::vector<entry> entries;
  std::thread supervisor;
  std::atomic<bool> stop_requested{false};
  bool started = false;
  bool stopped = false;

  // Runs the command with the output on a pipe; returns the errno text on failure.
  std::string launch(entry& e) {
    if (e.spec.command.empty()) return "the command is empty";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : e.spec.env) env_strings.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : e.spec.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // hubd's listening sockets and database must not leak into the service (a service outliving a
    // crashed hubd would otherwise keep the hub port bound).
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    if (!e.spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, e.spec.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own session and process group, like JupyterHub's start_new_session: a Ctrl-C meant for
    // hubd does not reach it, and stop() can signal the whole group (a shell wrapper's children too).
    // Signals hubd ignores or blocks must not stay ignored or blocked in the service.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGQUIT}) sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t child = 0;
    int rc = ::posix_spawnp(&child, argv[0], &fa, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      std::string why = std::strerror(rc);
      if (rc == ENOENT && !e.spec.cwd.empty()) why += " (the command, or the cwd " + e.spec.cwd + ")";
      return "cannot run " + e.spec.command.front() + ": " + why;
    }
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    if (e.out_fd >= 0) ::close(e.out_fd);  // output of an orphan of the previous run is dropped
    e.out_fd = fds[0];
    e.partial.clear();
    e.started = clock::now();
    {
      std::lock_guard lk(mutex);
      e.pid = child;
    }
    spdlog::info("service-started: service {} (pid {}): {}", e.spec.name, child, e.spec.command.front());
    return {};
  }

  void schedule_restart(entry& e, bool lived_long) {
    if (lived_long) e.quick_deaths = 0;
    ++e.quick_deaths;
    if (e.quick_deaths > opts.max_quick_deaths) {
      e.next_start.reset();
      spdlog::error("service-gave-up: service {} died {} times in a row; hubd no longer restarts it (fix it and restart hubd)",
                    e.spec.name, e.quick_deaths);
      return;
    }
    auto delay = opts.first_backoff;
    for (int i = 1; i < e.quick_deaths && delay < opts.max_backoff; ++i) delay *= 2;
    delay = std::min(delay, opts.max_backoff);
    e.next_start = clock::now() + delay;
    spdlog::info("service-restarting: service {} starts again in {} s", e.spec.name, seconds_text(delay));
  }

  void log_lines(entry& e, std::string_view chunk) {
    for (char c : chunk) {
      if (c == '\n') {
        spdlog::info("[service {}] {}", e.spec.name, e.partial);
        e.partial.clear();
      } else if (e.partial.size() < max_line) {
        e.partial.push_back(c);
      }
    }
  }

  void close_output(entry& e) {
    if (!e.partial.empty()) spdlog::info("[service {}] {}", e.spec.name, e.partial);
    e.partial.clear();
    ::close(e.out_fd);
    e.out_fd = -1;
  }

  // Waits up to `timeout` for output and copies what came to the log.
  void pump_output(std::chrono::milliseconds timeout) {
    std::vector<pollfd> fds;
    std::vector<entry*> owners;
    for (auto& e : entries)
      if (e.out_fd >= 0) {
        fds.push_back(pollfd{e.out_fd, POLLIN, 0});
        owners.push_back(&e);
      }
    if (fds.empty()) {
      std::this_thread::sleep_for(timeout);
      return;
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(timeout.count())) <= 0) return;
    char buf[16384];
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto& e = *owners[i];
      for (;;) {  // bounded: a non-blocking fd, and at most a few reads per round
        ssize_t n = ::read(e.out_fd, buf, sizeof buf);
        if (n > 0) {
          log_lines(e, std::string_view(buf, static_cast<std::size_t>(n)));
          if (static_cast<std::size_t>(n) < sizeof buf) break;
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        close_output(e);  // EOF: every writer (the service and its children) is gone
        break;
      }
    }
  }

  // Reaps our own children only. Returns how many are still running.
  int reap(bool restart) {
    int running = 0;
    for (auto& e : entries) {
      if (e.pid <= 0) continue;
      int st = 0;
      pid_t r = ::waitpid(e.pid, &st, WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        ++running;
        continue;
      }
      pid_t was = e.pid;
      {
        std::lock_guard lk(mutex);
        e.pid = 0;
      }
      if (!restart) {
        spdlog::info("service-stopped: service {} (pid {}) stopped with {}", e.spec.name, was,
                     r == was ? exit_text(st) : "an unknown status");
        continue;
      }
      bool lived_long = clock::now() - e.started >= opts.stable_after;
      spdlog::error("service-exited: service {} (pid {}) exited with {}", e.spec.name, was,
                    r == was ? exit_text(st) : "an unknown status");
      schedule_restart(e, lived_long);
    }
    return running;
  }

  void start_due() {
    auto now = clock::now();
    for (auto& e : entries) {
      if (e.pid > 0 || !e.next_start || *e.next_start > now) continue;
      if (auto err = launch(e); !err.empty()) {
        spdlog::error("service-start-failed: service {}: {}", e.spec.name, err);
        schedule_restart(e, false);
      }
    }
  }

  // At most `cap`, less when a restart is due sooner (so short backoffs are kept).
  std::chrono::milliseconds until_next_start(std::chrono::milliseconds cap) const {
    auto now = clock::now();
    auto wait = cap;
    for (const auto& e : entries)
      if (e.pid <= 0 && e.next_start) {
        auto d = std::chrono::duration_cast<std::chrono::milliseconds>(*e.next_start - now);
        wait = std::clamp(d, std::chrono::milliseconds(1), wait);
      }
    return wait;
  }

  void signal_all(int sig) {
    for (auto& e : entries)
      if (e.pid > 0) ::kill(-e.pid, sig);  // not yet reaped, so the group id is still ours
  }

  void run() {
    while (!stop_requested.load()) {
      start_due();
      pump_output(until_next_start(std::chrono::milliseconds(200)));
      reap(true);
    }
    // Shutdown: SIGTERM, keep logging their last words, SIGKILL after the grace period.
    for (auto& e : entries)
      if (e.pid > 0) spdlog::info("service-stopping: service {} (pid {}) with SIGTERM", e.spec.name, e.pid);
    signal_all(SIGTERM);
    auto kill_at = clock::now() + opts.stop_grace;
    auto give_up_at = kill_at + std::chrono::seconds(2);
    bool killed = false;
    for (;;) {
      pump_output(std::chrono::milliseconds(20));  // their last words before their "stopped" line
      if (reap(false) == 0) break;
      auto now = clock::now();
      if (!killed && now >= kill_at) {
        for (auto& e : entries)
          if (e.pid > 0)
            spdlog::warn("service-killed: service {} (pid {}) ignored SIGTERM for {} s; sending SIGKILL", e.spec.name,
                         e.pid, seconds_text(opts.stop_grace));
        signal_all(SIGKILL);
        killed = true;
      }
      if (now >= give_up_at) {
        for (auto& e : entries)
          if (e.pid > 0) spdlog::error("service-stuck: service {} (pid {}) did not exit after SIGKILL", e.spec.name, e.pid);
        break;
      }
    }
    pump_output(std::chrono::milliseconds(0));
    for (auto& e : entries)
      if (e.out_fd >= 0) close_output(e);
  }
};

managed_services::managed_services(std::vector<managed_service_spec> specs, managed_services_options opts)
    : impl_(std::make_unique<impl>()) {
  impl_->opts = opts;
  for (auto& s : specs) {
    impl::entry e;
    e.spec = std::move(s);
    impl_->entries.push_back(std::move(e));
  }
}

managed_services::~managed_services() { stop(); }

void managed_services::start() {
  if (impl_->started || impl_->entries.empty()) return;
  impl_->started = true;
  // The first start happens here rather than on the supervisor, so the "started" lines come
  // before "hubd is serving".
  impl_->start_due();
  impl_->supervisor = std::thread([this] { impl_->run(); });
}

void managed_services::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->stop_requested = true;
  if (impl_->supervisor.joinable()) impl_->supervisor.join();
}

std::optional<managed_services::status> managed_services::status_of(std::string_view name) const {
  std::lock_guard lk(impl_->mutex);
  for (const auto& e : impl_->entries)
    if (e.spec.name == name) return status{e.spec.command, static_cast<int>(e.pid)};
  return std::nullopt;
}

}  // namespace hubd::core::app
