// The model's users aggregate. Users: lookups by name, id and cookie id, creation with default
// roles, renames, auth_state.
#include "core/model/mutation.hpp"

#include "core/store/crypto.hpp"

namespace hubd::core::model {

using namespace detail;

using store::make_error;

user_ptr hub_model::find_user(std::string_view name) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->users, name);
}

user_ptr hub_model::find_user(std::int64_t id) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->users_by_id, id);
}

user_ptr hub_model::find_user_by_cookie_id(std::string_view cookie_id) const {
  std::shared_lock lock(mutex_);
  auto it = state_->cookie_ids.find(cookie_id);
  return it == state_->cookie_ids.end() ? nullptr : find_in(state_->users_by_id, it->second);
}

std::size_t hub_model::user_count() const {
  std::shared_lock lock(mutex_);
  return state_->users.size();
}

std::vector<user_ptr> hub_model::list_users(std::size_t offset, std::size_t limit) const {
  std::shared_lock lock(mutex_);
  return page_of(state_->user_order, offset, limit);
}

std::vector<user_ptr> hub_model::list_users_if(std::size_t offset, std::size_t limit,
                                               const std::function<bool(const user&)>& keep) const {
  std::vector<user_ptr> order;
  {
    std::shared_lock lock(mutex_);
    order = state_->user_order;
  }
  std::vector<user_ptr> out;
  for (const auto& u : order) {
    if (out.size() >= limit) break;
    if (!keep(*u)) continue;
    if (offset) --offset;
    else out.push_back(u);
  }
  return out;
}

namespace {
std::optional<error> check_new_user(const hub_model::state& s, const new_user& u) {
  if (auto e = check_name("user", u.name)) return e;
  if (s.users.count(u.name)) return conflict("user " + u.name + " already exists");
  if (u.user_info)
    if (auto e = check_json_object("user_info", *u.user_info)) return e;
  if (auto e = check_source(u.source)) return e;
  return std::nullopt;
}
}  // namespace

result<std::vector<user_ptr>> hub_model::create_users(const std::vector<new_user>& us, completion done) {
  return mutate<std::vector<user_ptr>>(std::move(done), [&](tx& t) -> result<std::vector<user_ptr>> {
    by_name<int> seen;
    for (const auto& u : us) {
      if (auto e = check_new_user(t.s, u)) return *e;
      if (seen[u.name]++) return conflict("user " + u.name + " appears twice in the request");
    }
    std::vector<user_ptr> out;
    const auto when = now();
    for (const auto& u : us) {
      user r;
      r.id = t.s.next_user++;
      r.name = u.name;
      r.admin = u.admin;
      r.created = when;
      r.cookie_id = store::generate_token();
      r.user_info = u.user_info;
      auto p = t.row(std::move(r));
      t.s.put_user(p);
      if (u.grant_default_roles) {
        if (auto role_user = find_in(t.s.roles, "user")) t.assign({role_user->id, holder_kind::user, p->id, u.source});
        if (u.admin)
          if (auto role_admin = find_in(t.s.roles, "admin")) t.assign({role_admin->id, holder_kind::user, p->id, u.source});
      }
      t.emit({event_kind::user_created, p->name, {}, {}, {}, {}, {}});
      t.perm = true;
      out.push_back(std::move(p));
    }
    return out;
  });
}

result<user_ptr> hub_model::create_user(const new_user& u, completion done) {
  auto r = create_users({u}, std::move(done));
  if (!r) return r.err();
  return r.value().front();
}

