// Memory and database agree after every kind of deletion (the cascades), caller code never runs
// under the model's lock, and a commit group reaches the store as one transaction.
#include "core/model/hub_model.hpp"

#include "core/store/sqlite_store.hpp"
#include "tests/unit/store/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

using namespace hubd::core::model;
namespace st = hubd::core::store;
using nlohmann::json;

namespace {

template <class R>
void require_ok(const R& r) {
  INFO((r ? std::string() : r.err().message));
  REQUIRE(r);
}

json t(const opt_time& v) { return v ? json(v->time_since_epoch().count()) : json(); }
json t(const time_point& v) { return v.time_since_epoch().count(); }
template <class T>
json o(const std::optional<T>& v) { return v ? json(*v) : json(); }

// Every row, every field: what "the same state" means.
json rows_json(const st::snapshot& s) {
  json out = json::object();
  auto& users = out["users"] = json::array();
  for (const auto& r : s.users)
    users.push_back({r.id, r.name, r.admin, t(r.created), t(r.last_activity), r.cookie_id, o(r.auth_state), o(r.user_info)});
  auto& groups = out["groups"] = json::array();
  for (const auto& r : s.groups) groups.push_back({r.id, r.name, r.properties});
  auto& members = out["memberships"] = json::array();
  for (const auto& r : s.memberships) members.push_back({r.user_id, r.group_id, r.from});
  auto& roles = out["roles"] = json::array();
  for (const auto& r : s.roles) roles.push_back({r.id, r.name, r.description, r.scopes, r.from, r.managed_by_auth});
  auto& assignments = out["role_assignments"] = json::array();
  for (const auto& r : s.role_assignments)
    assignments.push_back({r.role_id, st::holder_kind_name(r.kind), r.holder_id, r.from});
  auto& services = out["services"] = json::array();
  for (const auto& r : s.services)
    services.push_back({r.id, r.name, st::principal_kind_name(r.kind), r.admin, o(r.url), r.info, r.display, o(r.oauth_client_id), o(r.oauth_redirect_uri),
                        r.oauth_allowed_scopes, r.oauth_no_confirm, r.from_config, t(r.created), t(r.last_activity)});
  auto& servers = out["servers"] = json::array();
  for (const auto& r : s.servers)
    servers.push_back({r.id, r.user_id, r.name, r.display_name, o(r.url), t(r.started), t(r.last_activity), o(r.pending),
                       r.state, r.user_options});
  auto& tokens = out["tokens"] = json::array();
  for (const auto& r : s.tokens)
    tokens.push_back({r.id, json::binary({r.digest.begin(), r.digest.end()}), r.prefix, o(r.user_id), o(r.service_id),
                      r.scopes, t(r.created), t(r.expires_at), t(r.last_activity), r.note, o(r.session_id), r.client_id});
  auto& clients = out["oauth_clients"] = json::array();
  for (const auto& r : s.oauth_clients)
    clients.push_back({r.identifier, r.description, r.secret_digest.has_value(), r.redirect_uri, r.allowed_scopes,
                       t(r.created), o(r.owner)});
  auto& codes = out["oauth_codes"] = json::array();
  for (const auto& r : s.oauth_codes)
    codes.push_back({r.id, r.client_id, r.user_id, r.scopes, r.redirect_uri, o(r.session_id), t(r.expires_at),
                     o(r.code_challenge), o(r.code_challenge_method)});
  auto& sessions = out["sessions"] = json::array();
  for (const auto& r : s.sessions) sessions.push_back({r.id, r.user_id, t(r.created), t(r.last_activity)});
  auto& shares = out["shares"] = json::array();
  for (const auto& r : s.shares) shares.push_back({r.id, r.server_id, o(r.user_id), o(r.group_id), r.scopes, t(r.created)});
  auto& share_codes = out["share_codes"] = json::array();
  for (const auto& r : s.share_codes)
    share_codes.push_back({r.id, r.server_id, r.scopes, t(r.created), t(r.expires_at), r.exchange_count,
                           t(r.last_exchanged_at)});
  return out;
}

struct fixture {
  hubd::test::temp_dir dir;
  std::filesystem::path file = dir / "hub.sqlite";
  std::unique_ptr<hub_model> model = open();

