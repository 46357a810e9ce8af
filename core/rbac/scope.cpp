#include "core/rbac/scope.hpp"

namespace hubd::core::rbac {

std::string_view to_string(filter_kind k) {
  switch (k) {
    case filter_kind::user: return "user";
    case filter_kind::group: return "group";
    case filter_kind::server: return "server";
    case filter_kind::service: return "service";
    case filter_kind::none: break;
  }
  return "";
}

std::string printable(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\'') {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::string single_quoted(std::string_view s) {
  // Built by appending: g++ 12 -O3 misreports `"'" + std::string&&` (-Wrestrict, GCC bug 105329).
  std::string out(1, '\'');
  out += printable(s);
  out += '\'';
  return out;
}

namespace {

std::string for_suffix(std::string_view who_for) {
  return who_for.empty() ? std::string() : " for " + std::string(who_for);
}

[[noreturn]] void bad_filter(std::string_view scope, std::string_view filter, std::string_view who_for,
                             std::string_view why) {
  throw scope_not_found("Scope filter '!" + printable(filter) + "' in scope '" + printable(scope) + "'" +
                        for_suffix(who_for) + " is not valid: " + std::string(why));
}

}  // namespace

raw_scope parse_scope(const scope_table& table, std::string_view scope, std::string_view who_for) {
  raw_scope out;
  auto bang = scope.find('!');
  std::string_view base = scope.substr(0, bang);
  auto sid = table.find(base);
  if (!sid) {
    if (base == "all")
      throw scope_not_found("Draft scope 'all' is now called 'inherit' (in '" + printable(scope) + "'" +
                            for_suffix(who_for) + ")");
    throw scope_not_found("Scope '" + printable(scope) + "'" + for_suffix(who_for) + " does not exist");
  }
  out.base = *sid;
  if (bang == std::string_view::npos) return out;
  std::string_view filter = scope.substr(bang + 1);
  auto eq = filter.find('=');
  std::string_view kind = filter.substr(0, eq);
  if (kind == "user") out.kind = filter_kind::user;
  else if (kind == "group") out.kind = filter_kind::group;
  else if (kind == "server") out.kind = filter_kind::server;
  else if (kind == "service") out.kind = filter_kind::service;
  else bad_filter(scope, filter, who_for, "the filter kind must be user, group, server or service");
  if (eq == std::string_view::npos) {
    if (out.kind == filter_kind::group) bad_filter(scope, filter, who_for, "'!group' needs a group name ('!group=NAME')");
    out.bare = true;
    return out;
  }
  std::string_view value = filter.substr(eq + 1);
  if (value.empty()) bad_filter(scope, filter, who_for, "the value after '=' is empty");
  if (out.kind == filter_kind::server) {
    auto slash = value.find('/');
    if (slash == std::string_view::npos || slash == 0)
      bad_filter(scope, filter, who_for, "a server filter is 'server=USER/SERVER' ('server=USER/' for the default server)");
  }
  out.value = std::string(value);
  return out;
}

void validate_scopes(const scope_table& table, std::span<const std::string> scopes, std::string_view who_for) {
  for (const auto& s : scopes) parse_scope(table, s, who_for);
}

std::string format_scope(const scope_table& table, const raw_scope& s) {
  std::string out = table.name(s.base);
  if (s.kind == filter_kind::none) return out;
  out += '!';
  out += to_string(s.kind);
  if (!s.bare) {
    out += '=';
    out += s.value;
  }
  return out;
}

}  // namespace hubd::core::rbac
