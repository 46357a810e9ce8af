// A tiny server for wrk: GET /hub/api/user answers a small JSON model through the real router,
// with the same standard headers as hubd. Usage:
//   hubd_http_bench_server [--port N] [--threads N] [--access-log]
// Prints "listening <port>" on stdout once it accepts; stops on SIGINT/SIGTERM.
#include "core/http/io_pool.hpp"
#include "core/http/router.hpp"
#include "core/http/server.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include <signal.h>

using namespace hubd::core::http;

int main(int argc, char** argv) {
  unsigned port = 0, threads = 2;
  bool access_log = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--port" && i + 1 < argc) port = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--threads" && i + 1 < argc) threads = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--access-log") access_log = true;
    else {
      std::cerr << "usage: hubd_http_bench_server [--port N] [--threads N] [--access-log]\n";
      return 2;
    }
  }
  // The access log is formatted as in production but written nowhere, so the figure is the
  // server's cost and not the terminal's.
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>()));
  spdlog::set_level(spdlog::level::info);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // io threads inherit the mask; main waits below

  router rt;
  const std::string body = nlohmann::json{{"kind", "user"}, {"name", "bench"}, {"admin", false},
                                          {"groups", nlohmann::json::array()}, {"scopes", {"read:users:name!user=bench"}},
                                          {"session_id", nullptr}}
                               .dump();
  rt.add("GET", "/hub/api/user", [&body](const request_ptr& req, responder res) {
    req->principal = "bench";
    res(json_text_response(200, body));
  });
  io_pool pool(threads);
  server_options o;
  o.endpoints = {{"127.0.0.1", static_cast<std::uint16_t>(port), false}};
  o.access_log = access_log;
  server srv(pool, rt, o);
  srv.start();
  pool.start();
  std::cout << "listening " << srv.ports().at(0) << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  srv.stop();
  pool.stop();
  pool.join();
  return 0;
}
