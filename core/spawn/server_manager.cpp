#include "core/spawn/server_manager.hpp"

#include "core/http/client.hpp"
#include "core/http/io_pool.hpp"
#include "core/model/hub_model.hpp"
#include "core/oauth/clients.hpp"
#include "core/plugins/hooks_adapter.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/plugins/spawner_adapter.hpp"
#include "core/rbac/rbac.hpp"
#include "core/spawn/progress_events.hpp"
#include "core/model/plugin_views.hpp"
#include "core/http/body_stream.hpp"
#include "core/spawn/route_activity.hpp"
#include "core/spawn/spawn_patch.hpp"
#include "core/spawn/wait_up.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <set>
#include <condition_variable>
#include <map>
#include <mutex>

extern char** environ;

namespace hubd::core::spawn {

namespace {

using nlohmann::json;
using server_key = std::pair<std::string, std::string>;  // (user, server name)

std::string who_of(const server_key& k) { return k.second.empty() ? k.first : k.first + "/" + k.second; }

// The first answer wins: the slow-spawn timer (202) and the end of the spawn race for it.
struct once_answer {
  explicit once_answer(answer_callback c) : cb(std::move(c)) {}
  void operator()(spawn_answer a) {
    answer_callback c;
    {
      std::lock_guard lk(m);
      if (sent || !cb) return;
      sent = true;
      c = std::move(cb);
    }
    c(std::move(a));
  }
  std::mutex m;
  bool sent = false;
  answer_callback cb;
};

struct once_progress {
  explicit once_progress(progress_callback c) : cb(std::move(c)) {}
  void operator()(int status, std::string body, std::shared_ptr<http::body_stream> stream = nullptr) {
    progress_callback c;
    {
      std::lock_guard lk(m);
      if (!cb) return;
      c = std::move(cb);
      cb = nullptr;
    }
    c(status, std::move(body), std::move(stream));
  }
  std::mutex m;
  progress_callback cb;
};

enum class phase { starting, running, stopping };

// What hubd knows about one active server beyond its model record.
struct runtime {
  phase ph = phase::starting;
  std::shared_ptr<plugins::spawner_adapter> spawner;
  std::string prefix;  // /user/alice/
  std::string target;  // http://127.0.0.1:PORT once started
  bool process_started = false;
  bool route_added = false;
  std::vector<json> events;
  bool finished = false;
  std::vector<std::shared_ptr<http::body_stream>> listeners;  // open progress streams
  std::shared_ptr<once_answer> start_answer;
  std::vector<std::shared_ptr<once_answer>> stop_answers;
  bool remove_after_stop = false;
  bool cancelled = false;  // the hub is shutting down: the spawn goes no further
  bool failing = false;    // fail_spawn ran: later steps of the spawn only undo what they did
  std::chrono::steady_clock::time_point began = std::chrono::steady_clock::now();
};

struct failure {
  std::string message;
  std::vector<json> events;
};

env_map hub_environment() {
  env_map out;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

json parse_object(const std::string& text) {
  auto v = json::parse(text, nullptr, false);
  return v.is_object() ? v : json::object();
}

}  // namespace

struct server_manager::impl : std::enable_shared_from_this<impl> {
  server_manager_deps deps;
  spawn_settings settings;
  env_map hub_environ = hub_environment();

  mutable std::mutex mutex;
  std::map<server_key, std::shared_ptr<runtime>> servers;
  std::map<server_key, failure> failures;
  unsigned retry_seed = 0;
  bool shut = false;
  std::unique_ptr<boost::asio::steady_timer> poll_timer;
  std::condition_variable forgotten;  // a runtime left `servers` (shutdown waits on it)

  // Servers the database recorded as active at start-up, set aside for the adoption pass. Only these
  // are adopted: a spawn requested meanwhile has its own runtime and is never touched by the pass.
  struct claim {
    server_key key;
    model::server_ptr record;
    std::shared_ptr<runtime> rt;
  };
  std::vector<claim> claimed;
  // Until resume() (the proxy answers), route additions wait here instead of failing the spawn.
  bool routes_open = false;
  std::vector<std::function<void()>> deferred_routes;

  impl(server_manager_deps d, spawn_settings s) : deps(std::move(d)), settings(std::move(s)) {}

  boost::asio::io_context& ioc() { return deps.io.context(); }

  template <class F>
  void post(F&& f) {
    boost::asio::post(ioc(), std::forward<F>(f));
  }

  // Model completions arrive on the writer thread: continue on the io_context.
  model::completion on_io(std::function<void(const model::status&)> fn) {
    auto self = shared_from_this();
    return [self, fn = std::move(fn)](const model::status& s) { self->post([fn, s] { fn(s); }); };
  }

  std::string public_server_url(const std::string& prefix) const { return settings.public_host + prefix; }

  std::shared_ptr<runtime> current(const server_key& k) const {
    std::lock_guard lk(mutex);
    auto it = servers.find(k);
    return it == servers.end() ? nullptr : it->second;
  }

  // A spawn cancelled by the shutdown fails at its next step, which undoes what it did so far.
  bool cancelled(const server_key& k, const std::shared_ptr<runtime>& rt) {
    {
      std::lock_guard lk(mutex);
      if (!rt->cancelled) return false;
    }
    fail_spawn(k, rt, 503, "the hub is shutting down");
    return true;
  }

  // ---- start ------------------------------------------------------------------------------

