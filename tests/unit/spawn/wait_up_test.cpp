// Readiness waiting against real sockets: a server that shows up late, one that crashes, one that never answers.
#include "core/spawn/wait_up.hpp"
#include "tests/support/free_port.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>

using namespace hubd::core;
using namespace hubd::core::spawn;
using hubd::test::free_port;

namespace {
// Starts after a delay, then answers every GET with `status` and an X-JupyterHub-Version header.
pid_t late_server(int port, int status, double delay) {
  std::string code =
      "import time,http.server\ntime.sleep(" + std::to_string(delay) + ")\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "  def do_GET(self):\n"
      "    self.send_response(" + std::to_string(status) + ")\n"
      "    self.send_header('X-JupyterHub-Version','3.0.0')\n    self.send_header('Location','/elsewhere')\n"
      "    self.end_headers()\n"
      "http.server.HTTPServer(('127.0.0.1'," + std::to_string(port) + "),H).serve_forever()\n";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execlp("python3", "python3", "-c", code.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

struct env {
  http::io_pool pool{1};
  http::client client{pool};
  env() { pool.start(); }
  ~env() {
    pool.stop();
    pool.join();
  }
  wait_up_result run(int port, std::chrono::milliseconds timeout, alive_check alive) {
    std::promise<wait_up_result> p;
    wait_up(pool, client, "http://127.0.0.1:" + std::to_string(port) + "/user/a/", timeout, std::move(alive),
            [&](wait_up_result r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
};
alive_check always_alive() {
  return [](auto cb) { cb(std::nullopt); };
}
}  // namespace

TEST_CASE("wait_up: a late server answering a redirect counts as ready", "[wait_up]") {
  env e;
  int port = free_port();
  pid_t pid = late_server(port, 302, 0.5);
  auto r = e.run(port, std::chrono::seconds(30), always_alive());
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  CHECK(r.ready);
  CHECK(r.status == 302);
  CHECK(r.version == "3.0.0");
}

TEST_CASE("wait_up: 5xx is not ready; the timeout names the last answer", "[wait_up]") {
  env e;
  int port = free_port();
  pid_t pid = late_server(port, 503, 0);
  auto r = e.run(port, std::chrono::milliseconds(1500), always_alive());
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  CHECK_FALSE(r.ready);
  CHECK(r.error.find("never answered within 1.500 s") != std::string::npos);
}

TEST_CASE("wait_up: a server that exits fails the wait at once with the spawner's reason", "[wait_up]") {
  env e;
  int port = free_port();
  auto r = e.run(port, std::chrono::seconds(60), [](auto cb) { cb(std::string("the server exited with status 1")); });
  CHECK_FALSE(r.ready);
  CHECK(r.error == "the server exited with status 1");
}
