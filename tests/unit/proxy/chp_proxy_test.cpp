// The CHP client against a REAL configurable-http-proxy on loopback ports, and the pure route sync.
#include "core/proxy/chp_proxy.hpp"

#include "core/http/client.hpp"
#include "core/http/io_pool.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/free_port.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <thread>

using namespace hubd::core;
using namespace hubd::core::proxy;
using hubd::test::eventually;
using hubd::test::free_port;
using nlohmann::json;

namespace {

std::string wait_done(const std::function<void(done_callback)>& f) {
  std::promise<std::string> p;
  f([&](std::string e) { p.set_value(std::move(e)); });
  return p.get_future().get();
}

route_table routes_of(chp_proxy& px) {
  std::promise<route_table> p;
  px.get_all_routes([&](route_table t, std::string e) {
    CHECK(e.empty());
    p.set_value(std::move(t));
  });
  return p.get_future().get();
}

http::client_response fetch(http::client& c, std::string method, std::string url, http::header_list h = {},
                            std::string body = {}) {
  std::promise<http::client_response> p;
  c.request(method, url, std::move(h), std::move(body), std::chrono::seconds(10),
            [&](http::client_response&& r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

// A target server: python's http.server on a free port (answers 200 for "/" and 404 for the rest).
struct target_server {
  pid_t pid = 0;
  int port = free_port();
  target_server() {
    pid = ::fork();
    if (pid == 0) {
      ::execlp("python3", "python3", "-m", "http.server", "--bind", "127.0.0.1", std::to_string(port).c_str(),
               "--directory", "/tmp", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~target_server() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

struct chp_fixture {
  http::io_pool pool{2};
  http::client client{pool};
  chp_options opts;
  std::unique_ptr<chp_proxy> px;
  chp_fixture() {
    pool.start();
    opts.api_url = "http://127.0.0.1:" + std::to_string(free_port());
    opts.public_url = "http://127.0.0.1:" + std::to_string(free_port());
    opts.auth_token = "test-token-0123456789";
    px = std::make_unique<chp_proxy>(pool, client, opts);
  }
  ~chp_fixture() {
    px->stop();
    pool.stop();
    pool.join();
  }
};

}  // namespace

TEST_CASE("routespec and CHP paths", "[proxy]") {
  CHECK(routespec_to_chp_path("/") == "/");
  CHECK(routespec_to_chp_path("/user/alice/") == "/user/alice");
  CHECK(routespec_to_chp_path("user/a/") == "/user/a");
  CHECK(routespec_from_chp_path("/user/alice") == "/user/alice/");
  CHECK(routespec_from_chp_path("/user/a b@x") == "/user/a%20b@x/");
  CHECK(routespec_from_chp_path("/") == "/");
  chp_options o;
  o.public_url = "http://:8000";
  o.api_url = "http://127.0.0.1:8001";
  o.error_target = "http://127.0.0.1:8081/hub/error";
  CHECK(chp_arguments(o) == std::vector<std::string>{"--ip", "", "--port", "8000", "--api-ip", "127.0.0.1",
                                                     "--api-port", "8001", "--error-target",
                                                     "http://127.0.0.1:8081/hub/error", "--log-level", "info"});
  o.public_url = "http://[::1]:9000/";
  CHECK(chp_arguments(o)[1] == "::1");
  CHECK(chp_arguments(o)[3] == "9000");
}

TEST_CASE("plan_route_sync: add missing and moved routes, delete stale ones, keep pending", "[proxy]") {
  route_table current = {
      {"/", {"/", "http://127.0.0.1:8081", hub_route_data()}},
      {"/user/alice/", {"/user/alice/", "http://127.0.0.1:5000", {{"user", "alice"}, {"server_name", ""}, {"last_activity", "x"}}}},
      {"/user/bob/", {"/user/bob/", "http://127.0.0.1:5001", user_route_data("bob", "")}},
      {"/user/carl/", {"/user/carl/", "http://127.0.0.1:5002", user_route_data("carl", "")}},
      {"/user/old/", {"/user/old/", "http://127.0.0.1:5003", user_route_data("old", "")}},
  };
  std::vector<route> wanted = {
      {"/", "http://127.0.0.1:8081", hub_route_data()},
      {"/user/alice/", "http://127.0.0.1:5000", user_route_data("alice", "")},  // same target: untouched
      {"/user/bob/", "http://127.0.0.1:6001", user_route_data("bob", "")},      // moved
      {"/user/dan/gpu/", "http://127.0.0.1:5004", user_route_data("dan", "gpu")},
      {"/services/s/", "http://127.0.0.1:7000", service_route_data("s")},
  };
  auto plan = plan_route_sync(current, wanted, {"/user/carl/"});
  REQUIRE(plan.add.size() == 3);
  CHECK(plan.add[0].routespec == "/user/bob/");
  CHECK(plan.add[1].routespec == "/user/dan/gpu/");
  CHECK(plan.add[2].routespec == "/services/s/");
  CHECK(plan.remove == std::vector<std::string>{"/user/old/"});
  CHECK(plan_route_sync(current, {}, {}).remove.size() == 5);
  CHECK(plan_route_sync({}, {}, {}).empty());
}

TEST_CASE("a real configurable-http-proxy: start, routes, traffic, restart", "[proxy][chp]") {
  chp_fixture f;
  REQUIRE(wait_done([&](auto cb) { f.px->start(cb); }) == "");
  REQUIRE(f.px->process_running());
  target_server target;

  route hub{"/", "http://127.0.0.1:1", hub_route_data()};
  route alice{"/user/alice/", target.url(), user_route_data("alice", "")};
  REQUIRE(wait_done([&](auto cb) { f.px->add_route(hub, cb); }) == "");
  REQUIRE(wait_done([&](auto cb) { f.px->add_route(alice, cb); }) == "");

  // A route someone else added (no "jupyterhub" marker) is not ours and is not listed.
  auto foreign = fetch(f.client, "POST", f.opts.api_url + "/api/routes/foreign", {{"Authorization", "token " + f.opts.auth_token}},
                       R"({"target": "http://127.0.0.1:2"})");
  REQUIRE(foreign.status == 201);

  auto routes = routes_of(*f.px);
  REQUIRE(routes.size() == 2);
  CHECK(routes.at("/").data.at("hub") == true);  // CHP adds last_activity itself
  CHECK(routes.at("/user/alice/").target == target.url());
  CHECK(routes.at("/user/alice/").data.at("user") == "alice");
  CHECK(routes.at("/user/alice/").data.at("server_name") == "");

  // Traffic through the proxy reaches the target (python answers 404 for the unknown path, which is
  // fine: it answered) and stamps last_activity on the route.
  std::string through;
  CHECK(eventually([&] {
    auto r = fetch(f.client, "GET", f.opts.public_url + "/user/alice/");
    if (r.ok() && r.status < 500) through = std::to_string(r.status);
    return !through.empty();
  }));
  CHECK(through == "404");
  CHECK(routes_of(*f.px).at("/user/alice/").data.contains("last_activity"));

  // A wrong token is refused.
  auto bad = fetch(f.client, "GET", f.opts.api_url + "/api/routes", {{"Authorization", "token nope"}});
  CHECK(bad.status == 403);

  REQUIRE(wait_done([&](auto cb) { f.px->delete_route("/user/alice/", cb); }) == "");
  CHECK(routes_of(*f.px).count("/user/alice/") == 0);
  // Deleting a route that is gone is not an error.
  CHECK(wait_done([&](auto cb) { f.px->delete_route("/user/alice/", cb); }) == "");

  // Kill CHP: hubd notices and starts it again; the routes are re-added by a sync.
  int old_pid = f.px->pid();
  ::kill(old_pid, SIGKILL);
  REQUIRE(eventually([&] { return !f.px->process_running(); }));
  REQUIRE(wait_done([&](auto cb) { f.px->start(cb); }) == "");
  CHECK(f.px->pid() != old_pid);
  CHECK(routes_of(*f.px).empty());
  auto plan = plan_route_sync(routes_of(*f.px), {hub, alice}, {});
  REQUIRE(plan.add.size() == 2);
  for (auto& r : plan.add) REQUIRE(wait_done([&](auto cb) { f.px->add_route(r, cb); }) == "");
  CHECK(routes_of(*f.px).size() == 2);
}

TEST_CASE("proxy start errors are clear", "[proxy][chp]") {
  chp_fixture f;
  chp_options o = f.opts;
  o.command = {"no-such-proxy-hubd"};
  chp_proxy missing(f.pool, f.client, o);
  CHECK(wait_done([&](auto cb) { missing.start(cb); }) == "cannot start no-such-proxy-hubd: No such file or directory");

  o.command = {"false"};
  chp_proxy dies(f.pool, f.client, o);
  CHECK(wait_done([&](auto cb) { dies.start(cb); }) == "configurable-http-proxy exited before its API answered");

  o.should_start = false;
  o.start_timeout = std::chrono::milliseconds(300);
  chp_proxy external(f.pool, f.client, o);
  auto err = wait_done([&](auto cb) { external.start(cb); });
  CHECK(err.find("did not answer within 300 ms") != std::string::npos);

  o.auth_token = "";
  chp_proxy no_token(f.pool, f.client, o);
  CHECK(wait_done([&](auto cb) { no_token.start(cb); }).find("needs an auth token") != std::string::npos);
}

TEST_CASE("reconfigure points the client at another proxy API and token", "[proxy][chp]") {
  chp_fixture f;
  REQUIRE(wait_done([&](auto cb) { f.px->start(cb); }) == "");
  route hub{"/", "http://127.0.0.1:8081", hub_route_data()};
  REQUIRE(wait_done([&](auto cb) { f.px->add_route(hub, cb); }) == "");

  // A wrong token: the proxy refuses, and hubd says so.
  f.px->reconfigure("", "wrong-token");
  CHECK(wait_done([&](auto cb) { f.px->add_route(hub, cb); }) == "adding route / failed: the proxy answered 403");
  // Back to the right one: requests work again, and an empty value keeps the current setting.
  f.px->reconfigure("", f.opts.auth_token);
  CHECK(wait_done([&](auto cb) { f.px->add_route(hub, cb); }) == "");
  // Another API URL (nothing listens there): the next request goes there and fails clearly.
  f.px->reconfigure("http://127.0.0.1:" + std::to_string(free_port()), "");
  CHECK(wait_done([&](auto cb) { f.px->delete_route("/", cb); }).rfind("deleting route / failed: ", 0) == 0);
  f.px->reconfigure(f.opts.api_url, "");
  CHECK(routes_of(*f.px).count("/") == 1);
}

TEST_CASE("live_proxy_pid: only a live process whose command line names the proxy", "[proxy]") {
  char dir_template[] = "/tmp/hubd-pidfile-XXXXXX";
  REQUIRE(::mkdtemp(dir_template));
  const std::string file = std::string(dir_template) + "/jupyterhub-proxy.pid";
  auto write = [&](const std::string& text) {
    FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  };
  CHECK_FALSE(live_proxy_pid(file, "configurable-http-proxy"));  // no file
  write("not a pid\n");
  CHECK_FALSE(live_proxy_pid(file, "configurable-http-proxy"));
  write("1\n");
  CHECK_FALSE(live_proxy_pid(file, "configurable-http-proxy"));  // never init

  pid_t child = ::fork();
  if (child == 0) {
    ::execlp("sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  write(std::to_string(child) + "\n");
  CHECK(eventually([&] { return live_proxy_pid(file, "/usr/bin/sleep").has_value(); }));  // the exec happened
  CHECK(live_proxy_pid(file, "/usr/bin/sleep") == child);       // matched by the command's file name
  CHECK_FALSE(live_proxy_pid(file, "configurable-http-proxy"));  // a reused pid of something else
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK_FALSE(live_proxy_pid(file, "/usr/bin/sleep"));  // gone
  std::remove(file.c_str());
  ::rmdir(dir_template);
}

TEST_CASE("a CHP left by a killed hub is stopped through the pid file before a new one starts", "[proxy][chp]") {
  char dir_template[] = "/tmp/hubd-pidfile-XXXXXX";
  REQUIRE(::mkdtemp(dir_template));
  chp_fixture f;
  chp_options o = f.opts;
  o.pid_file = std::string(dir_template) + "/jupyterhub-proxy.pid";
  auto first = std::make_unique<chp_proxy>(f.pool, f.client, o);
  REQUIRE(wait_done([&](auto cb) { first->start(cb); }) == "");
  const int old_pid = first->pid();
  CHECK(live_proxy_pid(o.pid_file, "configurable-http-proxy") == old_pid);
  first.reset();  // as after kill -9 of hubd: nobody stops it, and it keeps the ports

  chp_proxy second(f.pool, f.client, o);
  REQUIRE(wait_done([&](auto cb) { second.start(cb); }) == "");
  CHECK(second.pid() != old_pid);
  CHECK(live_proxy_pid(o.pid_file, "configurable-http-proxy") == second.pid());
  // The old one was our child here: reap it to see it is gone (not a zombie).
  int st = 0;
  CHECK(::waitpid(old_pid, &st, WNOHANG) == old_pid);
  second.stop();
  CHECK(::access(o.pid_file.c_str(), F_OK) != 0);  // a clean stop removes the file
  ::rmdir(dir_template);
}