  void start(const std::string& user, const std::string& server, const json& options, answer_callback done,
             std::optional<std::chrono::milliseconds> answer_within) {
    auto ans = std::make_shared<once_answer>(std::move(done));
    if (!deps.model.find_user(user)) {
      post([ans, user] { (*ans)({404, "No such user: " + user, 0}); });
      return;
    }
    server_key k{user, server};
    auto existing = deps.model.find_server(user, server);
    std::shared_ptr<runtime> rt;
    admission a;
    {
      std::lock_guard lk(mutex);
      if (shut) {
        post([ans] { (*ans)({503, "The hub is shutting down", 0}); });
        return;
      }
      spawn_counts c;
      for (const auto& [kk, r] : servers) {
        if (r->ph == phase::starting) c.pending_spawns++;
        c.active_servers++;
      }
      c.server_exists = existing != nullptr;
      for (const auto& s : deps.model.servers_of(user))
        if (!s->name.empty() && s->name != server) c.user_named_servers++;
      if (auto it = servers.find(k); it != servers.end()) {
        c.server_running = it->second->ph == phase::running;
        c.spawn_pending = it->second->ph == phase::starting;
        c.stop_pending = it->second->ph == phase::stopping;
      }
      a = admit_spawn(user, server, settings.limits, c, retry_seed++);
      if (a.ok()) {
        rt = std::make_shared<runtime>();
        rt->prefix = server_prefix(settings.base_url, user, server);
        rt->start_answer = ans;
        rt->events.push_back({{"progress", 0}, {"message", "Server requested"}});
        servers[k] = rt;
        failures.erase(k);
      }
    }
    if (!a.ok()) {
      if (a.status == 429) spdlog::warn("spawn-throttled: spawn of {} refused: {}", who_of(k), a.message);
      post([ans, a] { (*ans)({a.status, a.message, a.retry_after}); });
      return;
    }
    spdlog::info("spawn-requested: starting server {}", who_of(k));

    // The API waits up to slow_spawn_timeout (the pages about a second), then answers 202 and the
    // spawn goes on.
    auto timer = std::make_shared<boost::asio::steady_timer>(ioc(), answer_within.value_or(settings.slow_spawn_timeout));
    timer->async_wait([ans, timer](const boost::system::error_code&) { (*ans)({202, "", 0}); });

    json opts = options.is_object() ? options : existing ? parse_object(existing->user_options) : json::object();
    model::server_patch p;
    p.pending.emplace("spawn");
    p.user_options = opts.dump();
    auto self = shared_from_this();
    auto r = deps.model.update_server(user, server, p, on_io([self, k, rt, opts](const model::status& s) {
      if (!s) return self->fail_spawn(k, rt, 500, "the server record could not be saved: " + s.err().message);
      self->create_token(k, rt, opts);
    }));
    if (!r) fail_spawn(k, rt, 500, "the server record could not be saved: " + r.err().message);
  }

  std::vector<std::string> server_role_scopes() const {
    if (auto role = deps.model.find_role("server")) return role->scopes;
    return {"users:activity!user", "access:servers!server"};
  }

  // Tokens of earlier spawns of this server (a crash, a hubd killed mid-stop) go first.
  void revoke_server_tokens(const std::string& user, const std::string& prefix) {
    const std::string note = "Server at " + prefix;
    for (const auto& t : deps.model.tokens_of(model::holder_kind::user, user)) {
      if (t->note != note || t->client_id != "jupyterhub") continue;
      auto st = deps.model.delete_token(t->id, [user](const model::status& s) {
        if (!s) spdlog::error("spawn: revoking a server token of {} failed: {}", user, s.err().message);
      });
      if (!st) spdlog::warn("spawn: revoking a server token of {} failed: {}", user, st.err().message);
    }
  }

  void create_token(const server_key& k, std::shared_ptr<runtime> rt, json opts) {
    if (cancelled(k, rt)) return;
    const auto& [user, server] = k;
    revoke_server_tokens(user, rt->prefix);
    auto request = server_token_request(settings.server_token_scopes, server_role_scopes(), user, server);
    if (request.added_activity && !settings.server_token_scopes.empty())
      spdlog::warn("spawn: Spawner.server_token_scopes has no users:activity scope; adding users:activity!user");
    std::vector<std::string> held = deps.model.user_role_scopes(user);
    held.push_back("inherit");
    std::vector<std::string> scopes;
    try {
      auto resolved = rbac::resolve_requested(deps.scopes, request.scopes, held, rbac::principal_ref::user(user),
                                              rbac::oauth_client_ref::hub(), &deps.membership);
      scopes = std::move(resolved.allowed);
      if (!resolved.disallowed.empty())
        spdlog::info("spawn: server token of {} leaves out scopes the user does not hold: {}", who_of(k),
                     json(resolved.disallowed).dump());
    } catch (const std::exception& e) {
      return fail_spawn(k, rt, 500, std::string("invalid server token scopes: ") + e.what());
    }
    model::new_token nt(model::holder_kind::user, user, scopes);
    nt.note = "Server at " + rt->prefix;
    // The secret is known when create_token returns, the token is usable once durable: go on after both.
    auto secret = std::make_shared<std::string>();
    auto arrivals = std::make_shared<std::atomic<int>>(2);
    auto failed = std::make_shared<std::atomic<bool>>(false);
    auto self = shared_from_this();
    auto arrive = [self, k, rt, opts, secret, arrivals, failed] {
      if (arrivals->fetch_sub(1) != 1) return;
      if (failed->load()) return self->fail_spawn(k, rt, 500, "the server token could not be saved");
      self->register_client(k, rt, opts, *secret);
    };
    auto r = deps.model.create_token(nt, on_io([arrive, failed](const model::status& s) {
      if (!s) failed->store(true);
      arrive();
    }));
    if (!r) return fail_spawn(k, rt, 500, "the server token could not be created: " + r.err().message);
    *secret = r.value().secret;
    post(arrive);
  }

  void register_client(const server_key& k, std::shared_ptr<runtime> rt, json opts, std::string secret) {
    if (cancelled(k, rt)) return;
    const auto& [user, server] = k;
    auto self = shared_from_this();
    auto r = oauth::register_server_client(
        deps.model, settings.base_url, user, server, secret, settings.oauth_client_allowed_scopes,
        on_io([self, k, rt, opts, secret](const model::status& s) {
          if (!s) return self->fail_spawn(k, rt, 500, "the server's OAuth client could not be saved: " + s.err().message);
          self->run_pre_spawn(0, k, rt, self->spawner_context(k, rt, opts, secret));
        }));
    if (!r) fail_spawn(k, rt, 500, "the server's OAuth client could not be saved: " + r.err().message);
  }

