#include "core/model/timestamp.hpp"

#include <catch2/catch.hpp>

using namespace hubd::core::model;
using namespace std::chrono;

TEST_CASE("format: UTC with Z, fractional seconds only when not zero") {
  const auto t = time_point_cast<microseconds>(sys_days{2024y / 5 / 1} + 12h + 3min + 4s);
  CHECK(format_iso8601(t) == "2024-05-01T12:03:04Z");
  CHECK(format_iso8601(t + 250ms) == "2024-05-01T12:03:04.250000Z");
  CHECK(format_iso8601(t + 1us) == "2024-05-01T12:03:04.000001Z");
  CHECK(format_iso8601(hubd::core::model::time_point{}) == "1970-01-01T00:00:00Z");
}

TEST_CASE("parse: Z, offsets, naive as UTC, fractions, date only") {
  const auto t = time_point_cast<microseconds>(sys_days{2024y / 5 / 1} + 12h);
  CHECK(parse_iso8601("2024-05-01T12:00:00Z") == t);
  CHECK(parse_iso8601("2024-05-01T12:00:00") == t);
  CHECK(parse_iso8601("2024-05-01T14:00:00+02:00") == t);
  CHECK(parse_iso8601("2024-05-01T07:30:00-0430") == t);
  CHECK(parse_iso8601("2024-05-01T12:00:00.5Z") == t + 500ms);
  CHECK(parse_iso8601("2024-05-01T12:00:00.123456789Z") == t + 123456us);
  CHECK(parse_iso8601("2024-05-01 12:00:00") == t);
  CHECK(parse_iso8601("2024-05-01T12:00Z") == t);
  CHECK(parse_iso8601("2024-05-01") == t - 12h);
  CHECK(parse_iso8601(format_iso8601(t + 7us)) == t + 7us);
}

TEST_CASE("parse rejects what is not ISO 8601") {
  for (const char* bad : {"", "yesterday", "2024-13-01T00:00:00Z", "2024-02-30", "2024-05-01T25:00:00Z",
                          "2024-05-01T12:00:00ZZ", "2024-05-01T12:00:00+2", "2024-05-01T12:00:00.Z", "2024/05/01"})
    CHECK_FALSE(parse_iso8601(bad));
}
