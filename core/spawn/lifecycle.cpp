#include "core/spawn/lifecycle.hpp"

#include "core/spawn/admission.hpp"
#include "core/spawn/progress_events.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace hubd::core::spawn {

using nlohmann::json;

lifecycle_config lifecycle_config_of(const spawn_settings& s, std::string user, std::string server,
                                     std::size_t pre_spawn_steps) {
  lifecycle_config c;
  c.prefix = server_prefix(s.base_url, user, server);
  c.public_url = s.public_host + c.prefix;
  c.user = std::move(user);
  c.server = std::move(server);
  c.pre_spawn_steps = pre_spawn_steps;
  c.start_timeout = s.start_timeout;
  c.http_timeout = s.http_timeout;
  c.slow_spawn_timeout = s.slow_spawn_timeout;
  c.slow_stop_timeout = s.slow_stop_timeout;
  c.stop_timeout = s.stop_timeout;
  c.forced_stop_timeout = s.forced_stop_timeout;
  return c;
}

std::string server_who(const std::string& user, const std::string& server) {
  return server.empty() ? user : user + "/" + server;
}

// ---- events -------------------------------------------------------------------------------------

event event::start(int waiter, std::chrono::steady_clock::time_point at, std::optional<std::chrono::milliseconds> within) {
  event e{event_kind::start_requested};
  e.waiter = waiter;
  e.at = at;
  e.answer_within = within;
  return e;
}
event event::stop(int waiter, bool remove, bool wait_for_end) {
  event e{event_kind::stop_requested};
  e.waiter = waiter;
  e.remove = remove;
  e.wait_for_end = wait_for_end;
  return e;
}
event event::timer(int waiter) {
  event e{event_kind::answer_timer_fired};
  e.waiter = waiter;
  return e;
}
event event::cancelled() { return event{event_kind::cancel}; }
event event::done(bool ok, std::string message, int status) {
  event e{event_kind::step_done};
  e.ok = ok;
  e.message = std::move(message);
  e.status = status;
  return e;
}
event event::started(std::string url) {
  event e{event_kind::process_started};
  e.url = std::move(url);
  return e;
}
event event::start_failed(int status, std::string message, bool timed_out) {
  event e{event_kind::process_start_failed};
  e.ok = false;
  e.status = status;
  e.message = std::move(message);
  e.timed_out = timed_out;
  return e;
}
event event::state(event_kind which, json data) {
  event e{which};
  e.data = std::move(data);
  return e;
}
event event::spawner_progress(json ev) { return state(event_kind::progress, std::move(ev)); }
event event::route_gone() { return event{event_kind::route_deleted}; }
event event::stopped(bool ok, std::string message) {
  event e{event_kind::process_stopped};
  e.ok = ok;
  e.message = std::move(message);
  return e;
}
event event::cleared() { return event{event_kind::record_cleared}; }
event event::deleted(bool ok, std::string message) {
  event e{event_kind::record_deleted};
  e.ok = ok;
  e.message = std::move(message);
  return e;
}
event event::exit(std::string exit_status) {
  event e{event_kind::exited};
  e.message = std::move(exit_status);
  return e;
}
event event::adopt_recorded(bool was_ready, std::string target) {
  event e{event_kind::adopt};
  e.ok = was_ready;
  e.url = std::move(target);
  return e;
}
event event::loaded(bool accepted) {
  event e{event_kind::state_loaded};
  e.ok = accepted;
  return e;
}
event event::poll_answer(bool running, std::string why) {
  event e{event_kind::polled};
  e.ok = running;
  e.message = std::move(why);
  return e;
}
event event::at_time(event e, std::chrono::steady_clock::time_point at) {
  e.at = at;
  return e;
}

// ---- the machine --------------------------------------------------------------------------------

namespace {

action act(action_kind k) { return action{k}; }

}  // namespace

lifecycle::lifecycle(lifecycle_config cfg) : cfg_(std::move(cfg)) {}

lifecycle lifecycle::claimed(lifecycle_config cfg) {
  lifecycle l(std::move(cfg));
  l.phase_ = server_phase::stopping;  // until the poll says otherwise: no start or stop races the adoption
  l.step_ = step::adopt_spawner;
  return l;
}

bool lifecycle::spawning() const { return step_ >= step::saving_pending && step_ <= step::recording_ready; }
bool lifecycle::stopping() const { return step_ >= step::stop_route && step_ <= step::stop_clear; }
bool lifecycle::adopting() const { return step_ >= step::adopt_spawner && step_ <= step::adopt_route; }