  json spawner_context(const server_key& k, const std::shared_ptr<runtime>& rt, const json& opts,
                       const std::string& secret) const {
    const auto& [user, server] = k;
    env_inputs in;
    in.user = user;
    in.server_name = server;
    in.api_token = secret;
    in.client_id = oauth::server_client_id(user, server);
    in.hub_api_url = settings.hub_api_url;
    in.base_url = settings.base_url;
    in.public_host = settings.public_host;
    if (!settings.public_host.empty()) {
      in.public_url = settings.public_host + rt->prefix;
      in.public_hub_url = settings.public_host + settings.base_url + "hub/";
    }
    in.ip = settings.ip;
    in.port = settings.port;
    in.access_scopes = env_access_scopes(user, server);
    in.client_allowed_scopes = settings.oauth_client_allowed_scopes;
    in.cookie_host_prefix_enabled = settings.cookie_host_prefix_enabled;
    in.admin_access = settings.admin_access;
    in.notebook_dir = settings.notebook_dir;
    in.default_url = settings.default_url;
    in.debug = settings.debug;
    in.disable_user_config = settings.disable_user_config;
    in.mem_limit = settings.mem_limit;
    in.mem_guarantee = settings.mem_guarantee;
    in.cpu_limit = settings.cpu_limit;
    in.cpu_guarantee = settings.cpu_guarantee;
    in.env_keep = settings.env_keep;
    in.hub_environ = hub_environ;
    in.environment = settings.environment;
    json env = json::object();
    for (const auto& [key, value] : build_env(in)) env[key] = value;
    return {{"user", model::plugin_user_view(deps.model, user)},
            {"server_name", server},
            {"user_options", opts},
            {"state", json::object()},
            {"cmd", settings.cmd},
            {"args", settings.args},
            {"env", env},
            {"ip", settings.ip},
            {"port", settings.port},
            {"service_prefix", rt->prefix},
            {"base_url", settings.base_url},
            {"hub_api_url", settings.hub_api_url},
            {"start_timeout", settings.start_timeout.count() / 1000.0},
            {"http_timeout", settings.http_timeout.count() / 1000.0}};
  }

  // The authenticator's pre_spawn_start, then the pre_spawn hooks in config order; each sees the
  // context the previous one patched. Step 0 is the authenticator, step i > 0 is hooks[i - 1].
  void run_pre_spawn(std::size_t step, const server_key& k, std::shared_ptr<runtime> rt, json ctx) {
    if (cancelled(k, rt)) return;
    auto self = shared_from_this();
    auto apply = [self, k, rt](std::size_t next, json ctx, const std::string& who, const json& patch) {
      if (auto err = apply_spawn_patch(ctx, patch); !err.empty()) {
        spdlog::error("plugin-misbehaving: pre_spawn hook of plugin '{}' returned a bad patch: {}", who, err);
        return self->fail_spawn(k, rt, 500, "pre_spawn hook " + who + " returned a bad patch: " + err);
      }
      self->run_pre_spawn(next, k, rt, std::move(ctx));
    };
    json input = {{"user", ctx["user"]}, {"spawner", ctx}};
    if (step == 0) {
      if (!deps.authenticator_pre_spawn) return run_pre_spawn(1, k, rt, std::move(ctx));
      deps.authenticator_pre_spawn(std::move(input), [self, k, rt, ctx, apply](bool ok, int status, std::string message,
                                                                               json patch) {
        if (!ok) {
          spdlog::warn("spawn: the authenticator's pre_spawn_start refused the spawn of {}: {}", who_of(k), message);
          return self->fail_spawn(k, rt, status, "pre_spawn_start: " + message);
        }
        apply(1, ctx, "authenticator", patch);
      });
      return;
    }
    std::size_t i = step - 1;
    while (i < deps.hooks.size() && !deps.hooks[i]->subscribes("pre_spawn")) ++i;
    if (i >= deps.hooks.size()) return create_spawner(k, rt, std::move(ctx));
    auto hook = deps.hooks[i];
    hook->call("pre_spawn", std::move(input), [self, i, k, rt, ctx, hook, apply](plugins::op_result r) {
      if (!r.ok()) {
        spdlog::warn("spawn: pre_spawn hook of plugin '{}' refused the spawn of {}: {} ({})", hook->name(), who_of(k),
                     r.user_message(), plugins::to_string(r.status));
        return self->fail_spawn(k, rt, r.status == plugins::op_status::denied ? r.http_status() : 500,
                                "pre_spawn hook " + hook->name() + ": " + r.user_message());
      }
      apply(i + 2, ctx, hook->name(), r.value);
    });
  }

  void create_spawner(const server_key& k, std::shared_ptr<runtime> rt, json ctx) {
    if (cancelled(k, rt)) return;
    auto self = shared_from_this();
    deps.registry.create_spawner(
        settings.spawner_class, settings.spawner_section,
        [self, k, rt, ctx](plugins::outcome<std::shared_ptr<plugins::spawner_adapter>> o) mutable {
          if (!o) return self->fail_spawn(k, rt, 500, "the spawner could not be created: " + o.error());
          {
            std::lock_guard lk(self->mutex);
            rt->spawner = o.value();
          }
          self->start_process(k, rt, std::move(ctx));
        });
  }

  void add_event(const std::shared_ptr<runtime>& rt, json ev) {
    std::vector<std::shared_ptr<http::body_stream>> listeners;
    std::string chunk = event_stream({ev});
    {
      std::lock_guard lk(mutex);
      if (rt->finished) return;
      rt->events.push_back(std::move(ev));
      listeners = rt->listeners;
    }
    for (auto& l : listeners) l->push(chunk);  // outside the lock: a push may write to a socket
  }

  // The final event goes to every open stream, which then ends.
  static void finish_streams(std::vector<std::shared_ptr<http::body_stream>>& listeners, const json& final_event) {
    std::string chunk = event_stream({final_event});
    for (auto& l : listeners) {
      l->push(chunk);
      l->close();
    }
  }

