#include "core/app/log_line.hpp"

#include <catch2/catch.hpp>

#include <spdlog/details/log_msg.h>

#include <string>

using hubd::core::app::append_log_safe;
using hubd::core::app::is_log_safe;
using hubd::core::app::log_line_formatter;

namespace {
std::string safe(std::string_view s, std::size_t max = 4096) {
  std::string out;
  append_log_safe(s, max, out);
  return out;
}
std::string formatted(std::string_view payload, std::size_t max = 4096) {
  log_line_formatter f("[%L] %v", max);
  spdlog::details::log_msg msg("hubd", spdlog::level::warn, spdlog::string_view_t(payload.data(), payload.size()));
  spdlog::memory_buf_t buf;
  f.format(msg, buf);
  return std::string(buf.data(), buf.size());
}
}  // namespace

TEST_CASE("text without control characters passes unchanged, UTF-8 included") {
  CHECK(safe("alice logged in") == "alice logged in");
  CHECK(safe("élise, 東京, 🙂") == "élise, 東京, 🙂");
  CHECK(is_log_safe("élise", 100));
  CHECK(formatted("plain") == "[W] plain\n");
}

TEST_CASE("a newline or carriage return in a value cannot start a forged line") {
  const std::string forged = "x\n[I 2026-12-04 10:00:00.000 hubd] admin logged in\r";
  CHECK(safe(forged) == "x\\n[I 2026-12-04 10:00:00.000 hubd] admin logged in\\r");
  const std::string line = formatted(forged);
  CHECK(line == "[W] x\\n[I 2026-12-04 10:00:00.000 hubd] admin logged in\\r\n");
  CHECK(line.find('\n') == line.size() - 1);
  CHECK_FALSE(is_log_safe(forged, 4096));
}

TEST_CASE("other controls, terminal escapes, C1 controls and Unicode line separators are escaped") {
  CHECK(safe(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(safe("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m");
  CHECK(safe("tab\there\x7f") == "tab\\there\\x7f");
  CHECK(safe("nel\xc2\x85 csi\xc2\x9b") == "nel\\u0085 csi\\u009b");
  CHECK(safe("ls\xe2\x80\xa8ps\xe2\x80\xa9") == "ls\\u2028ps\\u2029");
  CHECK(safe("\xc2\xa0") == "\xc2\xa0");  // no-break space is printable
}

TEST_CASE("invalid UTF-8 is copied byte by byte and never swallows what follows") {
  CHECK(safe("\xe2\n") == "\xe2\\n");
  CHECK(safe("\xff\x80ok") == "\xff\x80ok");
  CHECK(safe("\xf0\x9f") == "\xf0\x9f");
}

TEST_CASE("a long message is cut at a character boundary and says how much was cut") {
  const std::string big(2 * 1024 * 1024, 'n');
  const std::string out = safe(big, 4096);
  CHECK(out.size() < 4096 + 40);
  CHECK(out.substr(0, 4096) == std::string(4096, 'n'));
  CHECK(out.substr(4096) == "... [" + std::to_string(big.size() - 4096) + " bytes cut]");

  // 'é' is two bytes: a cut falling inside one keeps the whole character out.
  std::string accents;
  for (int i = 0; i < 10; ++i) accents += "é";
  CHECK(safe(accents, 5) == "éé... [16 bytes cut]");

  // Escapes count towards the limit.
  CHECK(safe("\n\n\n", 5) == "\\n\\n... [1 bytes cut]");
  CHECK(formatted(big).size() < 4096 + 60);
}

TEST_CASE("the formatter's clone keeps the pattern and the limit") {
  log_line_formatter f("<%v>", 3);
  auto c = f.clone();
  spdlog::details::log_msg msg("hubd", spdlog::level::info, "abcdef");
  spdlog::memory_buf_t buf;
  c->format(msg, buf);
  CHECK(std::string(buf.data(), buf.size()) == "<abc... [3 bytes cut]>\n");
}