std::string lifecycle::who() const { return server_who(cfg_.user, cfg_.server); }

action lifecycle::log(log_level level, std::string message) {
  action a{action_kind::log};
  a.level = level;
  a.message = std::move(message);
  return a;
}

void lifecycle::answer(int waiter, int status, std::string message, actions& out) {
  action a{action_kind::answer};
  a.waiter = waiter;
  a.status = status;
  a.message = std::move(message);
  out.push_back(std::move(a));
}

progress_view lifecycle::progress() const {
  if (phase_ == server_phase::running) return {progress_view::kind::body, event_stream({ready_event(cfg_.public_url)})};
  if (phase_ == server_phase::starting)
    return {finished_ ? progress_view::kind::body : progress_view::kind::live, event_stream(events_)};
  return {};
}

std::vector<action> lifecycle::on(const event& e) {
  actions out;
  switch (e.kind) {
    case event_kind::start_requested: on_start(e, out); break;
    case event_kind::stop_requested: on_stop(e, out); break;
    case event_kind::answer_timer_fired:
      if (start_waiter_ && *start_waiter_ == e.waiter) {
        start_waiter_.reset();
        answer(e.waiter, 202, "", out);
      } else if (auto it = std::find(stop_waiters_.begin(), stop_waiters_.end(), e.waiter); it != stop_waiters_.end()) {
        stop_waiters_.erase(it);
        answer(e.waiter, 202, "", out);
      }
      break;
    case event_kind::cancel:
      if (phase_ != server_phase::starting) break;
      cancelled_ = true;
      // A spawn between two steps fails at the next one; one with a process (waiting for it to
      // answer) stops it now.
      if (has_process_ && !failing_) fail(503, "the hub is shutting down", out);
      break;
    case event_kind::progress:
      if (phase_ == server_phase::starting && e.data.is_object()) add_event(e.data, out);
      break;
    case event_kind::pending_state:
      // Only while the spawn still runs: one that ended meanwhile keeps its cleared record.
      if (phase_ == server_phase::starting && !failing_ && e.data.is_object()) {
        action a{action_kind::save_pending_state};
        a.data = e.data;
        out.push_back(std::move(a));
      }
      break;
    case event_kind::exited:
      if (phase_ != server_phase::running) break;  // a stop is already under way
      phase_ = server_phase::stopping;
      out.push_back(log(log_level::warn, "server-exited: server " + who() + " exited on its own (exit status " +
                                             e.message + "); cleaning up"));
      step_ = step::crash_route;
      out.push_back(act(action_kind::delete_route));
      break;
    case event_kind::adopt:
      if (step_ != step::adopt_spawner) break;
      adopt_was_ready_ = e.ok && !e.url.empty();
      target_ = e.url;
      out.push_back(act(action_kind::create_spawner));
      break;
    case event_kind::record_deleted:
      if (step_ != step::deleting) break;
      step_ = step::none;
      for (int w : std::exchange(stop_waiters_, {})) {
        if (e.ok) answer(w, 204, "", out);
        else answer(w, 500, e.message, out);
      }
      break;
    default:
      if (adopting()) on_adopt_step(e, out);
      else if (stopping()) on_stop_step(e, out);
      else on_spawn_step(e, out);
  }
  return out;
}

void lifecycle::on_start(const event& e, actions& out) {
  if (phase_ != server_phase::idle || step_ != step::none) {
    // The manager admits one spawn per server; a second request is answered as admission would.
    spawn_counts c;
    c.server_exists = true;
    c.spawn_pending = phase_ == server_phase::starting;
    c.server_running = phase_ == server_phase::running;
    c.stop_pending = phase_ == server_phase::stopping || (phase_ == server_phase::idle && step_ != step::none);
    spawn_limits any;
    any.allow_named_servers = true;
    auto a = admit_spawn(cfg_.user, cfg_.server, any, c);
    answer(e.waiter, a.status, a.status == 202 ? "" : a.message, out);
    return;
  }
  phase_ = server_phase::starting;
  began_ = e.at;
  start_waiter_ = e.waiter;
  events_ = {{{"progress", 0}, {"message", "Server requested"}}};
  out.push_back(log(log_level::info, "spawn-requested: starting server " + who()));
  // The API waits up to slow_spawn_timeout (the pages about a second), then answers 202 and the spawn goes on.
  action t{action_kind::arm_answer_timer};
  t.waiter = e.waiter;
  t.after = e.answer_within.value_or(cfg_.slow_spawn_timeout);
  out.push_back(std::move(t));
  step_ = step::saving_pending;
  out.push_back(act(action_kind::save_pending));
}

