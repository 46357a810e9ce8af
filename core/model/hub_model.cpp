#include "core/model/hub_model.hpp"

#include "core/model/hub_model_state.hpp"
#include "core/store/crypto.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace hubd::core::model {
namespace {

using store::make_error;

error invalid(std::string m) { return make_error(errc::invalid, std::move(m)); }
error not_found(std::string m) { return make_error(errc::not_found, std::move(m)); }
error conflict(std::string m) { return make_error(errc::conflict, std::move(m)); }

// Names that end up in URLs and cookies: non-empty, at most 255 bytes, no '/', no control chars.
std::optional<error> check_name(std::string_view what, std::string_view name, bool allow_empty = false) {
  if (name.empty() && !allow_empty) return invalid(std::string(what) + " name must not be empty");
  if (name.size() > 255) return invalid(std::string(what) + " name is longer than 255 bytes");
  for (unsigned char c : name)
    if (c == '/' || c < 0x20 || c == 0x7f)
      return invalid(std::string(what) + " name '" + std::string(name) + "' must not contain '/' or control characters");
  return std::nullopt;
}

// JupyterHub's role name rule: 3-255 chars, lowercase ASCII letter first, letter or digit last, a-z 0-9 - _ ~ . inside.
std::optional<error> check_role_name(std::string_view n) {
  auto bad = [&] {
    return invalid("role name '" + std::string(n) +
                   "' is invalid: 3-255 characters, lowercase ASCII, starting with a letter and ending with a "
                   "letter or digit, with only a-z 0-9 - _ ~ . in between");
  };
  if (n.size() < 3 || n.size() > 255) return bad();
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!lower(n.front()) || !(lower(n.back()) || digit(n.back()))) return bad();
  for (char c : n.substr(1, n.size() - 2))
    if (!(lower(c) || digit(c) || c == '-' || c == '_' || c == '~' || c == '.')) return bad();
  return std::nullopt;
}

std::optional<error> check_json_object(std::string_view what, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return invalid(std::string(what) + " must be a JSON object");
  return std::nullopt;
}

std::optional<error> check_source(std::string_view s) {
  if (s == "config" || s == "authenticator" || s == "api" || s == "default" ||
      (s.size() > 7 && s.substr(0, 7) == "plugin:"))
    return std::nullopt;
  return invalid("source '" + std::string(s) + "' is not one of config, authenticator, api, plugin:NAME");
}

template <class Map, class Key>
auto find_in(const Map& m, const Key& k) -> typename Map::mapped_type {
  auto it = m.find(k);
  return it == m.end() ? typename Map::mapped_type{} : it->second;
}

std::vector<std::string> merged(std::vector<std::string> a, const std::vector<std::string>& b) {
  for (const auto& s : b)
    if (std::find(a.begin(), a.end(), s) == a.end()) a.push_back(s);
  return a;
}

bool expired(const opt_time& at, time_point now) { return at && *at <= now; }

// Every value of a map, ordered by a member (name, identifier, id).
template <class Map, class Key>
auto values_sorted(const Map& m, Key key) {
  std::vector<typename Map::mapped_type> out;
  out.reserve(m.size());
  for (const auto& kv : m) out.push_back(kv.second);
  std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) { return (*a).*key < (*b).*key; });
  return out;
}

template <class Ptr>
void sort_by_id(std::vector<Ptr>& v) {
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
}

}  // namespace

const char* event_kind_name(event_kind k) {
  switch (k) {
    case event_kind::user_created: return "user_created";
    case event_kind::user_deleted: return "user_deleted";
    case event_kind::user_renamed: return "user_renamed";
    case event_kind::group_created: return "group_created";
    case event_kind::group_deleted: return "group_deleted";
    case event_kind::group_members_changed: return "group_members_changed";
    case event_kind::role_changed: return "role_changed";
    case event_kind::server_started: return "server_started";
    case event_kind::server_stopped: return "server_stopped";
  }
  return "unknown";
}

// A mutation in progress: applies to the state and records the same rows for the store.
struct hub_model::tx {
  state& s;
  std::vector<store::change> changes;
  std::vector<event> events;
  bool perm = false;

