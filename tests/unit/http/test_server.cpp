// The server and client over real loopback sockets (port 0). Raw sockets drive the edge cases a
// well-behaved client never produces.
#include "core/http/client.hpp"
#include "core/http/io_pool.hpp"
#include "core/http/router.hpp"
#include "core/http/jupyterhub_version.hpp"
#include "core/http/server.hpp"
#include "core/http/body_stream.hpp"
#include "tests/support/eventually.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

using namespace hubd::core::http;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A blocking loopback socket with a receive guard so a broken server fails the test, not hangs it.
class raw_conn {
public:
  explicit raw_conn(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{15, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~raw_conn() { ::close(fd_); }
  int fd() const { return fd_; }
  void send(std::string_view s) {
    while (!s.empty()) {
      auto n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may have closed on us; the read tells the story
      s.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // Reads one response (headers + Content-Length body). status 0 if the connection closed first.
  struct reply {
    int status = 0;
    std::string head;
    std::string body;
    bool has(std::string_view h) const { return head.find(h) != std::string::npos; }
  };
  reply read_reply(bool head_request = false) {
    reply r;
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return r;
    }
    r.head = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    r.status = std::atoi(r.head.c_str() + 9);
    std::size_t len = 0;
    auto cl = r.head.find("Content-Length: ");
    if (cl != std::string::npos) len = std::strtoul(r.head.c_str() + cl + 16, nullptr, 10);
    if (head_request) len = 0;
    while (buf_.size() < len) {
      if (!fill()) break;
    }
    r.body = buf_.substr(0, len);
    buf_.erase(0, std::min(len, buf_.size()));
    return r;
  }
  // True when the peer closed (EOF or reset) before the guard timeout.
  bool closed_by_peer() {
    char c;
    for (;;) {
      auto n = ::recv(fd_, &c, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

private:
  bool fill() {
    char tmp[8192];
    auto n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  int fd_;
  std::string buf_;
};

struct fixture {
  io_pool pool{2};
  router rt;
  std::unique_ptr<server> srv;
  std::uint16_t port = 0;
  std::mutex threads_mutex;
  std::vector<std::thread> threads;
  std::shared_ptr<body_stream> events = std::make_shared<body_stream>();

  explicit fixture(server_options o = {}) {
    rt.add("GET", "/hello", [](const request_ptr&, responder res) { res(json_response(200, {{"hello", "world"}})); });
    rt.add("POST", "/echo", [](const request_ptr& req, responder res) {
      res(json_response(200, {{"body", req->body},
                              {"ua", req->header("user-agent").value_or("")},
                              {"x", req->header("x-test").value_or("")},
                              {"tls", req->is_tls},
                              {"remote", req->remote_addr}}));
    });
    rt.add("GET", "/later", [this](const request_ptr& req, responder res) {
      std::lock_guard lock(threads_mutex);
      threads.emplace_back([req, res] {
        std::this_thread::sleep_for(50ms);
        req->principal = "later-user";
        res(json_response(200, {{"later", true}}));
      });
    });
    rt.add("GET", "/dropped", [](const request_ptr&, responder) {});
    rt.add("GET", "/events", [this](const request_ptr&, responder res) {
      response r;
      r.set_header("Content-Type", "text/event-stream");
      r.stream = events;
      res(std::move(r));
    });
    rt.add("GET", "/whoami", [](const request_ptr& req, responder res) {
      req->principal = "alice";
      res(empty_response(200));
    });
    if (o.endpoints.empty()) o.endpoints.push_back({"127.0.0.1", 0, false});
    srv = std::make_unique<server>(pool, rt, o);
    srv->start();
    port = srv->ports().at(0);
    pool.start();
  }
  ~fixture() {
    {
      // answers from handler threads must land before the io_context goes away
      std::lock_guard lock(threads_mutex);
      for (auto& t : threads) t.join();
    }
    srv->stop();
    pool.stop();
    pool.join();
  }
};

client_response fetch(client& c, client_request r) {
  std::promise<client_response> p;
  c.request(std::move(r), [&p](client_response&& resp) { p.set_value(std::move(resp)); });
  return p.get_future().get();
}

const std::string get_hello = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";

}  // namespace

TEST_CASE("keep-alive: many requests on one connection", "[http][server]") {
  fixture f;
  raw_conn c(f.port);
  for (int i = 0; i < 200; ++i) {
    c.send(get_hello);
    auto r = c.read_reply();
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body) == json{{"hello", "world"}});
  }
  CHECK(f.srv->connections() == 1);
  // pipelined requests are answered in order
  c.send(get_hello + "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" + get_hello);
  CHECK(c.read_reply().status == 200);
  CHECK(c.read_reply().status == 404);
  CHECK(c.read_reply().status == 200);
}

TEST_CASE("standard headers and HEAD over the wire", "[http][server]") {
  fixture f;
  raw_conn c(f.port);
  c.send(get_hello);
  auto r = c.read_reply();
  CHECK(r.has("X-JupyterHub-Version: " + std::string(jupyterhub_api_version) + "\r\n"));
  CHECK(r.has("Content-Security-Policy: frame-ancestors 'none'; report-uri /hub/security/csp-report\r\n"));
  c.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  auto h = c.read_reply(true);
  CHECK(h.status == 200);
  CHECK(h.has("Content-Length: 17\r\n"));
  // the next response on the connection parses, so HEAD sent no body
  c.send(get_hello);
  CHECK(c.read_reply().body == R"({"hello":"world"})");
}

TEST_CASE("HTTP/1.0 and Connection: close end the connection", "[http][server]") {
  fixture f;
  raw_conn a(f.port);
  a.send("GET /hello HTTP/1.0\r\n\r\n");
  CHECK(a.read_reply().status == 200);
  CHECK(a.closed_by_peer());
  raw_conn b(f.port);
  b.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto r = b.read_reply();
  CHECK(r.status == 200);
  CHECK(r.has("Connection: close"));
  CHECK(b.closed_by_peer());
}

TEST_CASE("body over the limit is 413 with a JSON error", "[http][server]") {
  server_options o;
  o.max_body_bytes = 1024;
  fixture f(o);
  SECTION("declared length") {
    raw_conn c(f.port);
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'a'));
    auto r = c.read_reply();
    CHECK(r.status == 413);
    CHECK(json::parse(r.body)["status"] == 413);
    CHECK(r.has("Connection: close"));
    CHECK(c.closed_by_peer());
  }
  SECTION("chunked") {
    raw_conn c(f.port);
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 4; ++i) c.send("200\r\n" + std::string(512, 'b') + "\r\n");
    auto r = c.read_reply();
    CHECK(r.status == 413);
  }
  SECTION("within the limit passes") {
    raw_conn c(f.port);
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" + std::string(1024, 'c'));
    auto r = c.read_reply();
    CHECK(r.status == 200);
    CHECK(json::parse(r.body)["body"] == std::string(1024, 'c'));
  }
}

TEST_CASE("headers over the limit are 431", "[http][server]") {
  server_options o;
  o.max_header_bytes = 4096;
  fixture f(o);
  raw_conn c(f.port);
  c.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'h') + "\r\n\r\n");
  auto r = c.read_reply();
  CHECK(r.status == 431);
  CHECK(json::parse(r.body)["status"] == 431);
  CHECK(c.closed_by_peer());
}