void lifecycle::on_stop(const event& e, actions& out) {
  switch (phase_) {
    case server_phase::starting:
      if (step_ == step::recording_ready && !failing_ && !deferred_stop_) {
        // The ready record is written (the API already shows the server ready), only its commit is
        // awaited: the stop runs right after it instead of being refused.
        deferred_stop_ = e;
        return;
      }
      answer(e.waiter, 400, who() + " is pending spawn, please wait", out);
      return;
    case server_phase::stopping:
      if (e.remove) remove_after_stop_ = true;
      if (e.wait_for_end) stop_waiters_.push_back(e.waiter);
      else answer(e.waiter, 202, "", out);
      return;
    case server_phase::idle:
      // Not running: nothing to stop; `remove` still deletes the record.
      if (e.remove && step_ == step::none) {
        stop_waiters_.push_back(e.waiter);
        step_ = step::deleting;
        out.push_back(act(action_kind::delete_record));
      } else if (e.remove && step_ == step::deleting) {
        stop_waiters_.push_back(e.waiter);
      } else {
        answer(e.waiter, 204, "", out);
      }
      return;
    case server_phase::running:
      phase_ = server_phase::stopping;
      remove_after_stop_ = e.remove;
      stop_waiters_.push_back(e.waiter);
      if (!e.wait_for_end) {
        action t{action_kind::arm_answer_timer};
        t.waiter = e.waiter;
        t.after = cfg_.slow_stop_timeout;
        out.push_back(std::move(t));
      }
      out.push_back(log(log_level::info, "stop-requested: stopping server " + who()));
      begin_stop(out);
      return;
  }
}

// ---- spawn --------------------------------------------------------------------------------------

void lifecycle::add_event(json ev, actions& out) {
  if (finished_) return;
  events_.push_back(ev);
  action a{action_kind::push_progress};
  a.data = std::move(ev);
  out.push_back(std::move(a));
}

void lifecycle::on_spawn_step(const event& e, actions& out) {
  if (phase_ != server_phase::starting) return;
  if (failing_) {
    // Results of what was under way when the spawn failed: only undone, never continued.
    switch (e.kind) {
      case event_kind::step_done:
        // The route went in while the spawn was failing: it must not stay.
        if (step_ == step::adding_route && e.ok) out.push_back(act(action_kind::delete_late_route));
        step_ = step::none;
        break;
      case event_kind::route_deleted:
        if (undo_ == undo::route) rollback_process(out);
        break;
      case event_kind::process_stopped:
        if (undo_ == undo::process) rollback_clear(out);
        break;
      case event_kind::record_cleared:
        if (undo_ != undo::clear) break;
        undo_ = undo::none;
        step_ = step::none;
        phase_ = server_phase::idle;
        if (start_waiter_) answer(*std::exchange(start_waiter_, std::nullopt), fail_status_, fail_message_, out);
        if (deferred_stop_) answer(std::exchange(deferred_stop_, std::nullopt)->waiter, 204, "", out);  // nothing runs
        break;
      default: break;
    }
    return;
  }
  switch (e.kind) {
    case event_kind::step_done:
      // The process start answers with its own events, not step_done.
      if (!spawning() || step_ == step::starting) return;
      if (!e.ok && step_ == step::adding_route) return fail(500, "the proxy route could not be added: " + e.message, out);
      if (!e.ok) return fail(e.status, e.message, out);
      if (step_ == step::creating_spawner) has_spawner_ = true;
      if (step_ == step::adding_route) route_added_ = true;
      if (step_ == step::recording_ready) {
        phase_ = server_phase::running;
        step_ = step::none;
        json ready = ready_event(cfg_.public_url);
        events_.push_back(ready);
        finished_ = true;
        double secs = std::chrono::duration<double>(e.at - began_).count();
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", secs);
        out.push_back(log(log_level::info, "server-ready: server " + who() + " is ready at " +
                                               cfg_.prefix + " (target " + target_ + ") after " + buf + " s"));
        action c{action_kind::close_progress};
        c.data = std::move(ready);
        out.push_back(std::move(c));
        if (start_waiter_) answer(*std::exchange(start_waiter_, std::nullopt), 201, "", out);
        if (deferred_stop_) on_stop(*std::exchange(deferred_stop_, std::nullopt), out);
        return;
      }
      if (cancelled_) return fail(503, "the hub is shutting down", out);
      next_spawn_step(out);
      return;
    case event_kind::process_started:
      if (step_ != step::starting) return;
      target_ = e.url;
      while (!target_.empty() && target_.back() == '/') target_.pop_back();
      has_process_ = true;
      if (cancelled_) {
        step_ = step::none;
        return fail(503, "the hub is shutting down", out);
      }
      // The spawner's state as soon as there is a process: a hubd killed mid-spawn finds it at its
      // next start, and the adoption pass stops that server instead of losing track of it.
      out.push_back(act(action_kind::fetch_pending_state));
      add_event({{"progress", 50}, {"message", "Waiting for the server to answer"}}, out);
      next_spawn_step(out);
      return;
    case event_kind::process_start_failed:
      if (step_ != step::starting) return;
      if (e.timed_out) {
        has_process_ = true;  // it may have got as far as a process: stop it to be sure
        return fail(500, "the spawner did not start the server within " + std::to_string(cfg_.start_timeout.count() / 1000) +
                             " s (Spawner.start_timeout)",
                    out);
      }
      return fail(e.status, e.message, out);
    case event_kind::ready_state:
      if (step_ != step::fetching_ready_state) return;
      if (cancelled_) return fail(503, "the hub is shutting down", out);
      step_ = step::recording_ready;
      {
        action a{action_kind::record_ready};
        a.data = e.data.is_object() ? e.data : json::object();
        a.url = target_;
        out.push_back(std::move(a));
      }
      return;
    default: return;
  }
}

