#pragma once
// The access log: one line per request, as JupyterHub writes it:
//   "200 GET /hub/api/user (alice@127.0.0.1) 0.42ms"
// 5xx at error, 4xx at warning, 2xx/3xx at info (debug for health checks and static files).
#include "core/http/request.hpp"

#include <string_view>

namespace hubd::core::http {

// Secrets in the URL are redacted. `location` (redirects) is appended as " -> <location>".
// Costs nothing when the level is disabled; otherwise formats into a reused per-thread buffer.
void log_access(const request& req, int status, double duration_ms, std::string_view location = {});

}  // namespace hubd::core::http