  std::unique_ptr<hub_model> open() {
    auto m = hub_model::open(std::move(st::sqlite_store::open(file).value()));
    REQUIRE(m);
    return std::move(m.value());
  }
  hub_model& m() { return *model; }

  // A new model over the same file sees exactly what this one holds in memory.
  void require_database_equals_memory() {
    require_ok(model->flush());
    auto reopened = open();
    const auto memory = rows_json(model->rows());
    const auto database = rows_json(reopened->rows());
    for (const auto& [table, rows] : memory.items()) {
      INFO("table " << table);
      CHECK(rows.dump() == database.at(table).dump());
    }
  }
};

// Two users with servers that are shared and have share codes, groups with memberships and roles,
// a service with a token and a role, tokens of every kind, an OAuth client with a code and a token,
// a session.
void populate(hub_model& m) {
  for (const char* r : {"user", "admin"})
    require_ok(m.wait([&](auto d) { return m.create_role({r, "", {"self"}, "default"}, d); }));
  require_ok(m.wait([&](auto d) { return m.create_role({"reader", "", {"read:users"}, "api"}, d); }));
  require_ok(m.wait([&](auto d) { return m.create_users({{"alice", true}, {"bob"}, {"carol"}}, d); }));
  require_ok(m.wait([&](auto d) { return m.create_groups({"team", "lab"}, d); }));
  require_ok(m.wait([&](auto d) { return m.add_group_members("team", {"alice", "bob"}, "api", d); }));
  require_ok(m.wait([&](auto d) { return m.add_group_members("team", {"alice"}, "authenticator", d); }));
  require_ok(m.wait([&](auto d) { return m.add_group_members("lab", {"alice", "carol"}, "config", d); }));
  require_ok(m.wait([&](auto d) { return m.assign_role("reader", {holder_kind::group, "team"}, "config", d); }));
  require_ok(m.wait([&](auto d) { return m.assign_role("reader", {holder_kind::user, "bob"}, "api", d); }));
  service sv;
  sv.name = "svc";
  require_ok(m.wait([&](auto d) { return m.put_service(sv, d); }));
  require_ok(m.wait([&](auto d) { return m.assign_role("reader", {holder_kind::service, "svc"}, "config", d); }));
  service plugin;
  plugin.name = "a-plugin";
  plugin.kind = st::principal_kind::plugin;
  require_ok(m.wait([&](auto d) { return m.put_service(plugin, d); }));
  require_ok(m.wait([&](auto d) { return m.create_token({holder_kind::service, "svc", {"inherit"}}, d); }));
  for (const char* owner : {"alice", "bob"}) {
    server_patch started;
    started.started = now();
    started.url = std::string("http://127.0.0.1:1/");
    require_ok(m.wait([&](auto d) { return m.update_server(owner, "", started, d); }));
    require_ok(m.wait([&](auto d) { return m.update_server(owner, "second", {}, d); }));
    require_ok(m.wait([&](auto d) { return m.create_token({holder_kind::user, owner, {"read:users"}}, d); }));
    require_ok(m.wait([&](auto d) { return m.create_session(owner, d); }));
  }
  require_ok(m.wait([&](auto d) { return m.grant_share("alice", "", {holder_kind::user, "bob"}, {"access:servers"}, d); }));
  require_ok(m.wait([&](auto d) { return m.grant_share("alice", "", {holder_kind::group, "lab"}, {"access:servers"}, d); }));
  require_ok(m.wait([&](auto d) { return m.grant_share("bob", "second", {holder_kind::user, "carol"}, {"access:servers"}, d); }));
  require_ok(m.wait([&](auto d) {
    return m.create_share_code("alice", "", {"access:servers"}, std::chrono::hours(1), d);
  }));
  require_ok(m.wait([&](auto d) {
    return m.create_share_code("bob", "second", {"access:servers"}, std::chrono::hours(1), d);
  }));
  oauth_client c;
  c.identifier = "service-x";
  c.redirect_uri = "/services/x/oauth_callback";
  require_ok(m.wait([&](auto d) { return m.put_oauth_client(c, std::string("client-secret"), d); }));
  for (const char* who : {"alice", "bob"}) {
    new_oauth_code nc;
    nc.client_id = "service-x";
    nc.user = who;
    nc.redirect_uri = c.redirect_uri;
    require_ok(m.wait([&](auto d) { return m.create_oauth_code(nc, d); }));
    new_token nt{holder_kind::user, who};
    nt.client_id = "service-x";
    nt.session_id = "sess-" + std::string(who);
    require_ok(m.wait([&](auto d) { return m.create_token(nt, d); }));
  }
}

}  // namespace