void lifecycle::next_spawn_step(actions& out) {
  switch (step_) {
    case step::saving_pending:
      step_ = step::making_token;
      out.push_back(act(action_kind::make_token));
      return;
    case step::making_token:
      step_ = step::registering_client;
      out.push_back(act(action_kind::register_client));
      return;
    case step::registering_client:
      pre_spawn_index_ = 0;
      [[fallthrough]];
    case step::pre_spawn:
      if (step_ == step::pre_spawn) ++pre_spawn_index_;
      if (pre_spawn_index_ < cfg_.pre_spawn_steps) {
        step_ = step::pre_spawn;
        action a{action_kind::run_pre_spawn};
        a.index = pre_spawn_index_;
        out.push_back(std::move(a));
        return;
      }
      step_ = step::creating_spawner;
      out.push_back(act(action_kind::create_spawner));
      return;
    case step::creating_spawner: {
      step_ = step::starting;
      add_event({{"progress", 10}, {"message", "Starting the server process"}}, out);
      action a{action_kind::start_process};
      a.after = cfg_.start_timeout;
      out.push_back(std::move(a));
      return;
    }
    case step::starting: {
      step_ = step::waiting_up;
      action a{action_kind::wait_up};
      a.url = target_ + cfg_.prefix;
      a.after = cfg_.http_timeout;
      out.push_back(std::move(a));
      return;
    }
    case step::waiting_up:
      step_ = step::adding_route;
      add_event({{"progress", 90}, {"message", "The server answered; adding its route"}}, out);
      out.push_back(act(action_kind::add_route));
      return;
    case step::adding_route:
      step_ = step::fetching_ready_state;
      out.push_back(act(action_kind::fetch_ready_state));
      return;
    default: return;
  }
}

// A spawn that fails at any step leaves nothing behind: the route, the process, the token, the
// client and the pending record go; the failure is kept for the progress stream and the page.
void lifecycle::fail(int status, std::string message, actions& out) {
  if (failing_) return;  // a step that was already under way failed too: one cleanup is enough
  failing_ = true;
  fail_status_ = status < 400 ? 500 : status;
  fail_message_ = std::move(message);
  out.push_back(log(log_level::error, "spawn-failed: server " + who() + " failed to start: " + fail_message_));
  // step_ stays: a step still in flight (the shutdown cancelled a spawn with a process) has its late
  // result undone, not continued.
  if (route_added_) {
    undo_ = undo::route;
    out.push_back(act(action_kind::delete_route));
    return;
  }
  rollback_process(out);
}

void lifecycle::rollback_process(actions& out) {
  if (has_spawner_ && has_process_) {
    undo_ = undo::process;
    action a{action_kind::stop_process};
    a.now = true;
    a.after = cfg_.forced_stop_timeout;
    out.push_back(std::move(a));
    return;
  }
  rollback_clear(out);
}

void lifecycle::rollback_clear(actions& out) {
  json failed = failed_event(fail_message_);
  events_.push_back(failed);
  finished_ = true;
  undo_ = undo::clear;
  action c{action_kind::clear_record};
  c.failed = true;
  c.message = fail_message_;
  out.push_back(std::move(c));
  action p{action_kind::close_progress};
  p.data = std::move(failed);
  out.push_back(std::move(p));
}

