#include "core/spawn/lifecycle.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace hubd::core::spawn;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using K = action_kind;
using clock_type = std::chrono::steady_clock;
const clock_type::time_point t0{};

lifecycle_config config(std::size_t pre_spawn_steps = 2) {
  spawn_settings s;
  s.public_host = "https://hub.example";
  s.start_timeout = 61s;
  s.http_timeout = 31s;
  s.slow_spawn_timeout = 11s;
  s.slow_stop_timeout = 12s;
  s.stop_timeout = 62s;
  s.forced_stop_timeout = 32s;
  return lifecycle_config_of(s, "alice", "", pre_spawn_steps);
}

std::vector<K> kinds(const std::vector<action>& as) {
  std::vector<K> out;
  for (const auto& a : as) out.push_back(a.kind);
  return out;
}

// The actions of `as` that are not logs or progress pushes: what the executor must do.
std::vector<K> work(const std::vector<action>& as) {
  std::vector<K> out;
  for (const auto& a : as)
    if (a.kind != K::log && a.kind != K::push_progress) out.push_back(a.kind);
  return out;
}

const action& first(const std::vector<action>& as, K k) {
  auto it = std::find_if(as.begin(), as.end(), [k](const action& a) { return a.kind == k; });
  REQUIRE(it != as.end());
  return *it;
}

bool has(const std::vector<action>& as, K k) {
  return std::any_of(as.begin(), as.end(), [k](const action& a) { return a.kind == k; });
}

std::vector<std::string> logs(const std::vector<action>& as) {
  std::vector<std::string> out;
  for (const auto& a : as)
    if (a.kind == K::log) out.push_back(a.message);
  return out;
}

std::vector<action> answers(const std::vector<action>& as) {
  std::vector<action> out;
  for (const auto& a : as)
    if (a.kind == K::answer) out.push_back(a);
  return out;
}

// Drives a spawn of alice's default server up to (and with) the process started.
struct spawn_driver {
  lifecycle l{config()};
  std::vector<action> start() { return l.on(event::start(1, t0)); }
  void to_spawner() {
    start();
    l.on(event::done());  // pending saved
    l.on(event::done());  // token
    l.on(event::done());  // client
    l.on(event::done());  // pre_spawn 0
    l.on(event::done());  // pre_spawn 1
  }
  void to_process() {
    to_spawner();
    l.on(event::done());  // spawner created
    l.on(event::started("http://127.0.0.1:5000/"));
  }
  void to_route() {
    to_process();
    l.on(event::done());  // up
  }
  void to_running() {
    to_route();
    l.on(event::done());  // route added
    l.on(event::state(event_kind::ready_state, json{{"pid", 7}}));
    l.on(event::at_time(event::done(), t0 + 2500ms));
  }
};

}  // namespace