TEST_CASE("after every kind of deletion the database reopened holds what memory holds") {
  fixture f;
  auto& m = f.m();
  populate(m);
  f.require_database_equals_memory();
  const auto before = rows_json(m.rows());

  SECTION("user") {
    require_ok(m.wait([&](auto d) { return m.delete_user("alice", d); }));
    CHECK(m.rows().sessions.size() == 1);
    CHECK(m.shares_with(holder_kind::group, "lab").empty());  // alice's server was shared with lab
  }
  SECTION("group") {
    require_ok(m.wait([&](auto d) { return m.delete_group("lab", d); }));
    CHECK(m.shares_of_owner("alice").size() == 1);
  }
  SECTION("group with role assignments") { require_ok(m.wait([&](auto d) { return m.delete_group("team", d); })); }
  SECTION("role") {
    require_ok(m.wait([&](auto d) { return m.delete_role("reader", d); }));
    CHECK(m.roles_of(holder_kind::service, "svc").empty());
  }
  SECTION("service") {
    require_ok(m.wait([&](auto d) { return m.delete_service("svc", d); }));
    CHECK(m.token_count() == 4);
  }
  SECTION("server") {
    require_ok(m.wait([&](auto d) { return m.delete_server("alice", "", d); }));
    CHECK(m.share_codes_of_server("alice", "").empty());
  }
  SECTION("OAuth client") {
    require_ok(m.wait([&](auto d) { return m.delete_oauth_client("service-x", d); }));
    CHECK(m.token_count() == 3);
  }
  SECTION("token, tokens of a client, tokens of a session") {
    require_ok(m.wait([&](auto d) { return m.delete_token(m.tokens_of(holder_kind::user, "bob").front()->id, d); }));
    require_ok(m.wait([&](auto d) { return m.delete_tokens_of_client("alice", "service-x", d); }));
    require_ok(m.wait([&](auto d) { return m.delete_tokens_of_session("sess-bob", d); }));
    CHECK(m.token_count() == 2);
  }
  SECTION("session") {
    require_ok(m.wait([&](auto d) { return m.delete_session(before["sessions"][1][0].get<std::string>(), d); }));
  }
  SECTION("share and share code revoked") {
    require_ok(m.wait([&](auto d) { return m.revoke_share("alice", "", {holder_kind::group, "lab"}, {}, d); }));
    require_ok(m.wait([&](auto d) { return m.revoke_share_code(m.share_codes_of_server("bob", "second").front()->id, d); }));
  }
  SECTION("memberships and assignments removed") {
    require_ok(m.wait([&](auto d) { return m.remove_group_members("team", {"alice"}, "", d); }));
    require_ok(m.wait([&](auto d) { return m.unassign_role("reader", {holder_kind::user, "bob"}, "", d); }));
  }
  SECTION("expired rows purged") {
    CHECK(m.purge_expired(now() + std::chrono::days(2)) == 4);  // two OAuth codes, two share codes
  }
  CHECK(rows_json(m.rows()) != before);
  f.require_database_equals_memory();
}