  template <class Row>
  std::shared_ptr<const Row> row(Row r) {
    changes.emplace_back(r);
    return std::make_shared<const Row>(std::move(r));
  }
  void emit(event e) { events.push_back(std::move(e)); }
  void add_member(const membership& m) {
    if (s.add_membership(m)) changes.emplace_back(m), perm = true;
  }
  void drop_member(const membership& m) {
    if (s.drop_membership(m)) changes.emplace_back(store::erase_membership{m}), perm = true;
  }
  void assign(const role_assignment& a) {
    if (s.add_assignment(a)) changes.emplace_back(a), perm = true;
  }
  void unassign(const role_assignment& a) {
    if (s.drop_assignment(a)) changes.emplace_back(store::erase_role_assignment{a}), perm = true;
  }
  void drop_token(std::int64_t id) {
    s.drop_token(id);
    changes.emplace_back(store::erase_token{id});
  }
  // Memory side of a holder's deletion; the store side is erase_assignments_of.
  void drop_holder_assignments(holder_kind k, std::int64_t id) {
    if (auto* v = s.holder_assignments(k, id)) {
      for (const auto& a : std::vector<role_assignment>(*v)) s.drop_assignment(a);
      perm = true;
    }
    changes.emplace_back(store::erase_assignments_of{k, id});
  }
  // Memory side of deleting a server (the store cascades shares and share codes).
  void forget_server(const server& sv, std::string_view owner) {
    std::erase_if(s.shares, [&](const auto& kv) { return kv.second->server_id == sv.id; });
    std::vector<std::int64_t> codes;
    for (const auto& [id, c] : s.share_codes)
      if (c->server_id == sv.id) codes.push_back(id);
    for (auto id : codes) s.drop_share_code(id);
    if (sv.started) emit({event_kind::server_stopped, std::string(owner), {}, {}, sv.name, {}, {}});
    s.drop_server(sv.id);
    perm = true;
  }
};

// ---- lifecycle --------------------------------------------------------------------------------

hub_model::hub_model(std::unique_ptr<store::store> db, model_options opts)
    : db_(std::move(db)), keeper_(std::move(opts.keeper)), state_(std::make_unique<state>()) {
  writer_ = std::make_unique<store::batch_writer>(*db_, opts.max_batch);
  writer_->set_failure_handler([this](const error& e) { on_writer_failure(e); });
}

hub_model::~hub_model() {
  if (writer_) writer_->stop();
}

result<std::unique_ptr<hub_model>> hub_model::open(std::unique_ptr<store::store> db, model_options opts) {
  std::unique_ptr<hub_model> m(new hub_model(std::move(db), std::move(opts)));
  if (auto st = m->load(); !st) return st.err();
  return m;
}

