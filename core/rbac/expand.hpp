#pragma once
// From raw scopes to an expanded set: subscope closure carrying each filter
// (a server filter drops `read:user*` children), bare filters bound to the owner or the
// issuing OAuth client, `self` replaced by the owner's self set, then reduced.
#include "core/rbac/scope_set.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::rbac {

// Who holds the scopes: binds `self`, `!user` and `!service`.
struct principal_ref {
  enum class kind_t : std::uint8_t { none, user, service };
  kind_t kind = kind_t::none;
  std::string name;

  static principal_ref none() { return {}; }
  static principal_ref user(std::string n) { return {kind_t::user, std::move(n)}; }
  static principal_ref service(std::string n) { return {kind_t::service, std::move(n)}; }
  std::string describe() const;  // "User alice", "Service s", "nobody"
};

// The OAuth client that issued a token: binds `!server` (a server's client) and `!service`.
// `hub` is the `jupyterhub` client: no binding and no access scope.
struct oauth_client_ref {
  enum class kind_t : std::uint8_t { hub, server, service };
  kind_t kind = kind_t::hub;
  std::string user;  // server: its owner
  std::string name;  // server: server name ('' = default); service: service name

  static oauth_client_ref hub() { return {}; }
  static oauth_client_ref server(std::string u, std::string s) { return {kind_t::server, std::move(u), std::move(s)}; }
  static oauth_client_ref service(std::string n) { return {kind_t::service, {}, std::move(n)}; }
};

// Warnings are returned, never logged here: the caller logs them.
struct expansion {
  scope_set scopes;
  std::vector<std::string> warnings;
};

// Throws scope_not_found for an unknown scope or malformed filter.
expansion expand(const scope_table& table, std::span<const std::string> raw, const principal_ref& owner,
                 const oauth_client_ref& client = {});
// Same on already-parsed scopes (roles parse once, then expand on every request).
expansion expand(const scope_table& table, std::span<const raw_scope> raw, const principal_ref& owner,
                 const oauth_client_ref& client = {});
std::vector<raw_scope> parse_scopes(const scope_table& table, std::span<const std::string> raw,
                                    std::string_view who_for = {});

// The owner's self set (15 scopes with `!user=U`); empty for services and nobody.
scope_set self_scopes(const scope_table& table, const principal_ref& owner);
// Identify scopes: always granted on whoami and always requested in OAuth.
scope_set identify_scopes(const scope_table& table, const principal_ref& owner);
// The raw form: `read:users:name!user`, `read:users:groups!user`.
std::vector<std::string> raw_identify_scopes();
// The scope needed to use an OAuth client: `access:servers!server=U/S` or
// `access:services!service=N`; empty for the hub client.
scope_set access_scopes(const scope_table& table, const oauth_client_ref& client);
std::string access_scope_string(const oauth_client_ref& client);

// Share scopes: every scope is forced to `!server=OWNER/NAME`. Unfiltered, bare `!server` and
// that exact server filter are accepted; any other filter throws scope_not_found (HTTP 400).
// Returns the raw strings to store, each `base!server=OWNER/NAME`.
std::vector<std::string> normalize_share_scopes(const scope_table& table, std::span<const std::string> raw,
                                                std::string_view owner, std::string_view server_name);
// The expanded set a share grants its recipients.
scope_set expand_share_scopes(const scope_table& table, std::span<const std::string> raw, std::string_view owner,
                              std::string_view server_name);

// Literal set difference: entries of a not literally in b (b holding a base ALL does not remove a's
// filtered entries, as with upstream's string sets).
scope_set difference(const scope_set& a, const scope_set& b);

}  // namespace hubd::core::rbac
