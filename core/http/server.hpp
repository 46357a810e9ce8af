#pragma once
// The HTTP/1.1 server (Boost.Beast behind a pimpl): keep-alive, one or more listening endpoints,
// optional TLS, and limits that answer clearly: header size 431, body size 413, connection cap
// 503; a client that does not deliver a whole request in time is dropped by a timer, so no
// thread ever waits on a socket.
#include "core/http/io_pool.hpp"
#include "core/http/router.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::http {

struct listen_endpoint {
  std::string host;  // IP or name; "" means every interface
  std::uint16_t port = 0;  // 0: the system picks one (see server::ports)
  bool tls = false;
};

// "http://127.0.0.1:8081", "https://:8443", "http://[::1]:8000/base/" → endpoint (path ignored).
// nullopt for another scheme or a malformed URL; a missing port means 80 or 443.
std::optional<listen_endpoint> parse_bind_url(std::string_view url);
// The other way: {"::1", 8000, false} → "http://[::1]:8000" (an empty host stays empty: "http://:8000").
std::string bind_url_of(const listen_endpoint& ep);

struct server_options {
  std::vector<listen_endpoint> endpoints;
  std::string tls_cert_file;  // PEM, needed when an endpoint has tls
  std::string tls_key_file;   // PEM
  std::size_t max_header_bytes = 64 * 1024;         // request line + headers → 431 beyond
  std::size_t max_body_bytes = 64 * 1024 * 1024;    // → 413 beyond
  std::chrono::milliseconds request_timeout{60'000};  // whole request (also idle keep-alive wait)
  std::chrono::milliseconds write_timeout{60'000};
  std::size_t max_connections = 10'000;  // → 503 beyond
  bool access_log = true;
};

class server {
public:
  // `router` must outlive the server and every request in flight (until the io_pool stops).
  server(io_pool& pool, const router& router, server_options options);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and listens on every endpoint. Throws std::runtime_error naming the endpoint or TLS
  // file that failed. The io_pool may be started before or after.
  void start();
  // Stops accepting, closes idle connections at once and the others after their current
  // response. Non-blocking and idempotent; connections() reaches 0 shortly after.
  void stop();

  // Bound ports, in the order of options.endpoints.
  std::vector<std::uint16_t> ports() const;
  std::size_t connections() const;

  struct impl;  // the listening state, shared with the connections (defined in server.cpp)

private:
  std::shared_ptr<impl> impl_;
};

}  // namespace hubd::core::http
