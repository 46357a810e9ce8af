#include "core/spawn/spawn_flow.hpp"

#include "core/http/body_stream.hpp"
#include "core/http/client.hpp"
#include "core/http/io_pool.hpp"
#include "core/model/hub_model.hpp"
#include "core/model/plugin_views.hpp"
#include "core/oauth/clients.hpp"
#include "core/plugins/hooks_adapter.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/plugins/spawner_adapter.hpp"
#include "core/rbac/rbac.hpp"
#include "core/spawn/progress_events.hpp"
#include "core/spawn/spawn_patch.hpp"
#include "core/spawn/wait_up.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <atomic>

namespace hubd::core::spawn {

using nlohmann::json;

spawn_flow::spawn_flow(std::shared_ptr<spawn_env> env, server_key key, lifecycle machine)
    : env_(std::move(env)),
      key_(std::move(key)),
      machine_(std::move(machine)),
      strand_(boost::asio::make_strand(env_->deps.io.context())) {}

std::string spawn_flow::who() const { return server_who(key_.first, key_.second); }

template <class F>
void spawn_flow::on_strand(F&& f) {
  boost::asio::post(strand_, std::forward<F>(f));
}

void spawn_flow::request(event e, answer_callback done) {
  auto self = shared_from_this();
  on_strand([self, e = std::move(e), done = std::move(done)]() mutable {
    e.waiter = self->next_waiter_++;
    self->waiters_[e.waiter] = std::move(done);
    self->feed(e);
  });
}

void spawn_flow::post(event e) {
  auto self = shared_from_this();
  on_strand([self, e = std::move(e)] { self->feed(e); });
}

void spawn_flow::set_saved_record(json state, bool was_ready, std::string target) {
  saved_state_ = std::move(state);
  saved_ready_ = was_ready;
  saved_target_ = std::move(target);
}

void spawn_flow::adopt() { post(event::adopt_recorded(saved_ready_, saved_target_)); }

void spawn_flow::feed(const event& e) {
  auto actions = machine_.on(e);
  // Published before the actions run: whoever gets an answer (201, 204) sees the table agree with it.
  publish();
  for (const auto& a : actions) perform(a);
}

// The phase and target others read (admission, routes, polls, the shutdown) follow the machine.
void spawn_flow::publish() {
  std::lock_guard lk(env_->mutex);
  auto it = env_->servers.find(key_);
  if (it == env_->servers.end() || it->second.flow.get() != this) return;
  if (it->second.phase == machine_.phase() && (machine_.target().empty() || it->second.target == machine_.target()))
    return;
  it->second.phase = machine_.phase();
  if (!machine_.target().empty()) it->second.target = machine_.target();
  env_->changed.notify_all();
}

void spawn_flow::progress(progress_callback done) {
  auto self = shared_from_this();
  on_strand([self, done = std::move(done)] {
    auto view = self->machine_.progress();
    if (view.what == progress_view::kind::live) {
      // A live stream: the events so far at once, then each as it happens, then the final one.
      auto stream = std::make_shared<http::body_stream>();
      stream->push(view.body);
      self->listeners_.push_back(stream);
      return done(200, std::string(), stream);
    }
    if (view.what == progress_view::kind::body) return done(200, view.body, nullptr);
    std::string body;
    {
      std::lock_guard lk(self->env_->mutex);
      if (auto f = self->env_->failures.find(self->key_); f != self->env_->failures.end())
        body = event_stream(f->second.events);
    }
    if (!body.empty()) return done(200, body, nullptr);
    done(400, self->who() + " is not starting", nullptr);
  });
}

void spawn_flow::close_streams() {
  auto self = shared_from_this();
  on_strand([self] {
    for (auto& s : self->listeners_) s->close();
    self->listeners_.clear();
  });
}

void spawn_flow::poll_exit() {
  auto self = shared_from_this();
  on_strand([self] {
    if (!self->spawner_ || self->machine_.phase() != server_phase::running) return;
    self->spawner_->poll([self](plugins::op_result r) {
      if (!r.ok() || !r.value.is_object() || !r.value.contains("exit_status")) return;
      self->post(event::exit(r.value["exit_status"].dump()));
    });
  });
}

// ---- actions ------------------------------------------------------------------------------------

void spawn_flow::perform(const action& a) {
  auto self = shared_from_this();
  auto& model = env_->deps.model;
  const auto& [user, server] = key_;
  switch (a.kind) {
    case action_kind::answer: {
      auto it = waiters_.find(a.waiter);
      if (it == waiters_.end()) return;
      auto cb = std::move(it->second);
      waiters_.erase(it);
      if (cb) cb({a.status, a.message, 0});
      return;
    }
    case action_kind::arm_answer_timer: {
      auto timer = std::make_shared<boost::asio::steady_timer>(strand_, a.after);
      timer->async_wait([self, timer, w = a.waiter](const boost::system::error_code&) { self->feed(event::timer(w)); });
      return;
    }
    case action_kind::save_pending: {
      model::server_patch p;
      p.pending.emplace("spawn");
      p.user_options = options_.dump();
      auto r = model.update_server(user, server, p, [self](const model::status& s) {
        self->post(event::done(bool(s), s ? "" : "the server record could not be saved: " + s.err().message));
      });
      if (!r) post(event::done(false, "the server record could not be saved: " + r.err().message));
      return;
    }
    case action_kind::make_token: return make_token();
    case action_kind::register_client: return register_client();
    case action_kind::run_pre_spawn: return run_pre_spawn(a.index);
    case action_kind::create_spawner: return create_spawner();
    case action_kind::start_process: return start_process(a.after);
    case action_kind::fetch_pending_state:
      spawner_->get_state([self](json state) { self->post(event::state(event_kind::pending_state, std::move(state))); });
      return;
    case action_kind::save_pending_state: {
      model::server_patch p;
      p.state = a.data.dump();
      auto r = model.update_server(user, server, p, [](const model::status&) {});
      if (!r) spdlog::warn("spawn: saving the state of pending server {} failed: {}", who(), r.err().message);
      return;
    }
    case action_kind::wait_up: return wait_up(a.url, a.after);
    case action_kind::add_route: return add_route();
    case action_kind::fetch_ready_state:
      spawner_->get_state([self](json state) { self->post(event::state(event_kind::ready_state, std::move(state))); });
      return;
    case action_kind::record_ready: return record_ready(a.data, a.url);
    case action_kind::push_progress: {
      std::string chunk = event_stream({a.data});
      for (auto& l : listeners_) l->push(chunk);
      return;
    }
    case action_kind::close_progress: {
      // The final event goes to every open stream, which then ends.
      std::string chunk = event_stream({a.data});
      for (auto& l : listeners_) {
        l->push(chunk);
        l->close();
      }
      listeners_.clear();
      return;
    }
    case action_kind::mark_stopping: {
      model::server_patch p;
      p.pending.emplace("stop");
      auto r = model.update_server(user, server, p, [](const model::status&) {});
      if (!r) spdlog::warn("spawn: marking server {} as stopping failed: {}", who(), r.err().message);
      return;
    }
    case action_kind::delete_route:
      if (!env_->deps.proxy) return post(event::route_gone());
      env_->deps.proxy->delete_route(machine_.config().prefix, [self](std::string err) {
        if (!err.empty()) spdlog::warn("spawn: {}", err);
        self->post(event::route_gone());
      });
      return;
    case action_kind::delete_late_route:
      if (env_->deps.proxy)
        env_->deps.proxy->delete_route(machine_.config().prefix, [](std::string e) {
          if (!e.empty()) spdlog::warn("spawn: {}", e);
        });
      return;
    case action_kind::stop_process: return stop_process(a.now, a.after);
    case action_kind::clear_record: return clear_record(a.remove, a.failed, a.message);
    case action_kind::delete_record: return delete_record();
    case action_kind::run_post_stop: return run_post_stop();
    case action_kind::load_state:
      spawner_->load_state(saved_state_, [self](bool accepted) { self->post(event::loaded(accepted)); });
      return;
    case action_kind::poll:
      spawner_->poll([self](plugins::op_result r) {
        bool running = r.ok() && r.value.is_object() && r.value.value("running", false);
        self->post(event::poll_answer(running, r.ok() ? "poll: " + r.value.dump() : r.message));
      });
      return;
    case action_kind::log:
      switch (a.level) {
        case log_level::info: spdlog::info("{}", a.message); break;
        case log_level::warn: spdlog::warn("{}", a.message); break;
        case log_level::error: spdlog::error("{}", a.message); break;
      }
      return;
  }
}

namespace {

std::vector<std::string> server_role_scopes(const model::hub_model& m) {
  if (auto role = m.find_role("server")) return role->scopes;
  return {"users:activity!user", "access:servers!server"};
}

// Tokens of earlier spawns of this server (a crash, a hubd killed mid-stop) go first.
void revoke_server_tokens(model::hub_model& m, const std::string& user, const std::string& prefix) {
  const std::string note = "Server at " + prefix;
  for (const auto& t : m.tokens_of(model::holder_kind::user, user)) {
    if (t->note != note || t->client_id != "jupyterhub") continue;
    auto st = m.delete_token(t->id, [user](const model::status& s) {
      if (!s) spdlog::error("spawn: revoking a server token of {} failed: {}", user, s.err().message);
    });
    if (!st) spdlog::warn("spawn: revoking a server token of {} failed: {}", user, st.err().message);
  }
}

}  // namespace

void spawn_flow::make_token() {
  auto& d = env_->deps;
  const auto& [user, server] = key_;
  const auto& prefix = machine_.config().prefix;
  revoke_server_tokens(d.model, user, prefix);
  auto req = server_token_request(env_->settings.server_token_scopes, server_role_scopes(d.model), user, server);
  if (req.added_activity && !env_->settings.server_token_scopes.empty())
    spdlog::warn("spawn: Spawner.server_token_scopes has no users:activity scope; adding users:activity!user");
  std::vector<std::string> held = d.model.user_role_scopes(user);
  held.push_back("inherit");
  std::vector<std::string> scopes;
  try {
    auto resolved = rbac::resolve_requested(d.scopes, req.scopes, held, rbac::principal_ref::user(user),
                                            rbac::oauth_client_ref::hub(), &d.membership);
    scopes = std::move(resolved.allowed);
    if (!resolved.disallowed.empty())
      spdlog::info("spawn: server token of {} leaves out scopes the user does not hold: {}", who(),
                   json(resolved.disallowed).dump());
  } catch (const std::exception& e) {
    return post(event::done(false, std::string("invalid server token scopes: ") + e.what()));
  }
  model::new_token nt(model::holder_kind::user, user, scopes);
  nt.note = "Server at " + prefix;
  // The secret is known when create_token returns, the token is usable once durable: go on after both.
  auto arrivals = std::make_shared<std::atomic<int>>(2);
  auto failed = std::make_shared<std::atomic<bool>>(false);
  auto self = shared_from_this();
  auto arrive = [self, arrivals, failed] {
    if (arrivals->fetch_sub(1) != 1) return;
    self->post(event::done(!failed->load(), failed->load() ? "the server token could not be saved" : ""));
  };
  auto r = d.model.create_token(nt, [arrive, failed](const model::status& s) {
    if (!s) failed->store(true);
    arrive();
  });
  if (!r) return post(event::done(false, "the server token could not be created: " + r.err().message));
  secret_ = r.value().secret;
  arrive();
}

void spawn_flow::register_client() {
  const auto& [user, server] = key_;
  auto self = shared_from_this();
  auto r = oauth::register_server_client(
      env_->deps.model, env_->settings.base_url, user, server, secret_, env_->settings.oauth_client_allowed_scopes,
      [self](const model::status& s) {
        if (!s) return self->post(event::done(false, "the server's OAuth client could not be saved: " + s.err().message));
        self->on_strand([self] {
          self->context_ = self->spawner_context();
          self->feed(event::done());
        });
      });
  if (!r) post(event::done(false, "the server's OAuth client could not be saved: " + r.err().message));
}

json spawn_flow::spawner_context() const {
  const auto& [user, server] = key_;
  const auto& settings = env_->settings;
  const auto& prefix = machine_.config().prefix;
  env_inputs in;
  in.user = user;
  in.server_name = server;
  in.api_token = secret_;
  in.client_id = oauth::server_client_id(user, server);
  in.hub_api_url = settings.hub_api_url;
  in.base_url = settings.base_url;
  in.public_host = settings.public_host;
  if (!settings.public_host.empty()) {
    in.public_url = settings.public_host + prefix;
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
  in.hub_environ = env_->hub_environ;
  in.environment = settings.environment;
  json env = json::object();
  for (const auto& [key, value] : build_env(in)) env[key] = value;
  // JupyterHub's Spawner.auth_state_hook sees the decrypted auth_state at every start; here the
  // context carries it, read after any refresh_pre_spawn refresh was committed.
  return {{"user", model::plugin_user_view(env_->deps.model, user)},
          {"auth_state", model::plugin_auth_state(env_->deps.model, user, settings.enable_auth_state)},
          {"server_name", server},
          {"user_options", options_},
          {"state", json::object()},
          {"cmd", settings.cmd},
          {"args", settings.args},
          {"env", env},
          {"ip", settings.ip},
          {"port", settings.port},
          {"service_prefix", prefix},
          {"base_url", settings.base_url},
          {"hub_api_url", settings.hub_api_url},
          {"start_timeout", settings.start_timeout.count() / 1000.0},
          {"http_timeout", settings.http_timeout.count() / 1000.0}};
}

// Each step sees the context the previous one patched.
void spawn_flow::run_pre_spawn(std::size_t index) {
  const auto& step = env_->pre_spawn.at(index);
  json input = {{"user", context_["user"]}, {"spawner", context_}};
  auto self = shared_from_this();
  step.run(who(), std::move(input), [self, name = step.name](bool ok, int status, std::string message, json patch) {
    if (!ok) return self->post(event::done(false, std::move(message), status));
    self->on_strand([self, name, patch = std::move(patch)] {
      if (auto err = apply_spawn_patch(self->context_, patch); !err.empty()) {
        spdlog::error("plugin-misbehaving: pre_spawn hook of plugin '{}' returned a bad patch: {}", name, err);
        return self->feed(event::done(false, "pre_spawn hook " + name + " returned a bad patch: " + err));
      }
      self->feed(event::done());
    });
  });
}

void spawn_flow::create_spawner() {
  auto self = shared_from_this();
  env_->deps.registry.create_spawner(
      env_->settings.spawner_class, env_->settings.spawner_section,
      [self](plugins::outcome<std::shared_ptr<plugins::spawner_adapter>> o) {
        if (!o) return self->post(event::done(false, "the spawner could not be created: " + o.error()));
        self->on_strand([self, sp = o.value()] {
          self->spawner_ = sp;
          self->feed(event::done());
        });
      });
}

void spawn_flow::start_process(std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  spawner_->start(
      context_,
      [self](json ev) {
        if (auto clean = sanitize_progress_event(ev)) self->post(event::spawner_progress(std::move(*clean)));
      },
      [self](plugins::op_result r) {
        if (r.ok()) return self->post(event::started(r.value.value("url", "")));
        bool timed_out = r.status == plugins::op_status::timeout || r.status == plugins::op_status::cancelled;
        self->post(event::start_failed(r.http_status(), r.user_message(), timed_out));
      },
      timeout);
}

void spawn_flow::wait_up(const std::string& url, std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  alive_check alive = [sp = spawner_](std::function<void(std::optional<std::string>)> cb) {
    sp->poll([cb](plugins::op_result r) {
      if (r.ok() && r.value.is_object() && r.value.contains("exit_status"))
        return cb("the server process exited with status " + r.value["exit_status"].dump() +
                  " before it answered (see the hub's log for its output)");
      cb(std::nullopt);
    });
  };
  spawn::wait_up(env_->deps.io, env_->deps.client, url, timeout, std::move(alive),
                 [self](wait_up_result w) { self->post(event::done(w.ready, w.error)); });
}

void spawn_flow::add_route() {
  auto self = shared_from_this();
  if (!env_->deps.proxy) return post(event::done());
  {
    std::lock_guard lk(env_->mutex);
    if (!env_->routes_open) {
      // A spawn requested while the proxy is still starting: its route goes in once it answers.
      env_->deferred_routes.push_back([self] { self->on_strand([self] { self->add_route(); }); });
      return;
    }
  }
  proxy::route route{machine_.config().prefix, machine_.target(), proxy::user_route_data(key_.first, key_.second)};
  env_->deps.proxy->add_route(route, [self](std::string err) { self->post(event::done(err.empty(), err)); });
}

void spawn_flow::record_ready(const json& state, const std::string& url) {
  model::server_patch p;
  p.started.emplace(model::now());
  p.pending.emplace(std::nullopt);
  p.url.emplace(url);
  p.state = state.dump();
  p.last_activity = model::now();
  auto self = shared_from_this();
  auto r = env_->deps.model.update_server(key_.first, key_.second, p, [self](const model::status& s) {
    auto e = event::done(bool(s), s ? "" : "the server record could not be saved: " + s.err().message);
    self->post(event::at_time(std::move(e), std::chrono::steady_clock::now()));
  });
  if (!r) post(event::done(false, "the server record could not be saved: " + r.err().message));
}

// Clears the record (started, pending, url, state), revokes the server token and deletes its OAuth
// client; with `remove` deletes the record itself; then the server leaves the table (a failure is kept
// for the progress stream). The model calls come first and no lock is held across them: a new start
// of this server is refused until the entry goes, and its own changes queue behind these.
void spawn_flow::clear_record(bool remove, bool failed, const std::string& message) {
  auto& m = env_->deps.model;
  const auto& [user, server] = key_;
  auto self = shared_from_this();
  revoke_server_tokens(m, user, machine_.config().prefix);
  auto client = oauth::server_client_id(user, server);
  if (m.find_oauth_client(client)) {
    auto st = m.delete_oauth_client(client, [client](const model::status& s) {
      if (!s) spdlog::error("spawn: deleting OAuth client {} failed: {}", client, s.err().message);
    });
    if (!st) spdlog::warn("spawn: deleting OAuth client {} failed: {}", client, st.err().message);
  }
  auto done = [self](const model::status& s) {
    if (!s) spdlog::error("spawn: clearing the record of server {} failed: {}", self->who(), s.err().message);
    self->post(event::cleared());
  };
  bool queued = false;
  if (m.find_server(user, server)) {
    if (remove) {
      auto st = m.delete_server(user, server, done);
      if (!st) spdlog::error("spawn: deleting server {} failed: {}", who(), st.err().message);
      queued = bool(st);
    } else {
      model::server_patch p;
      p.started.emplace(std::nullopt);
      p.pending.emplace(std::nullopt);
      p.url.emplace(std::nullopt);
      p.state = "{}";
      auto r = m.update_server(user, server, p, done);
      if (!r) spdlog::error("spawn: clearing the record of server {} failed: {}", who(), r.err().message);
      queued = bool(r);
    }
  }
  {
    std::lock_guard lk(env_->mutex);
    if (auto it = env_->servers.find(key_); it != env_->servers.end() && it->second.flow.get() == this)
      env_->servers.erase(it);
    if (failed) env_->failures[key_] = spawn_failure{message, machine_.events()};
    env_->changed.notify_all();
  }
  if (!queued) post(event::cleared());
}

void spawn_flow::delete_record() {
  auto& m = env_->deps.model;
  const auto& [user, server] = key_;
  if (!m.find_server(user, server)) return post(event::deleted(true));
  auto self = shared_from_this();
  auto st = m.delete_server(user, server, [self](const model::status& s) {
    self->post(event::deleted(bool(s), s ? "" : "deleting server " + self->who() + " failed: " + s.err().message));
  });
  if (!st) post(event::deleted(false, st.err().message));
}

void spawn_flow::stop_process(bool now, std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  spawner_->stop(
      now,
      [self](plugins::op_result r) {
        self->post(event::stopped(r.ok(), r.ok() ? "" : r.user_message() + " (" + std::string(plugins::to_string(r.status)) + ")"));
      },
      timeout, model::plugin_auth_state(env_->deps.model, key_.first, env_->settings.enable_auth_state));
}

// post_stop hooks: errors are only logged (a stop already happened; nothing to undo).
void spawn_flow::run_post_stop() {
  const auto& d = env_->deps;
  json input = {{"user", model::plugin_user_view(d.model, key_.first)}, {"server_name", key_.second}};
  if (d.authenticator_post_stop) d.authenticator_post_stop(input);
  for (const auto& hook : d.hooks) {
    if (!hook->subscribes("post_stop")) continue;
    hook->call("post_stop", input, [hook, who = who()](plugins::op_result r) {
      if (!r.ok()) spdlog::warn("spawn: post_stop hook of plugin '{}' failed for {}: {}", hook->name(), who, r.user_message());
    });
  }
}

}  // namespace hubd::core::spawn