TEST_CASE("a listing predicate may call back into the model, reads and writes, without deadlock") {
  fixture f;
  auto& m = f.m();
  populate(m);
  std::atomic<bool> stop{false};
  // Writers keep the exclusive lock busy while the listing runs (TSan sees both sides).
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) m.touch_user("carol", now(), {});
  });
  for (int round = 0; round < 50; ++round) {
    // Completions run on the writer thread: they count, the test thread asserts.
    std::atomic<int> completions{0}, completions_ok{0};
    auto listed = m.list_users_if(0, 100, [&](const user& u) {
      // Every read a handler's predicate makes, and a mutation whose completion reads again.
      const bool has_servers = !m.servers_of(u.name).empty();
      const bool in_team = m.is_member(u.name, "team");
      CHECK(m.find_user(u.name));
      CHECK_FALSE(m.user_groups(u.name).empty());
      require_ok(m.touch_user(u.name, now(), [&, name = u.name](const status& s) {
        if (s && m.find_user(name)) ++completions_ok;
        ++completions;
      }));
      return has_servers || in_team;
    });
    CHECK(listed.size() == 2);  // alice and bob
    require_ok(m.flush());
    CHECK(completions.load() == 3);
    CHECK(completions_ok.load() == 3);
  }
  stop = true;
  writer.join();
}

TEST_CASE("a commit group reaches the store as one transaction, completions in order after it") {
  fixture f;
  auto& m = f.m();
  require_ok(m.wait([&](auto d) { return m.create_role({"user", "", {"self"}, "default"}, d); }));
  const auto items_before = m.writer_stats().items;
  std::vector<int> order;
  std::mutex order_mutex;
  {
    hub_model::commit_group group(m);
    for (int i = 0; i < 300; ++i)
      require_ok(m.create_user({"u" + std::to_string(i)}, [&, i](const status& s) {
        std::lock_guard lock(order_mutex);  // the writer thread's; the test thread asserts later
        order.push_back(s ? i : -1);
      }));
    require_ok(m.create_group("all", "{}", {}));
    CHECK(m.find_user("u299"));  // memory has it at once
    CHECK(m.roles_of(holder_kind::user, "u7").size() == 1);
    // A blocking mutation would wait for a commit that comes only when the group closes.
    auto refused = m.wait([&](auto d) { return m.create_user({"late"}, d); });
    CHECK(refused.err().code == errc::invalid);
    CHECK_FALSE(m.find_user("late"));
    // Another thread's blocking mutation joins the group and returns once the group is durable.
    std::atomic<bool> other_ok{false};
    std::thread other([&] {
      other_ok = bool(m.wait([&](auto d) { return m.create_user({"from-another-thread"}, d); }));
    });
    while (!m.find_user("from-another-thread")) std::this_thread::yield();
    CHECK_FALSE(other_ok.load());
    {
      hub_model::commit_group inner(m);  // nested: the outer group commits
      require_ok(m.add_group_members("all", {"u1", "u2"}, "config", {}));
      require_ok(inner.commit());
    }
    CHECK(order.empty());
    require_ok(group.commit());
    other.join();
    CHECK(other_ok.load());
  }
  CHECK(m.writer_stats().items == items_before + 1);
  REQUIRE(order.size() == 300);
  CHECK(std::is_sorted(order.begin(), order.end()));
  CHECK(order.front() == 0);
  f.require_database_equals_memory();
  CHECK(f.open()->group_members("all") == std::vector<std::string>{"u1", "u2"});
}

TEST_CASE("a commit group left by an exception still commits what memory holds") {
  fixture f;
  auto& m = f.m();
  try {
    hub_model::commit_group group(m);
    require_ok(m.create_user({"alice"}, {}));
    throw std::runtime_error("config error");
  } catch (const std::runtime_error&) {
  }
  f.require_database_equals_memory();
  CHECK(f.open()->find_user("alice"));
}
