#pragma once
// Filter-aware intersection and what is built on it: token resolution, the
// lenient requested ⊆ held resolution of OAuth and server tokens and the strict token
// creation check.
#include "core/rbac/expand.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::rbac {

// Live group membership, implemented by the model. Passing nullptr means "no database access":
// user-or-server ↔ group pairs are then never matched (less than intended, never more).
struct membership_view {
  virtual ~membership_view() = default;
  virtual bool is_member(std::string_view user, std::string_view group) const = 0;
};

// Symmetric; a subset of both sides.
scope_set intersect(const scope_set& a, const scope_set& b, const membership_view* membership);
// Same, also reporting user/server ↔ group pairs skipped for lack of membership access (the table
// names the scope in the warning).
scope_set intersect(const scope_table* table, const scope_set& a, const scope_set& b,
                    const membership_view* membership, std::vector<std::string>* warnings);

// No escalation: the scopes of `granted` that `held` does not cover, as strings
// (empty when a granter holding `held` may hand out `granted`). Filter-aware like intersect():
// `read:users` covers `read:users!user=bob`, and `!group=g` covers `!user=u` when u is in g.
std::vector<std::string> not_covered(const scope_table& table, const scope_set& granted, const scope_set& held,
                                     const membership_view* membership);

// Whom a role grant reaches: a user, a service, or every current member of a group (a group's role
// takes effect for each member, with bare filters bound to that member).
struct grant_holder {
  enum class kind_t : std::uint8_t { user, service, group };
  kind_t kind = kind_t::user;
  std::string name;
  std::vector<std::string> members;  // group: its current members

  static grant_holder user(std::string n) { return {kind_t::user, std::move(n), {}}; }
  static grant_holder service(std::string n) { return {kind_t::service, std::move(n), {}}; }
  static grant_holder group(std::string n, std::vector<std::string> m) { return {kind_t::group, std::move(n), std::move(m)}; }
  std::string describe() const;  // "user alice", "service s", "group g"
};

struct grant_refusal {
  std::string scope;    // the role's own raw scope
  std::string missing;  // the first expanded scope the granter does not hold
  std::string reached;  // "user bob" (for a group: the member), "service s"
};

// No escalation for a role grant: nullopt when a granter holding `held` may give the role scopes `raw`
// to `holder`. Bare filters are bound to every principal the grant reaches (each member of a group),
// and a bare `!server` of a user to all of that user's servers (`!user=U`), since any of them may
// issue the tokens it binds to; an unbound bare filter would otherwise be checked as nothing and
// then grant something at use. Throws scope_not_found for a bad scope.
std::optional<grant_refusal> check_grant(const scope_table& table, std::span<const std::string> raw,
                                         const grant_holder& holder, const scope_set& held,
                                         const membership_view* membership);

struct token_resolution {
  scope_set scopes;
  std::vector<std::string> discarded;  // token scopes the owner does not hold (sorted strings)
  std::vector<std::string> warnings;   // from expansion and from discarding; the caller logs them
};

// What a token may do now. `owner_scopes` is the owner's current expanded set (roles and
// shares). Throws scope_not_found if the stored scopes are no longer valid (e.g. a custom scope gone).
token_resolution resolve_token(const scope_table& table, std::span<const std::string> stored,
                               const principal_ref& owner, const oauth_client_ref& client,
                               const scope_set& owner_scopes, const membership_view* membership);

struct requested_resolution {
  std::vector<std::string> allowed;     // raw or expanded strings, sorted
  std::vector<std::string> disallowed;  // requested raw scopes not fully granted, sorted
};

// Lenient: raw requested scopes against raw held scopes for an OAuth request or a server
// token. Throws scope_not_found for unknown requested scopes.
requested_resolution resolve_requested(const scope_table& table, std::span<const std::string> requested,
                                       std::span<const std::string> held, const principal_ref& owner,
                                       const oauth_client_ref& client, const membership_view* membership);

// Strict: nullopt when a new API token may carry `requested`; otherwise the HTTP 400 message
// "Not assigning requested scopes ... not held by User alice". Throws scope_not_found for bad scopes.
std::optional<std::string> check_token_scopes(const scope_table& table, std::span<const std::string> requested,
                                              const principal_ref& owner, const oauth_client_ref& client,
                                              const scope_set& owner_scopes, const membership_view* membership);

}  // namespace hubd::core::rbac
