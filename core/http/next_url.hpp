#pragma once
// Validation of `next` redirect targets (login, logout, spawn): only local paths under the hub's
// base URL. An absolute URL naming our own scheme and host is reduced to its path.
#include <string>
#include <string_view>

namespace hubd::core::http {

// The safe local URL (path[?query][#fragment]) or "" when `next` must be ignored.
// `host` is what the client used (Host header, with port), `scheme` "http" or "https".
// Rejected: other hosts, scheme-relative "//host" (any number of slashes), backslashes ("\\host",
// "/\host"), control characters, encoded slashes or backslashes that decode to "//" or "/\" at
// the start, dot segments ("/hub/../x", also encoded), and paths outside `base_url`.
std::string validate_next_url(std::string_view next, std::string_view base_url, std::string_view host,
                              std::string_view scheme);

}  // namespace hubd::core::http