// ---- stop ---------------------------------------------------------------------------------------

void lifecycle::begin_stop(actions& out) {
  out.push_back(act(action_kind::mark_stopping));
  // The route goes first, so nobody reaches a server that is going away.
  step_ = step::stop_route;
  out.push_back(act(action_kind::delete_route));
}

void lifecycle::after_stop_route(actions& out) {
  if (!has_spawner_) return finish_stop("stopped", out);
  // Graceful first; if the spawner could not, forced (now = true), then the record goes either way.
  step_ = step::stop_graceful;
  action a{action_kind::stop_process};
  a.now = false;
  a.after = cfg_.stop_timeout;
  out.push_back(std::move(a));
}

void lifecycle::finish_stop(std::string how, actions& out) {
  stop_how_ = std::move(how);
  step_ = step::stop_clear;
  action c{action_kind::clear_record};
  c.remove = remove_after_stop_;
  out.push_back(std::move(c));
}

void lifecycle::on_stop_step(const event& e, actions& out) {
  switch (step_) {
    case step::stop_route:
      if (e.kind == event_kind::route_deleted) after_stop_route(out);
      return;
    case step::crash_route:
      if (e.kind == event_kind::route_deleted) finish_stop("cleaned up after it exited", out);
      return;
    case step::stop_graceful:
      if (e.kind != event_kind::process_stopped) return;
      if (e.ok) return finish_stop("stopped", out);
      out.push_back(log(log_level::error, "stop-failed: the spawner could not stop server " + who() + ": " + e.message +
                                              "; stopping it with now=true"));
      step_ = step::stop_forced;
      {
        action a{action_kind::stop_process};
        a.now = true;
        a.after = cfg_.forced_stop_timeout;
        out.push_back(std::move(a));
      }
      return;
    case step::stop_forced:
      if (e.kind != event_kind::process_stopped) return;
      if (!e.ok) out.push_back(log(log_level::error, "stop-failed: the spawner could not stop server " + who() + ": " + e.message));
      return finish_stop("stopped", out);
    case step::stop_clear:
      if (e.kind != event_kind::record_cleared) return;
      step_ = step::none;
      phase_ = server_phase::idle;
      out.push_back(log(log_level::info, "server-stopped: server " + who() + " " + stop_how_));
      for (int w : std::exchange(stop_waiters_, {})) answer(w, 204, "", out);
      out.push_back(act(action_kind::run_post_stop));
      return;
    default: return;
  }
}

// ---- re-adoption --------------------------------------------------------------------------------

void lifecycle::on_adopt_step(const event& e, actions& out) {
  auto gone = [&](const std::string& why) {
    out.push_back(log(log_level::warn, "server-not-adopted: server " + who() + " is not running any more (" + why +
                                           "); clearing it"));
    finish_stop("cleared at start-up", out);
  };
  switch (step_) {
    case step::adopt_spawner:
      if (e.kind != event_kind::step_done) return;
      if (!e.ok) return gone(e.message);
      has_spawner_ = true;
      step_ = step::adopt_load;
      out.push_back(act(action_kind::load_state));
      return;
    case step::adopt_load:
      if (e.kind != event_kind::state_loaded) return;
      if (!e.ok) return gone("the spawner refused its saved state");
      step_ = step::adopt_poll;
      out.push_back(act(action_kind::poll));
      return;
    case step::adopt_poll:
      if (e.kind != event_kind::polled) return;
      if (!e.ok) return gone(e.message);
      if (!adopt_was_ready_) {
        // hubd died mid-spawn or mid-stop: finish the job instead of guessing.
        out.push_back(log(log_level::warn, "server-not-adopted: server " + who() + " was pending at shutdown; stopping it"));
        return begin_stop(out);
      }
      phase_ = server_phase::running;
      finished_ = true;
      has_process_ = true;
      out.push_back(log(log_level::info, "server-adopted: server " + who() + " still runs at " + target_ + "; re-adopted"));
      step_ = step::adopt_route;
      out.push_back(act(action_kind::add_route));
      return;
    case step::adopt_route:
      if (e.kind != event_kind::step_done) return;
      step_ = step::none;
      if (!e.ok) out.push_back(log(log_level::warn, "spawn: re-adding the route of " + who() + " failed: " + e.message));
      return;
    default: return;
  }
}

}  // namespace hubd::core::spawn
