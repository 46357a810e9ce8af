// The model's core: open and load, mutate and submit (with commit groups), recovery after a
// failed commit, publishing events. The aggregates live in their own files (users.cpp, ...).
#include "core/model/mutation.hpp"

#include <spdlog/spdlog.h>

#include <tuple>

namespace hubd::core::model {

namespace detail {

std::optional<error> check_name(std::string_view what, std::string_view name, bool allow_empty) {
  if (name.empty() && !allow_empty) return invalid(std::string(what) + " name must not be empty");
  if (name.size() > 255) return invalid(std::string(what) + " name is longer than 255 bytes");
  for (unsigned char c : name)
    if (c == '/' || c < 0x20 || c == 0x7f)
      return invalid(std::string(what) + " name '" + std::string(name) + "' must not contain '/' or control characters");
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

std::vector<std::string> merged(std::vector<std::string> a, const std::vector<std::string>& b) {
  for (const auto& s : b)
    if (std::find(a.begin(), a.end(), s) == a.end()) a.push_back(s);
  return a;
}

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

server_ptr server_of(const hub_model::state& s, std::string_view owner, std::string_view name) {
  auto u = find_in(s.users, owner);
  if (!u) return nullptr;
  auto so = s.servers_of_user.find(u->id);
  if (so == s.servers_of_user.end()) return nullptr;
  auto it = so->second.find(name);
  return it == so->second.end() ? nullptr : find_in(s.servers, it->second);
}

}  // namespace detail

using detail::find_in;

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

// ---- lifecycle --------------------------------------------------------------------------------

hub_model::hub_model(std::unique_ptr<store::store> db, model_options opts)
    : db_(std::move(db)), keeper_(std::move(opts.keeper)), state_(std::make_unique<state>()) {
  writer_ = std::make_unique<store::batch_writer>(*db_, opts.max_batch);
  writer_->set_failure_handler([this](const error& e) { on_writer_failure(e); });
}

hub_model::~hub_model() {
  if (commit_groups_) {
    commit_groups_ = 1;
    close_commit_group();
  }
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

store::snapshot hub_model::rows() const {
  std::shared_lock lock(mutex_);
  const auto& st = *state_;
  store::snapshot out;
  auto values = [](const auto& map, auto& into) {
    for (const auto& kv : map) into.push_back(*kv.second);
  };
  for (const auto& u : st.user_order) out.users.push_back(*u);
  for (const auto& g : st.group_order) out.groups.push_back(*g);
  for (const auto& [gid, users] : st.members)
    for (const auto& [uid, sources] : users)
      for (const auto& src : sources) out.memberships.push_back({uid, gid, src});
  values(st.roles_by_id, out.roles);
  for (const auto& [rid, list] : st.assignments_by_role)
    out.role_assignments.insert(out.role_assignments.end(), list.begin(), list.end());
  values(st.services_by_id, out.services);
  values(st.servers, out.servers);
  values(st.tokens, out.tokens);
  values(st.clients, out.oauth_clients);
  values(st.codes_by_digest, out.oauth_codes);
  values(st.sessions, out.sessions);
  values(st.shares, out.shares);
  values(st.share_codes, out.share_codes);
  lock.unlock();
  auto by_id = [](auto& v) { std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.id < b.id; }); };
  by_id(out.roles), by_id(out.services), by_id(out.servers), by_id(out.tokens), by_id(out.oauth_codes);
  by_id(out.sessions), by_id(out.shares), by_id(out.share_codes);
  std::sort(out.oauth_clients.begin(), out.oauth_clients.end(),
            [](const auto& a, const auto& b) { return a.identifier < b.identifier; });
  std::sort(out.memberships.begin(), out.memberships.end(), [](const auto& a, const auto& b) {
    return std::tie(a.user_id, a.group_id, a.from) < std::tie(b.user_id, b.group_id, b.from);
  });
  std::sort(out.role_assignments.begin(), out.role_assignments.end(), [](const auto& a, const auto& b) {
    return std::tie(a.role_id, a.kind, a.holder_id, a.from) < std::tie(b.role_id, b.kind, b.holder_id, b.from);
  });
  return out;
}

void hub_model::on_writer_failure(const error& e) {
  std::vector<store::batch_writer::item> queued;
  std::vector<completion> held;  // validated against the state the reload just discarded
  {
    std::unique_lock lock(mutex_);
    queued = writer_->take_queued();
    held = std::move(held_completions_);
    held_completions_.clear();
    held_changes_.clear();
    if (auto st = load(); !st) {
      broken_ = true;
      spdlog::critical("model: cannot reload state after a failed commit, refusing further changes: {}",
                       st.err().message);
    } else {
      spdlog::warn("model: state restored from the database after a failed commit; {} queued change(s) dropped",
                   queued.size() + held.size());
    }
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  const status dropped = make_error(e.code, "not saved: an earlier change failed: " + e.message);
  for (auto& q : queued)
    if (q.done) q.done(dropped);
  for (auto& h : held) h(dropped);
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

// ---- submitting -------------------------------------------------------------------------------

namespace {
// Completions the writer ran inside submit() on this thread (it was stopped), to run once the
// model's lock is released.
thread_local std::vector<std::function<void()>>* ran_inline = nullptr;
// Commit groups this thread opened and has not closed (of any model).
thread_local std::size_t groups_open_here = 0;
}  // namespace

bool hub_model::commit_group_open_here() { return groups_open_here > 0; }

void hub_model::submit(std::unique_lock<std::shared_mutex>& lock, std::vector<store::change> changes,
                       std::vector<event> events, completion done) {
  completion after_commit = [this, events = std::move(events), done = std::move(done)](const status& s) {
    if (ran_inline) {
      ran_inline->push_back([this, events, done, s] {
        if (s) publish(events);
        if (done) done(s);
      });
      return;
    }
    if (s) publish(events);
    if (done) done(s);
  };
  if (commit_groups_) {
    held_changes_.insert(held_changes_.end(), std::make_move_iterator(changes.begin()),
                         std::make_move_iterator(changes.end()));
    held_completions_.push_back(std::move(after_commit));
    lock.unlock();
    return;
  }
  std::vector<std::function<void()>> later;
  ran_inline = &later;
  // Submitting under the lock keeps the writer's order equal to the order changes hit memory.
  writer_->submit(std::move(changes), std::move(after_commit));
  ran_inline = nullptr;
  lock.unlock();
  for (auto& f : later) f();
}

void hub_model::open_commit_group() {
  std::unique_lock lock(mutex_);
  ++commit_groups_;
  ++groups_open_here;
}

status hub_model::close_commit_group() {
  std::unique_lock lock(mutex_);
  if (commit_groups_ == 0) return {};
  if (groups_open_here) --groups_open_here;
  if (--commit_groups_ > 0) return {};
  auto changes = std::move(held_changes_);
  auto completions = std::move(held_completions_);
  held_changes_.clear();
  held_completions_.clear();
  auto p = std::make_shared<std::promise<status>>();
  auto f = p->get_future();
  submit(lock, std::move(changes), {}, [p, completions = std::move(completions)](const status& s) {
    for (const auto& c : completions) c(s);
    p->set_value(s);
  });
  return f.get();
}

hub_model::commit_group::commit_group(hub_model& m) : model_(&m) { model_->open_commit_group(); }

hub_model::commit_group::~commit_group() {
  if (model_) model_->close_commit_group();
}

status hub_model::commit_group::commit() {
  auto* m = std::exchange(model_, nullptr);
  return m ? m->close_commit_group() : status{};
}

}  // namespace hubd::core::model
