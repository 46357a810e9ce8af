// The managed-service supervisor with real processes (/bin/sh): start, output, restart with
// backoff, giving up, SIGTERM then SIGKILL.
#include "core/app/managed_services.hpp"
#include "tests/support/eventually.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

using namespace hubd::core::app;
using namespace std::chrono_literals;
using hubd::test::eventually;

namespace {

managed_service_spec sh(std::string name, std::string script) {
  managed_service_spec s;
  s.name = std::move(name);
  s.command = {"/bin/sh", "-c", std::move(script)};
  s.env = {{"PATH", "/usr/bin:/bin"}, {"MARK", "from-env"}};
  return s;
}

bool alive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

std::filesystem::path temp_dir() {
  auto d = std::filesystem::temp_directory_path() / ("hubd-ms-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("a managed service runs with its env and cwd, and a killed one is restarted") {
  auto dir = temp_dir();
  auto spec = sh("echoer", "echo \"$MARK $(pwd)\" > out.txt; exec sleep 30");
  spec.cwd = dir.string();
  managed_services_options o;
  o.first_backoff = 50ms;
  managed_services ms({spec}, o);
  ms.start();
  auto st = ms.status_of("echoer");
  REQUIRE(st);
  CHECK(st->command == spec.command);
  int first = st->pid;
  REQUIRE(first > 0);
  REQUIRE(eventually([&] {
    std::ifstream f(dir / "out.txt");
    std::string line;
    return std::getline(f, line) && line == "from-env " + std::filesystem::canonical(dir).string();
  }));
  ::kill(first, SIGKILL);
  REQUIRE(eventually([&] {
    int p = ms.status_of("echoer")->pid;
    return p > 0 && p != first;
  }));
  int second = ms.status_of("echoer")->pid;
  ms.stop();
  CHECK(ms.status_of("echoer")->pid == 0);
  CHECK(!alive(second));
  CHECK(!ms.status_of("nope"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a service that keeps dying is given up after max_quick_deaths") {
  managed_services_options o;
  o.first_backoff = 10ms;
  o.max_backoff = 40ms;
  o.max_quick_deaths = 3;
  auto dir = temp_dir();
  auto spec = sh("crasher", "echo x >> count.txt; exit 7");
  spec.cwd = dir.string();
  managed_services ms({spec}, o);
  ms.start();
  auto runs = [&] {
    std::ifstream f(dir / "count.txt");
    int n = 0;
    for (std::string l; std::getline(f, l);) ++n;
    return n;
  };
  REQUIRE(eventually([&] { return runs() == 4; }));  // the first run and three restarts
  std::this_thread::sleep_for(300ms);
  CHECK(runs() == 4);
  CHECK(ms.status_of("crasher")->pid == 0);
  ms.stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("a command that does not exist does not throw and is retried") {
  managed_services_options o;
  o.first_backoff = 10ms;
  o.max_quick_deaths = 2;
  managed_service_spec s;
  s.name = "missing";
  s.command = {"/nonexistent/hubd-test-command"};
  managed_services ms({s}, o);
  REQUIRE_NOTHROW(ms.start());
  std::this_thread::sleep_for(200ms);
  CHECK(ms.status_of("missing")->pid == 0);
  ms.stop();
}

TEST_CASE("stop sends SIGTERM, then SIGKILL to a service that ignores it, within the grace period") {
  managed_services_options o;
  o.stop_grace = 300ms;
  auto dir = temp_dir();
  std::filesystem::remove(dir / "trapped");
  auto stubborn_spec = sh("stubborn", "trap '' TERM; : > trapped; while :; do sleep 0.05; done");
  stubborn_spec.cwd = dir.string();
  managed_services ms({sh("polite", "exec sleep 30"), stubborn_spec}, o);
  ms.start();
  int polite = ms.status_of("polite")->pid, stubborn = ms.status_of("stubborn")->pid;
  REQUIRE(alive(polite));
  REQUIRE(alive(stubborn));
  REQUIRE(eventually([&] { return std::filesystem::exists(dir / "trapped"); }));  // SIGTERM is ignored now
  auto t0 = std::chrono::steady_clock::now();
  ms.stop();
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(!alive(polite));
  CHECK(!alive(stubborn));
  CHECK(took >= 300ms);
  CHECK(took < 3s);
  ms.stop();  // idempotent
  std::filesystem::remove_all(dir);
}
