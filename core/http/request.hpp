#pragma once
// The request a handler sees. Light on purpose: handler files include this, not Beast.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hubd::core::http {

using query_map = std::multimap<std::string, std::string, std::less<>>;
using header_list = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup of the first header with this name.
std::optional<std::string_view> find_header(const header_list& headers, std::string_view name);

class request {
public:
  std::string method;        // upper case as received: "GET"
  std::string target;        // raw request target: "/hub/api/users?limit=2"
  std::string path;          // raw (still percent-encoded) path of the target
  std::string query_string;  // raw query, without '?'
  query_map query;           // decoded query arguments (repeated keys kept)
  header_list headers;       // as received, in order
  std::string body;
  std::string remote_addr;   // peer IP, "" for in-process dispatch
  bool is_tls = false;
  bool in_process = false;   // dispatched through router::dispatch without a socket

  // Filled by the router: decoded path parameters of the matched pattern.
  std::map<std::string, std::string, std::less<>> params;

  // Set by the handler (authn) so the access log can name who made the request.
  std::string principal;
  // The plugin an in-process internal API call acts for, attached before dispatch. Only the
  // internal API sets it: the HTTP server never does, so nothing on the wire can claim it.
  std::optional<std::string> plugin_principal;

  // Case-insensitive header lookup; first occurrence.
  std::optional<std::string_view> header(std::string_view name) const;
  // Value of the first cookie with this name in the Cookie header(s).
  std::optional<std::string_view> cookie(std::string_view name) const;
  // First decoded query argument with this name.
  std::optional<std::string_view> query_arg(std::string_view name) const;
  std::vector<std::string_view> query_args(std::string_view name) const;
  // Decoded path parameter; empty if the pattern has no such parameter.
  std::string_view param(std::string_view name) const;
  // Host header (or "" when absent).
  std::string_view host() const;

  // Splits `target` into path/query and decodes the query. False for a malformed target or a
  // query that does not decode to valid UTF-8 without NUL (the caller answers 400).
  bool parse_target();
};

using request_ptr = std::shared_ptr<request>;

}  // namespace hubd::core::http
