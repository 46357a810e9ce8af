// The model's groups aggregate. Groups and their memberships (with the source of each).
#include "core/model/mutation.hpp"

namespace hubd::core::model {

using namespace detail;

group_ptr hub_model::find_group(std::string_view name) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->groups, name);
}

group_ptr hub_model::find_group(std::int64_t id) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->groups_by_id, id);
}

std::size_t hub_model::group_count() const {
  std::shared_lock lock(mutex_);
  return state_->groups.size();
}

std::vector<group_ptr> hub_model::list_groups(std::size_t offset, std::size_t limit) const {
  std::shared_lock lock(mutex_);
  return page_of(state_->group_order, offset, limit);
}

std::vector<std::string> hub_model::group_members(std::string_view name) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  auto g = find_in(state_->groups, name);
  if (!g) return out;
  if (auto m = state_->members.find(g->id); m != state_->members.end()) {
    out.reserve(m->second.size());
    const auto& users = state_->users_by_id;
    for (const auto& [uid, sources] : m->second)  // no shared_ptr copies: large groups render often
      if (auto u = users.find(uid); u != users.end()) out.push_back(u->second->name);
  }
  return out;
}

bool hub_model::group_has_members_from(std::string_view name, std::string_view source) const {
  std::shared_lock lock(mutex_);
  auto g = find_in(state_->groups, name);
  if (!g) return false;
  auto m = state_->members.find(g->id);
  if (m == state_->members.end()) return false;
  for (const auto& [uid, sources] : m->second)
    if (std::find(sources.begin(), sources.end(), source) != sources.end()) return true;
  return false;
}

std::vector<std::string> hub_model::user_groups(std::string_view name) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  auto u = find_in(state_->users, name);
  if (!u) return out;
  if (auto ug = state_->user_groups.find(u->id); ug != state_->user_groups.end())
    for (auto gid : ug->second)
      if (auto g = find_in(state_->groups_by_id, gid)) out.push_back(g->name);
  std::sort(out.begin(), out.end());
  return out;
}

bool hub_model::is_member(std::string_view user_name, std::string_view group_name) const {
  std::shared_lock lock(mutex_);
  auto u = state_->users.find(user_name);
  auto g = state_->groups.find(group_name);
  if (u == state_->users.end() || g == state_->groups.end()) return false;
  auto ug = state_->user_groups.find(u->second->id);
  return ug != state_->user_groups.end() && ug->second.count(g->second->id) != 0;
}

std::vector<group_membership> hub_model::memberships_of_user(std::string_view name) const {
  std::shared_lock lock(mutex_);
  std::vector<group_membership> out;
  auto u = find_in(state_->users, name);
  if (!u) return out;
  if (auto ug = state_->user_groups.find(u->id); ug != state_->user_groups.end())
    for (auto gid : ug->second) {
      auto g = find_in(state_->groups_by_id, gid);
      if (g) out.push_back({u->name, g->name, state_->members.at(gid).at(u->id)});
    }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.group < b.group; });
  return out;
}

result<std::vector<group_ptr>> hub_model::create_groups(const std::vector<std::string>& names, completion done) {
  return mutate<std::vector<group_ptr>>(std::move(done), [&](tx& t) -> result<std::vector<group_ptr>> {
    by_name<int> seen;
    for (const auto& n : names) {
      if (auto e = check_name("group", n)) return *e;
      if (t.s.groups.count(n)) return conflict("group " + n + " already exists");
      if (seen[n]++) return conflict("group " + n + " appears twice in the request");
    }
    std::vector<group_ptr> out;
    for (const auto& n : names) {
      group g;
      g.id = t.s.next_group++;
      g.name = n;
      auto p = t.row(std::move(g));
      t.s.put_group(p);
      t.emit({event_kind::group_created, {}, n, {}, {}, {}, {}});
      out.push_back(std::move(p));
    }
    t.perm = true;
    return out;
  });
}

result<group_ptr> hub_model::create_group(std::string_view name, std::string properties_json, completion done) {
  if (auto e = check_json_object("group properties", properties_json)) return *e;
  return mutate<group_ptr>(std::move(done), [&](tx& t) -> result<group_ptr> {
    if (auto e = check_name("group", name)) return *e;
    if (t.s.groups.count(name)) return conflict("group " + std::string(name) + " already exists");
    group g;
    g.id = t.s.next_group++;
    g.name = std::string(name);
    g.properties = std::move(properties_json);
    auto p = t.row(std::move(g));
    t.s.put_group(p);
    t.emit({event_kind::group_created, {}, p->name, {}, {}, {}, {}});
    t.perm = true;
    return p;
  });
}