  void start_process(const server_key& k, std::shared_ptr<runtime> rt, json ctx) {
    if (cancelled(k, rt)) return;
    auto self = shared_from_this();
    auto sp = rt->spawner;
    add_event(rt, {{"progress", 10}, {"message", "Starting the server process"}});
    sp->start(
        std::move(ctx),
        [self, rt](json ev) {
          if (auto clean = sanitize_progress_event(ev)) self->add_event(rt, std::move(*clean));
        },
        [self, k, rt, sp](plugins::op_result r) {
          if (!r.ok()) {
            if (r.status == plugins::op_status::timeout || r.status == plugins::op_status::cancelled) {
              rt->process_started = true;  // it may have got as far as a process: stop it to be sure
              return self->fail_spawn(k, rt, 500,
                                      "the spawner did not start the server within " +
                                          std::to_string(self->settings.start_timeout.count() / 1000) +
                                          " s (Spawner.start_timeout)");
            }
            return self->fail_spawn(k, rt, r.http_status(), r.user_message());
          }
          std::string url = r.value.value("url", "");
          while (!url.empty() && url.back() == '/') url.pop_back();
          bool late;
          {
            std::lock_guard lk(self->mutex);
            late = rt->failing;
            if (!late) {
              rt->target = url;
              rt->process_started = true;
            }
          }
          if (late) {
            // The spawn failed (or was cancelled) while the spawner was still starting it.
            spdlog::warn("spawn: server {} started after its spawn had failed; stopping it", who_of(k));
            return sp->stop(true, [](plugins::op_result) {}, std::chrono::seconds(30));
          }
          if (self->cancelled(k, rt)) return;
          self->save_pending_state(k, rt, sp);
          self->add_event(rt, {{"progress", 50}, {"message", "Waiting for the server to answer"}});
          self->post([self, k, rt, sp, url] { self->wait_ready(k, rt, sp, url); });
        },
        settings.start_timeout);
  }

  // The spawner's state as soon as there is a process: a hubd killed mid-spawn finds it at its next
  // start, and the adoption pass stops that server instead of losing track of it.
  void save_pending_state(const server_key& k, const std::shared_ptr<runtime>& rt,
                          const std::shared_ptr<plugins::spawner_adapter>& sp) {
    auto self = shared_from_this();
    sp->get_state([self, k, rt](json state) {
      if (!state.is_object()) return;
      self->post([self, k, rt, state] {
        // Under the mutex, like clear_record: a spawn that ended meanwhile keeps its cleared record.
        std::lock_guard lk(self->mutex);
        auto it = self->servers.find(k);
        if (it == self->servers.end() || it->second != rt || rt->ph != phase::starting || rt->failing) return;
        model::server_patch p;
        p.state = state.dump();
        auto r = self->deps.model.update_server(k.first, k.second, p, [](const model::status&) {});
        if (!r) spdlog::warn("spawn: saving the state of pending server {} failed: {}", who_of(k), r.err().message);
      });
    });
  }

  void wait_ready(const server_key& k, std::shared_ptr<runtime> rt, std::shared_ptr<plugins::spawner_adapter> sp,
                  const std::string& url) {
    if (cancelled(k, rt)) return;
    auto self = shared_from_this();
    alive_check alive = [sp](std::function<void(std::optional<std::string>)> cb) {
      sp->poll([cb](plugins::op_result r) {
        if (r.ok() && r.value.is_object() && r.value.contains("exit_status"))
          return cb("the server process exited with status " + r.value["exit_status"].dump() +
                    " before it answered (see the hub's log for its output)");
        cb(std::nullopt);
      });
    };
    wait_up(deps.io, deps.client, url + rt->prefix, settings.http_timeout, std::move(alive),
            [self, k, rt, sp, url](wait_up_result w) {
              if (!w.ready) return self->fail_spawn(k, rt, 500, w.error);
              if (self->cancelled(k, rt)) return;
              self->add_event(rt, {{"progress", 90}, {"message", "The server answered; adding its route"}});
              self->add_route_then(k, rt, [self, k, rt, sp](std::string err) {
                if (!err.empty()) return self->fail_spawn(k, rt, 500, "the proxy route could not be added: " + err);
                sp->get_state([self, k, rt](json state) { self->post([self, k, rt, state] { self->record_ready(k, rt, state); }); });
              });
            });
  }

  void add_route_then(const server_key& k, const std::shared_ptr<runtime>& rt, std::function<void(std::string)> then) {
    if (!deps.proxy) return post([then] { then({}); });
    auto self = shared_from_this();
    {
      std::lock_guard lk(mutex);
      if (!routes_open) {
        // A spawn requested while the proxy is still starting: its route goes in once it answers.
        deferred_routes.push_back([self, k, rt, then] { self->add_route_then(k, rt, then); });
        return;
      }
    }
    proxy::route route{rt->prefix, rt->target, proxy::user_route_data(k.first, k.second)};
    deps.proxy->add_route(route, [self, rt, then](std::string err) {
      bool undo = false;
      if (err.empty()) {
        std::lock_guard lk(self->mutex);
        rt->route_added = true;
        undo = rt->failing;  // the spawn failed while the route was being added: it must not stay
      }
      if (undo)
        return self->deps.proxy->delete_route(rt->prefix, [](std::string e) {
          if (!e.empty()) spdlog::warn("spawn: {}", e);
        });
      then(std::move(err));
    });
  }

  void record_ready(const server_key& k, std::shared_ptr<runtime> rt, json state) {
    if (cancelled(k, rt)) return;
    model::server_patch p;
    p.started.emplace(model::now());
    p.pending.emplace(std::nullopt);
    p.url.emplace(rt->target);
    p.state = state.is_object() ? state.dump() : std::string("{}");
    p.last_activity = model::now();
    auto self = shared_from_this();
    auto r = deps.model.update_server(k.first, k.second, p, on_io([self, k, rt](const model::status& s) {
      if (!s) return self->fail_spawn(k, rt, 500, "the server record could not be saved: " + s.err().message);
      std::vector<std::shared_ptr<http::body_stream>> listeners;
      json ready;
      double secs = 0;
      {
        std::lock_guard lk(self->mutex);
        rt->ph = phase::running;
        ready = ready_event(self->public_server_url(rt->prefix));
        rt->events.push_back(ready);
        rt->finished = true;
        listeners.swap(rt->listeners);
        secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - rt->began).count();
      }
      spdlog::info("server-ready: server {} is ready at {} (target {}) after {:.2f} s", who_of(k), rt->prefix, rt->target,
                   secs);
      finish_streams(listeners, ready);
      (*rt->start_answer)({201, "", 0});
    }));
    if (!r) fail_spawn(k, rt, 500, "the server record could not be saved: " + r.err().message);
  }

