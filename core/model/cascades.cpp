// What a deletion takes with it, in one place: the store records one erase of the root row and
// its foreign keys (ON DELETE CASCADE, migrations.cpp) remove the dependants there; here the same
// dependants leave the indexes. Role assignments have no foreign key (the holder kind varies) and
// tokens reference their OAuth client by name only, so those are erased explicitly on both sides.
// A change to the schema's cascades changes this file, and the reopen test in hub_model_test.cpp
// compares memory with the database after every kind of deletion.
#include "core/model/mutation.hpp"

namespace hubd::core::model {
namespace {

void erase_holder_assignments(hub_model::tx& t, holder_kind k, std::int64_t id) {
  if (auto* v = t.s.holder_assignments(k, id)) {
    for (const auto& a : std::vector<role_assignment>(*v)) t.s.drop_assignment(a);
    t.perm = true;
  }
  t.changes.emplace_back(store::erase_assignments_of{k, id});
}

// Memory side of a server's deletion: its shares and share codes.
void forget_server(hub_model::tx& t, const server& sv, std::string_view owner) {
  std::erase_if(t.s.shares, [&](const auto& kv) { return kv.second->server_id == sv.id; });
  std::vector<std::int64_t> codes;
  for (const auto& [id, c] : t.s.share_codes)
    if (c->server_id == sv.id) codes.push_back(id);
  for (auto id : codes) t.s.drop_share_code(id);
  if (sv.started) t.emit({event_kind::server_stopped, std::string(owner), {}, {}, sv.name, {}, {}});
  t.s.drop_server(sv.id);
  t.perm = true;
}

}  // namespace

// Memberships, role assignments, servers (with their shares and share codes), tokens, OAuth codes,
// sessions and the shares granted to the user.
void hub_model::tx::erase_user(const user& u) {
  const auto id = u.id;
  if (auto ug = s.user_groups.find(id); ug != s.user_groups.end()) {
    for (auto gid : std::set<std::int64_t>(ug->second)) {
      auto sources = s.members[gid][id];
      for (const auto& src : sources) s.drop_membership({id, gid, src});
      if (auto g = detail::find_in(s.groups_by_id, gid))
        emit({event_kind::group_members_changed, u.name, g->name, {}, {}, "removed", {u.name}});
    }
  }
  erase_holder_assignments(*this, holder_kind::user, id);
  if (auto so = s.servers_of_user.find(id); so != s.servers_of_user.end())
    for (const auto& [sname, sid] : std::map<std::string, std::int64_t, std::less<>>(so->second))
      if (auto sv = detail::find_in(s.servers, sid)) forget_server(*this, *sv, u.name);
  if (auto tk = s.tokens_of_user.find(id); tk != s.tokens_of_user.end())
    for (auto tid : std::set<std::int64_t>(tk->second)) s.drop_token(tid);
  std::erase_if(s.codes_by_digest, [&](const auto& kv) { return kv.second->user_id == id; });
  std::erase_if(s.sessions, [&](const auto& kv) { return kv.second->user_id == id; });
  std::erase_if(s.shares, [&](const auto& kv) { return kv.second->user_id == id; });
  s.drop_user(id);
  changes.emplace_back(store::erase_user{id});
  emit({event_kind::user_deleted, u.name, {}, {}, {}, {}, {}});
  perm = true;
}

// Memberships, role assignments and the shares granted to the group.
void hub_model::tx::erase_group(const group& g) {
  if (auto m = s.members.find(g.id); m != s.members.end())
    for (const auto& [uid, sources] : std::map<std::int64_t, std::vector<std::string>>(m->second))
      for (const auto& src : sources) s.drop_membership({uid, g.id, src});
  erase_holder_assignments(*this, holder_kind::group, g.id);
  std::erase_if(s.shares, [&](const auto& kv) { return kv.second->group_id == g.id; });
  s.drop_group(g.id);
  changes.emplace_back(store::erase_group{g.id});
  emit({event_kind::group_deleted, {}, g.name, {}, {}, {}, {}});
  perm = true;
}

// Its assignments.
void hub_model::tx::erase_role(const role& r) {
  if (auto a = s.assignments_by_role.find(r.id); a != s.assignments_by_role.end())
    for (const auto& x : std::vector<role_assignment>(a->second)) s.drop_assignment(x);
  s.drop_role(r.id);
  changes.emplace_back(store::erase_role{r.id});
  emit({event_kind::role_changed, {}, {}, r.name, {}, "deleted", {}});
  perm = true;
}

// Role assignments and tokens.
void hub_model::tx::erase_service(const service& sv) {
  erase_holder_assignments(*this, holder_kind::service, sv.id);
  if (auto tk = s.tokens_of_service.find(sv.id); tk != s.tokens_of_service.end())
    for (auto tid : std::set<std::int64_t>(tk->second)) s.drop_token(tid);
  s.drop_service(sv.id);
  changes.emplace_back(store::erase_service{sv.id});
  perm = true;
}

// Shares and share codes.
void hub_model::tx::erase_server(const server& sv, std::string_view owner) {
  forget_server(*this, sv, owner);
  changes.emplace_back(store::erase_server{sv.id});
}

// Codes (a foreign key) and the tokens it issued (by name, erased one by one).
void hub_model::tx::erase_oauth_client(const oauth_client& c) {
  std::vector<std::int64_t> ids;
  for (const auto& [id, tk] : s.tokens)
    if (tk->client_id == c.identifier) ids.push_back(id);
  for (auto id : ids) drop_token(id);
  std::erase_if(s.codes_by_digest, [&](const auto& kv) { return kv.second->client_id == c.identifier; });
  const std::string identifier = c.identifier;  // `c` may be the row the next line frees
  s.clients.erase(identifier);
  changes.emplace_back(store::erase_oauth_client{identifier});
}

}  // namespace hubd::core::model
