// The model's oauth aggregate. OAuth clients and authorization codes.
#include "core/model/mutation.hpp"

#include "core/store/crypto.hpp"

namespace hubd::core::model {

using namespace detail;

oauth_client_ptr hub_model::find_oauth_client(std::string_view identifier) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->clients, identifier);
}

std::vector<oauth_client_ptr> hub_model::list_oauth_clients() const {
  std::shared_lock lock(mutex_);
  return values_sorted(state_->clients, &oauth_client::identifier);
}

result<oauth_client_ptr> hub_model::put_oauth_client(oauth_client c, std::optional<std::string> secret, completion done) {
  if (c.identifier.empty()) return invalid("an OAuth client needs an identifier");
  if (secret) c.secret_digest = store::token_digest(*secret);
  return mutate<oauth_client_ptr>(std::move(done), [&](tx& t) -> result<oauth_client_ptr> {
    auto cur = find_in(t.s.clients, c.identifier);
    // Replacing another owner's client would hand it our redirect URI and secret.
    if (cur && cur->owner && cur->owner != c.owner)
      return conflict("OAuth client " + c.identifier + " belongs to " + *cur->owner + ", not " +
                      c.owner.value_or("(no owner)"));
    c.created = cur ? cur->created : now();
    auto p = t.row(std::move(c));
    t.s.clients[p->identifier] = p;
    return p;
  });
}

bool hub_model::check_oauth_client_secret(std::string_view identifier, std::string_view secret) const {
  auto c = find_oauth_client(identifier);
  return c && c->secret_digest && store::equal_constant_time(*c->secret_digest, store::token_digest(secret));
}

status hub_model::delete_oauth_client(std::string_view identifier, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto c = find_in(t.s.clients, identifier);
    if (!c) return not_found("OAuth client " + std::string(identifier) + " not found");
    t.erase_oauth_client(*c);
    return {};
  });
}

result<created_secret> hub_model::create_oauth_code(const new_oauth_code& c, completion done) {
  std::string secret = store::random_string(30);
  auto r = mutate<std::int64_t>(std::move(done), [&](tx& t) -> result<std::int64_t> {
    if (!t.s.clients.count(c.client_id)) return not_found("OAuth client " + c.client_id + " not found");
    auto u = find_in(t.s.users, c.user);
    if (!u) return not_found("user " + c.user + " not found");
    oauth_code row;
    row.id = t.s.next_code++;
    row.digest = store::token_digest(secret);
    row.client_id = c.client_id;
    row.user_id = u->id;
    row.scopes = c.scopes;
    row.redirect_uri = c.redirect_uri;
    row.session_id = c.session_id;
    row.expires_at = now() + std::chrono::duration_cast<std::chrono::microseconds>(c.expires_in);
    row.code_challenge = c.code_challenge;
    row.code_challenge_method = c.code_challenge_method;
    auto p = t.row(std::move(row));
    t.s.put_code(p);
    return p->id;
  });
  if (!r) return r.err();
  return created_secret{r.value(), std::move(secret)};
}

result<oauth_code> hub_model::consume_oauth_code(std::string_view code, std::string_view client_id, completion done) {
  const auto digest = store::token_digest(code);
  const auto when = now();
  return mutate<oauth_code>(std::move(done), [&](tx& t) -> result<oauth_code> {
    auto c = find_in(t.s.codes_by_digest, digest);
    if (!c || c->client_id != client_id) return not_found("invalid or expired authorization code");
    oauth_code out = *c;
    t.s.codes_by_digest.erase(digest);  // single use, even when expired
    t.changes.emplace_back(store::erase_oauth_code{out.id});
    if (out.expires_at <= when) return not_found("invalid or expired authorization code");
    return out;
  });
}

}  // namespace hubd::core::model
