// The model's sessions aggregate. Browser sessions.
#include "core/model/mutation.hpp"

#include "core/store/crypto.hpp"

#include <set>

namespace hubd::core::model {

using namespace detail;

session_ptr hub_model::find_session(std::string_view id) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->sessions, id);
}

result<session_ptr> hub_model::create_session(std::string_view user_name, completion done) {
  return mutate<session_ptr>(std::move(done), [&](tx& t) -> result<session_ptr> {
    auto u = find_in(t.s.users, user_name);
    if (!u) return not_found("user " + std::string(user_name) + " not found");
    session s;
    s.id = store::generate_token();
    s.user_id = u->id;
    s.created = now();
    auto p = t.row(std::move(s));
    t.s.put_session(p);
    return p;
  });
}

status hub_model::delete_session(std::string_view id, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto it = t.s.sessions.find(id);
    if (it == t.s.sessions.end()) return not_found("session not found");
    t.changes.emplace_back(store::erase_session{it->first});
    t.s.sessions.erase(it);
    return {};
  });
}

result<std::size_t> hub_model::end_user_sessions(std::string_view user_name, completion done) {
  return mutate<std::size_t>(std::move(done), [&](tx& t) -> result<std::size_t> {
    auto cur = find_in(t.s.users, user_name);
    if (!cur) return not_found("user " + std::string(user_name) + " not found");
    // A new cookie id: every login cookie signed over the old one names nobody now.
    user u = *cur;
    u.cookie_id = store::generate_token();
    t.s.put_user(t.row(std::move(u)));
    std::set<std::string, std::less<>> ended;
    for (const auto& [id, s] : t.s.sessions)
      if (s->user_id == cur->id) ended.insert(id);
    std::vector<std::int64_t> tokens;
    for (const auto& [id, tk] : t.s.tokens)
      if (tk->session_id && ended.count(*tk->session_id)) tokens.push_back(id);
    for (auto id : tokens) t.drop_token(id);
    for (const auto& id : ended) {
      t.changes.emplace_back(store::erase_session{id});
      t.s.sessions.erase(id);
    }
    return ended.size();
  });
}

}  // namespace hubd::core::model
