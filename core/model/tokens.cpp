// The model's tokens aggregate. API tokens: digest lookup, owners, expiry.
#include "core/model/mutation.hpp"

#include "core/store/crypto.hpp"

namespace hubd::core::model {

using namespace detail;

token_ptr hub_model::find_token(std::string_view secret) const { return find_token(secret, now()); }

token_ptr hub_model::find_token(std::string_view secret, time_point when) const {
  const auto digest = store::token_digest(secret);
  std::shared_lock lock(mutex_);
  auto t = find_in(state_->tokens_by_digest, digest);
  if (!t || expired(t->expires_at, when)) return nullptr;
  return t;
}

token_ptr hub_model::find_token_by_id(std::int64_t id) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->tokens, id);
}

std::size_t hub_model::token_count() const {
  std::shared_lock lock(mutex_);
  return state_->tokens.size();
}

std::vector<token_ptr> hub_model::tokens_of(holder_kind kind, std::string_view owner) const {
  std::shared_lock lock(mutex_);
  std::vector<token_ptr> out;
  const auto id = holder_id(*state_, {kind, std::string(owner)});
  const auto& index = kind == holder_kind::service ? state_->tokens_of_service : state_->tokens_of_user;
  if (auto it = index.find(id); id && it != index.end())
    for (auto tid : it->second) out.push_back(find_in(state_->tokens, tid));
  return out;
}

result<created_token> hub_model::create_token(const new_token& nt, completion done) {
  if (nt.owner_kind == holder_kind::group) return invalid("a token is owned by a user or a service, not a group");
  if (nt.secret && nt.secret->size() < 8) return invalid("a user-provided token must be at least 8 characters");
  std::string secret = nt.secret ? *nt.secret : store::generate_token();
  std::string digest = store::token_digest(secret);
  auto r = mutate<token_ptr>(std::move(done), [&](tx& t) -> result<token_ptr> {
    const auto owner = holder_id(t.s, {nt.owner_kind, nt.owner});
    if (!owner) return not_found(std::string(store::holder_kind_name(nt.owner_kind)) + " " + nt.owner + " not found");
    if (t.s.tokens_by_digest.count(digest)) return conflict("a token with this value already exists; choose another");
    token tk;
    tk.id = t.s.next_token++;
    tk.digest = digest;
    tk.prefix = store::token_prefix(secret);
    if (nt.owner_kind == holder_kind::user) tk.user_id = owner;
    else tk.service_id = owner;
    tk.scopes = nt.scopes;
    tk.created = now();
    tk.expires_at = nt.expires_at;
    tk.note = nt.note;
    tk.session_id = nt.session_id;
    tk.client_id = nt.client_id;
    auto p = t.row(std::move(tk));
    t.s.put_token(p);
    return p;
  });
  if (!r) return r.err();
  return created_token{std::move(r.value()), std::move(secret)};
}

status hub_model::delete_token(std::int64_t id, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    if (!t.s.tokens.count(id)) return not_found("token a" + std::to_string(id) + " not found");
    t.drop_token(id);
    return {};
  });
}

status hub_model::delete_tokens_of_client(std::string_view user_name, std::string_view client_id, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto u = find_in(t.s.users, user_name);
    if (!u) return not_found("user " + std::string(user_name) + " not found");
    if (auto tk = t.s.tokens_of_user.find(u->id); tk != t.s.tokens_of_user.end())
      for (auto tid : std::set<std::int64_t>(tk->second))
        if (t.s.tokens.at(tid)->client_id == client_id) t.drop_token(tid);
    return {};
  });
}

status hub_model::delete_tokens_of_session(std::string_view session_id, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    std::vector<std::int64_t> ids;
    for (const auto& [id, tk] : t.s.tokens)
      if (tk->session_id && *tk->session_id == session_id) ids.push_back(id);
    for (auto id : ids) t.drop_token(id);
    return {};
  });
}

status hub_model::touch_token(std::int64_t id, time_point when, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto cur = find_in(t.s.tokens, id);
    if (!cur) return not_found("token a" + std::to_string(id) + " not found");
    token r = *cur;
    r.last_activity = when;
    t.s.put_token(t.row(std::move(r)));
    return {};
  });
}

std::size_t hub_model::purge_expired(time_point when, completion done) {
  std::size_t n = 0;
  auto r = mutate<void>(std::move(done), [&](tx& t) -> status {
    std::vector<std::int64_t> ids;
    for (const auto& [id, tk] : t.s.tokens)
      if (expired(tk->expires_at, when)) ids.push_back(id);
    for (auto id : ids) t.drop_token(id);
    n += ids.size();
    std::vector<std::string> codes;
    for (const auto& [d, c] : t.s.codes_by_digest)
      if (c->expires_at <= when) codes.push_back(d);
    for (const auto& d : codes) {
      t.changes.emplace_back(store::erase_oauth_code{t.s.codes_by_digest.at(d)->id});
      t.s.codes_by_digest.erase(d);
    }
    n += codes.size();
    std::vector<std::int64_t> scs;
    for (const auto& [id, c] : t.s.share_codes)
      if (c->expires_at <= when) scs.push_back(id);
    for (auto id : scs) t.s.drop_share_code(id), t.changes.emplace_back(store::erase_share_code{id});
    n += scs.size();
    return {};
  });
  return r ? n : 0;
}

}  // namespace hubd::core::model
