// The model's sharing aggregate. Shares of servers and share codes.
#include "core/model/mutation.hpp"

#include "core/store/crypto.hpp"

namespace hubd::core::model {

using namespace detail;

std::vector<share_ptr> hub_model::shares_of_server(std::string_view owner, std::string_view name) const {
  std::shared_lock lock(mutex_);
  std::vector<share_ptr> out;
  auto sv = server_of(*state_, owner, name);
  if (!sv) return out;
  for (const auto& [id, sh] : state_->shares)
    if (sh->server_id == sv->id) out.push_back(sh);
  sort_by_id(out);
  return out;
}

std::vector<share_ptr> hub_model::shares_of_owner(std::string_view owner) const {
  std::shared_lock lock(mutex_);
  std::vector<share_ptr> out;
  auto u = find_in(state_->users, owner);
  if (!u) return out;
  for (const auto& [id, sh] : state_->shares)
    if (auto sv = find_in(state_->servers, sh->server_id); sv && sv->user_id == u->id) out.push_back(sh);
  sort_by_id(out);
  return out;
}

std::vector<share_ptr> hub_model::shares_with(holder_kind kind, std::string_view name) const {
  std::shared_lock lock(mutex_);
  std::vector<share_ptr> out;
  const auto id = holder_id(*state_, {kind, std::string(name)});
  if (!id) return out;
  for (const auto& [sid, sh] : state_->shares)
    if ((kind == holder_kind::user && sh->user_id == id) || (kind == holder_kind::group && sh->group_id == id))
      out.push_back(sh);
  sort_by_id(out);
  return out;
}

std::vector<share_ptr> hub_model::shares_reaching_user(std::string_view name) const {
  std::shared_lock lock(mutex_);
  std::vector<share_ptr> out;
  auto u = find_in(state_->users, name);
  if (!u) return out;
  const std::set<std::int64_t> none;
  auto ug = state_->user_groups.find(u->id);
  const auto& gids = ug == state_->user_groups.end() ? none : ug->second;
  for (const auto& [sid, sh] : state_->shares)
    if (sh->user_id == u->id || (sh->group_id && gids.count(*sh->group_id))) out.push_back(sh);
  sort_by_id(out);
  return out;
}

result<share_ptr> hub_model::grant_share(std::string_view owner, std::string_view name, const holder_ref& with,
                                         const std::vector<std::string>& scopes, completion done) {
  return mutate<share_ptr>(std::move(done), [&](tx& t) -> result<share_ptr> {
    auto sv = server_of(t.s, owner, name);
    if (!sv) return not_found("server " + std::string(owner) + "/" + std::string(name) + " not found");
    if (with.kind == holder_kind::service) return invalid("servers are shared with users or groups, not services");
    const auto id = holder_id(t.s, with);
    if (!id) return not_found(std::string(store::holder_kind_name(with.kind)) + " " + with.name + " not found");
    if (with.kind == holder_kind::user && id == sv->user_id) return invalid("a server cannot be shared with its owner");
    share_ptr cur;
    for (const auto& [sid, sh] : t.s.shares)
      if (sh->server_id == sv->id && ((with.kind == holder_kind::user && sh->user_id == id) ||
                                      (with.kind == holder_kind::group && sh->group_id == id)))
        cur = sh;
    share r;
    if (cur) r = *cur;
    else {
      r.id = t.s.next_share++;
      r.server_id = sv->id;
      if (with.kind == holder_kind::user) r.user_id = id;
      else r.group_id = id;
      r.created = now();
    }
    r.scopes = merged(std::move(r.scopes), scopes);
    auto p = t.row(std::move(r));
    t.s.put_share(p);
    t.perm = true;
    return p;
  });
}

status hub_model::revoke_share(std::string_view owner, std::string_view name, const holder_ref& with,
                               const std::vector<std::string>& scopes, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto sv = server_of(t.s, owner, name);
    if (!sv) return not_found("server " + std::string(owner) + "/" + std::string(name) + " not found");
    const auto id = holder_id(t.s, with);
    share_ptr cur;
    for (const auto& [sid, sh] : t.s.shares)
      if (sh->server_id == sv->id && ((with.kind == holder_kind::user && sh->user_id == id) ||
                                      (with.kind == holder_kind::group && sh->group_id == id)))
        cur = sh;
    if (!id || !cur) return not_found("no share of " + std::string(owner) + "/" + std::string(name) + " with " + with.name);
    share r = *cur;
    if (!scopes.empty()) std::erase_if(r.scopes, [&](const std::string& s) { return std::find(scopes.begin(), scopes.end(), s) != scopes.end(); });
    if (scopes.empty() || r.scopes.empty()) {
      t.s.shares.erase(r.id);
      t.changes.emplace_back(store::erase_share{r.id});
    } else {
      t.s.put_share(t.row(std::move(r)));
    }
    t.perm = true;
    return {};
  });
}

