// The `local` spawner: JupyterHub's LocalProcessSpawner as a hubd plugin. Runs Spawner.cmd + args as a
// child process on a free port, either as hubd's own OS user with a per-user working folder
// (mode "user-folder", like SimpleLocalProcessSpawner) or as the system user of the same name (mode
// "system-user", needs root). Its output goes to hubd's log, prefixed with the user's name. The pid is
// the persisted state, so a restarted hubd re-adopts a running server.
#include "process.hpp"

#include <hubd/plugin.h>
#include <hubd/sdk.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
namespace sdk = hubd::sdk;
namespace lsp = hubd_local_spawner;

const hubd_host* g_host = nullptr;

struct settings {
  std::string mode = "user-folder";  // or "system-user"
  std::string home_dir_template = "/tmp/hubd-users/{username}";
  double term_timeout = 5;  // seconds between SIGTERM and SIGKILL
  double kill_timeout = 5;  // seconds to wait after SIGKILL
  bool allow_root_arg = true;  // add --allow-root to jupyter commands that really run as root
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
  return s;
}

std::string getenv_str(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The URL host for an address: all-interfaces addresses are reached over loopback, IPv6 gets brackets.
std::string url_host(const std::string& ip) {
  if (ip.empty() || ip == "0.0.0.0") return "127.0.0.1";
  if (ip == "::") return "[::1]";
  if (ip.find(':') != std::string::npos) return "[" + ip + "]";
  return ip;
}

struct spawner {
  hubd_host_obj* host_obj = nullptr;
  settings cfg;

  std::mutex mutex;
  pid_t pid = 0;                 // 0: nothing running that we know of
  std::uint64_t start_time = 0;  // guards re-adoption against pid reuse
  bool our_child = false;        // started by this process (waitpid works) or re-adopted (kill 0)
  std::optional<int> exit_status;
  std::string label = "?";       // "alice" or "alice/gpu" for log lines

  // Output forwarding.
  std::thread reader;
  int wake_fd[2] = {-1, -1};
  std::thread stopper;

  void log(int level, const std::string& msg) { sdk::log(g_host, host_obj, level, msg); }

  // Reaps our child if it exited; call with mutex held. Returns true when nothing runs any more.
  bool reap_locked() {
    if (pid == 0) return true;
    if (our_child) {
      int st = 0;
      pid_t r = ::waitpid(pid, &st, WNOHANG);
      if (r == 0) return false;
      if (r == pid) {
        exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : 1;
      } else {
        exit_status = 0;  // ECHILD: someone else reaped it
      }
      pid = 0;
      return true;
    }
    if (lsp::alive(pid, start_time)) return false;
    exit_status = 0;  // not our child: the exit code is unknowable (as JupyterHub reports 0)
    pid = 0;
    return true;
  }

  void stop_reader() {
    if (reader.joinable()) {
      if (wake_fd[1] >= 0) {
        char c = 'x';
        ssize_t ignored = ::write(wake_fd[1], &c, 1);
        (void)ignored;
      }
      reader.join();
    }
    for (int& fd : wake_fd) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }

  void start_reader(int fd, std::string who) {
    stop_reader();
    if (::pipe2(wake_fd, O_CLOEXEC) != 0) {
      ::close(fd);
      return;
    }
    int wake = wake_fd[0];
    reader = std::thread([this, fd, wake, who] {
      std::string pending;
      char buf[4096];
      auto emit = [&](std::string line) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.size() > 8192) line.resize(8192);
        log(HUBD_LOG_INFO, "[" + who + "] " + line);
      };
      for (;;) {
        pollfd fds[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
        int n = ::poll(fds, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || (fds[1].revents & POLLIN)) break;
        ssize_t got = ::read(fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        pending.append(buf, static_cast<size_t>(got));
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
          emit(pending.substr(0, nl));
          pending.erase(0, nl + 1);
        }
        if (pending.size() > 65536) {
          emit(pending);
          pending.clear();
        }
      }
      if (!pending.empty()) emit(pending);
      ::close(fd);
    });
  }

  ~spawner() {
    // A host may release the instance from the stopper's own completion; joining itself would abort.
    if (stopper.joinable()) {
      if (stopper.get_id() == std::this_thread::get_id())
        stopper.detach();
      else
        stopper.join();
    }
    stop_reader();
  }
};

