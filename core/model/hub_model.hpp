#pragma once
// The in-memory hub state: the single source of truth in the process and the one place that
// mutates it. Reads are served from memory under a shared lock and return snapshots: immutable
// shared rows and vectors of them (cheap to copy, safe to keep). No caller code ever runs under
// the model's lock (a callback that read the model again would lock it recursively), so a
// predicate or a completion may call back into the model freely. A mutation validates against the
// current state under the exclusive lock, applies to memory, and hands its rows to the store's
// single writer; it returns at once (never waits for fsync). Its completion fires on the writer
// thread once the change is durable.
//
// Contract of every mutation `result<T> m(..., completion done)`:
//   - an error result means nothing changed and `done` is never called;
//   - an ok result means memory changed and `done(status)` is called exactly once, after the
//     commit (status ok) or after it failed (then memory is restored from the database and the
//     change is gone; later changes queued behind it fail too).
// Bulk mutations (create_users, add_group_members, ...) are all-or-nothing.
//
// The implementation is a small core (hub_model.cpp: mutate, submit, commit groups, load, publish),
// one file per aggregate (users, groups, roles, services, servers, tokens, oauth, sessions,
// sharing) and the cascades of deletions in one place (cascades.cpp).
#include "core/model/events.hpp"
#include "core/model/timestamp.hpp"
#include "core/store/batch_writer.hpp"
#include "core/store/crypt_keeper.hpp"
#include "core/store/store.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::model {

using store::error;
using store::errc;
using store::holder_kind;
using store::result;
using store::status;

using user = store::user_row;
using group = store::group_row;
using role = store::role_row;
using service = store::service_row;
using server = store::server_row;
using token = store::token_row;
using oauth_client = store::oauth_client_row;
using oauth_code = store::oauth_code_row;
using session = store::session_row;
using share = store::share_row;
using share_code = store::share_code_row;
using membership = store::membership_row;
using role_assignment = store::role_assignment_row;

using user_ptr = std::shared_ptr<const user>;
using group_ptr = std::shared_ptr<const group>;
using role_ptr = std::shared_ptr<const role>;
using service_ptr = std::shared_ptr<const service>;
using server_ptr = std::shared_ptr<const server>;
using token_ptr = std::shared_ptr<const token>;
using oauth_client_ptr = std::shared_ptr<const oauth_client>;
using session_ptr = std::shared_ptr<const session>;
using share_ptr = std::shared_ptr<const share>;
using share_code_ptr = std::shared_ptr<const share_code>;

using completion = std::function<void(const status&)>;

// ---- mutation inputs ------------------------------------------------------------------------

struct new_user {
  new_user(std::string n = {}, bool a = false, std::optional<std::string> info = std::nullopt)
      : name(std::move(n)), admin(a), user_info(std::move(info)) {}
  std::string name;
  bool admin = false;
  std::optional<std::string> user_info;  // JSON object text
  // Grant the default `user` role (and `admin` when admin) if those roles exist.
  bool grant_default_roles = true;
  std::string source = "api";  // provenance of the default role grants
};

struct user_patch {
  std::optional<std::string> name;   // rename
  std::optional<bool> admin;         // also grants / strips the `admin` role
  std::optional<std::optional<std::string>> user_info;
  opt_time last_activity;
  std::string source = "api";
};

struct new_role {
  new_role(std::string n = {}, std::string desc = {}, std::vector<std::string> sc = {}, std::string src = "api",
           bool managed = false)
      : name(std::move(n)), description(std::move(desc)), scopes(std::move(sc)), source(std::move(src)),
        managed_by_auth(managed) {}
  std::string name;
  std::string description;
  std::vector<std::string> scopes;
  std::string source = "api";
  bool managed_by_auth = false;
};

struct role_patch {
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> scopes;
  std::optional<bool> managed_by_auth;
  std::optional<std::string> source;
};

struct holder_ref {
  holder_kind kind = holder_kind::user;
  std::string name;
};

struct server_patch {
  std::optional<std::string> display_name;
  std::optional<std::optional<std::string>> url;
  std::optional<opt_time> started;        // set: server_started event; cleared: server_stopped
  opt_time last_activity;
  std::optional<std::optional<std::string>> pending;
  std::optional<std::string> state;         // JSON object text
  std::optional<std::string> user_options;  // JSON object text
};

struct new_token {
  new_token(holder_kind kind = holder_kind::user, std::string owner_name = {}, std::vector<std::string> sc = {})
      : owner_kind(kind), owner(std::move(owner_name)), scopes(std::move(sc)) {}
  holder_kind owner_kind = holder_kind::user;  // user or service
  std::string owner;
  std::vector<std::string> scopes;
  opt_time expires_at;
  std::string note;
  std::optional<std::string> session_id;
  std::string client_id = "jupyterhub";
  // A user-provided secret (config api_tokens, service api_token): at least 8 characters. When
  // absent a 32-hex-character secret is generated.
  std::optional<std::string> secret;
};