  // A spawn that fails at any step leaves nothing behind: the process, the route, the token, the
  // client and the pending record go; the failure is kept for the progress stream and the page.
  void fail_spawn(const server_key& k, std::shared_ptr<runtime> rt, int status, std::string message) {
    if (status < 400) status = 500;
    auto self = shared_from_this();
    std::shared_ptr<plugins::spawner_adapter> sp;
    bool started, routed;
    {
      std::lock_guard lk(mutex);
      if (rt->failing) return;  // a step that was already under way failed too: one cleanup is enough
      rt->failing = true;
      sp = rt->spawner;
      started = rt->process_started;
      routed = rt->route_added;
    }
    spdlog::error("spawn-failed: server {} failed to start: {}", who_of(k), message);
    auto finish = [self, k, rt, status, message] {
      std::vector<std::shared_ptr<http::body_stream>> listeners;
      json failed = failed_event(message);
      failure f;
      {
        std::lock_guard lk(self->mutex);
        rt->events.push_back(failed);
        rt->finished = true;
        listeners.swap(rt->listeners);
        f = failure{message, rt->events};
      }
      self->clear_record(k, rt, false, std::move(f), [rt, status, message] { (*rt->start_answer)({status, message, 0}); });
      finish_streams(listeners, failed);
    };
    auto after_route = [self, sp, started, finish] {
      if (sp && started)
        sp->stop(true, [self, finish](plugins::op_result) { self->post(finish); }, std::chrono::seconds(30));
      else
        self->post(finish);
    };
    if (routed && deps.proxy)
      deps.proxy->delete_route(rt->prefix, [after_route](std::string err) {
        if (!err.empty()) spdlog::warn("spawn: {}", err);
        after_route();
      });
    else
      after_route();
  }

  // Clears the record (started, pending, url, state), revokes the server token and deletes its OAuth
  // client; with `remove` deletes the record itself; forgets the runtime (keeping `failed` for the
  // progress stream). All under the mutex: a new start of this server sees the cleared record and no
  // runtime together, and its own changes queue behind these. then() runs on the io_context once the
  // record change is durable.
  void clear_record(const server_key& k, std::shared_ptr<runtime> rt, bool remove, std::optional<failure> failed,
                    std::function<void()> then) {
    const auto& [user, server] = k;
    std::lock_guard lk(mutex);
    if (auto it = servers.find(k); it != servers.end() && it->second == rt) {
      servers.erase(it);
      forgotten.notify_all();
    }
    if (failed) failures[k] = std::move(*failed);
    revoke_server_tokens(user, rt->prefix);
    auto client = oauth::server_client_id(user, server);
    if (deps.model.find_oauth_client(client)) {
      auto st = deps.model.delete_oauth_client(client, [client](const model::status& s) {
        if (!s) spdlog::error("spawn: deleting OAuth client {} failed: {}", client, s.err().message);
      });
      if (!st) spdlog::warn("spawn: deleting OAuth client {} failed: {}", client, st.err().message);
    }
    auto done = on_io([k, then](const model::status& s) {
      if (!s) spdlog::error("spawn: clearing the record of server {} failed: {}", who_of(k), s.err().message);
      then();
    });
    if (!deps.model.find_server(user, server)) return post(then);
    if (remove) {
      auto st = deps.model.delete_server(user, server, done);
      if (!st) {
        spdlog::error("spawn: deleting server {} failed: {}", who_of(k), st.err().message);
        post(then);
      }
      return;
    }
    model::server_patch p;
    p.started.emplace(std::nullopt);
    p.pending.emplace(std::nullopt);
    p.url.emplace(std::nullopt);
    p.state = "{}";
    auto r = deps.model.update_server(user, server, p, done);
    if (!r) {
      spdlog::error("spawn: clearing the record of server {} failed: {}", who_of(k), r.err().message);
      post(then);
    }
  }

  // ---- stop -------------------------------------------------------------------------------

