#pragma once
// Method + path-pattern routing under the base URL, with JupyterHub's response conventions
// (standard headers, JSON 404/405, OPTIONS on the API). The same router serves sockets (server)
// and in-process calls (dispatch), so the internal API for plugins takes the exact REST path.
#include "core/http/request.hpp"
#include "core/http/responder.hpp"
#include "core/http/response.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hubd::core::http {

// A handler answers through the responder exactly once, from any thread, now or later.
// It must not block: anything slow goes to another executor and answers from there.
using handler = std::function<void(const request_ptr&, responder)>;
using completion = std::function<void(response&&)>;

struct router_options {
  std::string base_url = "/";  // JupyterHub.base_url; normalised to start and end with '/'
  std::string version;  // X-JupyterHub-Version (PEP 440); empty means jupyterhub_api_version
  // Added to every response unless the handler set the same header (tornado_settings headers).
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

class router {
public:
  explicit router(router_options options = {});
  ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  // `pattern` is relative to the base URL and starts with '/': "/hub/api/users/{name}".
  // `{x}` matches one segment (possibly empty, never containing '/'), percent-decoded into
  // request::params; `{x*}` as the last segment matches the rest of the path (slashes included).
  // Throws std::invalid_argument for a malformed pattern. Not thread-safe: register before serving.
  void add(std::string_view method, std::string_view pattern, handler h);
  // Handles what no route matches outside the API (the pages layer's 404); default: JSON 404.
  void set_fallback(handler h);

  // Routes one request and calls `done` exactly once with the final response (standard headers
  // added), possibly on another thread. If req->path is empty, req->target is parsed first.
  // The router must outlive every request it dispatched.
  void dispatch(request_ptr req, completion done) const;

  // Path (raw) is under <base_url>hub/api.
  bool is_api_path(std::string_view raw_path) const;
  void add_standard_headers(const request& req, response& r) const;
  const router_options& options() const { return options_; }

private:
  struct route;
  struct match;
  bool find(const request& req, match& m, std::string& allowed) const;

  router_options options_;
  std::string csp_;      // "frame-ancestors 'none'; report-uri <base>hub/security/csp-report"
  std::string api_csp_;  // csp_ + "; default-src 'none'"
  std::vector<std::unique_ptr<route>> routes_;
  handler fallback_;
};

// For in-process callers: a request with `target` parsed. nullptr if the target is malformed.
request_ptr make_request(std::string_view method, std::string_view target, std::string body = {},
                         header_list headers = {});

}  // namespace hubd::core::http