TEST_CASE("malformed requests are 400", "[http][server]") {
  fixture f;
  raw_conn c(f.port);
  c.send("HELLO THERE\r\n\r\n");
  auto r = c.read_reply();
  CHECK(r.status == 400);
  CHECK(json::parse(r.body)["status"] == 400);
  raw_conn d(f.port);
  d.send("GET /hello?a=%00 HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(d.read_reply().status == 400);
  raw_conn e(f.port);
  e.send("GET /hub/api/users/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto bad = e.read_reply();
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body)["message"] == "Malformed request target");
}

TEST_CASE("Expect: 100-continue", "[http][server]") {
  fixture f;
  raw_conn c(f.port);
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  auto cont = c.read_reply();
  CHECK(cont.status == 100);
  c.send("abc");
  auto r = c.read_reply();
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["body"] == "abc");
}

TEST_CASE("slow clients are dropped without holding a thread", "[http][server]") {
  server_options o;
  o.request_timeout = 300ms;
  fixture f(o);
  // more stalled clients than io threads
  std::vector<std::unique_ptr<raw_conn>> slow;
  for (int i = 0; i < 6; ++i) {
    slow.push_back(std::make_unique<raw_conn>(f.port));
    slow.back()->send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  // the server still answers others meanwhile
  raw_conn ok(f.port);
  ok.send(get_hello);
  CHECK(ok.read_reply().status == 200);
  for (auto& s : slow) CHECK(s->closed_by_peer());
  // an idle keep-alive connection is dropped too
  raw_conn idle(f.port);
  idle.send(get_hello);
  CHECK(idle.read_reply().status == 200);
  CHECK(idle.closed_by_peer());
}

TEST_CASE("connections beyond the cap get 503", "[http][server]") {
  server_options o;
  o.max_connections = 2;
  fixture f(o);
  raw_conn a(f.port), b(f.port);
  a.send(get_hello);
  b.send(get_hello);
  REQUIRE(a.read_reply().status == 200);
  REQUIRE(b.read_reply().status == 200);
  raw_conn c(f.port);
  c.send(get_hello);
  auto r = c.read_reply();
  CHECK(r.status == 503);
  CHECK(json::parse(r.body)["status"] == 503);
  CHECK(r.has("X-JupyterHub-Version:"));
  CHECK(c.closed_by_peer());
  // the admitted connections still work
  a.send(get_hello);
  CHECK(a.read_reply().status == 200);
}

TEST_CASE("responder called later from another thread, or never", "[http][server]") {
  fixture f;
  raw_conn c(f.port);
  c.send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = c.read_reply();
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["later"] == true);
  c.send("GET /dropped HTTP/1.1\r\nHost: x\r\n\r\n");
  auto d = c.read_reply();
  CHECK(d.status == 500);
  CHECK(json::parse(d.body)["status"] == 500);
  // the connection survives both
  c.send(get_hello);
  CHECK(c.read_reply().status == 200);
}