TEST_CASE("lifecycle: a spawn goes through every step in order", "[lifecycle]") {
  lifecycle l(config());
  CHECK(l.phase() == server_phase::idle);

  auto a = l.on(event::start(1, t0));
  CHECK(kinds(a) == std::vector<K>{K::log, K::arm_answer_timer, K::save_pending});
  CHECK(logs(a) == std::vector<std::string>{"spawn-requested: starting server alice"});
  CHECK(first(a, K::arm_answer_timer).after == 11s);
  CHECK(first(a, K::arm_answer_timer).waiter == 1);
  CHECK(l.phase() == server_phase::starting);
  CHECK(l.events().size() == 1);

  CHECK(work(l.on(event::done())) == std::vector<K>{K::make_token});
  CHECK(work(l.on(event::done())) == std::vector<K>{K::register_client});
  a = l.on(event::done());
  CHECK(work(a) == std::vector<K>{K::run_pre_spawn});
  CHECK(first(a, K::run_pre_spawn).index == 0);
  a = l.on(event::done());
  CHECK(first(a, K::run_pre_spawn).index == 1);
  CHECK(work(l.on(event::done())) == std::vector<K>{K::create_spawner});

  a = l.on(event::done());
  CHECK(kinds(a) == std::vector<K>{K::push_progress, K::start_process});
  CHECK(first(a, K::push_progress).data["message"] == "Starting the server process");
  CHECK(first(a, K::start_process).after == 61s);

  a = l.on(event::started("http://127.0.0.1:5000//"));
  CHECK(kinds(a) == std::vector<K>{K::fetch_pending_state, K::push_progress, K::wait_up});
  CHECK(first(a, K::wait_up).url == "http://127.0.0.1:5000/user/alice/");
  CHECK(first(a, K::wait_up).after == 31s);
  CHECK(l.has_process());

  a = l.on(event::state(event_kind::pending_state, json{{"pid", 7}}));
  CHECK(kinds(a) == std::vector<K>{K::save_pending_state});
  CHECK(first(a, K::save_pending_state).data == json{{"pid", 7}});

  a = l.on(event::done());
  CHECK(kinds(a) == std::vector<K>{K::push_progress, K::add_route});
  CHECK(first(a, K::push_progress).data["progress"] == 90);
  CHECK(kinds(l.on(event::done())) == std::vector<K>{K::fetch_ready_state});
  a = l.on(event::state(event_kind::ready_state, json{{"pid", 7}}));
  CHECK(kinds(a) == std::vector<K>{K::record_ready});
  CHECK(first(a, K::record_ready).url == "http://127.0.0.1:5000");
  CHECK(first(a, K::record_ready).data == json{{"pid", 7}});

  a = l.on(event::at_time(event::done(), t0 + 2500ms));
  CHECK(kinds(a) == std::vector<K>{K::log, K::close_progress, K::answer});
  CHECK(logs(a)[0] == "server-ready: server alice is ready at /user/alice/ (target http://127.0.0.1:5000) after 2.50 s");
  CHECK(first(a, K::close_progress).data["ready"] == true);
  CHECK(first(a, K::close_progress).data["url"] == "https://hub.example/user/alice/");
  CHECK(first(a, K::answer).status == 201);
  CHECK(l.phase() == server_phase::running);
  CHECK(l.finished());

  // The 202 timer fires after the answer: nothing more is said.
  CHECK(l.on(event::timer(1)).empty());
  auto p = l.progress();
  CHECK(p.what == progress_view::kind::body);
  CHECK(p.body.find("\"ready\":true") != std::string::npos);
}

TEST_CASE("lifecycle: a slow spawn answers 202 once, then nothing at the end", "[lifecycle]") {
  spawn_driver d;
  auto a = d.l.on(event::start(4, t0, 900ms));
  CHECK(first(a, K::arm_answer_timer).after == 900ms);
  a = d.l.on(event::timer(4));
  REQUIRE(answers(a).size() == 1);
  CHECK(answers(a)[0].status == 202);
  CHECK(d.l.on(event::timer(4)).empty());
  CHECK(d.l.phase() == server_phase::starting);
}

TEST_CASE("lifecycle: no pre_spawn steps go straight to the spawner", "[lifecycle]") {
  lifecycle l(config(0));
  l.on(event::start(1, t0));
  l.on(event::done());
  l.on(event::done());
  CHECK(work(l.on(event::done())) == std::vector<K>{K::create_spawner});
}