status hub_model::load() {
  auto snap = db_->load();
  if (!snap) return snap.err();
  auto st = std::make_unique<state>();
  auto& s = snap.value();
  st->user_order.reserve(s.users.size());
  st->users.reserve(s.users.size());
  st->users_by_id.reserve(s.users.size());
  st->cookie_ids.reserve(s.users.size());
  std::sort(s.users.begin(), s.users.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  for (auto& u : s.users) {
    auto p = std::make_shared<const user>(std::move(u));
    st->cookie_ids[p->cookie_id] = p->id;
    st->users_by_id[p->id] = p;
    st->users[p->name] = p;
    st->user_order.push_back(std::move(p));
  }
  if (!st->user_order.empty()) st->next_user = st->user_order.back()->id + 1;
  for (auto& g : s.groups) st->put_group(std::make_shared<const group>(std::move(g)));
  for (auto& m : s.memberships) st->add_membership(m);
  for (auto& r : s.roles) st->put_role(std::make_shared<const role>(std::move(r)));
  for (auto& a : s.role_assignments) st->add_assignment(a);
  for (auto& x : s.services) st->put_service(std::make_shared<const service>(std::move(x)));
  for (auto& x : s.servers) st->put_server(std::make_shared<const server>(std::move(x)));
  st->tokens.reserve(s.tokens.size());
  st->tokens_by_digest.reserve(s.tokens.size());
  for (auto& x : s.tokens) st->put_token(std::make_shared<const token>(std::move(x)));
  for (auto& x : s.oauth_clients) {
    // Not `clients[x.identifier] = make_shared(std::move(x))`: the right side runs first and would
    // leave the key empty.
    auto p = std::make_shared<const oauth_client>(std::move(x));
    st->clients[p->identifier] = std::move(p);
  }
  for (auto& x : s.oauth_codes) {
    st->next_code = std::max(st->next_code, x.id + 1);
    st->put_code(std::make_shared<const oauth_code>(std::move(x)));
  }
  for (auto& x : s.sessions) st->put_session(std::make_shared<const session>(std::move(x)));
  for (auto& x : s.shares) {
    st->next_share = std::max(st->next_share, x.id + 1);
    st->put_share(std::make_shared<const share>(std::move(x)));
  }
  for (auto& x : s.share_codes) st->put_share_code(std::make_shared<const share_code>(std::move(x)));
  state_ = std::move(st);
  spdlog::info("model: loaded {} users, {} groups, {} roles, {} services, {} servers, {} tokens from {}",
               state_->users.size(), state_->groups.size(), state_->roles.size(), state_->services.size(),
               state_->servers.size(), state_->tokens.size(), db_->describe());
  return {};
}

void hub_model::on_writer_failure(const error& e) {
  std::vector<store::batch_writer::item> queued;
  {
    std::unique_lock lock(mutex_);
    queued = writer_->take_queued();
    if (auto st = load(); !st) {
      broken_ = true;
      spdlog::critical("model: cannot reload state after a failed commit, refusing further changes: {}",
                       st.err().message);
    } else {
      spdlog::warn("model: state restored from the database after a failed commit; {} queued change(s) dropped",
                   queued.size());
    }
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  const status dropped = make_error(e.code, "not saved: an earlier change failed: " + e.message);
  for (auto& q : queued)
    if (q.done) q.done(dropped);
}

void hub_model::subscribe(subscriber s) {
  std::lock_guard lock(subscribers_mutex_);
  subscribers_.push_back(std::move(s));
}

void hub_model::publish(const std::vector<event>& events) {
  if (events.empty()) return;
  std::vector<subscriber> subs;
  {
    std::lock_guard lock(subscribers_mutex_);
    subs = subscribers_;
  }
  for (const auto& e : events)
    for (const auto& s : subs) s(e);
}

status hub_model::flush() { return writer_->flush(); }

store::batch_writer::stats hub_model::writer_stats() const { return writer_->get_stats(); }

template <class T, class F>
result<T> hub_model::mutate(completion done, F&& body) {
  std::unique_lock lock(mutex_);
  if (broken_) return make_error(errc::io, "the database failed and could not be reloaded; restart hubd");
  tx t{*state_, {}, {}, false};
  result<T> r = body(t);
  if (!r) return r;
  if (t.perm) generation_.fetch_add(1, std::memory_order_acq_rel);
  // Submitting under the lock keeps the writer's order equal to the order changes hit memory.
  writer_->submit(std::move(t.changes), [this, events = std::move(t.events), done = std::move(done)](const status& s) {
    if (s) publish(events);
    if (done) done(s);
  });
  return r;
}

// ---- users ------------------------------------------------------------------------------------

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
  const auto& v = state_->user_order;
  if (offset >= v.size()) return {};
  const auto end = offset + std::min(limit, v.size() - offset);
  return std::vector<user_ptr>(v.begin() + static_cast<std::ptrdiff_t>(offset), v.begin() + static_cast<std::ptrdiff_t>(end));
}

std::vector<user_ptr> hub_model::list_users_if(std::size_t offset, std::size_t limit,
                                               const std::function<bool(const user&)>& keep) const {
  std::shared_lock lock(mutex_);
  std::vector<user_ptr> out;
  for (const auto& u : state_->user_order) {
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
    const auto id = u->id;
    // Memory side of the store's ON DELETE CASCADE.
    if (auto ug = t.s.user_groups.find(id); ug != t.s.user_groups.end()) {
      for (auto gid : std::set<std::int64_t>(ug->second)) {
        auto sources = t.s.members[gid][id];
        for (const auto& src : sources) t.s.drop_membership({id, gid, src});
        if (auto g = find_in(t.s.groups_by_id, gid))
          t.emit({event_kind::group_members_changed, u->name, g->name, {}, {}, "removed", {u->name}});
      }
    }
    t.drop_holder_assignments(holder_kind::user, id);
    if (auto so = t.s.servers_of_user.find(id); so != t.s.servers_of_user.end())
      for (const auto& [sname, sid] : std::map<std::string, std::int64_t, std::less<>>(so->second))
        if (auto sv = find_in(t.s.servers, sid)) t.forget_server(*sv, u->name);
    if (auto tk = t.s.tokens_of_user.find(id); tk != t.s.tokens_of_user.end())
      for (auto tid : std::set<std::int64_t>(tk->second)) t.s.drop_token(tid);
    std::erase_if(t.s.codes_by_digest, [&](const auto& kv) { return kv.second->user_id == id; });
    std::erase_if(t.s.sessions, [&](const auto& kv) { return kv.second->user_id == id; });
    std::erase_if(t.s.shares, [&](const auto& kv) { return kv.second->user_id == id; });
    t.s.drop_user(id);
    t.changes.emplace_back(store::erase_user{id});
    t.emit({event_kind::user_deleted, u->name, {}, {}, {}, {}, {}});
    t.perm = true;
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

// ---- groups -----------------------------------------------------------------------------------

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
  const auto& v = state_->group_order;
  if (offset >= v.size()) return {};
  const auto end = offset + std::min(limit, v.size() - offset);
  return std::vector<group_ptr>(v.begin() + static_cast<std::ptrdiff_t>(offset), v.begin() + static_cast<std::ptrdiff_t>(end));
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
    if (auto m = t.s.members.find(g->id); m != t.s.members.end())
      for (const auto& [uid, sources] : std::map<std::int64_t, std::vector<std::string>>(m->second))
        for (const auto& src : sources) t.s.drop_membership({uid, g->id, src});
    t.drop_holder_assignments(holder_kind::group, g->id);
    std::erase_if(t.s.shares, [&](const auto& kv) { return kv.second->group_id == g->id; });
    t.s.drop_group(g->id);
    t.changes.emplace_back(store::erase_group{g->id});
    t.emit({event_kind::group_deleted, {}, g->name, {}, {}, {}, {}});
    t.perm = true;
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

// ---- roles ------------------------------------------------------------------------------------

role_ptr hub_model::find_role(std::string_view name) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->roles, name);
}

std::vector<role_ptr> hub_model::list_roles() const {
  std::shared_lock lock(mutex_);
  return values_sorted(state_->roles, &role::name);
}

namespace {
std::int64_t holder_id(const hub_model::state& s, const holder_ref& h) {
  switch (h.kind) {
    case holder_kind::user: { auto p = find_in(s.users, h.name); return p ? p->id : 0; }
    case holder_kind::group: { auto p = find_in(s.groups, h.name); return p ? p->id : 0; }
    case holder_kind::service: { auto p = find_in(s.services, h.name); return p ? p->id : 0; }
  }
  return 0;
}
std::string holder_name(const hub_model::state& s, holder_kind k, std::int64_t id) {
  switch (k) {
    case holder_kind::user: { auto p = find_in(s.users_by_id, id); return p ? p->name : std::string(); }
    case holder_kind::group: { auto p = find_in(s.groups_by_id, id); return p ? p->name : std::string(); }
    case holder_kind::service: { auto p = find_in(s.services_by_id, id); return p ? p->name : std::string(); }
  }
  return {};
}
}  // namespace

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
    if (auto e = check_role_name(nr.name)) return *e;
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
    t.s.drop_role(cur->id);
    t.changes.emplace_back(store::erase_role{cur->id});
    t.emit({event_kind::role_changed, {}, {}, cur->name, {}, "deleted", {}});
    t.perm = true;
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

// ---- services ---------------------------------------------------------------------------------

service_ptr hub_model::find_service(std::string_view name) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->services, name);
}

