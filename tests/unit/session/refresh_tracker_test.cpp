#include "core/session/refresh_tracker.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using hubd::core::session::refresh_tracker;
using hubd::core::session::refresh_verdict;
using namespace std::chrono_literals;

namespace {

struct fake_clock {
  refresh_tracker::clock::time_point t{};
  refresh_tracker::now_fn fn() {
    return [this] { return t; };
  }
};

}  // namespace

TEST_CASE("a login is due for a refresh once auth_refresh_age has passed, and not before") {
  fake_clock c;
  refresh_tracker tr(300s, c.fn());
  CHECK(tr.due("alice"));  // never refreshed since the hub started (JupyterHub: _auth_refreshed unset)
  tr.logged_in("alice");
  CHECK_FALSE(tr.due("alice"));
  c.t += 299s;
  CHECK_FALSE(tr.due("alice"));
  c.t += 1s;
  CHECK(tr.due("alice"));  // JupyterHub refreshes when now - refreshed >= auth_refresh_age
  CHECK(tr.due("bob"));
}

TEST_CASE("auth_refresh_age 0 is never due by age") {
  fake_clock c;
  refresh_tracker tr(0s, c.fn());
  CHECK_FALSE(tr.due("alice"));
  c.t += 1000000s;
  CHECK_FALSE(tr.due("alice"));
}

TEST_CASE("concurrent refreshes of one user join the first; every waiter gets its verdict") {
  fake_clock c;
  refresh_tracker tr(60s, c.fn());
  std::vector<refresh_verdict> got;
  auto w = [&](refresh_verdict v) { got.push_back(v); };
  CHECK(tr.join("alice", w));        // starts the refresh
  CHECK_FALSE(tr.join("alice", w));  // waits for it
  CHECK_FALSE(tr.join("alice", w));
  CHECK(tr.join("bob", w));  // another user is another refresh
  CHECK(tr.in_flight("alice"));
  auto waiters = tr.finish("alice", refresh_verdict::valid);
  CHECK(waiters.size() == 3);
  for (auto& x : waiters) x(refresh_verdict::valid);
  CHECK(got == std::vector<refresh_verdict>(3, refresh_verdict::valid));
  CHECK_FALSE(tr.in_flight("alice"));
  CHECK_FALSE(tr.due("alice"));  // a valid refresh counts as one
  CHECK(tr.in_flight("bob"));
  CHECK(tr.finish("nobody", refresh_verdict::valid).empty());
}

TEST_CASE("a login that is over is due at once; a transient failure is asked again after a pause") {
  fake_clock c;
  refresh_tracker tr(300s, c.fn(), 30s);
  tr.logged_in("alice");
  tr.join("alice", [](refresh_verdict) {});
  tr.finish("alice", refresh_verdict::over);
  CHECK(tr.due("alice"));  // every request asks until the user logs in again

  tr.join("bob", [](refresh_verdict) {});
  tr.finish("bob", refresh_verdict::transient);
  CHECK_FALSE(tr.due("bob"));
  c.t += 29s;
  CHECK_FALSE(tr.due("bob"));
  c.t += 1s;
  CHECK(tr.due("bob"));

  refresh_tracker short_age(3s, c.fn(), 30s);  // the pause is at most auth_refresh_age
  short_age.join("carol", [](refresh_verdict) {});
  short_age.finish("carol", refresh_verdict::transient);
  c.t += 2s;
  CHECK_FALSE(short_age.due("carol"));
  c.t += 1s;
  CHECK(short_age.due("carol"));
}

TEST_CASE("many threads, one user: exactly one of them starts the refresh") {
  refresh_tracker tr(60s);
  std::atomic<int> starters{0}, answered{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      if (tr.join("alice", [&](refresh_verdict) { ++answered; })) ++starters;
    });
  for (auto& t : threads) t.join();
  CHECK(starters == 1);
  for (auto& w : tr.finish("alice", refresh_verdict::valid)) w(refresh_verdict::valid);
  CHECK(answered == 8);
}
