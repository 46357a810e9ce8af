#include "core/http/cookies.hpp"

#include <ctime>
#include <stdexcept>

namespace hubd::core::http {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  switch (c) {
    case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':': case '\\':
    case '"': case '/': case '[': case ']': case '?': case '=': case '{': case '}':
      return false;
    default:
      return true;
  }
}

bool is_cookie_octet(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A) || (u >= 0x3C && u <= 0x5B) ||
         (u >= 0x5D && u <= 0x7E);
}

bool is_attribute_text(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ';') return false;
  }
  return true;
}
}  // namespace

std::vector<std::pair<std::string_view, std::string_view>> parse_cookie_header(std::string_view header) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view chunk = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    auto eq = chunk.find('=');
    if (eq == std::string_view::npos) continue;  // browsers send "name" alone rarely; skip it
    std::string_view name = trim(chunk.substr(0, eq));
    std::string_view value = trim(chunk.substr(eq + 1));
    if (name.empty()) continue;
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    out.emplace_back(name, value);
  }
  return out;
}

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view chunk = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    auto eq = chunk.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(chunk.substr(0, eq)) != name) continue;
    std::string_view value = trim(chunk.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
  return std::nullopt;
}

std::string http_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string set_cookie_header(std::string_view name, std::string_view value, const cookie_options& options) {
  if (name.empty()) throw std::invalid_argument("cookie name is empty");
  for (char c : name) {
    if (!is_token_char(c)) throw std::invalid_argument("cookie name has a character a cookie cannot carry");
  }
  for (char c : value) {
    if (!is_cookie_octet(c)) throw std::invalid_argument("cookie value has a character a cookie cannot carry");
  }
  if (!is_attribute_text(options.path) || !is_attribute_text(options.domain) || !is_attribute_text(options.same_site))
    throw std::invalid_argument("cookie attribute has a control character or ';'");
  std::string out;
  out.reserve(name.size() + value.size() + 96);
  out.append(name).append("=").append(value);
  if (!options.domain.empty()) out.append("; Domain=").append(options.domain);
  if (options.expires) out.append("; expires=").append(http_date(*options.expires));
  if (options.max_age) out.append("; Max-Age=").append(std::to_string(options.max_age->count()));
  if (!options.path.empty()) out.append("; Path=").append(options.path);
  if (!options.same_site.empty()) out.append("; SameSite=").append(options.same_site);
  if (options.secure) out.append("; Secure");
  if (options.http_only) out.append("; HttpOnly");
  return out;
}

std::string clear_cookie_header(std::string_view name, const cookie_options& options) {
  cookie_options o = options;
  o.max_age = std::chrono::seconds(0);
  o.expires = std::chrono::system_clock::time_point{};
  return set_cookie_header(name, "", o);
}

}  // namespace hubd::core::http