TEST_CASE("lifecycle: a failure before the process leaves nothing and answers the failure", "[lifecycle]") {
  // Each step before the spawner's start: the failure clears the record, keeps the message.
  for (int failing_step = 0; failing_step < 6; ++failing_step) {
    CAPTURE(failing_step);
    lifecycle l(config());
    l.on(event::start(1, t0));
    for (int i = 0; i < failing_step; ++i) l.on(event::done());
    auto a = l.on(event::done(false, "step broke", 403));
    CHECK(logs(a) == std::vector<std::string>{"spawn-failed: server alice failed to start: step broke"});
    CHECK(work(a) == std::vector<K>{K::clear_record, K::close_progress});
    CHECK(first(a, K::clear_record).failed);
    CHECK_FALSE(first(a, K::clear_record).remove);
    CHECK(first(a, K::clear_record).message == "step broke");
    CHECK(first(a, K::close_progress).data["failed"] == true);
    CHECK(l.phase() == server_phase::starting);  // until the record is cleared
    a = l.on(event::cleared());
    REQUIRE(answers(a).size() == 1);
    CHECK(answers(a)[0].status == 403);
    CHECK(answers(a)[0].message == "step broke");
    CHECK(l.phase() == server_phase::idle);
  }
}

TEST_CASE("lifecycle: a failure status below 400 is answered as 500", "[lifecycle]") {
  lifecycle l(config());
  l.on(event::start(1, t0));
  l.on(event::done(false, "odd", 200));
  auto a = l.on(event::cleared());
  CHECK(answers(a)[0].status == 500);
}

TEST_CASE("lifecycle: the spawner's start fails or times out", "[lifecycle]") {
  SECTION("refused: nothing to stop") {
    spawn_driver d;
    d.to_spawner();
    d.l.on(event::done());
    auto a = d.l.on(event::start_failed(400, "bad options"));
    CHECK(work(a) == std::vector<K>{K::clear_record, K::close_progress});
    CHECK(answers(d.l.on(event::cleared()))[0].status == 400);
  }
  SECTION("timed out: it may have a process, so it is stopped with now=true") {
    spawn_driver d;
    d.to_spawner();
    d.l.on(event::done());
    auto a = d.l.on(event::start_failed(504, "timeout", true));
    CHECK(work(a) == std::vector<K>{K::stop_process});
    CHECK(first(a, K::stop_process).now);
    CHECK(first(a, K::stop_process).after == 32s);
    CHECK(logs(a)[0] == "spawn-failed: server alice failed to start: the spawner did not start the server within 61 s "
                        "(Spawner.start_timeout)");
    CHECK(work(d.l.on(event::stopped(true))) == std::vector<K>{K::clear_record, K::close_progress});
    auto end = answers(d.l.on(event::cleared()));
    CHECK(end[0].status == 500);
  }
}

TEST_CASE("lifecycle: the server never answers: its process is stopped, then the record cleared", "[lifecycle]") {
  spawn_driver d;
  d.to_process();
  auto a = d.l.on(event::done(false, "never answered within 31 s"));
  CHECK(work(a) == std::vector<K>{K::stop_process});
  CHECK(first(a, K::stop_process).now);
  // Events from the spawner while the rollback runs still reach the streams, until the end.
  CHECK(kinds(d.l.on(event::spawner_progress({{"progress", 60}, {"message", "late"}}))) == std::vector<K>{K::push_progress});
  // The pending state that arrives once the spawn is failing is not saved.
  CHECK(d.l.on(event::state(event_kind::pending_state, json{{"pid", 7}})).empty());
  a = d.l.on(event::stopped(false, "could not"));  // a failed rollback stop still clears the record
  CHECK(work(a) == std::vector<K>{K::clear_record, K::close_progress});
  CHECK(d.l.finished());
  CHECK(d.l.on(event::spawner_progress({{"progress", 70}})).empty());
  CHECK(answers(d.l.on(event::cleared()))[0].message == "never answered within 31 s");
}

