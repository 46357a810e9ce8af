#pragma once
// The lifecycle of one server as a state machine: events in (a request, the result of a step, a
// timer, the hub shutting down), actions out (save the pending record, make the token, run pre_spawn
// step i, start the process, wait for it to answer, add the route, record it ready, roll back, stop,
// answer a waiter, log). Pure: no threads, no I/O, no clock (times arrive in events); the executor
// (spawn_flow) performs the actions and feeds their results back.
//
// The spawn order is JupyterHub's (user.py): pending record, server token, OAuth client, the
// authenticator's pre_spawn_start and the pre_spawn hooks, the spawner's start, the readiness wait,
// the proxy route, the ready record. A failure at any step rolls back what was done (route, process,
// token, client, pending record) and keeps the failure for the progress stream. A stop runs in
// reverse: route, graceful stop, forced stop if that failed, record, post_stop hooks.
#include "core/spawn/spawn_settings.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace hubd::core::spawn {

enum class server_phase { idle, starting, running, stopping };

// The per-server inputs of the machine, fixed for its life.
struct lifecycle_config {
  std::string user;
  std::string server;              // "" for the default server
  std::string prefix;               // /user/alice/ (the route and the readiness url)
  std::string public_url;           // the ready event's url (public host + prefix)
  std::size_t pre_spawn_steps = 0;  // the authenticator's pre_spawn_start (if any) and each pre_spawn hook
  std::chrono::milliseconds start_timeout{60'000};
  std::chrono::milliseconds http_timeout{30'000};
  std::chrono::milliseconds slow_spawn_timeout{10'000};
  std::chrono::milliseconds slow_stop_timeout{10'000};
  std::chrono::milliseconds stop_timeout{60'000};
  std::chrono::milliseconds forced_stop_timeout{30'000};
};

lifecycle_config lifecycle_config_of(const spawn_settings& s, std::string user, std::string server,
                                     std::size_t pre_spawn_steps);

// "alice" or "alice/gpu", as logs and messages name a server.
std::string server_who(const std::string& user, const std::string& server);

enum class event_kind {
  start_requested,       // waiter, at, answer_within (nullopt: slow_spawn_timeout)
  stop_requested,        // waiter, remove, wait_for_end (no 202: answered once the server is gone)
  answer_timer_fired,    // waiter
  cancel,                // the hub shuts down: a pending spawn goes no further
  step_done,             // ok, status, message: the spawn or adoption step under way finished (a route
                         // failure's message is the proxy's error; the others are answered as they are)
  process_started,       // url
  process_start_failed,  // status, message, timed_out
  pending_state,         // data: the spawner's state once a process runs
  ready_state,           // data: the spawner's state once the route is in
  progress,              // data: an intermediate event from the spawner (already sanitised)
  route_deleted,
  process_stopped,       // ok, message
  record_cleared,
  record_deleted,        // ok, message (a stop with remove of a server that does not run): the error answered
  exited,                // message: the exit status of a server that stopped on its own
  adopt,                 // ok: it was ready with a known target (url); at start-up
  state_loaded,          // ok: the spawner accepted its saved state
  polled,                // ok: it runs; message: why not
};

struct event {
  explicit event(event_kind k) : kind(k) {}
  event_kind kind;
  int waiter = 0;
  bool ok = true;
  int status = 0;
  bool remove = false;
  bool wait_for_end = false;
  bool timed_out = false;
  std::string message;
  std::string url;
  nlohmann::json data;
  std::chrono::steady_clock::time_point at{};
  std::optional<std::chrono::milliseconds> answer_within;

  static event start(int waiter, std::chrono::steady_clock::time_point at,
                     std::optional<std::chrono::milliseconds> answer_within = std::nullopt);
  static event stop(int waiter, bool remove, bool wait_for_end = false);
  static event timer(int waiter);
  static event cancelled();
  static event done(bool ok = true, std::string message = {}, int status = 500);
  static event started(std::string url);
  static event start_failed(int status, std::string message, bool timed_out = false);
  static event state(event_kind which, nlohmann::json data);
  static event spawner_progress(nlohmann::json ev);
  static event route_gone();
  static event stopped(bool ok, std::string message = {});
  static event cleared();
  static event deleted(bool ok, std::string message = {});
  static event exit(std::string exit_status);
  static event adopt_recorded(bool was_ready, std::string target);
  static event loaded(bool accepted);
  static event poll_answer(bool running, std::string why = {});
  static event at_time(event e, std::chrono::steady_clock::time_point at);
};

enum class action_kind {
  answer,              // waiter, status, message
  arm_answer_timer,    // waiter, after: answer_timer_fired once it passes
  save_pending,        // the record goes pending "spawn" with the user options
  make_token,          // the server's API token (earlier ones revoked)
  register_client,     // the server's OAuth client
  run_pre_spawn,       // index: 0 .. pre_spawn_steps-1, each sees the context the previous patched
  create_spawner,
  start_process,       // after: Spawner.start_timeout
  fetch_pending_state,  // the spawner's state, for a hubd killed mid-spawn (answered by pending_state)
  save_pending_state,  // data
  wait_up,             // url, after: Spawner.http_timeout
  add_route,
  fetch_ready_state,   // answered by ready_state
  record_ready,        // data: the spawner's state
  push_progress,       // data: an event for the open progress streams
  close_progress,      // data: the final event; the streams end
  mark_stopping,       // the record goes pending "stop"
  delete_route,
  stop_process,        // now, after
  delete_late_route,   // a route added after its spawn failed: deleted, nobody waits
  clear_record,        // remove, failed (message: the failure kept for progress and the page)
  delete_record,       // the record of a server that does not run
  run_post_stop,
  load_state,
  poll,
  log,                 // level, message
};

enum class log_level { info, warn, error };

struct action {
  explicit action(action_kind k) : kind(k) {}
  action_kind kind;
  int waiter = 0;
  int status = 0;
  std::string message;
  std::string url;
  std::chrono::milliseconds after{0};
  std::size_t index = 0;
  bool now = false;
  bool remove = false;
  bool failed = false;
  log_level level = log_level::info;
  nlohmann::json data;
};

// What GET .../progress answers for this server right now.
struct progress_view {
  enum class kind { not_starting, body, live } what = kind::not_starting;
  std::string body;  // the event stream (body), or the events so far (live: then each as it happens)
};

class lifecycle {
public:
  explicit lifecycle(lifecycle_config cfg);
  // A server the database records as active at start-up: busy (stopping) until the adoption pass.
  static lifecycle claimed(lifecycle_config cfg);

  std::vector<action> on(const event& e);

  server_phase phase() const { return phase_; }
  bool has_process() const { return has_process_; }
  const std::string& target() const { return target_; }  // http://127.0.0.1:PORT once started
  bool finished() const { return finished_; }
  const std::vector<nlohmann::json>& events() const { return events_; }
  progress_view progress() const;
  const lifecycle_config& config() const { return cfg_; }

private:
  // Grouped in order: the spawn steps, the stop steps, the adoption steps (spawning() and the others
  // test ranges).
  enum class step {
    none,
    saving_pending, making_token, registering_client, pre_spawn, creating_spawner, starting, waiting_up,
    adding_route, fetching_ready_state, recording_ready,
    stop_route, stop_graceful, stop_forced, crash_route, stop_clear,
    adopt_spawner, adopt_load, adopt_poll, adopt_route,
    deleting,
  };
  enum class undo { none, route, process, clear };  // where the rollback of a failed spawn is
  using actions = std::vector<action>;

  std::string who() const;
  bool spawning() const;
  bool stopping() const;
  bool adopting() const;
  void on_start(const event& e, actions& out);
  void on_stop(const event& e, actions& out);
  void on_spawn_step(const event& e, actions& out);
  void on_stop_step(const event& e, actions& out);
  void on_adopt_step(const event& e, actions& out);
  void next_spawn_step(actions& out);
  void add_event(nlohmann::json ev, actions& out);
  void fail(int status, std::string message, actions& out);
  void rollback_process(actions& out);
  void rollback_clear(actions& out);
  void begin_stop(actions& out);
  void after_stop_route(actions& out);
  void finish_stop(std::string how, actions& out);
  void answer(int waiter, int status, std::string message, actions& out);
  static action log(log_level level, std::string message);

  lifecycle_config cfg_;
  server_phase phase_ = server_phase::idle;
  step step_ = step::none;
  undo undo_ = undo::none;
  std::size_t pre_spawn_index_ = 0;
  bool has_spawner_ = false;
  bool has_process_ = false;
  bool route_added_ = false;
  bool failing_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
  bool remove_after_stop_ = false;
  bool adopt_was_ready_ = false;
  std::string target_;
  std::string stop_how_ = "stopped";
  std::chrono::steady_clock::time_point began_{};
  std::vector<nlohmann::json> events_;
  std::optional<int> start_waiter_;
  std::vector<int> stop_waiters_;  // answered 204 once the server is gone
  std::optional<event> deferred_stop_;  // a stop that came while the ready record was being committed
  int fail_status_ = 500;
  std::string fail_message_;
};

}  // namespace hubd::core::spawn