  void stop(const std::string& user, const std::string& server, bool remove, answer_callback done) {
    auto ans = std::make_shared<once_answer>(std::move(done));
    server_key k{user, server};
    std::shared_ptr<runtime> rt;
    {
      std::lock_guard lk(mutex);
      auto it = servers.find(k);
      if (it != servers.end()) rt = it->second;
      if (rt && rt->ph == phase::starting) {
        post([ans, k] { (*ans)({400, who_of(k) + " is pending spawn, please wait", 0}); });
        return;
      }
      if (rt && rt->ph == phase::stopping) {
        if (remove) rt->remove_after_stop = true;
        rt->stop_answers.push_back(ans);
        post([ans] { (*ans)({202, "", 0}); });
        return;
      }
      if (rt) {
        rt->ph = phase::stopping;
        rt->remove_after_stop = remove;
        rt->stop_answers.push_back(ans);
      }
    }
    if (!rt) {
      // Not running: nothing to stop; `remove` still deletes the record.
      if (remove && deps.model.find_server(user, server)) {
        auto st = deps.model.delete_server(user, server, on_io([ans, k](const model::status& s) {
          if (!s) return (*ans)({500, "deleting server " + who_of(k) + " failed: " + s.err().message, 0});
          (*ans)({204, "", 0});
        }));
        if (!st) post([ans, st] { (*ans)({500, st.err().message, 0}); });
        return;
      }
      post([ans] { (*ans)({204, "", 0}); });
      return;
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(ioc(), settings.slow_stop_timeout);
    timer->async_wait([ans, timer](const boost::system::error_code&) { (*ans)({202, "", 0}); });
    spdlog::info("stop-requested: stopping server {}", who_of(k));
    do_stop(k, rt);
  }

  void do_stop(const server_key& k, std::shared_ptr<runtime> rt) {
    model::server_patch p;
    p.pending.emplace("stop");
    auto r = deps.model.update_server(k.first, k.second, p, [](const model::status&) {});
    if (!r) spdlog::warn("spawn: marking server {} as stopping failed: {}", who_of(k), r.err().message);
    auto self = shared_from_this();
    auto stop_process = [self, k, rt] {
      auto sp = rt->spawner;
      if (!sp) return self->finish_stop(k, rt, "stopped");
      // Graceful first; if the spawner could not, forced (now = true), then the record goes either way.
      sp->stop(
          false,
          [self, k, rt, sp](plugins::op_result r) {
            if (r.ok()) return self->post([self, k, rt] { self->finish_stop(k, rt, "stopped"); });
            spdlog::error("stop-failed: the spawner could not stop server {}: {} ({}); stopping it with now=true",
                          who_of(k), r.user_message(), plugins::to_string(r.status));
            sp->stop(
                true,
                [self, k, rt](plugins::op_result forced) {
                  if (!forced.ok())
                    spdlog::error("stop-failed: the spawner could not stop server {}: {} ({})", who_of(k),
                                  forced.user_message(), plugins::to_string(forced.status));
                  self->post([self, k, rt] { self->finish_stop(k, rt, "stopped"); });
                },
                std::chrono::seconds(30));
          },
          std::chrono::seconds(60));
    };
    // The route goes first, so nobody reaches a server that is going away.
    if (deps.proxy)
      deps.proxy->delete_route(rt->prefix, [stop_process](std::string err) {
        if (!err.empty()) spdlog::warn("spawn: {}", err);
        stop_process();
      });
    else
      stop_process();
  }

  void finish_stop(const server_key& k, std::shared_ptr<runtime> rt, const std::string& how) {
    bool remove;
    {
      std::lock_guard lk(mutex);
      remove = rt->remove_after_stop;
    }
    auto self = shared_from_this();
    clear_record(k, rt, remove, std::nullopt, [self, k, rt, how] {
      std::vector<std::shared_ptr<once_answer>> answers;
      {
        std::lock_guard lk(self->mutex);
        answers.swap(rt->stop_answers);
      }
      spdlog::info("server-stopped: server {} {}", who_of(k), how);
      for (auto& a : answers) (*a)({204, "", 0});
      self->run_post_stop(k);
    });
  }

  // post_stop hooks: errors are only logged (a stop already happened; nothing to undo).
  void run_post_stop(const server_key& k) {
    json input = {{"user", model::plugin_user_view(deps.model, k.first)}, {"server_name", k.second}};
    if (deps.authenticator_post_stop) deps.authenticator_post_stop(input);
    for (const auto& hook : deps.hooks) {
      if (!hook->subscribes("post_stop")) continue;
      hook->call("post_stop", input, [hook, k](plugins::op_result r) {
        if (!r.ok())
          spdlog::warn("spawn: post_stop hook of plugin '{}' failed for {}: {}", hook->name(), who_of(k), r.user_message());
      });
    }
  }

  void stop_all(const std::string& user, std::function<void()> done) {
    std::vector<std::string> names;
    {
      std::lock_guard lk(mutex);
      for (const auto& [k, rt] : servers)
        if (k.first == user && rt->ph == phase::running) names.push_back(k.second);
    }
    if (names.empty()) return post(done);
    auto left = std::make_shared<std::atomic<std::size_t>>(names.size());
    auto self = shared_from_this();
    for (const auto& n : names) {
      // Wait for the real end of each stop (not the 202 of a slow one).
      stop_and_wait(user, n, [left, done] {
        if (left->fetch_sub(1) == 1) done();
      });
    }
  }

  // Stops and calls done once the server is really gone.
  void stop_and_wait(const std::string& user, const std::string& server, std::function<void()> done) {
    auto self = shared_from_this();
    stop(user, server, false, [self, user, server, done](spawn_answer a) {
      if (a.status != 202) return done();
      // Slow stop: poll for the end of it.
      auto check = std::make_shared<std::function<void()>>();
      *check = [self, user, server, done, check] {
        if (!self->current({user, server})) {
          *check = nullptr;  // break the cycle
          return done();
        }
        auto t = std::make_shared<boost::asio::steady_timer>(self->ioc(), std::chrono::milliseconds(200));
        t->async_wait([t, check](const boost::system::error_code&) {
          if (*check) (*check)();
        });
      };
      self->post([check] { (*check)(); });
    });
  }

  // ---- progress ---------------------------------------------------------------------------

  void progress(const std::string& user, const std::string& server, progress_callback done) {
    server_key k{user, server};
    auto out = std::make_shared<once_progress>(std::move(done));
    std::string body;
    int status = 200;
    {
      std::lock_guard lk(mutex);
      auto it = servers.find(k);
      if (it != servers.end() && it->second->ph == phase::running) {
        body = event_stream({ready_event(public_server_url(it->second->prefix))});
      } else if (it != servers.end() && it->second->ph == phase::starting) {
        auto rt = it->second;
        if (rt->finished) {
          body = event_stream(rt->events);
        } else {
          // A live stream: the events so far at once, then each as it happens, then the final one.
          auto stream = std::make_shared<http::body_stream>();
          stream->push(event_stream(rt->events));
          rt->listeners.push_back(stream);
          post([out, stream] { (*out)(200, std::string(), stream); });
          return;
        }
      } else if (auto f = failures.find(k); f != failures.end()) {
        body = event_stream(f->second.events);
      } else {
        status = 400;
        body = who_of(k) + " is not starting";
      }
    }
    post([out, status, body] { (*out)(status, body); });
  }

  std::optional<std::string> last_failure(const std::string& user, const std::string& server) const {
    std::lock_guard lk(mutex);
    if (servers.count({user, server})) return std::nullopt;
    auto f = failures.find({user, server});
    if (f == failures.end()) return std::nullopt;
    return f->second.message;
  }

  // ---- polling, re-adoption, routes -----------------------------------------------------------

  void arm_poll() {
    std::lock_guard lk(mutex);
    if (shut || settings.poll_interval.count() <= 0) return;
    if (!poll_timer) poll_timer = std::make_unique<boost::asio::steady_timer>(ioc());
    poll_timer->expires_after(settings.poll_interval);
    std::weak_ptr<impl> weak = shared_from_this();
    poll_timer->async_wait([weak](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        self->poll_all();
        self->arm_poll();
      }
    });
  }

  void poll_all() {
    std::vector<std::pair<server_key, std::shared_ptr<runtime>>> running;
    {
      std::lock_guard lk(mutex);
      for (const auto& [k, rt] : servers)
        if (rt->ph == phase::running && rt->spawner) running.emplace_back(k, rt);
    }
    auto self = shared_from_this();
    for (auto& [k, rt] : running) {
      rt->spawner->poll([self, k, rt](plugins::op_result r) {
        if (!r.ok() || !r.value.is_object() || !r.value.contains("exit_status")) return;
        self->post([self, k, rt, status = r.value["exit_status"].dump()] { self->on_crashed(k, rt, status); });
      });
    }
  }

