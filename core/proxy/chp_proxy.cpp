#include "core/proxy/chp_proxy.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>

extern char** environ;

namespace hubd::core::proxy {

namespace {

struct host_port {
  std::string host;  // without brackets; "" means all interfaces
  std::string port;
};

// "http://:8000" -> {"", "8000"}; "http://[::1]:8001/x" -> {"::1", "8001"}.
host_port split_url(const std::string& url, const std::string& default_port) {
  host_port hp;
  auto start = url.find("://");
  std::string rest = start == std::string::npos ? url : url.substr(start + 3);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    hp.host = rest.substr(1, close - 1);
    rest = close + 1 < rest.size() ? rest.substr(close + 1) : "";
  } else {
    auto colon = rest.rfind(':');
    hp.host = rest.substr(0, colon);
    rest = colon == std::string::npos ? "" : rest.substr(colon);
  }
  hp.port = rest.size() > 1 && rest.front() == ':' ? rest.substr(1) : default_port;
  return hp;
}

std::string strip_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool safe_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == '@' || c == '/';
}

}  // namespace

std::string routespec_to_chp_path(const std::string& routespec) {
  std::string path = routespec.empty() || routespec.front() != '/' ? "/" + routespec : routespec;
  if (path != "/" && path.back() == '/') path = strip_slash(path);
  return path.empty() ? "/" : path;
}