settings parse_settings(const json& c) {
  settings s;
  if (!c.is_object()) return s;
  if (c.contains("mode")) s.mode = c.at("mode").get<std::string>();
  if (s.mode != "user-folder" && s.mode != "system-user")
    throw std::invalid_argument("mode must be \"user-folder\" or \"system-user\", not \"" + s.mode + "\"");
  if (c.contains("home_dir_template")) s.home_dir_template = c.at("home_dir_template").get<std::string>();
  if (c.contains("term_timeout")) s.term_timeout = c.at("term_timeout").get<double>();
  if (c.contains("kill_timeout")) s.kill_timeout = c.at("kill_timeout").get<double>();
  if (c.contains("allow_root_arg")) s.allow_root_arg = c.at("allow_root_arg").get<bool>();
  if (s.term_timeout < 0 || s.kill_timeout < 0) throw std::invalid_argument("term_timeout and kill_timeout must be >= 0");
  return s;
}

hubd_plugin_obj* do_create(hubd_host_obj* host_obj, hubd_str config_json, hubd_sink* err) {
  try {
    auto text = sdk::view(config_json);
    json c = text.empty() ? json::object() : json::parse(text);
    auto s = std::make_unique<spawner>();
    s->host_obj = host_obj;
    s->cfg = parse_settings(c);
    return reinterpret_cast<hubd_plugin_obj*>(s.release());
  } catch (const std::exception& e) {
    sdk::write(err, std::string("local spawner config: ") + e.what());
    return nullptr;
  }
}

void do_destroy(hubd_plugin_obj* self) {
  // The server process keeps running: hubd re-adopts it through the saved state.
  delete reinterpret_cast<spawner*>(self);
}

spawner* self_of(hubd_plugin_obj* p) { return reinterpret_cast<spawner*>(p); }

