// The model's sessions aggregate. Browser sessions.
#include "core/model/mutation.hpp"

#include "core/store/crypto.hpp"

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

}  // namespace hubd::core::model