TEST_CASE("lifecycle: the route fails: the process goes; the record fails: the route goes first", "[lifecycle]") {
  SECTION("route") {
    spawn_driver d;
    d.to_route();
    auto a = d.l.on(event::done(false, "refused"));
    CHECK(work(a) == std::vector<K>{K::stop_process});
    CHECK(work(d.l.on(event::stopped(true))) == std::vector<K>{K::clear_record, K::close_progress});
    CHECK(answers(d.l.on(event::cleared()))[0].message == "the proxy route could not be added: refused");
  }
  SECTION("record") {
    spawn_driver d;
    d.to_route();
    d.l.on(event::done());
    d.l.on(event::state(event_kind::ready_state, json::object()));
    auto a = d.l.on(event::done(false, "the server record could not be saved: disk"));
    CHECK(work(a) == std::vector<K>{K::delete_route});
    CHECK(work(d.l.on(event::route_gone())) == std::vector<K>{K::stop_process});
    CHECK(work(d.l.on(event::stopped(true))) == std::vector<K>{K::clear_record, K::close_progress});
    auto end = answers(d.l.on(event::cleared()));
    CHECK(end[0].status == 500);
    CHECK(end[0].message == "the server record could not be saved: disk");
    CHECK(d.l.phase() == server_phase::idle);
  }
}

TEST_CASE("lifecycle: a stop during a spawn is refused", "[lifecycle]") {
  spawn_driver d;
  d.to_process();
  auto a = d.l.on(event::stop(2, false));
  REQUIRE(kinds(a) == std::vector<K>{K::answer});
  CHECK(a[0].waiter == 2);
  CHECK(a[0].status == 400);
  CHECK(a[0].message == "alice is pending spawn, please wait");
  CHECK(d.l.phase() == server_phase::starting);
}

TEST_CASE("lifecycle: a stop while the ready record commits runs once it is committed", "[lifecycle]") {
  SECTION("committed: the server stops") {
    spawn_driver d;
    d.to_route();
    d.l.on(event::done());
    d.l.on(event::state(event_kind::ready_state, json::object()));
    CHECK(d.l.on(event::stop(2, true)).empty());
    auto a = d.l.on(event::done());
    CHECK(answers(a)[0].status == 201);
    CHECK(has(a, K::mark_stopping));
    CHECK(has(a, K::delete_route));
    CHECK(d.l.phase() == server_phase::stopping);
    CHECK(d.l.on(event::stop(3, false))[0].message == "");  // a second stop joins: 202 at once
  }
  SECTION("the commit fails: the rollback ends and the stop is answered 204") {
    spawn_driver d;
    d.to_route();
    d.l.on(event::done());
    d.l.on(event::state(event_kind::ready_state, json::object()));
    d.l.on(event::stop(2, false));
    d.l.on(event::done(false, "disk"));
    d.l.on(event::route_gone());
    d.l.on(event::stopped(true));
    auto end = answers(d.l.on(event::cleared()));
    REQUIRE(end.size() == 2);
    CHECK(end[0].status == 500);
    CHECK(end[1].waiter == 2);
    CHECK(end[1].status == 204);
  }
}

TEST_CASE("lifecycle: a second start is answered as admission does", "[lifecycle]") {
  spawn_driver d;
  d.start();
  auto a = d.l.on(event::start(2, t0));
  REQUIRE(kinds(a) == std::vector<K>{K::answer});
  CHECK(a[0].status == 202);
  CHECK(a[0].waiter == 2);
  spawn_driver r;
  r.to_running();
  a = r.l.on(event::start(3, t0));
  CHECK(a[0].status == 400);
  CHECK(a[0].message == "alice is already running");
  r.l.on(event::stop(4, false));
  a = r.l.on(event::start(5, t0));
  CHECK(a[0].message == "alice is pending stop");
}

