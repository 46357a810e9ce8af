#pragma once
// One scope string: `base` or `base!filter`. Parsing validates against a scope_table and
// throws scope_not_found with a message naming the scope, as JupyterHub's ScopeNotFound does.
#include "core/rbac/scope_table.hpp"

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::rbac {

enum class filter_kind : std::uint8_t { none, user, group, server, service };

std::string_view to_string(filter_kind k);

// Unknown scope, malformed filter, or the draft name `all`. A startup error for config, HTTP 400 for API.
class scope_not_found : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

// A raw scope as written in config or requests: it may carry a bare filter (`!user`).
struct raw_scope {
  scope_id base = 0;
  filter_kind kind = filter_kind::none;
  bool bare = false;   // `!user`, `!server`, `!service` without a value
  std::string value;   // for `server`: "USER/SERVER" (SERVER may be empty: the default server)
};

// Throws scope_not_found. `who_for` ("role 'x'", "token") is added to the message when non-empty.
raw_scope parse_scope(const scope_table& table, std::string_view scope, std::string_view who_for = {});

// Validates every scope; throws at the first bad one.
void validate_scopes(const scope_table& table, std::span<const std::string> scopes, std::string_view who_for = {});

// For error messages: control bytes and quotes shown as \xNN, so a message is one readable line
// (and survives what()'s NUL termination).
std::string printable(std::string_view s);
// 'printable(s)'
std::string single_quoted(std::string_view s);

// Back to `base[!kind[=value]]`.
std::string format_scope(const scope_table& table, const raw_scope& s);

}  // namespace hubd::core::rbac
