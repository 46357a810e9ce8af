#pragma once
// Cookie header parsing and Set-Cookie building (RFC 6265).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hubd::core::http {

// All (name, value) pairs of one Cookie header, in order; quotes around a value are removed.
std::vector<std::pair<std::string_view, std::string_view>> parse_cookie_header(std::string_view header);
// First cookie with that name in one Cookie header.
std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name);

struct cookie_options {
  std::string path = "/";
  std::string domain;      // empty: host-only
  bool http_only = true;   // every hub cookie is HttpOnly
  bool secure = false;
  std::string same_site;   // "", "Lax", "Strict" or "None"
  std::optional<std::chrono::seconds> max_age;
  std::optional<std::chrono::system_clock::time_point> expires;
};

// The value of a Set-Cookie header. Throws std::invalid_argument for a name or value that a
// cookie cannot carry (callers sign or encode values first).
std::string set_cookie_header(std::string_view name, std::string_view value, const cookie_options& options);
// A Set-Cookie that removes the cookie: empty value, Max-Age=0 and an Expires in the past.
// Path and domain must be the ones it was set with.
std::string clear_cookie_header(std::string_view name, const cookie_options& options);

// "Thu, 01 Jan 1970 00:00:00 GMT"
std::string http_date(std::chrono::system_clock::time_point t);

}  // namespace hubd::core::http