TEST_CASE("a streamed body goes out chunk by chunk, and the connection stays usable", "[http][server]") {
  fixture f;
  raw_conn c(f.port);
  f.events->push("data: one\n\n");
  c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string seen;
  auto read_until = [&](std::string_view what) {
    char buf[4096];
    while (seen.find(what) == std::string::npos) {
      auto n = ::recv(c.fd(), buf, sizeof buf, 0);
      REQUIRE(n > 0);
      seen.append(buf, static_cast<std::size_t>(n));
    }
  };
  // The header and the first event arrive while the stream is still open.
  read_until("data: one");
  CHECK(seen.find("HTTP/1.1 200") == 0);
  CHECK(seen.find("Transfer-Encoding: chunked") != std::string::npos);
  CHECK(seen.find("text/event-stream") != std::string::npos);
  CHECK(seen.find("X-JupyterHub-Version") != std::string::npos);
  f.events->push("data: two\n\n");
  read_until("data: two");
  f.events->close();
  read_until("0\r\n\r\n");  // the last chunk
  // Keep-alive: the same connection serves the next request.
  c.send(get_hello);
  auto r = c.read_reply();
  CHECK(r.status == 200);
}

TEST_CASE("access log line with principal and redacted token", "[http][server]") {
  std::ostringstream out;
  auto previous = spdlog::default_logger();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  {
    fixture f;
    raw_conn c(f.port);
    c.send("GET /whoami?token=s3cret&x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(c.read_reply().status == 200);
    c.send("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(c.read_reply().status == 404);
  }
  spdlog::set_default_logger(previous);
  std::string log = out.str();
  CHECK(log.find("200 GET /whoami?token=[secret]&x=1 (alice@127.0.0.1) ") != std::string::npos);
  CHECK(log.find("404 GET /missing (@127.0.0.1) ") != std::string::npos);
  CHECK(log.find("s3cret") == std::string::npos);
}

TEST_CASE("clean stop closes idle connections and stops accepting", "[http][server]") {
  fixture f;
  raw_conn c(f.port);
  c.send(get_hello);
  CHECK(c.read_reply().status == 200);
  f.srv->stop();
  CHECK(c.closed_by_peer());
  CHECK(hubd::test::eventually([&] { return f.srv->connections() == 0; }));
}

TEST_CASE("listening on several endpoints; bind errors name the endpoint", "[http][server]") {
  server_options o;
  o.endpoints = {{"127.0.0.1", 0, false}, {"127.0.0.1", 0, false}};
  fixture f(o);
  auto ports = f.srv->ports();
  REQUIRE(ports.size() == 2);
  raw_conn c(ports[1]);
  c.send(get_hello);
  CHECK(c.read_reply().status == 200);

  server_options clash;
  clash.endpoints = {{"127.0.0.1", ports[0], false}};
  server other(f.pool, f.rt, clash);
  CHECK_THROWS_WITH(other.start(), Catch::Contains("cannot listen on http://127.0.0.1:" + std::to_string(ports[0])));
}

TEST_CASE("bind URLs", "[http][server]") {
  auto a = parse_bind_url("http://127.0.0.1:8081");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 8081);
  CHECK_FALSE(a->tls);
  auto b = parse_bind_url("https://:8443/base/");
  REQUIRE(b);
  CHECK(b->host.empty());
  CHECK(b->port == 8443);
  CHECK(b->tls);
  auto c = parse_bind_url("http://[::1]:8000");
  REQUIRE(c);
  CHECK(c->host == "::1");
  CHECK(parse_bind_url("http://hub")->port == 80);
  CHECK_FALSE(parse_bind_url("ftp://x:1"));
  CHECK_FALSE(parse_bind_url("nonsense"));
  CHECK_FALSE(parse_bind_url("http://x:99999"));
  // Back to a URL, as hubd records a port the system picked.
  CHECK(bind_url_of({"127.0.0.1", 8081, false}) == "http://127.0.0.1:8081");
  CHECK(bind_url_of({"::1", 8000, false}) == "http://[::1]:8000");
  CHECK(bind_url_of({"", 8443, true}) == "https://:8443");
  CHECK(parse_bind_url(bind_url_of(*c))->host == "::1");
}

TEST_CASE("the client against the server", "[http][client]") {
  fixture f;
  client cl(f.pool);
  std::string base = "http://127.0.0.1:" + std::to_string(f.port);
  SECTION("GET") {
    client_request r;
    r.url = base + "/hello";
    auto resp = fetch(cl, r);
    REQUIRE(resp.ok());
    CHECK(resp.status == 200);
    CHECK(json::parse(resp.body) == json{{"hello", "world"}});
    CHECK(resp.header("x-jupyterhub-version") == std::string(jupyterhub_api_version));
  }
  SECTION("POST with headers and body") {
    client_request r;
    r.method = "POST";
    r.url = base + "/echo";
    r.headers = {{"X-Test", "yes"}, {"Content-Type", "application/json"}};
    r.body = R"({"a":1})";
    auto resp = fetch(cl, r);
    REQUIRE(resp.ok());
    auto j = json::parse(resp.body);
    CHECK(j["body"] == R"({"a":1})");
    CHECK(j["x"] == "yes");
    CHECK(j["ua"] == "hubd/" HUBD_VERSION);
  }
  SECTION("status codes are answers, not errors") {
    client_request r;
    r.url = base + "/nope";
    auto resp = fetch(cl, r);
    REQUIRE(resp.ok());
    CHECK(resp.status == 404);
  }
  SECTION("a server that never answers times out") {
    client_request r;
    r.url = base + "/later";
    r.timeout = 10ms;
    auto resp = fetch(cl, r);
    CHECK_FALSE(resp.ok());
    CHECK_THAT(resp.error, Catch::StartsWith("timed out after 10 ms"));
  }
  SECTION("connection refused") {
    f.srv->stop();
    std::this_thread::sleep_for(50ms);
    client_request r;
    r.url = base + "/hello";
    auto resp = fetch(cl, r);
    CHECK_FALSE(resp.ok());
    CHECK(resp.status == 0);
  }
  SECTION("bad URL") {
    client_request r;
    r.url = "notaurl";
    auto resp = fetch(cl, r);
    CHECK(resp.error == "invalid URL notaurl");
  }
  SECTION("many concurrent requests") {
    std::vector<std::future<client_response>> all;
    std::vector<std::promise<client_response>> ps(50);
    for (auto& p : ps) {
      all.push_back(p.get_future());
      cl.request("GET", base + "/hello", {}, {}, 10s, [&p](client_response&& r) { p.set_value(std::move(r)); });
    }
    for (auto& fu : all) CHECK(fu.get().status == 200);
  }
}

TEST_CASE("TLS endpoint", "[http][server][tls]") {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("hubd-http-tls-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
                    " -subj /CN=localhost -days 1 >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    WARN("openssl command not available; TLS test skipped");
    return;
  }
  server_options o;
  o.endpoints = {{"127.0.0.1", 0, true}};
  o.tls_cert_file = cert;
  o.tls_key_file = key;
  fixture f(o);
  client cl(f.pool);
  client_request r;
  r.method = "POST";
  r.url = "https://127.0.0.1:" + std::to_string(f.port) + "/echo";
  r.verify_tls = false;
  auto resp = fetch(cl, r);
  REQUIRE(resp.ok());
  CHECK(json::parse(resp.body)["tls"] == true);
  // with verification the self-signed certificate is refused
  r.verify_tls = true;
  CHECK_FALSE(fetch(cl, r).ok());
  // a missing key file is named
  server_options bad = o;
  bad.tls_key_file = (dir / "missing.pem").string();
  server s(f.pool, f.rt, bad);
  CHECK_THROWS_WITH(s.start(), Catch::Contains("missing.pem"));
  fs::remove_all(dir);
}
