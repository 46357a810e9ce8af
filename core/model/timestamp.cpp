#include "core/model/timestamp.hpp"

#include <cctype>
#include <cstdio>

namespace hubd::core::model {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

time_point now() { return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()); }

std::string format_iso8601(time_point t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  // Written digit by digit: list endpoints format two timestamps per row, and snprintf showed up in
  // their profiles.
  char buf[32];
  std::size_t n = 0;
  auto put = [&](long long v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buf[n + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    n += static_cast<std::size_t>(width);
  };
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return "0000-01-01T00:00:00Z";  // outside ISO 8601's basic range
  put(year, 4);
  buf[n++] = '-';
  put(static_cast<unsigned>(ymd.month()), 2);
  buf[n++] = '-';
  put(static_cast<unsigned>(ymd.day()), 2);
  buf[n++] = 'T';
  put(hms.hours().count(), 2);
  buf[n++] = ':';
  put(hms.minutes().count(), 2);
  buf[n++] = ':';
  put(hms.seconds().count(), 2);
  if (const long long micros = hms.subseconds().count(); micros != 0) {
    buf[n++] = '.';
    put(micros, 6);
  }
  buf[n++] = 'Z';
  return std::string(buf, n);
}

std::optional<time_point> parse_iso8601(std::string_view s) {
  using namespace std::chrono;
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' || !digits(s, 8, 2, d))
    return std::nullopt;
  std::size_t pos = 10;
  long long micros = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    if (!digits(s, pos + 1, 2, h) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, mi))
      return std::nullopt;
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!digits(s, pos + 1, 2, sec)) return std::nullopt;
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        int nd = 0;
        long long scale = 100000;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
          if (nd < 6) micros += (s[pos] - '0') * scale, scale /= 10;
          ++nd, ++pos;
        }
        if (nd == 0) return std::nullopt;
      }
    }
  }
  long long offset_minutes = 0;
  if (pos < s.size()) {
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!digits(s, pos + 1, 2, oh)) return std::nullopt;
      std::size_t p = pos + 3;
      if (p < s.size() && s[p] == ':') ++p;
      if (p < s.size() && !digits(s, p, 2, om)) return std::nullopt;
      if (p < s.size()) p += 2;
      if (p != s.size() || oh > 23 || om > 59) return std::nullopt;
      offset_minutes = sign * (oh * 60 + om);
      pos = s.size();
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const auto t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + microseconds{micros} - minutes{offset_minutes};
  return time_point_cast<microseconds>(t);
}

}  // namespace hubd::core::model