struct created_token {
  token_ptr token;
  std::string secret;  // shown once; never stored, never logged
};

struct new_oauth_code {
  std::string client_id;
  std::string user;
  std::vector<std::string> scopes;
  std::string redirect_uri;
  std::optional<std::string> session_id;
  std::chrono::seconds expires_in{300};
  std::optional<std::string> code_challenge;
  std::optional<std::string> code_challenge_method;
};

struct created_secret {
  std::int64_t id = 0;
  std::string secret;
};

struct group_membership {
  std::string user;
  std::string group;
  std::vector<std::string> sources;
};

struct role_holders {
  std::vector<std::string> users, groups, services;
};

struct model_options {
  store::crypt_keeper keeper;   // auth_state encryption; without keys auth_state is unavailable
  std::size_t max_batch = 8192; // changes lists per transaction
};

class hub_model {
public:
  // Loads everything from `db` (which must outlive nothing: the model owns it) and starts the writer.
  static result<std::unique_ptr<hub_model>> open(std::unique_ptr<store::store> db, model_options opts = {});
  ~hub_model();  // makes everything submitted durable, then stops the writer
  hub_model(const hub_model&) = delete;
  hub_model& operator=(const hub_model&) = delete;

  // Bumped by every change that can affect permissions (roles, assignments, memberships, admin
  // flags, shares, principals created/deleted). Cache expanded scopes keyed by it.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Subscribers run after commit on the writer thread, without the model lock.
  void subscribe(subscriber s);

  // Wait until everything submitted so far is durable.
  status flush();

  // Blocking convenience for start-up code and tests: runs `mutation(done)` and waits for `done`.
  //   auto r = model.wait([&](auto done) { return model.create_user({"alice"}, done); });
  // Refused (errc::invalid) on a thread that holds an open commit group: the completion would fire
  // only when the group closes, which that thread would never reach.
  template <class F>
  auto wait(F&& mutation) -> decltype(mutation(completion{}));

  // While a commit group is open, every mutation (from any thread) applies to memory at once as
  // usual but reaches the store only when the group closes, all of them in one transaction (one
  // fsync) in the order they hit memory; their completions fire then, in that order. For start-up,
  // which makes a change per configured user, group and role. Groups nest; the outermost commits.
  // A group is opened and closed on one thread.
  class commit_group {
  public:
    explicit commit_group(hub_model& m);
    ~commit_group();  // commits if commit() was not called (memory already holds the changes)
    commit_group(const commit_group&) = delete;
    commit_group& operator=(const commit_group&) = delete;
    // Closes the group and waits until its changes are durable (or failed).
    status commit();

  private:
    hub_model* model_;
  };

  // Everything in memory as rows, ordered by key: what the database holds once flush() returned
  // (a test compares it with a model reopened over the same file).
  store::snapshot rows() const;

  // ---- users --------------------------------------------------------------------------------
  user_ptr find_user(std::string_view name) const;
  user_ptr find_user(std::int64_t id) const;
  user_ptr find_user_by_cookie_id(std::string_view cookie_id) const;
  std::size_t user_count() const;
  // Ordered by id (creation order), like JupyterHub; O(limit) whatever the offset.
  std::vector<user_ptr> list_users(std::size_t offset, std::size_t limit) const;
  // Ordered by id, only users for which `keep` is true (scans; for filtered listings). `keep` runs
  // on a snapshot, without the model's lock, and may read the model.
  std::vector<user_ptr> list_users_if(std::size_t offset, std::size_t limit,
                                      const std::function<bool(const user&)>& keep) const;

  result<user_ptr> create_user(const new_user& u, completion done);
  result<std::vector<user_ptr>> create_users(const std::vector<new_user>& us, completion done);
  result<user_ptr> update_user(std::string_view name, const user_patch& p, completion done);
  status delete_user(std::string_view name, completion done);
  // Recent activity: not a permission change; coalesced by callers (activity_resolution).
  status touch_user(std::string_view name, time_point when, completion done = {});

  // auth_state (encrypted with the model's crypt_keeper). nullopt when none is stored.
  result<std::optional<nlohmann::json>> get_auth_state(std::string_view user) const;
  status set_auth_state(std::string_view user, const std::optional<nlohmann::json>& state, completion done);
  bool auth_state_enabled() const { return keeper_.enabled(); }
  // Re-encrypt every auth_state that is not under the first key. All or nothing: if any
  // auth_state cannot be decrypted the error names the user and nothing changes. Returns the count.
  result<std::size_t> rotate_auth_state_keys(completion done);

