#include "core/rbac/intersect.hpp"

#include <algorithm>
#include <set>

namespace hubd::core::rbac {

namespace {

std::string_view server_owner(std::string_view server_value) {
  return server_value.substr(0, server_value.find('/'));
}

bool member_of_any(const membership_view& m, std::string_view user, std::span<const scope_filter> other) {
  for (const auto& g : other)
    if (g.kind == filter_kind::group && m.is_member(user, g.value)) return true;
  return false;
}

bool has_kind(std::span<const scope_filter> fs, filter_kind k) {
  return std::any_of(fs.begin(), fs.end(), [k](const scope_filter& f) { return f.kind == k; });
}

// Adds the cross-level matches of `x`'s user and server filters against `y` (one direction).
void cross_level(const scope_table* table, scope_id base, const scope_set& xs, const scope_set& ys,
                 const membership_view* m, scope_set& out, std::vector<std::string>* warnings, bool& warned) {
  auto x = xs.filters(base);
  auto y = ys.filters(base);
  const bool y_groups = has_kind(y, filter_kind::group);
  for (const auto& f : x) {
    if (f.kind != filter_kind::server && f.kind != filter_kind::user) continue;
    if (ys.has_filter(base, f.kind, f.value)) continue;  // already common
    std::string_view user = f.kind == filter_kind::server ? server_owner(f.value) : std::string_view(f.value);
    if (f.kind == filter_kind::server && ys.has_filter(base, filter_kind::user, user)) {
      out.add(base, f);
      continue;
    }
    if (!y_groups) continue;
    if (m) {
      if (member_of_any(*m, user, y)) out.add(base, f);
    } else if (warnings && !warned) {
      warned = true;
      warnings->push_back(table->name(base) + "[!" + std::string(to_string(f.kind)) + "=" + f.value +
                          ", !group=...] combinations of filters present without group membership access; "
                          "intersection between them not considered (may give less than intended)");
    }
  }
}

std::set<std::string> to_set(std::span<const std::string> v) { return {v.begin(), v.end()}; }

}  // namespace

std::vector<std::string> not_covered(const scope_table& table, const scope_set& granted, const scope_set& held,
                                     const membership_view* membership) {
  return difference(granted, intersect(granted, held, membership)).to_strings(table);
}

std::string grant_holder::describe() const {
  const char* k = kind == kind_t::user ? "user " : kind == kind_t::service ? "service " : "group ";
  return k + name;
}

std::optional<grant_refusal> check_grant(const scope_table& table, std::span<const std::string> raw,
                                         const grant_holder& holder, const scope_set& held,
                                         const membership_view* membership) {
  std::vector<principal_ref> reached;
  if (holder.kind == grant_holder::kind_t::user) reached.push_back(principal_ref::user(holder.name));
  else if (holder.kind == grant_holder::kind_t::service) reached.push_back(principal_ref::service(holder.name));
  else
    for (const auto& m : holder.members) reached.push_back(principal_ref::user(m));
  // Scope by scope, so the refusal names the role's own scope rather than one of its subscopes.
  for (const auto& s : raw) {
    raw_scope parsed = parse_scope(table, s);
    for (const auto& who : reached) {
      raw_scope r = parsed;
      if (r.bare && who.kind == principal_ref::kind_t::user) {
        if (r.kind == filter_kind::server) {
          r = raw_scope{r.base, filter_kind::user, false, who.name};
        } else if (r.kind == filter_kind::service) {
          // Bound to whichever service's client issues the token: as strong as the unfiltered scope.
          r = raw_scope{r.base, filter_kind::none, false, {}};
        }
      }
      auto granted = expand(table, std::span<const raw_scope>(&r, 1), who).scopes;
      auto missing = not_covered(table, granted, held, membership);
      if (!missing.empty()) return grant_refusal{s, missing.front(), (who.kind == principal_ref::kind_t::user ? "user " : "service ") + who.name};
    }
  }
  return std::nullopt;
}

scope_set intersect(const scope_set& a, const scope_set& b, const membership_view* membership) {
  return intersect(nullptr, a, b, membership, nullptr);
}

scope_set intersect(const scope_table* table, const scope_set& a, const scope_set& b,
                    const membership_view* membership, std::vector<std::string>* warnings) {
  scope_set out;
  bool warned = false;
  if (!table) warnings = nullptr;
  for (scope_id base : a.bases()) {
    if (!b.has_any(base)) continue;
    if (a.has_all(base) && b.has_all(base)) {
      out.add_all(base);
      continue;
    }
    if (a.has_all(base) || b.has_all(base)) {
      const scope_set& narrow = a.has_all(base) ? b : a;
      for (const auto& f : narrow.filters(base)) out.add(base, f);
      continue;
    }
    for (const auto& f : a.filters(base))
      if (b.has_filter(base, f.kind, f.value)) out.add(base, f);
    cross_level(table, base, a, b, membership, out, warnings, warned);
    cross_level(table, base, b, a, membership, out, warnings, warned);
  }
  return out;
}

token_resolution resolve_token(const scope_table& table, std::span<const std::string> stored,
                               const principal_ref& owner, const oauth_client_ref& client,
                               const scope_set& owner_scopes, const membership_view* membership) {
  token_resolution out;
  if (std::find(stored.begin(), stored.end(), "inherit") != stored.end()) {
    out.scopes = owner_scopes;
    return out;
  }
  expansion t = expand(table, stored, owner, client);
  out.warnings = std::move(t.warnings);
  t.scopes.merge(access_scopes(table, client));
  t.scopes.merge(identify_scopes(table, owner));
  out.scopes = intersect(&table, t.scopes, owner_scopes, membership, &out.warnings);
  out.discarded = difference(t.scopes, out.scopes).to_strings(table);
  if (!out.discarded.empty()) {
    std::string list;
    for (const auto& s : out.discarded) list += (list.empty() ? "" : ", ") + s;
    out.warnings.push_back("discarding scopes [" + list + "], not present in roles of owner " + owner.describe());
  }
  return out;
}

requested_resolution resolve_requested(const scope_table& table, std::span<const std::string> requested,
                                       std::span<const std::string> held, const principal_ref& owner,
                                       const oauth_client_ref& client, const membership_view* membership) {
  validate_scopes(table, requested);
  std::set<std::string> req = to_set(requested), have = to_set(held);
  std::set<std::string> allowed, disallowed;
  for (const auto& r : req) (have.count(r) ? allowed : disallowed).insert(r);
  if (disallowed.empty()) return {{allowed.begin(), allowed.end()}, {}};

  auto expand_strings = [&](const std::set<std::string>& s) {
    std::vector<std::string> v(s.begin(), s.end());
    return expand(table, std::span<const std::string>(v), owner, client).scopes;
  };
  scope_set expanded_allowed = expand_strings(allowed);
  const scope_set expanded_have = expand_strings(have);
  for (const auto& r : std::vector<std::string>(disallowed.begin(), disallowed.end())) {
    scope_set e = difference(expand_strings({r}), expanded_allowed);
    scope_set granted = e.empty() ? scope_set{} : intersect(e, expanded_have, membership);
    if (granted == e) {
      // Fully covered: keep the raw (possibly abbreviated) form such as `!server`.
      allowed.insert(r);
      disallowed.erase(r);
      expanded_allowed = expand_strings(allowed);
    } else if (!granted.empty()) {
      for (auto& s : granted.to_strings(table)) allowed.insert(std::move(s));
      expanded_allowed = expand_strings(allowed);
    }
  }
  return {{allowed.begin(), allowed.end()}, {disallowed.begin(), disallowed.end()}};
}

std::optional<std::string> check_token_scopes(const scope_table& table, std::span<const std::string> requested,
                                              const principal_ref& owner, const oauth_client_ref& client,
                                              const scope_set& owner_scopes, const membership_view* membership) {
  validate_scopes(table, requested);
  std::vector<std::string> rest;
  for (const auto& s : requested)
    if (s != "inherit") rest.push_back(s);
  if (rest.empty()) return std::nullopt;
  scope_set token = expand(table, std::span<const std::string>(rest), owner, client).scopes;
  if (token.empty()) return std::nullopt;
  scope_set excess = difference(token, intersect(token, owner_scopes, membership));
  if (excess.empty()) return std::nullopt;
  std::string list;
  for (const auto& s : excess.to_strings(table)) list += (list.empty() ? "" : ",") + s;
  return "Not assigning requested scopes " + list + " not held by " + owner.describe();
}

}  // namespace hubd::core::rbac
