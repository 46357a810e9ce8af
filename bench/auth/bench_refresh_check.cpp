// What every request pays for Authenticator.auth_refresh_age when nothing is due: refresh_tracker::due
// (a shared lock, one hash lookup, a clock read). Goal <= 2 us per request; bench/README-auth.md has
// the command and the figures, and run.py the same cost seen from outside (whoami throughput).
#include "core/session/refresh_tracker.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

using hubd::core::session::refresh_tracker;

namespace {

constexpr std::chrono::seconds a_year{365 * 86400};

std::vector<std::string> names(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("user-" + std::to_string(i));
  return out;
}

// Users logged in (stamped) before the requests; the requests ask about them in turn.
void due_not_due(benchmark::State& state) {
  static refresh_tracker* tracker = nullptr;
  static std::vector<std::string> users;
  if (state.thread_index() == 0) {
    users = names(static_cast<int>(state.range(0)));
    tracker = new refresh_tracker(a_year);
    for (const auto& u : users) tracker->logged_in(u);
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index());
  for (auto _ : state) {
    bool due = tracker->due(users[i++ % users.size()]);
    benchmark::DoNotOptimize(due);
    if (due) state.SkipWithError("a stamped user was due");
  }
  if (state.thread_index() == 0) {
    delete tracker;
    tracker = nullptr;
  }
}
// 1 user; 10,000 users (a table larger than the caches closest to the core); two threads at once
// (hubd's two io threads on this machine share the stamps' lock).
BENCHMARK(due_not_due)->Arg(1)->Arg(10000);
BENCHMARK(due_not_due)->Arg(10000)->Threads(2);

// auth_refresh_age = 0: the check returns before the clock and the lock (run.py's baseline hub).
void due_disabled(benchmark::State& state) {
  refresh_tracker tracker(std::chrono::seconds(0));
  std::string user = "user-0";
  for (auto _ : state) {
    bool due = tracker.due(user);
    benchmark::DoNotOptimize(due);
  }
}
BENCHMARK(due_disabled);

}  // namespace

BENCHMARK_MAIN();