TEST_CASE("lifecycle: the shutdown cancels a spawn", "[lifecycle]") {
  SECTION("between two steps: it fails at the next one") {
    spawn_driver d;
    d.start();
    CHECK(d.l.on(event::cancelled()).empty());
    auto a = d.l.on(event::done());
    CHECK(logs(a)[0] == "spawn-failed: server alice failed to start: the hub is shutting down");
    CHECK(work(a) == std::vector<K>{K::clear_record, K::close_progress});
    CHECK(answers(d.l.on(event::cleared()))[0].status == 503);
  }
  SECTION("while the spawner starts it: the process it reports is stopped") {
    spawn_driver d;
    d.to_spawner();
    d.l.on(event::done());
    d.l.on(event::cancelled());
    auto a = d.l.on(event::started("http://127.0.0.1:5000"));
    CHECK(work(a) == std::vector<K>{K::stop_process});
  }
  SECTION("with a process: it stops now, and the late readiness answer is ignored") {
    spawn_driver d;
    d.to_process();
    auto a = d.l.on(event::cancelled());
    CHECK(work(a) == std::vector<K>{K::stop_process});
    CHECK(d.l.on(event::done()).empty());  // the wait_up that was under way
    CHECK(work(d.l.on(event::stopped(true))) == std::vector<K>{K::clear_record, K::close_progress});
    CHECK(answers(d.l.on(event::cleared()))[0].status == 503);
  }
  SECTION("while its route goes in: the late route is deleted") {
    spawn_driver d;
    d.to_route();
    d.l.on(event::cancelled());
    CHECK(kinds(d.l.on(event::done())) == std::vector<K>{K::delete_late_route});
  }
  SECTION("a running server is not cancelled") {
    spawn_driver d;
    d.to_running();
    CHECK(d.l.on(event::cancelled()).empty());
    CHECK(d.l.phase() == server_phase::running);
  }
}

TEST_CASE("lifecycle: stop of a running server, graceful", "[lifecycle]") {
  spawn_driver d;
  d.to_running();
  auto a = d.l.on(event::stop(7, true));
  CHECK(kinds(a) == std::vector<K>{K::arm_answer_timer, K::log, K::mark_stopping, K::delete_route});
  CHECK(first(a, K::arm_answer_timer).after == 12s);
  CHECK(logs(a) == std::vector<std::string>{"stop-requested: stopping server alice"});
  CHECK(d.l.phase() == server_phase::stopping);
  a = d.l.on(event::route_gone());
  CHECK(kinds(a) == std::vector<K>{K::stop_process});
  CHECK_FALSE(first(a, K::stop_process).now);
  CHECK(first(a, K::stop_process).after == 62s);
  a = d.l.on(event::stopped(true));
  CHECK(kinds(a) == std::vector<K>{K::clear_record});
  CHECK(first(a, K::clear_record).remove);
  CHECK_FALSE(first(a, K::clear_record).failed);
  a = d.l.on(event::cleared());
  CHECK(kinds(a) == std::vector<K>{K::log, K::answer, K::run_post_stop});
  CHECK(logs(a)[0] == "server-stopped: server alice stopped");
  CHECK(first(a, K::answer).status == 204);
  CHECK(first(a, K::answer).waiter == 7);
  CHECK(d.l.phase() == server_phase::idle);
}

TEST_CASE("lifecycle: a slow stop answers 202, later requests 202 at once, waiters for the end get 204", "[lifecycle]") {
  spawn_driver d;
  d.to_running();
  d.l.on(event::stop(1, false));
  CHECK(answers(d.l.on(event::timer(1)))[0].status == 202);
  auto again = d.l.on(event::stop(2, true));  // remove joins the stop under way
  CHECK(kinds(again) == std::vector<K>{K::answer});
  CHECK(again[0].status == 202);
  CHECK(d.l.on(event::stop(3, false, true)).empty());  // waits for the end, no 202
  d.l.on(event::route_gone());
  auto a = d.l.on(event::stopped(true));
  CHECK(first(a, K::clear_record).remove);
  auto end = answers(d.l.on(event::cleared()));
  REQUIRE(end.size() == 1);
  CHECK(end[0].waiter == 3);
  CHECK(end[0].status == 204);
}