  // The server exited on its own: its route and record go, so the user can start again.
  void on_crashed(const server_key& k, std::shared_ptr<runtime> rt, const std::string& exit_status) {
    {
      std::lock_guard lk(mutex);
      if (rt->ph != phase::running) return;  // a stop is already under way
      rt->ph = phase::stopping;
    }
    spdlog::warn("server-exited: server {} exited on its own (exit status {}); cleaning up", who_of(k), exit_status);
    auto self = shared_from_this();
    auto finish = [self, k, rt] { self->finish_stop(k, rt, "cleaned up after it exited"); };
    if (deps.proxy)
      deps.proxy->delete_route(rt->prefix, [self, finish](std::string err) {
        if (!err.empty()) spdlog::warn("spawn: {}", err);
        self->post(finish);
      });
    else
      post(finish);
  }

  void claim_recorded() {
    std::lock_guard lk(mutex);
    for (const auto& u : deps.model.list_users(0, std::numeric_limits<std::size_t>::max()))
      for (const auto& s : deps.model.servers_of(u->name)) {
        if (!s->started && !s->pending) continue;
        server_key k{u->name, s->name};
        if (servers.count(k)) continue;  // claimed already, or a spawn of this run
        auto rt = std::make_shared<runtime>();
        rt->ph = phase::stopping;  // until the poll says otherwise: no start or stop races the adoption
        rt->prefix = server_prefix(settings.base_url, u->name, s->name);
        rt->target = s->url.value_or("");
        servers[k] = rt;
        claimed.push_back({k, s, rt});
      }
  }

  void resume() {
    // server_started / server_stopped reach hook plugins through the model's change events
    // (core/app/hook_events.cpp): record_ready and clear_record set and clear `started`.
    claim_recorded();
    std::vector<claim> todo;
    std::vector<std::function<void()>> waiting;
    {
      std::lock_guard lk(mutex);
      todo.swap(claimed);
      routes_open = true;
      waiting.swap(deferred_routes);
    }
    for (auto& c : todo) adopt(c.key, c.record, c.rt);
    for (auto& w : waiting) post(w);
    arm_poll();
  }

  void adopt(const server_key& k, const model::server_ptr& s, const std::shared_ptr<runtime>& rt) {
    const bool was_ready = s->started && !s->pending;
    const json state = parse_object(s->state);
    auto self = shared_from_this();
    auto gone = [self, k, rt](const std::string& why) {
      spdlog::warn("server-not-adopted: server {} is not running any more ({}); clearing it", who_of(k), why);
      self->post([self, k, rt] { self->finish_stop(k, rt, "cleared at start-up"); });
    };
    deps.registry.create_spawner(
        settings.spawner_class, settings.spawner_section,
        [self, k, rt, state, was_ready, gone](plugins::outcome<std::shared_ptr<plugins::spawner_adapter>> o) {
          if (!o) return gone("the spawner could not be created: " + o.error());
          auto sp = o.value();
          {
            std::lock_guard lk(self->mutex);
            rt->spawner = sp;
          }
          sp->load_state(state, [self, k, rt, sp, was_ready, gone](bool accepted) {
            if (!accepted) return gone("the spawner refused its saved state");
            sp->poll([self, k, rt, sp, was_ready, gone](plugins::op_result r) {
              bool running = r.ok() && r.value.is_object() && r.value.value("running", false);
              if (!running) return gone(r.ok() ? "poll: " + r.value.dump() : r.message);
              if (!was_ready || rt->target.empty()) {
                // hubd died mid-spawn or mid-stop: finish the job instead of guessing.
                spdlog::warn("server-not-adopted: server {} was pending at shutdown; stopping it", who_of(k));
                return self->post([self, k, rt] { self->do_stop(k, rt); });
              }
              {
                std::lock_guard lk(self->mutex);
                rt->ph = phase::running;
                rt->finished = true;
              }
              spdlog::info("server-adopted: server {} still runs at {}; re-adopted", who_of(k), rt->target);
              self->post([self, k, rt] {
                self->add_route_then(k, rt, [k](std::string err) {
                  if (!err.empty()) spdlog::warn("spawn: re-adding the route of {} failed: {}", who_of(k), err);
                });
              });
            });
          });
        });
  }

  std::vector<proxy::route> wanted_routes() const {
    std::vector<proxy::route> out;
    if (!deps.hub_route.target.empty()) out.push_back(deps.hub_route);
    // Services with a url are routed at /services/NAME/ (JupyterHub's add_all_services).
    for (const auto& svc : deps.model.list_services()) {
      if (!svc->url || svc->url->empty()) continue;
      std::string target = *svc->url;
      while (!target.empty() && target.back() == '/') target.pop_back();
      out.push_back({settings.base_url + "services/" + escape_path(svc->name) + "/", target,
                     proxy::service_route_data(svc->name)});
    }
    std::lock_guard lk(mutex);
    for (const auto& [k, rt] : servers)
      if (rt->ph == phase::running && !rt->target.empty())
        out.push_back({rt->prefix, rt->target, proxy::user_route_data(k.first, k.second)});
    return out;
  }

  void check_routes(std::function<void(std::string)> done) {
    if (!deps.proxy) return post([done] { done({}); });
    auto self = shared_from_this();
    deps.proxy->get_all_routes([self, done](proxy::route_table current, std::string err) {
      if (!err.empty()) return done(err);
      std::set<std::string> pending;
      {
        std::lock_guard lk(self->mutex);
        for (const auto& [k, rt] : self->servers)
          if (rt->ph != phase::running) pending.insert(rt->prefix);
      }
      auto plan = proxy::plan_route_sync(current, self->wanted_routes(), pending);
      if (plan.empty()) return done({});
      auto left = std::make_shared<std::atomic<std::size_t>>(plan.add.size() + plan.remove.size());
      auto errors = std::make_shared<std::string>();
      auto errors_mutex = std::make_shared<std::mutex>();
      auto step = [left, errors, errors_mutex, done](std::string e) {
        if (!e.empty()) {
          std::lock_guard lk(*errors_mutex);
          *errors += (errors->empty() ? "" : "; ") + e;
        }
        if (left->fetch_sub(1) == 1) done(*errors);
      };
      for (const auto& r : plan.add) {
        spdlog::warn("proxy-route-repaired: adding missing route {} -> {}", r.routespec, r.target);
        self->deps.proxy->add_route(r, step);
      }
      for (const auto& spec : plan.remove) {
        spdlog::warn("proxy-route-repaired: deleting stale route {}", spec);
        self->deps.proxy->delete_route(spec, step);
      }
    });
  }

