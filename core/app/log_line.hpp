#pragma once
// What reaches hubd's log is bounded and cannot forge lines: every message (hubd's own, a plugin's,
// an access-log line) passes through one formatter that escapes control characters and cuts the
// message at a limit. Values a client controls (names, URLs, report bodies) are logged as they came,
// so this is the one place that makes them safe, instead of every call site.
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace hubd::core::app {

// A message longer than this (after escaping) is cut and says how much was cut.
inline constexpr std::size_t max_log_message_bytes = 4096;

// Appends `message` to `out` with C0 and C1 control characters, DEL and the Unicode line and
// paragraph separators escaped (\n, \r, \t, \xNN, \uNNNN), cut at a UTF-8 character boundary so
// that the result is at most `max_bytes` plus the "... [N bytes cut]" marker.
void append_log_safe(std::string_view message, std::size_t max_bytes, std::string& out);
// Whether append_log_safe would copy `message` unchanged (the common case, formatted without a copy).
bool is_log_safe(std::string_view message, std::size_t max_bytes);

// spdlog formatter: `pattern` (spdlog syntax) applied to the escaped and bounded message.
class log_line_formatter final : public spdlog::formatter {
public:
  explicit log_line_formatter(std::string pattern, std::size_t max_bytes = max_log_message_bytes);
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

private:
  std::string pattern_;
  std::size_t max_bytes_;
  spdlog::pattern_formatter inner_;
};

}  // namespace hubd::core::app