std::vector<std::string> string_list(const json& ctx, const char* key) {
  std::vector<std::string> out;
  if (ctx.contains(key) && ctx.at(key).is_array())
    for (auto& v : ctx.at(key)) out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

void do_start(hubd_plugin_obj* p, hubd_host_obj*, hubd_op* op, hubd_str input) {
  sdk::op_barrier(g_host, op, [&] {
    auto* s = self_of(p);
    json ctx = json::parse(sdk::view(input));
    const std::string user = ctx.at("user").is_object() ? ctx.at("user").at("name").get<std::string>()
                                                        : ctx.at("user").get<std::string>();
    const std::string server_name = ctx.value("server_name", "");
    const std::string who = server_name.empty() ? user : user + "/" + server_name;

    {
      std::lock_guard lk(s->mutex);
      if (!s->reap_locked()) {
        sdk::fail(g_host, op, 400, "a server process for " + who + " is already running (pid " +
                                       std::to_string(s->pid) + ")");
        return;
      }
      s->label = who;
      s->exit_status.reset();
    }

    std::vector<std::string> argv = string_list(ctx, "cmd");
    if (argv.empty()) argv.push_back("jupyterhub-singleuser");
    for (auto& a : string_list(ctx, "args")) argv.push_back(a);

    json env = ctx.contains("env") && ctx.at("env").is_object() ? ctx.at("env") : json::object();
    lsp::launch_spec spec;

    // Identity and working folder.
    bool runs_as_root = ::geteuid() == 0;
    if (s->cfg.mode == "system-user") {
      if (::geteuid() != 0) {
        sdk::fail(g_host, op, 500, "the local spawner's system-user mode needs hubd to run as root");
        return;
      }
      std::vector<char> buf(16384);
      passwd pw{};
      passwd* found = nullptr;
      if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
        sdk::fail(g_host, op, 500, "no system user named \"" + user + "\" to run the server as");
        return;
      }
      spec.uid = found->pw_uid;
      spec.gid = found->pw_gid;
      int ngroups = 64;
      std::vector<gid_t> groups(static_cast<size_t>(ngroups));
      if (::getgrouplist(user.c_str(), found->pw_gid, groups.data(), &ngroups) < 0) {
        groups.resize(static_cast<size_t>(ngroups));
        ::getgrouplist(user.c_str(), found->pw_gid, groups.data(), &ngroups);
      }
      groups.resize(static_cast<size_t>(ngroups));
      spec.groups = groups;
      spec.cwd = found->pw_dir;
      env["USER"] = found->pw_name;
      env["HOME"] = found->pw_dir;
      env["SHELL"] = found->pw_shell;
      runs_as_root = found->pw_uid == 0;
      if (!std::filesystem::is_directory(spec.cwd)) {
        sdk::fail(g_host, op, 500, "the home folder " + spec.cwd + " of system user \"" + user + "\" does not exist");
        return;
      }
    } else {
      std::string folder = replace_all(s->cfg.home_dir_template, "{username}", user);
      std::error_code ec;
      // HOME must be absolute: a relative one would be taken relative to the server's own cwd (itself).
      if (auto abs = std::filesystem::absolute(folder, ec); !ec) folder = abs.lexically_normal().string();
      std::filesystem::create_directories(folder, ec);
      if (ec) {
        sdk::fail(g_host, op, 500, "cannot create the working folder " + folder + ": " + ec.message());
        return;
      }
      ::chmod(folder.c_str(), 0700);
      spec.cwd = folder;
      env["USER"] = user;
      env["HOME"] = folder;
    }

    // Port: the one hubd chose, else a free one (and then the bind URL in the env names it).
    const std::string ip = ctx.value("ip", "127.0.0.1");
    int port = ctx.value("port", 0);
    if (port != 0) {
      if (!lsp::port_free(ip, port)) {
        sdk::fail(g_host, op, 500, "port " + std::to_string(port) + " on " + (ip.empty() ? "all interfaces" : ip) +
                                       " is already in use");
        return;
      }
    } else {
      port = lsp::free_port(ip);
      if (port == 0) {
        sdk::fail(g_host, op, 500, "no free port on " + (ip.empty() ? std::string("all interfaces") : ip));
        return;
      }
    }
    if (env.contains("JUPYTERHUB_SERVICE_URL") || ctx.contains("service_prefix")) {
      std::string prefix = ctx.value("service_prefix", env.value("JUPYTERHUB_SERVICE_PREFIX", std::string("/")));
      env["JUPYTERHUB_SERVICE_URL"] = "http://" + (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" +
                                      std::to_string(port) + prefix;
    }

    // jupyterhub-singleuser refuses to run as root without --allow-root.
    const std::string base = std::filesystem::path(argv[0]).filename().string();
    if (runs_as_root && s->cfg.allow_root_arg && base.rfind("jupyter", 0) == 0) argv.push_back("--allow-root");

    std::string path_var = env.contains("PATH") && env["PATH"].is_string() ? env["PATH"].get<std::string>()
                                                                            : getenv_str("PATH");
    std::string resolved = lsp::resolve_command(argv[0], path_var);
    if (resolved.empty()) {
      sdk::fail(g_host, op, 500, "command not found: \"" + argv[0] + "\" (Spawner.cmd; searched PATH " + path_var + ")");
      return;
    }
    argv[0] = resolved;
    spec.argv = argv;
    for (auto& [k, v] : env.items()) spec.env.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));

    lsp::launched l = lsp::launch(spec);
    if (!l.error.empty()) {
      sdk::fail(g_host, op, 500, "could not start the server for " + who + ": " + l.error);
      return;
    }
    {
      std::lock_guard lk(s->mutex);
      s->pid = l.pid;
      s->our_child = true;
      s->start_time = lsp::process_start_time(l.pid);
    }
    s->start_reader(l.output_fd, who);
    s->log(HUBD_LOG_INFO, "started the server for " + who + " as pid " + std::to_string(l.pid) + " on port " +
                              std::to_string(port) + ": " + resolved);
    g_host->progress(op, sdk::str(json{{"progress", 40}, {"message", "Server process started, waiting for it to answer"}}.dump()));
    sdk::complete(g_host, op, HUBD_OK, json{{"url", "http://" + url_host(ip) + ":" + std::to_string(port)}}.dump());
  });
}

void do_poll(hubd_plugin_obj* p, hubd_host_obj*, hubd_op* op, hubd_str) {
  sdk::op_barrier(g_host, op, [&] {
    auto* s = self_of(p);
    json out;
    {
      std::lock_guard lk(s->mutex);
      if (!s->reap_locked()) out = json{{"running", true}};
      else out = json{{"exit_status", s->exit_status.value_or(0)}};
    }
    sdk::complete(g_host, op, HUBD_OK, out.dump());
  });
}

// Signals the whole process group when the server leads one (it does: it was started with setsid).
void signal_server(pid_t pid, int sig) {
  if (::getpgid(pid) == pid) ::kill(-pid, sig);
  else ::kill(pid, sig);
}

