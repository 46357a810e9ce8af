#include "delayed_completions.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

// What ran, in order, and a way to wait for a count without sleeping.
struct journal {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> ran;
  void add(std::string s) {
    {
      std::lock_guard lk(m);
      ran.push_back(std::move(s));
    }
    cv.notify_all();
  }
  bool wait_for(std::size_t n, std::chrono::seconds limit = 10s) {
    std::unique_lock lk(m);
    return cv.wait_for(lk, limit, [&] { return ran.size() >= n; });
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lk(m);
    return ran;
  }
};

}  // namespace

TEST_CASE("delayed completions: no delay runs at once, on the caller's thread") {
  journal j;  // outlives d, whose thread may still be returning from j's callback
  hubd_pam::delayed_completions d;
  d.after(0us, [&] { j.add("now"); });
  CHECK(j.snapshot() == std::vector<std::string>{"now"});
}

TEST_CASE("delayed completions: each runs once its delay has passed, earliest deadline first") {
  journal j;
  hubd_pam::delayed_completions d;
  auto start = std::chrono::steady_clock::now();
  d.after(300ms, [&] { j.add("late"); });
  d.after(100ms, [&] { j.add("early"); });
  d.after(100ms, [&] { j.add("early-second"); });
  REQUIRE(j.wait_for(3));
  CHECK(std::chrono::steady_clock::now() - start >= 300ms);
  CHECK(j.snapshot() == std::vector<std::string>{"early", "early-second", "late"});
}

TEST_CASE("delayed completions: destruction runs what still waits, at once") {
  journal j;
  auto start = std::chrono::steady_clock::now();
  {
    hubd_pam::delayed_completions d;
    d.after(std::chrono::hours(1), [&] { j.add("flushed"); });
  }
  CHECK(j.snapshot() == std::vector<std::string>{"flushed"});
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}
