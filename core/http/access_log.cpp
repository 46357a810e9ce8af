#include "core/http/access_log.hpp"

#include "core/http/redact.hpp"

#include <spdlog/spdlog.h>

#include <string>

namespace hubd::core::http {

namespace {
bool is_quiet_path(std::string_view path) {
  auto ends_with = [&](std::string_view s) {
    return path.size() >= s.size() && path.substr(path.size() - s.size()) == s;
  };
  return ends_with("/health") || ends_with("/health/") || path.find("/static/") != std::string_view::npos;
}
}  // namespace

void log_access(const request& req, int status, double duration_ms, std::string_view location) {
  spdlog::level::level_enum level;
  if (status >= 500) level = spdlog::level::err;
  else if (status >= 400) level = spdlog::level::warn;
  else if (status < 300 && is_quiet_path(req.path)) level = spdlog::level::debug;
  else level = spdlog::level::info;
  if (!spdlog::should_log(level)) return;
  thread_local std::string target;
  target.clear();
  append_redacted_target(req.target, target);
  if (!location.empty()) {
    target.append(" -> ");
    append_redacted_target(location, target);
  }
  spdlog::log(level, "{} {} {} ({}@{}) {:.2f}ms", status, req.method, target, req.principal, req.remote_addr,
              duration_ms);
}

}  // namespace hubd::core::http
