#include "core/http/redact.hpp"

#include <array>

namespace hubd::core::http {

namespace {
constexpr std::array<std::string_view, 6> secret_keys{"token", "auth", "key", "code", "state", "_xsrf"};

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    bool match = true;
    for (std::size_t k = 0; k < needle.size() && match; ++k) {
      char c = hay[i + k];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      match = c == needle[k];
    }
    if (match) return true;
  }
  return false;
}
}  // namespace

void append_redacted_target(std::string_view target, std::string& out) {
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  if (path.find("/api/authorizations/token/") != std::string_view::npos ||
      path.find("/api/authorizations/cookie/") != std::string_view::npos) {
    out.append(path.substr(0, path.rfind('/') + 1)).append("[secret]");
  } else {
    out.append(path);
  }
  if (q == std::string_view::npos) return;
  out.push_back('?');
  bool first = true;
  while (true) {
    auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    if (!first) out.push_back('&');
    first = false;
    auto eq = part.find('=');
    bool secret = false;
    if (eq != std::string_view::npos) {
      for (auto k : secret_keys) secret = secret || icontains(part.substr(0, eq), k);
    }
    if (secret) {
      out.append(part.substr(0, eq)).append("=[secret]");
    } else {
      out.append(part);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

std::string redact_target(std::string_view target) {
  std::string out;
  out.reserve(target.size() + 8);
  append_redacted_target(target, out);
  return out;
}

}  // namespace hubd::core::http