  // ---- groups and memberships -------------------------------------------------------------
  group_ptr find_group(std::string_view name) const;
  group_ptr find_group(std::int64_t id) const;
  std::size_t group_count() const;
  std::vector<group_ptr> list_groups(std::size_t offset, std::size_t limit) const;
  // Names in user-id (creation) order, as JupyterHub lists a group's users; not sorted by name, which
  // would cost a string sort per render of a large group.
  std::vector<std::string> group_members(std::string_view group) const;
  std::vector<std::string> user_groups(std::string_view user) const;      // sorted names
  bool is_member(std::string_view user, std::string_view group) const;   // any source
  // Some membership of the group comes from `source` ("authenticator": the group is managed).
  bool group_has_members_from(std::string_view group, std::string_view source) const;
  std::vector<group_membership> memberships_of_user(std::string_view user) const;

  result<group_ptr> create_group(std::string_view name, std::string properties_json, completion done);
  result<std::vector<group_ptr>> create_groups(const std::vector<std::string>& names, completion done);
  status delete_group(std::string_view name, completion done);
  result<group_ptr> set_group_properties(std::string_view name, std::string properties_json, completion done);
  // All or nothing: every user must exist. Adding an existing (user, group, source) is a no-op.
  status add_group_members(std::string_view group, const std::vector<std::string>& users, std::string_view source,
                           completion done);
  // Removes the memberships of `source` (or of every source when `source` is empty).
  status remove_group_members(std::string_view group, const std::vector<std::string>& users,
                              std::string_view source, completion done);
  // Makes `user`'s memberships from `source` exactly `groups`, creating missing groups
  // (manage_groups logins). Memberships from other sources stay.
  status set_user_groups_from_source(std::string_view user, const std::vector<std::string>& groups,
                                     std::string_view source, completion done);

  // ---- roles --------------------------------------------------------------------------------
  role_ptr find_role(std::string_view name) const;
  std::vector<role_ptr> list_roles() const;  // by name
  std::vector<role_ptr> roles_of(holder_kind kind, std::string_view holder) const;  // direct, by name
  std::vector<role_assignment> assignments_of(holder_kind kind, std::string_view holder) const;
  role_holders holders_of(std::string_view role) const;
  // Raw scopes of the user's direct roles plus its groups' roles.
  std::vector<std::string> user_role_scopes(std::string_view user) const;

  result<role_ptr> create_role(const new_role& r, completion done);
  result<role_ptr> update_role(std::string_view name, const role_patch& p, completion done);
  status delete_role(std::string_view name, completion done);
  status assign_role(std::string_view role, const holder_ref& holder, std::string_view source, completion done);
  // Removes the assignment from `source` (every source when empty).
  status unassign_role(std::string_view role, const holder_ref& holder, std::string_view source, completion done);

  // ---- services -----------------------------------------------------------------------------
  service_ptr find_service(std::string_view name) const;
  std::vector<service_ptr> list_services() const;  // by name
  // Create or replace by name (id is kept on replace).
  result<service_ptr> put_service(service s, completion done);
  status delete_service(std::string_view name, completion done);

  // ---- servers ------------------------------------------------------------------------------
  server_ptr find_server(std::string_view user, std::string_view name) const;
  server_ptr find_server(std::int64_t id) const;
  std::vector<server_ptr> servers_of(std::string_view user) const;  // by name
  // Creates the server row when missing.
  result<server_ptr> update_server(std::string_view user, std::string_view name, const server_patch& p,
                                   completion done);
  status delete_server(std::string_view user, std::string_view name, completion done);

  // ---- tokens -------------------------------------------------------------------------------
  // O(1): digest, then hash lookup. Expired tokens are invisible.
  token_ptr find_token(std::string_view secret) const;
  token_ptr find_token(std::string_view secret, time_point now) const;
  token_ptr find_token_by_id(std::int64_t id) const;
  std::vector<token_ptr> tokens_of(holder_kind kind, std::string_view owner) const;  // by id
  std::size_t token_count() const;

  result<created_token> create_token(const new_token& t, completion done);
  status delete_token(std::int64_t id, completion done);
  // Deletes the owner's tokens issued by `client_id` (DELETE of an OAuth token).
  status delete_tokens_of_client(std::string_view user, std::string_view client_id, completion done);
  // Deletes every token with this session id (logout).
  status delete_tokens_of_session(std::string_view session_id, completion done);
  status touch_token(std::int64_t id, time_point when, completion done = {});
  // Deletes expired tokens, OAuth codes and share codes. Returns how many rows went.
  std::size_t purge_expired(time_point now, completion done = {});

