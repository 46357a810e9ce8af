#pragma once
// Blocking HTTP(S) requests to the identity provider through libcurl: TLS verified unless the
// operator says otherwise, no redirects followed, bodies capped, connect and total timeouts, so a
// provider that is down, slow or answers garbage costs a pool thread a bounded time only.
#include <chrono>
#include <string>
#include <vector>

namespace generic_oauth {

struct http_request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  bool verify_tls = true;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds total_timeout{8000};
};

struct http_response {
  long status = 0;      // 0: no HTTP answer (see error)
  std::string body;
  std::string content_type;
  std::string error;    // network error, timeout, or body too large; empty when an answer came
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

inline constexpr std::size_t max_response_body = 1 << 20;  // 1 MiB: discovery, JWKS and tokens are small

// At plugin init and deinit (libcurl's global set-up is not thread-safe). Clean-up frees the idle
// connections too; hubd calls deinit only when no op is outstanding, so none is in use then.
bool http_global_init();
void http_global_cleanup();

http_response http_fetch(const http_request& req);

}  // namespace generic_oauth
