#include "core/spawn/server_manager.hpp"

#include "core/http/io_pool.hpp"
#include "core/model/hub_model.hpp"
#include "core/plugins/hooks_adapter.hpp"
#include "core/spawn/progress_events.hpp"
#include "core/spawn/readoption.hpp"
#include "core/spawn/route_sync.hpp"
#include "core/spawn/server_polling.hpp"
#include "core/spawn/spawn_flow.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

extern char** environ;

namespace hubd::core::spawn {

namespace {

using nlohmann::json;

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

// The authenticator's pre_spawn_start, then the pre_spawn hooks in config order.
std::vector<pre_spawn_step> pre_spawn_steps(const server_manager_deps& deps) {
  std::vector<pre_spawn_step> steps;
  if (deps.authenticator_pre_spawn) {
    steps.push_back({"authenticator", [run = deps.authenticator_pre_spawn](const std::string& who, json input, auto done) {
                       run(std::move(input), [who, done](bool ok, int status, std::string message, json patch) {
                         if (ok) return done(true, 0, "", std::move(patch));
                         spdlog::warn("spawn: the authenticator's pre_spawn_start refused the spawn of {}: {}", who, message);
                         done(false, status, "pre_spawn_start: " + message, json());
                       });
                     }});
  }
  for (const auto& hook : deps.hooks) {
    if (!hook->subscribes("pre_spawn")) continue;
    steps.push_back({hook->name(), [hook](const std::string& who, json input, auto done) {
                       hook->call("pre_spawn", std::move(input), [hook, who, done](plugins::op_result r) {
                         if (r.ok()) return done(true, 0, "", std::move(r.value));
                         spdlog::warn("spawn: pre_spawn hook of plugin '{}' refused the spawn of {}: {} ({})", hook->name(),
                                      who, r.user_message(), plugins::to_string(r.status));
                         done(false, r.status == plugins::op_status::denied ? r.http_status() : 500,
                              "pre_spawn hook " + hook->name() + ": " + r.user_message(), json());
                       });
                     }});
  }
  return steps;
}

}  // namespace

spawn_env::spawn_env(server_manager_deps d, spawn_settings s)
    : deps(std::move(d)), settings(std::move(s)), hub_environ(hub_environment()), pre_spawn(pre_spawn_steps(deps)) {}

struct server_manager::impl {
  std::shared_ptr<spawn_env> env;

  impl(server_manager_deps d, spawn_settings s) : env(std::make_shared<spawn_env>(std::move(d), std::move(s))) {}

  template <class F>
  void post(F&& f) {
    boost::asio::post(env->deps.io.context(), std::forward<F>(f));
  }

  std::shared_ptr<spawn_flow> new_flow(const server_key& k) {
    auto cfg = lifecycle_config_of(env->settings, k.first, k.second, env->pre_spawn.size());
    return std::make_shared<spawn_flow>(env, k, lifecycle(cfg));
  }

  void start(const std::string& user, const std::string& server, const json& options, answer_callback done,
             std::optional<std::chrono::milliseconds> answer_within) {
    auto& m = env->deps.model;
    if (!m.find_user(user)) return post([done, user] { done({404, "No such user: " + user, 0}); });
    server_key k{user, server};
    auto existing = m.find_server(user, server);
    int named = 0;
    for (const auto& s : m.servers_of(user))
      if (!s->name.empty() && s->name != server) named++;
    std::shared_ptr<spawn_flow> flow;
    admission a;
    {
      std::lock_guard lk(env->mutex);
      if (env->shut) return post([done] { done({503, "The hub is shutting down", 0}); });
      spawn_counts c;
      for (const auto& [kk, e] : env->servers) {
        if (e.phase == server_phase::starting) c.pending_spawns++;
        c.active_servers++;
      }
      c.server_exists = existing != nullptr;
      c.user_named_servers = named;
      if (auto it = env->servers.find(k); it != env->servers.end()) {
        c.server_running = it->second.phase == server_phase::running;
        c.spawn_pending = it->second.phase == server_phase::starting;
        c.stop_pending = it->second.phase == server_phase::stopping;
      }
      a = admit_spawn(user, server, env->settings.limits, c, env->retry_seed++);
      if (a.ok()) {
        flow = new_flow(k);
        env->servers[k] = server_entry{flow, server_phase::starting, server_prefix(env->settings.base_url, user, server), ""};
        env->failures.erase(k);
      }
    }
    if (!a.ok()) {
      if (a.status == 429) spdlog::warn("spawn-throttled: spawn of {} refused: {}", server_who(user, server), a.message);
      return post([done, a] { done({a.status, a.message, a.retry_after}); });
    }
    flow->set_options(options.is_object() ? options : existing ? parse_object(existing->user_options) : json::object());
    flow->request(event::start(0, std::chrono::steady_clock::now(), answer_within), std::move(done));
  }

  // A server with no entry gets a flow of its own that is never in the table: it answers and goes.
  std::shared_ptr<spawn_flow> flow_of(const server_key& k) {
    {
      std::lock_guard lk(env->mutex);
      if (auto it = env->servers.find(k); it != env->servers.end()) return it->second.flow;
    }
    return new_flow(k);
  }

