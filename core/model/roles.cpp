// The model's roles aggregate. Roles and their assignments to users, groups and services.
#include "core/model/mutation.hpp"

#include "core/rbac/roles.hpp"

namespace hubd::core::model {

using namespace detail;

role_ptr hub_model::find_role(std::string_view name) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->roles, name);
}

std::vector<role_ptr> hub_model::list_roles() const {
  std::shared_lock lock(mutex_);
  return values_sorted(state_->roles, &role::name);
}

std::vector<role_assignment> hub_model::assignments_of(holder_kind kind, std::string_view name) const {
  std::shared_lock lock(mutex_);
  const auto id = holder_id(*state_, {kind, std::string(name)});
  if (!id) return {};
  auto* v = state_->holder_assignments(kind, id);
  return v ? *v : std::vector<role_assignment>{};
}

std::vector<role_ptr> hub_model::roles_of(holder_kind kind, std::string_view name) const {
  std::shared_lock lock(mutex_);
  std::vector<role_ptr> out;
  const auto id = holder_id(*state_, {kind, std::string(name)});
  if (auto* v = id ? state_->holder_assignments(kind, id) : nullptr)
    for (const auto& a : *v)
      if (auto r = find_in(state_->roles_by_id, a.role_id);
          r && std::find(out.begin(), out.end(), r) == out.end())
        out.push_back(r);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
  return out;
}

role_holders hub_model::holders_of(std::string_view role_name) const {
  std::shared_lock lock(mutex_);
  role_holders out;
  auto r = find_in(state_->roles, role_name);
  if (!r) return out;
  if (auto a = state_->assignments_by_role.find(r->id); a != state_->assignments_by_role.end())
    for (const auto& x : a->second) {
      auto& list = x.kind == holder_kind::user ? out.users : x.kind == holder_kind::group ? out.groups : out.services;
      auto n = holder_name(*state_, x.kind, x.holder_id);
      if (!n.empty() && std::find(list.begin(), list.end(), n) == list.end()) list.push_back(std::move(n));
    }
  for (auto* l : {&out.users, &out.groups, &out.services}) std::sort(l->begin(), l->end());
  return out;
}

std::vector<std::string> hub_model::user_role_scopes(std::string_view name) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  auto u = find_in(state_->users, name);
  if (!u) return out;
  auto add_roles_of = [&](holder_kind k, std::int64_t id) {
    if (auto* v = state_->holder_assignments(k, id))
      for (const auto& a : *v)
        if (auto r = find_in(state_->roles_by_id, a.role_id)) out = merged(std::move(out), r->scopes);
  };
  add_roles_of(holder_kind::user, u->id);
  if (auto ug = state_->user_groups.find(u->id); ug != state_->user_groups.end())
    for (auto gid : ug->second) add_roles_of(holder_kind::group, gid);
  return out;
}

result<role_ptr> hub_model::create_role(const new_role& nr, completion done) {
  return mutate<role_ptr>(std::move(done), [&](tx& t) -> result<role_ptr> {
    if (auto bad = rbac::role_name_error(nr.name)) return invalid(*bad);
    if (auto e = check_source(nr.source)) return *e;
    if (t.s.roles.count(nr.name)) return conflict("role " + nr.name + " already exists");
    role r;
    r.id = t.s.next_role++;
    r.name = nr.name;
    r.description = nr.description;
    r.scopes = nr.scopes;
    r.from = nr.source;
    r.managed_by_auth = nr.managed_by_auth;
    auto p = t.row(std::move(r));
    t.s.put_role(p);
    t.emit({event_kind::role_changed, {}, {}, p->name, {}, "created", {}});
    t.perm = true;
    return p;
  });
}

result<role_ptr> hub_model::update_role(std::string_view name, const role_patch& p, completion done) {
  return mutate<role_ptr>(std::move(done), [&](tx& t) -> result<role_ptr> {
    auto cur = find_in(t.s.roles, name);
    if (!cur) return not_found("role " + std::string(name) + " not found");
    if (p.source)
      if (auto e = check_source(*p.source)) return *e;
    role r = *cur;
    if (p.description) r.description = *p.description;
    if (p.scopes) r.scopes = *p.scopes;
    if (p.managed_by_auth) r.managed_by_auth = *p.managed_by_auth;
    if (p.source) r.from = *p.source;
    auto np = t.row(std::move(r));
    t.s.put_role(np);
    t.emit({event_kind::role_changed, {}, {}, np->name, {}, "updated", {}});
    t.perm = true;
    return np;
  });
}

status hub_model::delete_role(std::string_view name, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto cur = find_in(t.s.roles, name);
    if (!cur) return not_found("role " + std::string(name) + " not found");
    t.erase_role(*cur);
    return {};
  });
}

status hub_model::assign_role(std::string_view role_name, const holder_ref& h, std::string_view source, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto r = find_in(t.s.roles, role_name);
    if (!r) return not_found("role " + std::string(role_name) + " not found");
    if (auto e = check_source(source)) return *e;
    const auto id = holder_id(t.s, h);
    if (!id) return not_found(std::string(store::holder_kind_name(h.kind)) + " " + h.name + " not found");
    t.assign({r->id, h.kind, id, std::string(source)});
    t.emit({event_kind::role_changed, h.kind == holder_kind::user ? h.name : std::string(),
            h.kind == holder_kind::group ? h.name : std::string(), r->name, {}, "assigned", {}});
    return {};
  });
}

status hub_model::unassign_role(std::string_view role_name, const holder_ref& h, std::string_view source,
                                completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto r = find_in(t.s.roles, role_name);
    if (!r) return not_found("role " + std::string(role_name) + " not found");
    const auto id = holder_id(t.s, h);
    if (!id) return not_found(std::string(store::holder_kind_name(h.kind)) + " " + h.name + " not found");
    if (auto* v = t.s.holder_assignments(h.kind, id))
      for (const auto& a : std::vector<role_assignment>(*v))
        if (a.role_id == r->id && (source.empty() || a.from == source)) t.unassign(a);
    t.emit({event_kind::role_changed, h.kind == holder_kind::user ? h.name : std::string(),
            h.kind == holder_kind::group ? h.name : std::string(), r->name, {}, "unassigned", {}});
    return {};
  });
}

}  // namespace hubd::core::model