TEST_CASE("lifecycle: a graceful stop that fails is forced, then the record goes either way", "[lifecycle]") {
  spawn_driver d;
  d.to_running();
  d.l.on(event::stop(1, false));
  d.l.on(event::route_gone());
  auto a = d.l.on(event::stopped(false, "busy (error)"));
  CHECK(logs(a)[0] == "stop-failed: the spawner could not stop server alice: busy (error); stopping it with now=true");
  CHECK(first(a, K::stop_process).now);
  CHECK(first(a, K::stop_process).after == 32s);
  a = d.l.on(event::stopped(false, "stuck (timeout)"));
  CHECK(logs(a)[0] == "stop-failed: the spawner could not stop server alice: stuck (timeout)");
  CHECK(has(a, K::clear_record));
  CHECK(answers(d.l.on(event::cleared()))[0].status == 204);
}

TEST_CASE("lifecycle: stop of a server that does not run", "[lifecycle]") {
  lifecycle l(config());
  auto a = l.on(event::stop(1, false));
  REQUIRE(kinds(a) == std::vector<K>{K::answer});
  CHECK(a[0].status == 204);
  a = l.on(event::stop(2, true));
  CHECK(kinds(a) == std::vector<K>{K::delete_record});
  CHECK(answers(l.on(event::deleted(true)))[0].status == 204);
  l.on(event::stop(3, true));
  a = l.on(event::deleted(false, "deleting server alice failed: disk full"));
  CHECK(answers(a)[0].status == 500);
  CHECK(answers(a)[0].message == "deleting server alice failed: disk full");
  // Once a stop ran to its end, another stop finds nothing to do.
  spawn_driver d;
  d.to_running();
  d.l.on(event::stop(1, false));
  d.l.on(event::route_gone());
  d.l.on(event::stopped(true));
  d.l.on(event::cleared());
  a = d.l.on(event::stop(2, false));
  CHECK(kinds(a) == std::vector<K>{K::answer});
  CHECK(a[0].status == 204);
}

TEST_CASE("lifecycle: a server that exits on its own is cleaned up", "[lifecycle]") {
  spawn_driver d;
  d.to_running();
  auto a = d.l.on(event::exit("1"));
  CHECK(logs(a)[0] == "server-exited: server alice exited on its own (exit status 1); cleaning up");
  CHECK(work(a) == std::vector<K>{K::delete_route});
  a = d.l.on(event::route_gone());
  CHECK(kinds(a) == std::vector<K>{K::clear_record});  // no stop of a process that is gone
  CHECK_FALSE(first(a, K::clear_record).remove);
  a = d.l.on(event::cleared());
  CHECK(logs(a)[0] == "server-stopped: server alice cleaned up after it exited");
  CHECK(has(a, K::run_post_stop));
  // An exit seen while a stop runs changes nothing.
  spawn_driver s;
  s.to_running();
  s.l.on(event::stop(1, false));
  CHECK(s.l.on(event::exit("0")).empty());
}

