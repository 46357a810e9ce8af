// The model's servers aggregate. Users' servers.
#include "core/model/mutation.hpp"

namespace hubd::core::model {

using namespace detail;

server_ptr hub_model::find_server(std::string_view user_name, std::string_view name) const {
  std::shared_lock lock(mutex_);
  auto u = find_in(state_->users, user_name);
  if (!u) return nullptr;
  auto so = state_->servers_of_user.find(u->id);
  if (so == state_->servers_of_user.end()) return nullptr;
  auto it = so->second.find(name);
  return it == so->second.end() ? nullptr : find_in(state_->servers, it->second);
}

server_ptr hub_model::find_server(std::int64_t id) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->servers, id);
}

std::vector<server_ptr> hub_model::servers_of(std::string_view user_name) const {
  std::shared_lock lock(mutex_);
  std::vector<server_ptr> out;
  auto u = find_in(state_->users, user_name);
  if (!u) return out;
  if (auto so = state_->servers_of_user.find(u->id); so != state_->servers_of_user.end())
    for (const auto& [n, id] : so->second) out.push_back(find_in(state_->servers, id));
  return out;
}

result<server_ptr> hub_model::update_server(std::string_view user_name, std::string_view name, const server_patch& p,
                                            completion done) {
  if (auto e = check_name("server", name, true)) return *e;
  if (p.state)
    if (auto e = check_json_object("server state", *p.state)) return *e;
  if (p.user_options)
    if (auto e = check_json_object("user_options", *p.user_options)) return *e;
  return mutate<server_ptr>(std::move(done), [&](tx& t) -> result<server_ptr> {
    auto u = find_in(t.s.users, user_name);
    if (!u) return not_found("user " + std::string(user_name) + " not found");
    server_ptr cur;
    if (auto so = t.s.servers_of_user.find(u->id); so != t.s.servers_of_user.end())
      if (auto it = so->second.find(name); it != so->second.end()) cur = find_in(t.s.servers, it->second);
    server r;
    if (cur) r = *cur;
    else r.id = t.s.next_server++, r.user_id = u->id, r.name = std::string(name);
    if (p.display_name) r.display_name = *p.display_name;
    if (p.url) r.url = *p.url;
    if (p.started) r.started = *p.started;
    if (p.last_activity) r.last_activity = p.last_activity;
    if (p.pending) r.pending = *p.pending;
    if (p.state) r.state = *p.state;
    if (p.user_options) r.user_options = *p.user_options;
    const bool was = cur && cur->started;
    auto np = t.row(std::move(r));
    t.s.put_server(np);
    if (!was && np->started) t.emit({event_kind::server_started, u->name, {}, {}, np->name, {}, {}});
    if (was && !np->started) t.emit({event_kind::server_stopped, u->name, {}, {}, np->name, {}, {}});
    if (!cur) t.perm = true;  // a new server can be the target of !server filters
    return np;
  });
}

status hub_model::delete_server(std::string_view user_name, std::string_view name, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto u = find_in(t.s.users, user_name);
    if (!u) return not_found("user " + std::string(user_name) + " not found");
    auto so = t.s.servers_of_user.find(u->id);
    auto it = so == t.s.servers_of_user.end() ? decltype(so->second.end()){} : so->second.find(name);
    if (so == t.s.servers_of_user.end() || it == so->second.end())
      return not_found("server " + std::string(user_name) + "/" + std::string(name) + " not found");
    auto sv = find_in(t.s.servers, it->second);
    t.erase_server(*sv, u->name);
    return {};
  });
}

}  // namespace hubd::core::model
