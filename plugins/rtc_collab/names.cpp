#include "names.hpp"

#include <algorithm>
#include <cstdio>

namespace hubd::plugins::rtc {

std::optional<name_pattern> name_pattern::parse(std::string_view text, std::string_view placeholder, std::string& error) {
  const std::string token = "{" + std::string(placeholder) + "}";
  auto at = text.find(token);
  if (at == std::string_view::npos) {
    error = "must contain " + token;
    return std::nullopt;
  }
  if (text.find(token, at + 1) != std::string_view::npos) {
    error = "must contain " + token + " exactly once";
    return std::nullopt;
  }
  name_pattern p;
  p.prefix_ = std::string(text.substr(0, at));
  p.suffix_ = std::string(text.substr(at + token.size()));
  p.placeholder_ = std::string(placeholder);
  if (p.prefix_.find_first_of("{}") != std::string::npos || p.suffix_.find_first_of("{}") != std::string::npos) {
    error = "may contain no placeholder other than " + token;
    return std::nullopt;
  }
  return p;
}

std::optional<std::string> name_pattern::match(std::string_view name) const {
  if (name.size() <= prefix_.size() + suffix_.size()) return std::nullopt;
  if (name.substr(0, prefix_.size()) != prefix_) return std::nullopt;
  if (name.substr(name.size() - suffix_.size()) != suffix_) return std::nullopt;
  return std::string(name.substr(prefix_.size(), name.size() - prefix_.size() - suffix_.size()));
}

std::string substitute(std::string_view text, const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out(text);
  for (const auto& [key, value] : values) {
    const std::string token = "{" + key + "}";
    for (auto at = out.find(token); at != std::string::npos; at = out.find(token, at + value.size()))
      out.replace(at, token.size(), value);
  }
  return out;
}

std::optional<std::string> unknown_placeholder(std::string_view text, const std::vector<std::string>& allowed) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}') return std::string("}");
    if (text[i] != '{') continue;
    auto end = text.find('}', i);
    if (end == std::string_view::npos) return std::string("{");
    std::string word(text.substr(i + 1, end - i - 1));
    if (std::find(allowed.begin(), allowed.end(), word) == allowed.end()) return "{" + word + "}";
    i = end;
  }
  return std::nullopt;
}

std::optional<std::string> username_problem(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name.size() > 255) return "it is longer than 255 characters";
  for (unsigned char c : name) {
    if (c >= 'A' && c <= 'Z') return "it has upper-case letters (hubd lower-cases user names)";
    if (c == '/') return "it contains '/'";
    if (c <= 0x20 || c == 0x7f) return "it contains white space or control characters";
  }
  return std::nullopt;
}

std::optional<std::string> role_name_problem(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return "a role name has 3 to 255 characters";
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!lower(name.front())) return "a role name starts with a lower-case letter";
  if (!lower(name.back()) && !digit(name.back())) return "a role name ends with a lower-case letter or a digit";
  for (char c : name)
    if (!lower(c) && !digit(c) && c != '-' && c != '_' && c != '~' && c != '.')
      return "a role name has only a-z 0-9 - _ ~ .";
  return std::nullopt;
}

std::optional<std::string> group_name_problem(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name.size() > 255) return "it is longer than 255 characters";
  for (unsigned char c : name) {
    if (c == '/') return "it contains '/'";
    if (c < 0x20 || c == 0x7f) return "it contains control characters";
  }
  return std::nullopt;
}

std::string path_segment(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                c == '.' || c == '~';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace hubd::plugins::rtc
