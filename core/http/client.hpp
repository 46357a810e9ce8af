#pragma once
// An asynchronous HTTP/1.1 client on the shared io_context: for configurable-http-proxy's REST
// API and for polling spawned servers. One connection per request (these calls are rare).
#include "core/http/io_pool.hpp"
#include "core/http/request.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hubd::core::http {

struct client_request {
  std::string method = "GET";
  std::string url;  // http://host:port/path?query or https://...
  header_list headers;
  std::string body;
  std::chrono::milliseconds timeout{20'000};  // the whole exchange: resolve, connect, send, receive
  bool verify_tls = true;                     // check the peer certificate and host name
  std::size_t max_body_bytes = 64 * 1024 * 1024;
};

struct client_response {
  int status = 0;  // 0 when `error` is set
  header_list headers;
  std::string body;
  std::string error;  // empty on success; otherwise what failed ("timed out after 200 ms", ...)

  bool ok() const { return error.empty(); }
  std::optional<std::string_view> header(std::string_view name) const;
};

class client {
public:
  using callback = std::function<void(client_response&&)>;

  explicit client(io_pool& pool);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // `cb` runs exactly once on an io thread, never before request() returns. It must not block.
  // Redirects are not followed (readiness polling counts a 302 as an answer).
  void request(client_request req, callback cb);
  void request(std::string_view method, std::string_view url, header_list headers, std::string body,
               std::chrono::milliseconds timeout, callback cb);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hubd::core::http