std::vector<service_ptr> hub_model::list_services() const {
  std::shared_lock lock(mutex_);
  return values_sorted(state_->services, &service::name);
}

result<service_ptr> hub_model::put_service(service sv, completion done) {
  if (auto e = check_name("service", sv.name)) return *e;
  if (auto e = check_json_object("service info", sv.info)) return *e;
  return mutate<service_ptr>(std::move(done), [&](tx& t) -> result<service_ptr> {
    auto cur = find_in(t.s.services, sv.name);
    sv.id = cur ? cur->id : t.s.next_service++;
    if (!cur) sv.created = now();
    else sv.created = cur->created;
    auto p = t.row(std::move(sv));
    t.s.put_service(p);
    if (!cur || cur->admin != p->admin) t.perm = true;
    return p;
  });
}

status hub_model::delete_service(std::string_view name, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto sv = find_in(t.s.services, name);
    if (!sv) return not_found("service " + std::string(name) + " not found");
    t.drop_holder_assignments(holder_kind::service, sv->id);
    if (auto tk = t.s.tokens_of_service.find(sv->id); tk != t.s.tokens_of_service.end())
      for (auto tid : std::set<std::int64_t>(tk->second)) t.s.drop_token(tid);
    t.s.drop_service(sv->id);
    t.changes.emplace_back(store::erase_service{sv->id});
    t.perm = true;
    return {};
  });
}

// ---- servers ----------------------------------------------------------------------------------

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
    t.forget_server(*sv, u->name);
    t.changes.emplace_back(store::erase_server{sv->id});
    return {};
  });
}

// ---- tokens -----------------------------------------------------------------------------------

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

// ---- OAuth ------------------------------------------------------------------------------------

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
    std::vector<std::int64_t> ids;
    for (const auto& [id, tk] : t.s.tokens)
      if (tk->client_id == identifier) ids.push_back(id);
    for (auto id : ids) t.drop_token(id);
    std::erase_if(t.s.codes_by_digest, [&](const auto& kv) { return kv.second->client_id == identifier; });
    t.s.clients.erase(c->identifier);
    t.changes.emplace_back(store::erase_oauth_client{c->identifier});
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

// ---- sessions ---------------------------------------------------------------------------------

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

// ---- sharing ----------------------------------------------------------------------------------

namespace {
server_ptr server_of(const hub_model::state& s, std::string_view owner, std::string_view name) {
  auto u = find_in(s.users, owner);
  if (!u) return nullptr;
  auto so = s.servers_of_user.find(u->id);
  if (so == s.servers_of_user.end()) return nullptr;
  auto it = so->second.find(name);
  return it == so->second.end() ? nullptr : find_in(s.servers, it->second);
}
}  // namespace

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