TEST_CASE("lifecycle: restart adoption", "[lifecycle]") {
  SECTION("still running: re-adopted, route re-added") {
    lifecycle l = lifecycle::claimed(config());
    CHECK(l.phase() == server_phase::stopping);
    CHECK(answers(l.on(event::stop(1, false)))[0].status == 202);  // busy until adopted
    CHECK(kinds(l.on(event::adopt_recorded(true, "http://127.0.0.1:5000"))) == std::vector<K>{K::create_spawner});
    CHECK(kinds(l.on(event::done())) == std::vector<K>{K::load_state});
    CHECK(kinds(l.on(event::loaded(true))) == std::vector<K>{K::poll});
    auto a = l.on(event::poll_answer(true));
    CHECK(logs(a)[0] == "server-adopted: server alice still runs at http://127.0.0.1:5000; re-adopted");
    CHECK(work(a) == std::vector<K>{K::add_route});
    CHECK(l.phase() == server_phase::running);
    a = l.on(event::done(false, "proxy down"));
    CHECK(logs(a)[0] == "spawn: re-adding the route of alice failed: proxy down");
    // It stops as any running server.
    a = l.on(event::stop(2, false));
    CHECK(has(a, K::delete_route));
    CHECK(has(l.on(event::route_gone()), K::stop_process));
  }
  SECTION("gone: cleared") {
    for (int where = 0; where < 3; ++where) {
      CAPTURE(where);
      lifecycle l = lifecycle::claimed(config());
      l.on(event::adopt_recorded(true, "http://127.0.0.1:5000"));
      std::vector<action> a;
      if (where == 0) a = l.on(event::done(false, "the spawner could not be created: no such plugin"));
      if (where >= 1) l.on(event::done());
      if (where == 1) a = l.on(event::loaded(false));
      if (where == 2) {
        l.on(event::loaded(true));
        a = l.on(event::poll_answer(false, "poll: {\"exit_status\":0}"));
      }
      std::string why = where == 0 ? "the spawner could not be created: no such plugin"
                        : where == 1 ? "the spawner refused its saved state"
                                     : "poll: {\"exit_status\":0}";
      CHECK(logs(a)[0] == "server-not-adopted: server alice is not running any more (" + why + "); clearing it");
      CHECK(kinds(a) == std::vector<K>{K::log, K::clear_record});
      a = l.on(event::cleared());
      CHECK(logs(a)[0] == "server-stopped: server alice cleared at start-up");
      CHECK(l.phase() == server_phase::idle);
    }
  }
  SECTION("pending at shutdown: stopped") {
    lifecycle l = lifecycle::claimed(config());
    l.on(event::adopt_recorded(false, "http://127.0.0.1:5000"));
    l.on(event::done());
    l.on(event::loaded(true));
    auto a = l.on(event::poll_answer(true));
    CHECK(logs(a)[0] == "server-not-adopted: server alice was pending at shutdown; stopping it");
    CHECK(work(a) == std::vector<K>{K::mark_stopping, K::delete_route});
    CHECK(l.phase() == server_phase::stopping);
    a = l.on(event::route_gone());
    CHECK(first(a, K::stop_process).now == false);
  }
  SECTION("ready with no known target: stopped too") {
    lifecycle l = lifecycle::claimed(config());
    l.on(event::adopt_recorded(true, ""));
    l.on(event::done());
    l.on(event::loaded(true));
    CHECK(logs(l.on(event::poll_answer(true)))[0] == "server-not-adopted: server alice was pending at shutdown; stopping it");
  }
}

TEST_CASE("lifecycle: progress while starting is live, then the full stream", "[lifecycle]") {
  spawn_driver d;
  CHECK(d.l.progress().what == progress_view::kind::not_starting);
  d.to_spawner();
  auto p = d.l.progress();
  CHECK(p.what == progress_view::kind::live);
  CHECK(p.body.find("Server requested") != std::string::npos);
  d.l.on(event::done(false, "no spawner"));
  p = d.l.progress();
  CHECK(p.what == progress_view::kind::body);
  CHECK(p.body.find("\"failed\":true") != std::string::npos);
  d.l.on(event::cleared());
  CHECK(d.l.progress().what == progress_view::kind::not_starting);  // the kept failure answers from now
}

TEST_CASE("lifecycle: timeouts come from spawn_settings with their defaults", "[lifecycle]") {
  spawn_settings s;
  auto c = lifecycle_config_of(s, "bob", "gpu", 1);
  CHECK(c.prefix == "/user/bob/gpu/");
  CHECK(c.public_url == "/user/bob/gpu/");
  CHECK(c.start_timeout == 60s);
  CHECK(c.http_timeout == 30s);
  CHECK(c.stop_timeout == 60s);
  CHECK(c.forced_stop_timeout == 30s);
  CHECK(c.slow_spawn_timeout == 10s);
  CHECK(c.slow_stop_timeout == 10s);
  CHECK(s.shutdown_timeout == 30s);
  CHECK(server_who("bob", "gpu") == "bob/gpu");
  CHECK(server_who("bob", "") == "bob");
}