  // JupyterHub's update_last_activity, on its own interval (last_activity_interval), apart from
  // the route check: the idle culler's view of who is busy depends on this cadence alone.
  void update_activity(std::function<void(std::string)> done) {
    if (!deps.proxy) return post([done] { done({}); });
    auto self = shared_from_this();
    deps.proxy->get_all_routes([self, done](proxy::route_table current, std::string err) {
      if (err.empty()) self->record_route_activity(current);
      done(err);
    });
  }

  // Proxy traffic as activity: newer route stamps go onto the server and its user.
  void record_route_activity(const proxy::route_table& table) {
    auto& m = deps.model;
    auto updates = activity_from_routes(table, model::now(), [&m](const std::string& u, const std::string& s)
                                                                 -> std::optional<model::opt_time> {
      auto sv = m.find_server(u, s);
      if (!sv) return std::nullopt;
      return sv->last_activity;
    });
    for (const auto& a : updates) {
      model::server_patch p;
      p.last_activity = a.when;
      auto r = m.update_server(a.user, a.server, p, [](const model::status&) {});
      if (!r) spdlog::debug("spawn: recording activity of {}/{} failed: {}", a.user, a.server, r.err().message);
      if (auto u = m.find_user(a.user); u && (!u->last_activity || *u->last_activity < a.when)) {
        auto st = m.touch_user(a.user, a.when);
        if (!st) spdlog::debug("spawn: recording activity of {} failed: {}", a.user, st.err().message);
      }
    }
  }

  void shutdown(bool stop_servers) {
    std::vector<server_key> running;
    std::vector<std::pair<server_key, std::shared_ptr<runtime>>> pending;
    std::vector<std::shared_ptr<http::body_stream>> streams;
    {
      std::lock_guard lk(mutex);
      if (shut) return;
      shut = true;
      if (poll_timer) poll_timer->cancel();
      for (auto& [k, rt] : servers) {
        streams.insert(streams.end(), rt->listeners.begin(), rt->listeners.end());
        rt->listeners.clear();
        // A pending spawn never outlives the hub, whatever cleanup_servers says: nothing could
        // re-adopt a server that never became ready (a restarted hub would stop it anyway).
        if (rt->ph == phase::starting) {
          rt->cancelled = true;
          pending.emplace_back(k, rt);
        }
      }
      if (stop_servers)
        for (const auto& [k, rt] : servers)
          if (rt->ph == phase::running) running.push_back(k);
    }
    for (auto& st : streams) st->close();  // open progress streams end with the hub
    if (!pending.empty()) spdlog::info("spawn-cancelled: cancelling {} pending spawns (the hub is shutting down)", pending.size());
    // A spawn between two steps fails at the next one; one waiting for its server to answer has a
    // process to stop now.
    for (auto& [k, rt] : pending) {
      bool has_process;
      {
        std::lock_guard lk(mutex);
        has_process = rt->process_started;
      }
      if (has_process) fail_spawn(k, rt, 503, "the hub is shutting down");
    }
    if (!running.empty()) spdlog::info("spawn: stopping {} servers (JupyterHub.cleanup_servers)", running.size());
    for (const auto& k : running) stop(k.first, k.second, false, [](spawn_answer) {});
    // Done when no spawn is pending and, with stop_servers, nothing runs any more.
    std::unique_lock lk(mutex);
    auto settled = [&] {
      for (const auto& [k, rt] : servers)
        if (rt->ph == phase::starting || std::find(running.begin(), running.end(), k) != running.end()) return false;
      return true;
    };
    if (!forgotten.wait_for(lk, std::chrono::seconds(30), settled)) {
      std::size_t left = 0;
      for (const auto& [k, rt] : servers)
        if (rt->ph == phase::starting || std::find(running.begin(), running.end(), k) != running.end()) ++left;
      spdlog::error("spawn: {} servers did not stop within 30 s at shutdown", left);
    }
  }
};

server_manager::server_manager(server_manager_deps deps, spawn_settings settings)
    : impl_(std::make_shared<impl>(std::move(deps), std::move(settings))) {}

server_manager::~server_manager() {
  std::lock_guard lk(impl_->mutex);
  impl_->shut = true;
  if (impl_->poll_timer) impl_->poll_timer->cancel();
}

void server_manager::start(const std::string& user, const std::string& server, const nlohmann::json& user_options,
                           answer_callback done, std::optional<std::chrono::milliseconds> answer_within) {
  impl_->start(user, server, user_options, std::move(done), answer_within);
}
void server_manager::stop(const std::string& user, const std::string& server, bool remove, answer_callback done) {
  impl_->stop(user, server, remove, std::move(done));
}
void server_manager::stop_all(const std::string& user, std::function<void()> done) {
  impl_->stop_all(user, std::move(done));
}
void server_manager::progress(const std::string& user, const std::string& server, progress_callback done) {
  impl_->progress(user, server, std::move(done));
}
std::optional<std::string> server_manager::last_failure(const std::string& user, const std::string& server) const {
  return impl_->last_failure(user, server);
}
void server_manager::claim_recorded() { impl_->claim_recorded(); }
void server_manager::resume() { impl_->resume(); }
void server_manager::check_routes(std::function<void(std::string)> done) { impl_->check_routes(std::move(done)); }
void server_manager::update_activity(std::function<void(std::string)> done) { impl_->update_activity(std::move(done)); }
std::vector<proxy::route> server_manager::wanted_routes() const { return impl_->wanted_routes(); }
void server_manager::shutdown() { impl_->shutdown(impl_->settings.cleanup_servers); }
void server_manager::shutdown(bool stop_servers) { impl_->shutdown(stop_servers); }
const spawn_settings& server_manager::settings() const { return impl_->settings; }

}  // namespace hubd::core::spawn
