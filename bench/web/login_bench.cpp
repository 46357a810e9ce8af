// Full browser-style logins against a running hubd (the login benchmark): each of N clients keeps one
// keep-alive connection and loops GET /hub/login (form + _xsrf cookie), POST /hub/login with the
// credentials and _xsrf, then follows the redirect with its new cookies. Bounded: every client stops
// after its share of the logins, and the whole run after a time limit.
//
//   login_bench HOST PORT [CLIENTS=16] [LOGINS=30000] [PASSWORD=] [SECONDS=60]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <regex>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct totals {
  std::atomic<long> logins{0}, failures{0}, requests{0};
};

std::string cookie_header(const std::map<std::string, std::string>& jar) {
  std::string out;
  for (const auto& [k, v] : jar) out += (out.empty() ? "" : "; ") + k + "=" + v;
  return out;
}

void take_cookies(const http::response<http::string_body>& r, std::map<std::string, std::string>& jar) {
  for (const auto& f : r) {
    if (f.name() != http::field::set_cookie) continue;
    std::string v(f.value());
    auto eq = v.find('='), semi = v.find(';');
    if (eq == std::string::npos) continue;
    jar[v.substr(0, eq)] = v.substr(eq + 1, semi == std::string::npos ? std::string::npos : semi - eq - 1);
  }
}

std::string form_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

asio::awaitable<void> client(tcp::endpoint ep, std::string host, int id, long logins, std::string password,
                             totals& t, std::chrono::steady_clock::time_point deadline) {
  static const std::regex xsrf_re("name=\"_xsrf\" value=\"([^\"]+)\"");
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  co_await stream.async_connect(ep, asio::use_awaitable);
  beast::flat_buffer buf;
  auto exchange = [&](http::request<http::string_body>& req) -> asio::awaitable<http::response<http::string_body>> {
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "hubd-login-bench");
    req.prepare_payload();
    co_await http::async_write(stream, req, asio::use_awaitable);
    http::response<http::string_body> res;
    co_await http::async_read(stream, buf, res, asio::use_awaitable);
    t.requests++;
    co_return res;
  };
  for (long i = 0; i < logins && std::chrono::steady_clock::now() < deadline; ++i) {
    std::map<std::string, std::string> jar;  // a fresh browser for every login
    http::request<http::string_body> get{http::verb::get, "/hub/login", 11};
    auto form = co_await exchange(get);
    take_cookies(form, jar);
    std::smatch m;
    if (form.result_int() != 200 || !std::regex_search(form.body(), m, xsrf_re)) {
      t.failures++;
      continue;
    }
    std::string user = "bench-login-" + std::to_string((id * 1000 + i) % 2000);
    http::request<http::string_body> post{http::verb::post, "/hub/login", 11};
    post.set(http::field::content_type, "application/x-www-form-urlencoded");
    post.set(http::field::cookie, cookie_header(jar));
    post.body() = "username=" + form_escape(user) + "&password=" + form_escape(password) + "&_xsrf=" + form_escape(m[1]);
    auto done = co_await exchange(post);
    take_cookies(done, jar);
    auto location = done[http::field::location];
    if (done.result_int() != 302 || location.empty() || !jar.count("jupyterhub-hub-login")) {
      t.failures++;
      continue;
    }
    http::request<http::string_body> follow{http::verb::get, std::string(location), 11};
    follow.set(http::field::cookie, cookie_header(jar));
    auto landed = co_await exchange(follow);
    if (landed.result_int() >= 400) {
      t.failures++;
      continue;
    }
    t.logins++;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s HOST PORT [CLIENTS=16] [LOGINS=30000] [PASSWORD=] [SECONDS=60]\n", argv[0]);
    return 2;
  }
  std::string host = argv[1];
  auto port = static_cast<unsigned short>(std::stoi(argv[2]));
  int clients = argc > 3 ? std::stoi(argv[3]) : 16;
  long logins = argc > 4 ? std::stol(argv[4]) : 30000;
  std::string password = argc > 5 ? argv[5] : "";
  int seconds = argc > 6 ? std::stoi(argv[6]) : 60;
  asio::io_context io(1);
  tcp::endpoint ep(asio::ip::make_address(host), port);
  totals t;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::seconds(seconds);
  for (int c = 0; c < clients; ++c)
    asio::co_spawn(io, client(ep, host + ":" + std::to_string(port), c, logins / clients, password, t, deadline),
                   [&t](std::exception_ptr e) {
                     if (e) t.failures++;
                   });
  io.run();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%ld logins (%ld requests, %ld failures) in %.2f s: %.0f logins/s from %d clients\n", t.logins.load(),
              t.requests.load(), t.failures.load(), secs, t.logins.load() / secs, clients);
  return t.failures.load() == 0 ? 0 : 1;
}