std::vector<share_code_ptr> hub_model::share_codes_of_server(std::string_view owner, std::string_view name) const {
  std::shared_lock lock(mutex_);
  std::vector<share_code_ptr> out;
  auto sv = server_of(*state_, owner, name);
  if (!sv) return out;
  for (const auto& [id, c] : state_->share_codes)
    if (c->server_id == sv->id) out.push_back(c);
  sort_by_id(out);
  return out;
}

share_code_ptr hub_model::find_share_code(std::string_view secret, time_point when) const {
  const auto digest = store::token_digest(secret);
  std::shared_lock lock(mutex_);
  auto it = state_->share_code_by_digest.find(digest);
  if (it == state_->share_code_by_digest.end()) return nullptr;
  auto c = find_in(state_->share_codes, it->second);
  return c && c->expires_at > when ? c : nullptr;
}

result<created_secret> hub_model::create_share_code(std::string_view owner, std::string_view name,
                                                    const std::vector<std::string>& scopes,
                                                    std::chrono::seconds expires_in, completion done) {
  if (expires_in < std::chrono::seconds(60) || expires_in > std::chrono::days(365))
    return invalid("share code expiry must be between 60 seconds and 365 days");
  std::string secret = store::random_urlsafe(32);
  auto r = mutate<std::int64_t>(std::move(done), [&](tx& t) -> result<std::int64_t> {
    auto sv = server_of(t.s, owner, name);
    if (!sv) return not_found("server " + std::string(owner) + "/" + std::string(name) + " not found");
    share_code c;
    c.id = t.s.next_share_code++;
    c.server_id = sv->id;
    c.digest = store::token_digest(secret);
    c.scopes = scopes;
    c.created = now();
    c.expires_at = c.created + std::chrono::duration_cast<std::chrono::microseconds>(expires_in);
    auto p = t.row(std::move(c));
    t.s.put_share_code(p);
    return p->id;
  });
  if (!r) return r.err();
  return created_secret{r.value(), std::move(secret)};
}

result<share_ptr> hub_model::exchange_share_code(std::string_view secret, std::string_view user_name, time_point when,
                                                 completion done) {
  const auto digest = store::token_digest(secret);
  return mutate<share_ptr>(std::move(done), [&](tx& t) -> result<share_ptr> {
    auto it = t.s.share_code_by_digest.find(digest);
    auto c = it == t.s.share_code_by_digest.end() ? nullptr : find_in(t.s.share_codes, it->second);
    if (!c || c->expires_at <= when) return not_found("share code not found or expired");
    auto u = find_in(t.s.users, user_name);
    if (!u) return not_found("user " + std::string(user_name) + " not found");
    auto sv = find_in(t.s.servers, c->server_id);
    if (!sv) return not_found("the shared server no longer exists");
    if (sv->user_id == u->id) return invalid("the owner cannot accept a share of their own server");
    share_ptr cur;
    for (const auto& [sid, sh] : t.s.shares)
      if (sh->server_id == sv->id && sh->user_id == u->id) cur = sh;
    share r;
    if (cur) r = *cur;
    else r.id = t.s.next_share++, r.server_id = sv->id, r.user_id = u->id, r.created = when;
    r.scopes = merged(std::move(r.scopes), c->scopes);
    auto p = t.row(std::move(r));
    t.s.put_share(p);
    share_code nc = *c;
    ++nc.exchange_count;
    nc.last_exchanged_at = when;
    t.s.put_share_code(t.row(std::move(nc)));
    t.perm = true;
    return p;
  });
}

status hub_model::revoke_share_code(std::int64_t id, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    if (!t.s.share_codes.count(id)) return not_found("share code sc_" + std::to_string(id) + " not found");
    t.s.drop_share_code(id);
    t.changes.emplace_back(store::erase_share_code{id});
    return {};
  });
}

}  // namespace hubd::core::model