  // ---- OAuth ----------------------------------------------------------------------------------
  oauth_client_ptr find_oauth_client(std::string_view identifier) const;
  std::vector<oauth_client_ptr> list_oauth_clients() const;
  // Create or replace by identifier. `secret` (if any) is stored as its digest.
  result<oauth_client_ptr> put_oauth_client(oauth_client c, std::optional<std::string> secret, completion done);
  bool check_oauth_client_secret(std::string_view identifier, std::string_view secret) const;
  // Deletes the client, its codes and its tokens.
  status delete_oauth_client(std::string_view identifier, completion done);
  result<created_secret> create_oauth_code(const new_oauth_code& c, completion done);
  // Single use: the code is removed whether or not the caller then accepts it. Expired or
  // unknown codes, or a code of another client, give not_found.
  result<oauth_code> consume_oauth_code(std::string_view code, std::string_view client_id, completion done);

  // ---- browser sessions ---------------------------------------------------------------------
  session_ptr find_session(std::string_view id) const;
  result<session_ptr> create_session(std::string_view user, completion done);
  status delete_session(std::string_view id, completion done);
  // Ends every browser session of the user (a login that is over): a new cookie id, so no login
  // cookie issued before works, and the sessions go with their OAuth tokens. The user's other
  // tokens stay. Returns how many sessions ended.
  result<std::size_t> end_user_sessions(std::string_view user, completion done);

  // ---- sharing -----------------------------------------------------------------------------
  std::vector<share_ptr> shares_of_server(std::string_view owner, std::string_view server) const;
  std::vector<share_ptr> shares_of_owner(std::string_view owner) const;
  std::vector<share_ptr> shares_with(holder_kind kind, std::string_view name) const;  // user or group
  // Raw scopes of every share granted to the user directly or through its groups.
  std::vector<share_ptr> shares_reaching_user(std::string_view user) const;
  // Creates the share or adds scopes to it.
  result<share_ptr> grant_share(std::string_view owner, std::string_view server, const holder_ref& with,
                                const std::vector<std::string>& scopes, completion done);
  // Removes `scopes` from the share (all of it when empty); a share left without scopes is deleted.
  status revoke_share(std::string_view owner, std::string_view server, const holder_ref& with,
                      const std::vector<std::string>& scopes, completion done);
  std::vector<share_code_ptr> share_codes_of_server(std::string_view owner, std::string_view server) const;
  share_code_ptr find_share_code(std::string_view secret, time_point now) const;
  result<created_secret> create_share_code(std::string_view owner, std::string_view server,
                                           const std::vector<std::string>& scopes, std::chrono::seconds expires_in,
                                           completion done);
  // Exchanging creates or extends a share for `user` (never the owner) and counts the exchange.
  result<share_ptr> exchange_share_code(std::string_view secret, std::string_view user, time_point now,
                                        completion done);
  status revoke_share_code(std::int64_t id, completion done);

  store::batch_writer::stats writer_stats() const;

  // Private to core/model (hub_model_state.hpp, mutation.hpp).
  struct state;
  struct tx;

private:
  hub_model(std::unique_ptr<store::store> db, model_options opts);
  status load();
  void on_writer_failure(const error& e);
  void publish(const std::vector<event>& events);
  // Validates and applies under the exclusive lock; commits what `body` recorded in the tx.
  template <class T, class F>
  result<T> mutate(completion done, F&& body);
  // Hands a mutation's changes to the writer (or to the open commit group) while `lock` holds the
  // exclusive lock, then releases it; a completion the writer runs at once (it is stopped) runs
  // only after the release.
  void submit(std::unique_lock<std::shared_mutex>& lock, std::vector<store::change> changes,
              std::vector<event> events, completion done);
  void open_commit_group();
  status close_commit_group();

  std::unique_ptr<store::store> db_;
  store::crypt_keeper keeper_;
  std::unique_ptr<state> state_;
  mutable std::shared_mutex mutex_;
  std::atomic<std::uint64_t> generation_{1};
  std::mutex subscribers_mutex_;
  std::vector<subscriber> subscribers_;
  std::unique_ptr<store::batch_writer> writer_;
  bool broken_ = false;  // the database could not be reloaded after a failed commit
  // The open commit groups (under mutex_) and what they hold.
  std::size_t commit_groups_ = 0;
  static bool commit_group_open_here();
  std::vector<store::change> held_changes_;
  std::vector<completion> held_completions_;
};

template <class F>
auto hub_model::wait(F&& mutation) -> decltype(mutation(completion{})) {
  if (commit_group_open_here())
    return store::make_error(errc::invalid, "a blocking mutation inside a commit group would never complete");
  auto p = std::make_shared<std::promise<status>>();
  auto f = p->get_future();
  auto r = mutation([p](const status& s) { p->set_value(s); });
  if (!r) return r;
  status s = f.get();
  if (!s) return s.err();
  return r;
}

}  // namespace hubd::core::model
