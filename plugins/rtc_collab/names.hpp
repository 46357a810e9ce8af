#pragma once
// Name patterns and name rules of the RTC plugin. Pure: no I/O, no host.
//
// A pattern is text with exactly one placeholder ("collab-{name}", "server_sharing_{user}"): it maps a
// value to a name and, because the placeholder is unique, a name back to its value. The name rules are
// hubd's (JupyterHub's role name rule for roles, login_pipeline's normalization for users), checked before anything is
// created so that a bad collaboration name fails alone, with a message, and leaves nothing behind.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::plugins::rtc {

class name_pattern {
public:
  name_pattern() = default;
  // Parses text holding exactly one `{placeholder}`; any other brace is an error. On failure returns
  // nullopt and sets error (without the key name: the caller prefixes it).
  static std::optional<name_pattern> parse(std::string_view text, std::string_view placeholder, std::string& error);

  std::string expand(std::string_view value) const { return prefix_ + std::string(value) + suffix_; }
  // The placeholder's value when name has this pattern's shape (a non-empty value), else nullopt.
  std::optional<std::string> match(std::string_view name) const;
  std::string text() const { return prefix_ + "{" + placeholder_ + "}" + suffix_; }
  bool has_fixed_part() const { return !prefix_.empty() || !suffix_.empty(); }

private:
  std::string prefix_, suffix_, placeholder_;
};

// Replaces `{key}` by its value for each (key, value); used for role scopes and descriptions.
std::string substitute(std::string_view text, const std::vector<std::pair<std::string, std::string>>& values);
// The first `{word}` in text whose word is not in allowed, or nullopt. Unbalanced braces are reported too.
std::optional<std::string> unknown_placeholder(std::string_view text, const std::vector<std::string>& allowed);

// Why name cannot be a hubd user name that logins and the API keep as is, or nullopt when it can.
// hubd lower-cases names at login and in the API, so an upper-case name would name another user.
std::optional<std::string> username_problem(std::string_view name);
// Why name is not a valid role name (3-255 characters, lower-case ASCII, first a letter,
// last a letter or digit, middle also - _ ~ .), or nullopt.
std::optional<std::string> role_name_problem(std::string_view name);
// Why name is not a valid group name (non-empty, no '/', no control characters), or nullopt.
std::optional<std::string> group_name_problem(std::string_view name);

// name as one URL path segment (RFC 3986 unreserved characters kept, everything else percent-encoded).
std::string path_segment(std::string_view name);

}  // namespace hubd::plugins::rtc
