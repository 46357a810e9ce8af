#include "core/rbac/expand.hpp"

namespace hubd::core::rbac {

std::string principal_ref::describe() const {
  switch (kind) {
    case kind_t::user: return "User " + name;
    case kind_t::service: return "Service " + name;
    case kind_t::none: break;
  }
  return "nobody";
}

std::vector<raw_scope> parse_scopes(const scope_table& table, std::span<const std::string> raw,
                                    std::string_view who_for) {
  std::vector<raw_scope> out;
  out.reserve(raw.size());
  for (const auto& s : raw) out.push_back(parse_scope(table, s, who_for));
  return out;
}

namespace {
void add_self_scopes(const scope_table& table, const std::string& user, scope_set& out);
}  // namespace

expansion expand(const scope_table& table, std::span<const std::string> raw, const principal_ref& owner,
                 const oauth_client_ref& client) {
  auto parsed = parse_scopes(table, raw);
  return expand(table, std::span<const raw_scope>(parsed), owner, client);
}

expansion expand(const scope_table& table, std::span<const raw_scope> raw, const principal_ref& owner,
                 const oauth_client_ref& client) {
  expansion out;
  out.scopes.reserve(table.size());
  const scope_id self_id = id(builtin::self);
  bool want_self = false;

  // Targets for bare filters; the OAuth client's binding wins over the owner's for !service.
  std::string user_target, service_target, server_target;
  if (owner.kind == principal_ref::kind_t::user) user_target = owner.name;
  if (owner.kind == principal_ref::kind_t::service) service_target = owner.name;
  if (client.kind == oauth_client_ref::kind_t::service) service_target = client.name;
  if (client.kind == oauth_client_ref::kind_t::server) server_target = client.user + "/" + client.name;

  for (const raw_scope& r : raw) {
    if (r.kind == filter_kind::none) {
      if (r.base == self_id) {
        want_self = true;
        continue;
      }
      for (scope_id c : table.closure(r.base))
        if (c != self_id) out.scopes.add_all(c);
        else want_self = true;
      continue;
    }
    const std::string* value = &r.value;
    if (r.bare) {
      const std::string& target = r.kind == filter_kind::user      ? user_target
                                  : r.kind == filter_kind::service ? service_target
                                                                   : server_target;
      if (target.empty()) {
        out.warnings.push_back("Not expanding !" + std::string(to_string(r.kind)) + " filter without target " +
                               std::string(to_string(r.kind)) + " in '" + format_scope(table, r) + "' for " +
                               owner.describe());
        continue;
      }
      value = &target;
    }
    const auto& closure = r.kind == filter_kind::server ? table.server_closure(r.base) : table.closure(r.base);
    for (scope_id c : closure) out.scopes.add(c, r.kind, *value);
  }

  if (want_self) {
    if (owner.kind == principal_ref::kind_t::user)
      add_self_scopes(table, owner.name, out.scopes);
    else
      out.warnings.push_back("Not expanding 'self' scope for owner " + owner.describe() + " which is not a User");
  }
  return out;
}

namespace {
void add_self_scopes(const scope_table& table, const std::string& user, scope_set& out) {
  static constexpr builtin roots[] = {builtin::read_users,     builtin::users_shares, builtin::read_shares,
                                      builtin::users_activity, builtin::servers,      builtin::tokens,
                                      builtin::access_servers};
  for (builtin r : roots)
    for (scope_id c : table.closure(id(r))) out.add(c, filter_kind::user, user);
}
}  // namespace

scope_set self_scopes(const scope_table& table, const principal_ref& owner) {
  scope_set out;
  if (owner.kind == principal_ref::kind_t::user) add_self_scopes(table, owner.name, out);
  return out;
}

scope_set identify_scopes(const scope_table&, const principal_ref& owner) {
  scope_set out;
  if (owner.kind == principal_ref::kind_t::user) {
    out.add(id(builtin::read_users_name), filter_kind::user, owner.name);
    out.add(id(builtin::read_users_groups), filter_kind::user, owner.name);
  } else if (owner.kind == principal_ref::kind_t::service) {
    out.add(id(builtin::read_services_name), filter_kind::service, owner.name);
  }
  return out;
}

std::vector<std::string> raw_identify_scopes() { return {"read:users:groups!user", "read:users:name!user"}; }

scope_set access_scopes(const scope_table&, const oauth_client_ref& client) {
  scope_set out;
  if (client.kind == oauth_client_ref::kind_t::server)
    out.add(id(builtin::access_servers), filter_kind::server, client.user + "/" + client.name);
  else if (client.kind == oauth_client_ref::kind_t::service)
    out.add(id(builtin::access_services), filter_kind::service, client.name);
  return out;
}

std::string access_scope_string(const oauth_client_ref& client) {
  if (client.kind == oauth_client_ref::kind_t::server) return "access:servers!server=" + client.user + "/" + client.name;
  if (client.kind == oauth_client_ref::kind_t::service) return "access:services!service=" + client.name;
  return {};
}

std::vector<std::string> normalize_share_scopes(const scope_table& table, std::span<const std::string> raw,
                                                std::string_view owner, std::string_view server_name) {
  std::string target = std::string(owner) + "/" + std::string(server_name);
  std::vector<std::string> out;
  for (const auto& s : raw) {
    raw_scope r = parse_scope(table, s, "a share");
    bool ok = r.kind == filter_kind::none || (r.kind == filter_kind::server && (r.bare || r.value == target));
    if (!ok)
      throw scope_not_found("Scope '" + s + "' cannot be shared: shared scopes are always limited to '!server=" +
                            target + "'");
    r.kind = filter_kind::server;
    r.bare = false;
    r.value = target;
    out.push_back(format_scope(table, r));
  }
  return out;
}

scope_set expand_share_scopes(const scope_table& table, std::span<const std::string> raw, std::string_view owner,
                              std::string_view server_name) {
  auto normalized = normalize_share_scopes(table, raw, owner, server_name);
  return expand(table, std::span<const std::string>(normalized), principal_ref::none()).scopes;
}

scope_set difference(const scope_set& a, const scope_set& b) {
  scope_set out;
  for (scope_id base : a.bases()) {
    if (a.has_all(base)) {
      if (!b.has_all(base)) out.add_all(base);
      continue;
    }
    for (const auto& f : a.filters(base))
      if (!b.has_filter(base, f.kind, f.value)) out.add(base, f);
  }
  return out;
}

}  // namespace hubd::core::rbac