std::string routespec_from_chp_path(const std::string& chp_path) {
  std::string out;
  for (unsigned char c : chp_path) {
    if (safe_char(c)) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  if (out.empty() || out.back() != '/') out += '/';
  return out;
}

std::vector<std::string> chp_arguments(const chp_options& o) {
  auto pub = split_url(o.public_url, "8000");
  auto api = split_url(o.api_url, "8001");
  std::vector<std::string> args = {"--ip", pub.host, "--port", pub.port, "--api-ip", api.host, "--api-port", api.port};
  if (!o.error_target.empty()) {
    args.push_back("--error-target");
    args.push_back(o.error_target);
  }
  args.push_back("--log-level");
  args.push_back(o.debug ? "debug" : "info");
  return args;
}

std::optional<int> live_proxy_pid(const std::string& pid_file, const std::string& command0) {
  std::ifstream in(pid_file);
  long long pid = 0;
  if (!in || !(in >> pid) || pid <= 1 || pid > std::numeric_limits<pid_t>::max()) return std::nullopt;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return std::nullopt;
  std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::stringstream ss;
  ss << cmd.rdbuf();
  std::string line = ss.str();  // NUL-separated arguments; empty for a zombie
  auto name = std::filesystem::path(command0).filename().string();
  if (name.empty() || line.find(name) == std::string::npos) return std::nullopt;
  return static_cast<int>(pid);
}

struct chp_proxy::impl : std::enable_shared_from_this<impl> {
  boost::asio::io_context& ioc;
  http::client& client;
  chp_options opts;
  std::string routes_url;
  mutable std::mutex mutex;
  pid_t pid = 0;
  bool stopping = false;  // stop() asked for the exit: not worth an error

  impl(http::io_pool& pool, http::client& c, chp_options o) : ioc(pool.context()), client(c), opts(std::move(o)) {
    routes_url = strip_slash(opts.api_url) + "/api/routes";
  }

  void api(const std::string& method, const std::string& path, std::string body,
           std::function<void(http::client_response&&)> cb) {
    http::client_request req;
    req.method = method;
    {
      std::lock_guard lk(mutex);  // reconfigure() may change both
      req.url = routes_url + path;
      req.headers = {{"Authorization", "token " + opts.auth_token}};
    }
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    req.body = std::move(body);
    req.timeout = std::chrono::seconds(10);
    client.request(std::move(req), std::move(cb));
  }

  bool reap_locked() {
    if (pid <= 0) return false;
    int st = 0;
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == 0) return true;
    if (r == pid && stopping) {
      spdlog::info("proxy-stopped: configurable-http-proxy (pid {}) stopped", pid);
    } else if (r == pid) {
      spdlog::error("proxy-exited: configurable-http-proxy (pid {}) exited with {}", pid,
                    WIFEXITED(st) ? "status " + std::to_string(WEXITSTATUS(st))
                                  : "signal " + std::to_string(WIFSIGNALED(st) ? WTERMSIG(st) : 0));
    }
    pid = 0;
    stopping = false;
    return false;
  }

  // JupyterHub's _check_previous_process: a proxy left by a hubd that was killed holds the ports and
  // routes with a token nobody knows any more. It is stopped (SIGTERM twice, then SIGKILL, a second
  // apart) so the new one can start. Blocking; runs before hubd starts its own CHP.
  std::string stop_previous() {
    if (opts.pid_file.empty()) return {};
    std::error_code ec;
    if (!std::filesystem::exists(opts.pid_file, ec)) return {};
    {
      std::lock_guard lk(mutex);
      if (pid > 0) return {};  // the file is about our own child (a restart after it died)
    }
    auto old = live_proxy_pid(opts.pid_file, opts.command.empty() ? std::string() : opts.command.front());
    if (!old) {
      std::filesystem::remove(opts.pid_file, ec);
      return {};
    }
    spdlog::warn("proxy-previous-found: configurable-http-proxy (pid {}) from pid file {} still runs; stopping it",
                 *old, opts.pid_file);
    const int signals[] = {SIGTERM, SIGTERM, SIGKILL};
    for (int sig : signals) {
      if (::kill(*old, sig) != 0) break;
      for (int i = 0; i < 50 && live_proxy_pid(opts.pid_file, opts.command.front()); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (!live_proxy_pid(opts.pid_file, opts.command.front())) break;
    }
    if (live_proxy_pid(opts.pid_file, opts.command.front()))
      return "the previous configurable-http-proxy (pid " + std::to_string(*old) + " in " + opts.pid_file +
             ") did not stop";
    spdlog::warn("proxy-previous-stopped: stopped the previous configurable-http-proxy (pid {})", *old);
    std::filesystem::remove(opts.pid_file, ec);
    return {};
  }

  void write_pid_file(pid_t child) {
    if (opts.pid_file.empty()) return;
    std::ofstream out(opts.pid_file, std::ios::trunc);
    out << child << "\n";
    if (!out) spdlog::warn("proxy: cannot write the proxy pid file {}", opts.pid_file);
  }

  std::string spawn_process() {
    std::vector<std::string> argv = opts.command;
    if (argv.empty()) return "ConfigurableHTTPProxy.command is empty";
    if (auto err = stop_previous(); !err.empty()) return err;
    for (auto& a : chp_arguments(opts)) argv.push_back(a);
    std::vector<std::string> env;
    bool has_node_path = false;
    for (char** e = environ; e && *e; ++e) {
      std::string kv = *e;
      if (kv.rfind("CONFIGPROXY_AUTH_TOKEN=", 0) == 0) continue;
      if (kv.rfind("NODE_PATH=", 0) == 0) {
        if (kv.size() == std::string_view("NODE_PATH=").size()) continue;  // empty: as if unset
        has_node_path = true;
      }
      env.push_back(kv);
    }
    env.push_back("CONFIGPROXY_AUTH_TOKEN=" + opts.auth_token);
    // Debian's configurable-http-proxy finds its modules only this way.
    if (!has_node_path) env.push_back("NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs");
    std::vector<char*> cargv, cenv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own session: a Ctrl-C meant for hubd does not take the proxy down mid-shutdown.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    // Only stdio goes along: a proxy that outlives a killed hubd must not hold the hub's listening
    // socket (the restarted hubd could not bind its port).
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addclosefrom_np(&files, 3);
    pid_t child = 0;
    int rc = ::posix_spawnp(&child, cargv[0], &files, &attr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&files);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return "cannot start " + argv[0] + ": " + std::strerror(rc);
    write_pid_file(child);
    std::lock_guard lk(mutex);
    pid = child;
    spdlog::info("proxy-started: configurable-http-proxy (pid {}) on {}, API {}", child, opts.public_url, opts.api_url);
    return {};
  }

  // Polls GET /api/routes until it answers 200, the process exits or the deadline passes.
  void wait_api(std::chrono::steady_clock::time_point deadline, done_callback cb) {
    auto self = shared_from_this();
    api("GET", "", {}, [self, deadline, cb = std::move(cb)](http::client_response&& r) mutable {
      if (r.ok() && r.status == 200) return cb({});
      if (r.ok() && r.status == 403) return cb("the proxy API at " + self->opts.api_url + " refused hubd's token (403)");
      bool started;
      {
        std::lock_guard lk(self->mutex);
        started = self->opts.should_start;
        if (started && !self->reap_locked()) return cb("configurable-http-proxy exited before its API answered");
      }
      if (std::chrono::steady_clock::now() >= deadline)
        return cb("the proxy API at " + self->opts.api_url + " did not answer within " +
                  std::to_string(self->opts.start_timeout.count()) + " ms" + (r.ok() ? "" : ": " + r.error));
      auto timer = std::make_shared<boost::asio::steady_timer>(self->ioc, std::chrono::milliseconds(100));
      timer->async_wait([self, timer, deadline, cb = std::move(cb)](const boost::system::error_code&) mutable {
        self->wait_api(deadline, std::move(cb));
      });
    });
  }
};

chp_proxy::chp_proxy(http::io_pool& pool, http::client& client, chp_options opts)
    : impl_(std::make_shared<impl>(pool, client, std::move(opts))) {}
chp_proxy::~chp_proxy() = default;

const chp_options& chp_proxy::options() const { return impl_->opts; }

void chp_proxy::reconfigure(const std::string& api_url, const std::string& auth_token) {
  std::lock_guard lk(impl_->mutex);
  if (!api_url.empty()) {
    impl_->opts.api_url = api_url;
    impl_->routes_url = strip_slash(api_url) + "/api/routes";
  }
  if (!auth_token.empty()) impl_->opts.auth_token = auth_token;
  spdlog::info("proxy-reconfigured: the proxy API is now {}", impl_->opts.api_url);
}

int chp_proxy::pid() const {
  std::lock_guard lk(impl_->mutex);
  return impl_->pid;
}

bool chp_proxy::process_running() {
  std::lock_guard lk(impl_->mutex);
  return impl_->reap_locked();
}

void chp_proxy::start(done_callback cb) {
  if (impl_->opts.auth_token.empty()) {
    boost::asio::post(impl_->ioc, [cb] { cb("the proxy needs an auth token (ConfigurableHTTPProxy.auth_token or CONFIGPROXY_AUTH_TOKEN)"); });
    return;
  }
  if (impl_->opts.should_start && !process_running()) {
    if (auto err = impl_->spawn_process(); !err.empty()) {
      boost::asio::post(impl_->ioc, [cb, err] { cb(err); });
      return;
    }
  }
  impl_->wait_api(std::chrono::steady_clock::now() + impl_->opts.start_timeout, std::move(cb));
}

void chp_proxy::stop() {
  pid_t p;
  auto remove_pid_file = [this] {
    std::error_code ec;
    if (!impl_->opts.pid_file.empty()) std::filesystem::remove(impl_->opts.pid_file, ec);
  };
  {
    std::lock_guard lk(impl_->mutex);
    if (!impl_->reap_locked()) return;
    p = impl_->pid;
    impl_->stopping = true;
  }
  ::kill(p, SIGTERM);
  for (int i = 0; i < 250; ++i) {
    {
      std::lock_guard lk(impl_->mutex);
      if (!impl_->reap_locked()) return remove_pid_file();
    }
    if (i == 100) ::kill(p, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void chp_proxy::add_route(const route& r, done_callback cb) {
  nlohmann::json body = r.data.is_object() ? r.data : nlohmann::json::object();
  body["target"] = r.target;
  body["jupyterhub"] = true;
  impl_->api("POST", routespec_to_chp_path(r.routespec), body.dump(),
             [cb = std::move(cb), spec = r.routespec](http::client_response&& resp) {
               if (!resp.ok()) return cb("adding route " + spec + " failed: " + resp.error);
               if (resp.status != 201 && resp.status != 200)
                 return cb("adding route " + spec + " failed: the proxy answered " + std::to_string(resp.status));
               cb({});
             });
}

void chp_proxy::delete_route(const std::string& routespec, done_callback cb) {
  impl_->api("DELETE", routespec_to_chp_path(routespec), {},
             [cb = std::move(cb), routespec](http::client_response&& resp) {
               if (!resp.ok()) return cb("deleting route " + routespec + " failed: " + resp.error);
               if (resp.status == 404) {
                 spdlog::warn("proxy-route-gone: route {} was already deleted", routespec);
                 return cb({});
               }
               if (resp.status >= 300)
                 return cb("deleting route " + routespec + " failed: the proxy answered " + std::to_string(resp.status));
               cb({});
             });
}

void chp_proxy::get_all_routes(routes_callback cb) {
  impl_->api("GET", "", {}, [cb = std::move(cb)](http::client_response&& resp) {
    if (!resp.ok()) return cb({}, "listing proxy routes failed: " + resp.error);
    if (resp.status != 200) return cb({}, "listing proxy routes failed: the proxy answered " + std::to_string(resp.status));
    auto body = nlohmann::json::parse(resp.body, nullptr, false);
    if (!body.is_object()) return cb({}, "listing proxy routes failed: the proxy sent malformed JSON");
    route_table out;
    for (auto& [path, data] : body.items()) {
      if (!data.is_object() || !data.contains("jupyterhub")) continue;  // not ours
      route r;
      r.routespec = routespec_from_chp_path(path);
      r.target = data.value("target", "");
      r.data = data;
      r.data.erase("target");
      r.data.erase("jupyterhub");
      out[r.routespec] = std::move(r);
    }
    cb(std::move(out), {});
  });
}

}  // namespace hubd::core::proxy