  void stop(const std::string& user, const std::string& server, bool remove, answer_callback done) {
    flow_of({user, server})->request(event::stop(0, remove), std::move(done));
  }

  // Every running server of the user; done once each stop really ended (not at a slow stop's 202).
  void stop_all(const std::string& user, std::function<void()> done) {
    std::vector<std::shared_ptr<spawn_flow>> flows;
    {
      std::lock_guard lk(env->mutex);
      for (const auto& [k, e] : env->servers)
        if (k.first == user && e.phase == server_phase::running) flows.push_back(e.flow);
    }
    if (flows.empty()) return post(done);
    auto left = std::make_shared<std::atomic<std::size_t>>(flows.size());
    for (auto& f : flows)
      f->request(event::stop(0, false, true), [left, done](spawn_answer) {
        if (left->fetch_sub(1) == 1) done();
      });
  }

  void progress(const std::string& user, const std::string& server, progress_callback done) {
    server_key k{user, server};
    std::shared_ptr<spawn_flow> flow;
    std::string body;
    {
      std::lock_guard lk(env->mutex);
      if (auto it = env->servers.find(k); it != env->servers.end()) flow = it->second.flow;
      else if (auto f = env->failures.find(k); f != env->failures.end()) body = event_stream(f->second.events);
    }
    if (flow) return flow->progress(std::move(done));
    if (!body.empty()) return post([done, body] { done(200, body, nullptr); });
    post([done, k] { done(400, server_who(k.first, k.second) + " is not starting", nullptr); });
  }

  std::optional<std::string> last_failure(const std::string& user, const std::string& server) const {
    std::lock_guard lk(env->mutex);
    if (env->servers.count({user, server})) return std::nullopt;
    auto f = env->failures.find({user, server});
    if (f == env->failures.end()) return std::nullopt;
    return f->second.message;
  }

  void resume() {
    // server_started / server_stopped reach hook plugins through the model's change events
    // (core/app/hook_events.cpp): record_ready and clear_record set and clear `started`.
    adopt_claimed_servers(env);
    arm_server_polling(env);
  }

  void shutdown(bool stop_servers) {
    std::vector<std::shared_ptr<spawn_flow>> all;
    std::vector<server_key> running;
    std::size_t pending = 0;
    {
      std::lock_guard lk(env->mutex);
      if (env->shut) return;
      env->shut = true;
      if (env->poll_timer) env->poll_timer->cancel();
      for (const auto& [k, e] : env->servers) {
        all.push_back(e.flow);
        if (e.phase == server_phase::starting) pending++;
        if (stop_servers && e.phase == server_phase::running) running.push_back(k);
      }
    }
    if (pending) spdlog::info("spawn-cancelled: cancelling {} pending spawns (the hub is shutting down)", pending);
    // Open progress streams end with the hub. A pending spawn never outlives it, whatever
    // cleanup_servers says: nothing could re-adopt a server that never became ready.
    for (auto& f : all) {
      f->close_streams();
      f->post(event::cancelled());
    }
    if (!running.empty()) spdlog::info("spawn: stopping {} servers (JupyterHub.cleanup_servers)", running.size());
    for (const auto& k : running) stop(k.first, k.second, false, [](spawn_answer) {});
    // Done when no spawn is pending and, with stop_servers, nothing runs any more.
    auto left = [&] {
      std::size_t n = 0;
      for (const auto& [k, e] : env->servers)
        if (e.phase == server_phase::starting || std::find(running.begin(), running.end(), k) != running.end()) ++n;
      return n;
    };
    std::unique_lock lk(env->mutex);
    if (!env->changed.wait_for(lk, env->settings.shutdown_timeout, [&] { return left() == 0; }))
      spdlog::error("spawn: {} servers did not stop within {} s at shutdown", left(),
                    env->settings.shutdown_timeout.count() / 1000);
  }
};

server_manager::server_manager(server_manager_deps deps, spawn_settings settings)
    : impl_(std::make_shared<impl>(std::move(deps), std::move(settings))) {}

server_manager::~server_manager() {
  std::lock_guard lk(impl_->env->mutex);
  impl_->env->shut = true;
  if (impl_->env->poll_timer) impl_->env->poll_timer->cancel();
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
void server_manager::claim_recorded() { claim_recorded_servers(impl_->env); }
void server_manager::resume() { impl_->resume(); }
void server_manager::check_routes(std::function<void(std::string)> done) { spawn::check_routes(impl_->env, std::move(done)); }
void server_manager::update_activity(std::function<void(std::string)> done) {
  update_route_activity(impl_->env, std::move(done));
}
std::vector<proxy::route> server_manager::wanted_routes() const { return spawn::wanted_routes(*impl_->env); }
void server_manager::shutdown() { impl_->shutdown(impl_->env->settings.cleanup_servers); }
void server_manager::shutdown(bool stop_servers) { impl_->shutdown(stop_servers); }
const spawn_settings& server_manager::settings() const { return impl_->env->settings; }

}  // namespace hubd::core::spawn
