#include "core/http/access_log.hpp"

#include "core/http/redact.hpp"

#include <spdlog/spdlog.h>

#include <string>

namespace hubd::core::http {

namespace {
// A URL longer than this is cut in the access log, so that one request cannot add more than a few
// kilobytes to the log and the status, principal and duration stay on the line.
constexpr std::size_t max_logged_target_bytes = 1024;

void append_bounded_target(std::string_view target, std::string& out) {
  const std::size_t start = out.size();
  append_redacted_target(target, out);
  if (out.size() - start <= max_logged_target_bytes) return;
  std::size_t cut = start + max_logged_target_bytes;
  while (cut > start && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;  // UTF-8 boundary
  const std::size_t dropped = out.size() - cut;
  out.resize(cut);
  out += "...[" + std::to_string(dropped) + " bytes cut]";
}

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
  append_bounded_target(req.target, target);
  if (!location.empty()) {
    target.append(" -> ");
    append_bounded_target(location, target);
  }
  spdlog::log(level, "{} {} {} ({}@{}) {:.2f}ms", status, req.method, target, req.principal, req.remote_addr,
              duration_ms);
}

}  // namespace hubd::core::http