void do_stop(hubd_plugin_obj* p, hubd_host_obj*, hubd_op* op, hubd_str input) {
  sdk::op_barrier(g_host, op, [&] {
    auto* s = self_of(p);
    bool now = false;
    if (auto t = sdk::view(input); !t.empty()) {
      json in = json::parse(t);
      now = in.is_object() && in.value("now", false);
    }
    if (s->stopper.joinable()) s->stopper.join();
    // Waiting for the process runs on its own thread so the plugin pool stays free.
    s->stopper = std::thread([s, op, now] {
      auto wait_gone = [s](double seconds) {
        auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        for (;;) {
          {
            std::lock_guard lk(s->mutex);
            if (s->reap_locked()) return true;
          }
          if (std::chrono::steady_clock::now() >= until) return false;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      };
      pid_t pid;
      {
        std::lock_guard lk(s->mutex);
        if (s->reap_locked()) {
          sdk::complete(g_host, op, HUBD_OK, "{}");
          return;
        }
        pid = s->pid;
      }
      if (!now) {
        s->log(HUBD_LOG_INFO, "stopping the server for " + s->label + " (pid " + std::to_string(pid) + ") with SIGTERM");
        signal_server(pid, SIGTERM);
        if (wait_gone(s->cfg.term_timeout)) {
          sdk::complete(g_host, op, HUBD_OK, "{}");
          return;
        }
        s->log(HUBD_LOG_WARNING, "the server for " + s->label + " (pid " + std::to_string(pid) + ") ignored SIGTERM for " +
                                     std::to_string(s->cfg.term_timeout) + " s; sending SIGKILL");
      }
      signal_server(pid, SIGKILL);
      if (wait_gone(s->cfg.kill_timeout)) {
        sdk::complete(g_host, op, HUBD_OK, "{}");
        return;
      }
      sdk::fail(g_host, op, 500, "the server process " + std::to_string(pid) + " did not exit after SIGKILL");
    });
  });
}

void do_cancel(hubd_plugin_obj*, hubd_op*) {
  // start completes synchronously and stop always finishes within its bounded timeouts.
}

bool do_get_state(hubd_plugin_obj* p, hubd_sink* out) {
  return sdk::barrier(false, [&] {
    auto* s = self_of(p);
    std::lock_guard lk(s->mutex);
    if (s->pid == 0) return false;
    sdk::write(out, json{{"pid", s->pid}, {"start_time", s->start_time}}.dump());
    return true;
  });
}

bool do_load_state(hubd_plugin_obj* p, hubd_str state) {
  return sdk::barrier(false, [&] {
    auto* s = self_of(p);
    auto text = sdk::view(state);
    json st = text.empty() ? json::object() : json::parse(text);
    if (st.is_null() || (st.is_object() && st.empty())) return true;
    if (!st.is_object() || !st.contains("pid") || !st.at("pid").is_number_integer()) return false;
    std::lock_guard lk(s->mutex);
    if (s->pid != 0) return true;  // a live process of our own wins over stored state
    s->pid = st.at("pid").get<pid_t>();
    s->start_time = st.value("start_time", std::uint64_t{0});
    s->our_child = false;
    s->exit_status.reset();
    return s->pid > 0;
  });
}

void do_clear_state(hubd_plugin_obj* p) {
  auto* s = self_of(p);
  std::lock_guard lk(s->mutex);
  if (s->pid != 0 && !s->our_child) {
    s->pid = 0;
    s->start_time = 0;
  }
}

const hubd_spawner_vtbl k_vtbl = {
    sizeof(hubd_spawner_vtbl),
    0,
    &do_create,
    &do_destroy,
    &do_start,
    &do_stop,
    &do_poll,
    nullptr,  // options_form
    nullptr,  // options_from_form
    nullptr,  // delete_forever
    nullptr,  // rename
    &do_cancel,
    nullptr,  // on_event
    &do_get_state,
    &do_load_state,
    &do_clear_state,
};

const void* get_factory(const char* id) {
  return id && std::strcmp(id, HUBD_FACTORY_SPAWNER) == 0 ? &k_vtbl : nullptr;
}

const hubd_plugin_desc k_desc = {
    sizeof(hubd_plugin_desc), HUBD_KIND_SPAWNER, "local", HUBD_VERSION,
    "runs single-user servers as local processes (own user with a folder, or the system user)", &get_factory,
};
const hubd_plugin_desc* const k_plugins[] = {&k_desc};

bool do_init(const hubd_host* host, hubd_sink*) {
  g_host = host;
  return true;
}
void do_deinit() { g_host = nullptr; }

const hubd_plugin_entry k_entry = {
    sizeof(hubd_plugin_entry), HUBD_ABI_MAJOR, HUBD_ABI_MINOR, "hubd-local-spawner", HUBD_VERSION, &do_init, &do_deinit,
    1, k_plugins,
};

}  // namespace

extern "C" HUBD_EXPORT const hubd_plugin_entry* hubd_plugin_entry_v1(void) { return &k_entry; }
