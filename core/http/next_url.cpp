#include "core/http/next_url.hpp"

#include "core/http/url_codec.hpp"

namespace hubd::core::http {

namespace {
bool has_control_or_backslash(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') return true;
  }
  return false;
}

bool is_scheme_char(char c, bool first) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (first) return alpha;
  return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

// Length of a leading "scheme:" (0 if none).
std::size_t scheme_length(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ':') return i;
    if (!is_scheme_char(s[i], i == 0)) return 0;
  }
  return 0;
}

bool has_dot_segment(std::string_view path) {
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    auto slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    if (seg == "." || seg == "..") return true;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return false;
}
}  // namespace

std::string validate_next_url(std::string_view next, std::string_view base_url, std::string_view host,
                              std::string_view scheme) {
  if (next.empty() || has_control_or_backslash(next)) return {};
  std::string_view rest = next;
  std::size_t slen = scheme_length(rest);
  if (slen > 0 || rest.substr(0, 2) == "//") {
    if (slen > 0) {
      if (!iequals(rest.substr(0, slen), scheme)) return {};
      rest.remove_prefix(slen + 1);
      if (rest.substr(0, 2) != "//") return {};  // "javascript:...", "http:/x"
    }
    rest.remove_prefix(2);
    auto end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, end);
    if (host.empty() || !iequals(authority, host)) return {};
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    if (rest.empty()) return std::string(base_url);
    if (rest.front() != '/') return std::string(base_url) + std::string(rest);
  }
  if (rest.empty() || rest.front() != '/' || rest.substr(0, 2) == "//") return {};
  std::string_view path = rest.substr(0, rest.find_first_of("?#"));
  std::string decoded;
  if (!percent_decode(path, decoded, false)) return {};
  if (has_control_or_backslash(decoded) || decoded.substr(0, 2) == "//" || has_dot_segment(decoded) ||
      has_dot_segment(path))
    return {};
  // under the base URL: "/base/..." or exactly "/base"
  std::string_view base = base_url;
  if (base.empty()) base = "/";
  bool under = path.substr(0, base.size()) == base ||
               (base.size() > 1 && base.back() == '/' && path == base.substr(0, base.size() - 1));
  if (!under) return {};
  return std::string(rest);
}

}  // namespace hubd::core::http
