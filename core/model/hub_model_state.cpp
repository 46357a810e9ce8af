#include "core/model/hub_model_state.hpp"

#include <algorithm>

namespace hubd::core::model {
namespace {

template <class Ptr>
void put_ordered(std::vector<Ptr>& order, Ptr p) {
  auto it = std::lower_bound(order.begin(), order.end(), p->id, [](const Ptr& a, std::int64_t id) { return a->id < id; });
  if (it != order.end() && (*it)->id == p->id) *it = std::move(p);
  else order.insert(it, std::move(p));
}

template <class Ptr>
void drop_ordered(std::vector<Ptr>& order, std::int64_t id) {
  auto it = std::lower_bound(order.begin(), order.end(), id, [](const Ptr& a, std::int64_t v) { return a->id < v; });
  if (it != order.end() && (*it)->id == id) order.erase(it);
}

template <class Map, class Ptr>
void replace_named(Map& by_name, std::unordered_map<std::int64_t, Ptr>& by_id, Ptr p) {
  if (auto old = by_id.find(p->id); old != by_id.end() && old->second->name != p->name) by_name.erase(old->second->name);
  by_name[p->name] = p;
  by_id[p->id] = std::move(p);
}

}  // namespace

void hub_model::state::put_user(user_ptr u) {
  if (auto old = users_by_id.find(u->id); old != users_by_id.end()) cookie_ids.erase(old->second->cookie_id);
  cookie_ids[u->cookie_id] = u->id;
  next_user = std::max(next_user, u->id + 1);
  put_ordered(user_order, u);
  replace_named(users, users_by_id, std::move(u));
}

void hub_model::state::drop_user(std::int64_t id) {
  auto it = users_by_id.find(id);
  if (it == users_by_id.end()) return;
  cookie_ids.erase(it->second->cookie_id);
  users.erase(it->second->name);
  users_by_id.erase(it);
  drop_ordered(user_order, id);
}

void hub_model::state::put_group(group_ptr g) {
  next_group = std::max(next_group, g->id + 1);
  put_ordered(group_order, g);
  replace_named(groups, groups_by_id, std::move(g));
}

void hub_model::state::drop_group(std::int64_t id) {
  auto it = groups_by_id.find(id);
  if (it == groups_by_id.end()) return;
  groups.erase(it->second->name);
  groups_by_id.erase(it);
  drop_ordered(group_order, id);
}

bool hub_model::state::add_membership(const membership& m) {
  auto& sources = members[m.group_id][m.user_id];
  if (std::find(sources.begin(), sources.end(), m.from) != sources.end()) return false;
  sources.push_back(m.from);
  user_groups[m.user_id].insert(m.group_id);
  return true;
}

bool hub_model::state::drop_membership(const membership& m) {
  auto g = members.find(m.group_id);
  if (g == members.end()) return false;
  auto u = g->second.find(m.user_id);
  if (u == g->second.end()) return false;
  auto& sources = u->second;
  auto s = std::find(sources.begin(), sources.end(), m.from);
  if (s == sources.end()) return false;
  sources.erase(s);
  if (sources.empty()) {
    g->second.erase(u);
    if (g->second.empty()) members.erase(g);
    auto ug = user_groups.find(m.user_id);
    if (ug != user_groups.end()) {
      ug->second.erase(m.group_id);
      if (ug->second.empty()) user_groups.erase(ug);
    }
  }
  return true;
}

void hub_model::state::put_role(role_ptr r) {
  next_role = std::max(next_role, r->id + 1);
  replace_named(roles, roles_by_id, std::move(r));
}

void hub_model::state::drop_role(std::int64_t id) {
  auto it = roles_by_id.find(id);
  if (it == roles_by_id.end()) return;
  roles.erase(it->second->name);
  roles_by_id.erase(it);
}

bool hub_model::state::add_assignment(const role_assignment& a) {
  auto& by_role = assignments_by_role[a.role_id];
  if (std::find(by_role.begin(), by_role.end(), a) != by_role.end()) return false;
  by_role.push_back(a);
  assignments_by_holder[{static_cast<int>(a.kind), a.holder_id}].push_back(a);
  return true;
}

bool hub_model::state::drop_assignment(const role_assignment& a) {
  auto r = assignments_by_role.find(a.role_id);
  if (r == assignments_by_role.end()) return false;
  auto it = std::find(r->second.begin(), r->second.end(), a);
  if (it == r->second.end()) return false;
  r->second.erase(it);
  if (r->second.empty()) assignments_by_role.erase(r);
  auto h = assignments_by_holder.find({static_cast<int>(a.kind), a.holder_id});
  if (h != assignments_by_holder.end()) {
    std::erase(h->second, a);
    if (h->second.empty()) assignments_by_holder.erase(h);
  }
  return true;
}

const std::vector<role_assignment>* hub_model::state::holder_assignments(holder_kind k, std::int64_t id) const {
  auto h = assignments_by_holder.find({static_cast<int>(k), id});
  return h == assignments_by_holder.end() ? nullptr : &h->second;
}

void hub_model::state::put_service(service_ptr s) {
  next_service = std::max(next_service, s->id + 1);
  replace_named(services, services_by_id, std::move(s));
}

void hub_model::state::drop_service(std::int64_t id) {
  auto it = services_by_id.find(id);
  if (it == services_by_id.end()) return;
  services.erase(it->second->name);
  services_by_id.erase(it);
}

void hub_model::state::put_server(server_ptr s) {
  next_server = std::max(next_server, s->id + 1);
  if (auto old = servers.find(s->id); old != servers.end() && old->second->name != s->name)
    servers_of_user[s->user_id].erase(old->second->name);
  servers_of_user[s->user_id][s->name] = s->id;
  servers[s->id] = std::move(s);
}

void hub_model::state::drop_server(std::int64_t id) {
  auto it = servers.find(id);
  if (it == servers.end()) return;
  auto u = servers_of_user.find(it->second->user_id);
  if (u != servers_of_user.end()) {
    u->second.erase(it->second->name);
    if (u->second.empty()) servers_of_user.erase(u);
  }
  servers.erase(it);
}

void hub_model::state::put_token(token_ptr t) {
  next_token = std::max(next_token, t->id + 1);
  if (t->user_id) tokens_of_user[*t->user_id].insert(t->id);
  if (t->service_id) tokens_of_service[*t->service_id].insert(t->id);
  tokens_by_digest[t->digest] = t;
  tokens[t->id] = std::move(t);
}

void hub_model::state::drop_token(std::int64_t id) {
  auto it = tokens.find(id);
  if (it == tokens.end()) return;
  const auto& t = *it->second;
  auto unindex = [&](auto& map, std::optional<std::int64_t> owner) {
    if (!owner) return;
    auto o = map.find(*owner);
    if (o == map.end()) return;
    o->second.erase(id);
    if (o->second.empty()) map.erase(o);
  };
  unindex(tokens_of_user, t.user_id);
  unindex(tokens_of_service, t.service_id);
  tokens_by_digest.erase(t.digest);
  tokens.erase(it);
}

void hub_model::state::put_share_code(share_code_ptr c) {
  next_share_code = std::max(next_share_code, c->id + 1);
  share_code_by_digest[c->digest] = c->id;
  share_codes[c->id] = std::move(c);
}

void hub_model::state::drop_share_code(std::int64_t id) {
  auto it = share_codes.find(id);
  if (it == share_codes.end()) return;
  share_code_by_digest.erase(it->second->digest);
  share_codes.erase(it);
}

}  // namespace hubd::core::model