status hub_model::delete_group(std::string_view name, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto g = find_in(t.s.groups, name);
    if (!g) return not_found("group " + std::string(name) + " not found");
    t.erase_group(*g);
    return {};
  });
}

result<group_ptr> hub_model::set_group_properties(std::string_view name, std::string properties_json, completion done) {
  if (auto e = check_json_object("group properties", properties_json)) return *e;
  return mutate<group_ptr>(std::move(done), [&](tx& t) -> result<group_ptr> {
    auto g = find_in(t.s.groups, name);
    if (!g) return not_found("group " + std::string(name) + " not found");
    group r = *g;
    r.properties = std::move(properties_json);
    auto p = t.row(std::move(r));
    t.s.put_group(p);
    return p;
  });
}

status hub_model::add_group_members(std::string_view group_name, const std::vector<std::string>& users,
                                    std::string_view source, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto g = find_in(t.s.groups, group_name);
    if (!g) return not_found("group " + std::string(group_name) + " not found");
    if (auto e = check_source(source)) return *e;
    std::vector<user_ptr> found;
    for (const auto& n : users) {
      auto u = find_in(t.s.users, n);
      if (!u) return not_found("user " + n + " not found");
      found.push_back(std::move(u));
    }
    for (const auto& u : found) t.add_member({u->id, g->id, std::string(source)});
    t.emit({event_kind::group_members_changed, users.size() == 1 ? users.front() : std::string(), g->name, {}, {},
            "added", users});
    return {};
  });
}

status hub_model::remove_group_members(std::string_view group_name, const std::vector<std::string>& users,
                                       std::string_view source, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto g = find_in(t.s.groups, group_name);
    if (!g) return not_found("group " + std::string(group_name) + " not found");
    std::vector<user_ptr> found;
    for (const auto& n : users) {
      auto u = find_in(t.s.users, n);
      if (!u) return not_found("user " + n + " not found");
      found.push_back(std::move(u));
    }
    for (const auto& u : found) {
      auto m = t.s.members.find(g->id);
      if (m == t.s.members.end()) break;
      auto it = m->second.find(u->id);
      if (it == m->second.end()) continue;
      for (const auto& src : std::vector<std::string>(it->second))
        if (source.empty() || src == source) t.drop_member({u->id, g->id, src});
    }
    t.emit({event_kind::group_members_changed, users.size() == 1 ? users.front() : std::string(), g->name, {}, {},
            "removed", users});
    return {};
  });
}

status hub_model::set_user_groups_from_source(std::string_view user_name, const std::vector<std::string>& groups,
                                              std::string_view source, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto u = find_in(t.s.users, user_name);
    if (!u) return not_found("user " + std::string(user_name) + " not found");
    if (auto e = check_source(source)) return *e;
    for (const auto& n : groups)
      if (auto e = check_name("group", n)) return *e;
    std::set<std::int64_t> wanted;
    for (const auto& n : groups) {
      auto g = find_in(t.s.groups, n);
      if (!g) {
        group r;
        r.id = t.s.next_group++;
        r.name = n;
        g = t.row(std::move(r));
        t.s.put_group(g);
        t.emit({event_kind::group_created, {}, n, {}, {}, {}, {}});
      }
      wanted.insert(g->id);
      if (t.s.add_membership({u->id, g->id, std::string(source)})) {
        t.changes.emplace_back(membership{u->id, g->id, std::string(source)});
        t.perm = true;
        t.emit({event_kind::group_members_changed, u->name, n, {}, {}, "added", {u->name}});
      }
    }
    if (auto ug = t.s.user_groups.find(u->id); ug != t.s.user_groups.end())
      for (auto gid : std::set<std::int64_t>(ug->second)) {
        if (wanted.count(gid)) continue;
        const auto& sources = t.s.members[gid][u->id];
        if (std::find(sources.begin(), sources.end(), source) == sources.end()) continue;
        t.drop_member({u->id, gid, std::string(source)});
        if (auto g = find_in(t.s.groups_by_id, gid))
          t.emit({event_kind::group_members_changed, u->name, g->name, {}, {}, "removed", {u->name}});
      }
    return {};
  });
}

}  // namespace hubd::core::model