result<user_ptr> hub_model::update_user(std::string_view name, const user_patch& p, completion done) {
  return mutate<user_ptr>(std::move(done), [&](tx& t) -> result<user_ptr> {
    auto cur = find_in(t.s.users, name);
    if (!cur) return not_found("user " + std::string(name) + " not found");
    if (p.name && *p.name != cur->name) {
      if (auto e = check_name("user", *p.name)) return *e;
      if (t.s.users.count(*p.name)) return conflict("user " + *p.name + " already exists");
    }
    if (p.user_info && *p.user_info)
      if (auto e = check_json_object("user_info", **p.user_info)) return *e;
    if (auto e = check_source(p.source)) return *e;
    user r = *cur;
    if (p.name) r.name = *p.name;
    if (p.admin) r.admin = *p.admin;
    if (p.user_info) r.user_info = *p.user_info;
    if (p.last_activity) r.last_activity = p.last_activity;
    auto np = t.row(std::move(r));
    t.s.put_user(np);
    if (np->name != cur->name) {
      t.emit({event_kind::user_renamed, np->name, {}, {}, {}, cur->name, {}});
      t.perm = true;
    }
    if (p.admin && *p.admin != cur->admin) {
      t.perm = true;
      if (auto role_admin = find_in(t.s.roles, "admin")) {
        if (*p.admin) t.assign({role_admin->id, holder_kind::user, np->id, p.source});
        else if (auto* v = t.s.holder_assignments(holder_kind::user, np->id))
          for (const auto& a : std::vector<role_assignment>(*v))
            if (a.role_id == role_admin->id) t.unassign(a);
        t.emit({event_kind::role_changed, np->name, {}, "admin", {}, *p.admin ? "assigned" : "unassigned", {}});
      }
    }
    return np;
  });
}

status hub_model::delete_user(std::string_view name, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto u = find_in(t.s.users, name);
    if (!u) return not_found("user " + std::string(name) + " not found");
    t.erase_user(*u);
    return {};
  });
}

status hub_model::touch_user(std::string_view name, time_point when, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto cur = find_in(t.s.users, name);
    if (!cur) return not_found("user " + std::string(name) + " not found");
    user r = *cur;
    r.last_activity = when;
    t.s.put_user(t.row(std::move(r)));
    return {};
  });
}

result<std::optional<nlohmann::json>> hub_model::get_auth_state(std::string_view name) const {
  user_ptr u = find_user(name);
  if (!u) return not_found("user " + std::string(name) + " not found");
  if (!u->auth_state) return std::optional<nlohmann::json>{};
  auto plain = keeper_.decrypt(*u->auth_state);
  if (!plain) return make_error(errc::crypto, "auth_state of user " + u->name + ": " + plain.err().message);
  auto j = nlohmann::json::parse(plain.value(), nullptr, false);
  if (j.is_discarded()) return make_error(errc::crypto, "auth_state of user " + u->name + " is not JSON after decryption");
  return std::optional<nlohmann::json>(std::move(j));
}

status hub_model::set_auth_state(std::string_view name, const std::optional<nlohmann::json>& state_json,
                                 completion done) {
  std::optional<std::string> cipher;
  if (state_json) {
    auto c = keeper_.encrypt(state_json->dump());
    if (!c) return c.err();
    cipher = std::move(c.value());
  }
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto cur = find_in(t.s.users, name);
    if (!cur) return not_found("user " + std::string(name) + " not found");
    user r = *cur;
    r.auth_state = cipher;
    t.s.put_user(t.row(std::move(r)));
    return {};
  });
}

result<std::size_t> hub_model::rotate_auth_state_keys(completion done) {
  return mutate<std::size_t>(std::move(done), [&](tx& t) -> result<std::size_t> {
    std::vector<user> updated;
    for (const auto& u : t.s.user_order) {
      if (!u->auth_state) continue;
      auto idx = keeper_.key_index(*u->auth_state);
      if (!idx) return make_error(errc::crypto, "auth_state of user " + u->name + ": " + idx.err().message);
      if (idx.value() == 0) continue;
      auto plain = keeper_.decrypt(*u->auth_state);
      if (!plain) return make_error(errc::crypto, "auth_state of user " + u->name + ": " + plain.err().message);
      auto c = keeper_.encrypt(plain.value());
      if (!c) return c.err();
      user r = *u;
      r.auth_state = std::move(c.value());
      updated.push_back(std::move(r));
    }
    for (auto& r : updated) t.s.put_user(t.row(std::move(r)));
    return updated.size();
  });
}

}  // namespace hubd::core::model
