#include "core/app/log_line.hpp"

#include <cstdio>
#include <string>
#include <utility>

namespace hubd::core::app {

namespace {

// Length of the UTF-8 sequence starting with byte b (1 for a stray continuation or invalid byte, so
// that it is copied alone and never swallows the next character).
std::size_t sequence_length(unsigned char b) {
  if (b >= 0xf0 && b <= 0xf4) return 4;
  if (b >= 0xe0) return b <= 0xef ? 3 : 1;
  if (b >= 0xc2) return 2;
  return 1;
}

// The escaped form of the character at the front of `rest`, or an empty view when it is copied as
// it is; `len` is how many bytes of `rest` it covers.
std::string_view escape_of(std::string_view rest, std::size_t& len, char (&buf)[8]) {
  const auto b = static_cast<unsigned char>(rest[0]);
  len = sequence_length(b);
  if (len > rest.size()) len = 1;
  if (b < 0x20 || b == 0x7f) {
    switch (b) {
      case '\n': return "\\n";
      case '\r': return "\\r";
      case '\t': return "\\t";
      default: return {buf, static_cast<std::size_t>(std::snprintf(buf, sizeof buf, "\\x%02x", b))};
    }
  }
  if (len == 2 && b == 0xc2 && static_cast<unsigned char>(rest[1]) <= 0x9f)  // C1 controls, NEL among them
    return {buf, static_cast<std::size_t>(std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(rest[1])))};
  if (len == 3 && b == 0xe2 && rest[1] == '\x80' && (rest[2] == '\xa8' || rest[2] == '\xa9'))
    return rest[2] == '\xa8' ? "\\u2028" : "\\u2029";
  return {};
}

}  // namespace

bool is_log_safe(std::string_view message, std::size_t max_bytes) {
  if (message.size() > max_bytes) return false;
  char buf[8];
  for (std::size_t i = 0, len = 0; i < message.size(); i += len)
    if (!escape_of(message.substr(i), len, buf).empty()) return false;
  return true;
}

void append_log_safe(std::string_view message, std::size_t max_bytes, std::string& out) {
  const std::size_t start = out.size();
  char buf[8];
  for (std::size_t i = 0, len = 0; i < message.size(); i += len) {
    std::string_view rest = message.substr(i);
    std::string_view escaped = escape_of(rest, len, buf);
    std::string_view piece = escaped.empty() ? rest.substr(0, len) : escaped;
    if (out.size() - start + piece.size() > max_bytes) {
      out += "... [";
      out += std::to_string(message.size() - i);
      out += " bytes cut]";
      return;
    }
    out += piece;
  }
}

log_line_formatter::log_line_formatter(std::string pattern, std::size_t max_bytes)
    : pattern_(std::move(pattern)), max_bytes_(max_bytes), inner_(pattern_) {}

void log_line_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  if (is_log_safe(payload, max_bytes_)) return inner_.format(msg, dest);
  thread_local std::string safe;
  safe.clear();
  append_log_safe(payload, max_bytes_, safe);
  spdlog::details::log_msg copy = msg;
  copy.payload = spdlog::string_view_t(safe.data(), safe.size());
  inner_.format(copy, dest);
}

std::unique_ptr<spdlog::formatter> log_line_formatter::clone() const {
  return std::make_unique<log_line_formatter>(pattern_, max_bytes_);
}

}  // namespace hubd::core::app
