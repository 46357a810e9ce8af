#include "core/model/hub_model.hpp"

#include "core/store/crypto.hpp"
#include "core/store/sqlite_store.hpp"
#include "tests/unit/store/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

using namespace hubd::core::model;
namespace st = hubd::core::store;

namespace {

// A store that can be told to fail its next commit, in front of a real SQLite file.
class flaky_store : public st::store {
public:
  explicit flaky_store(std::unique_ptr<st::sqlite_store> inner) : inner_(std::move(inner)) {}
  st::result<st::snapshot> load() override { return inner_->load(); }
  st::status commit(std::span<const st::change> c) override {
    if (fail_next.exchange(false)) return st::make_error(errc::disk_full, "disk full (simulated)");
    return inner_->commit(c);
  }
  std::string describe() const override { return inner_->describe(); }
  std::atomic<bool> fail_next{false};

private:
  std::unique_ptr<st::sqlite_store> inner_;
};

struct fixture {
  hubd::test::temp_dir dir;
  std::filesystem::path file = dir / "hub.sqlite";
  flaky_store* flaky = nullptr;
  std::unique_ptr<hub_model> model;

  fixture() { reopen(); }
  void reopen(model_options opts = {}) {
    model.reset();
    auto flaky_owner = std::make_unique<flaky_store>(std::move(st::sqlite_store::open(file).value()));
    flaky = flaky_owner.get();
    auto m = hub_model::open(std::move(flaky_owner), std::move(opts));
    REQUIRE(m);
    model = std::move(m.value());
  }
  hub_model& m() { return *model; }
};

template <class R>
void require_ok(const R& r) {
  INFO((r ? std::string() : r.err().message));
  REQUIRE(r);
}

}  // namespace

TEST_CASE("users: create, find, rename, delete, persisted across reopen") {
  fixture f;
  auto& m = f.m();
  auto alice = m.wait([&](auto done) { return m.create_user({"alice", true}, done); });
  require_ok(alice);
  CHECK(alice.value()->admin);
  CHECK(alice.value()->cookie_id.size() == 32);
  CHECK(m.find_user("alice") == alice.value());
  CHECK(m.find_user(alice.value()->id) == alice.value());
  CHECK(m.find_user_by_cookie_id(alice.value()->cookie_id) == alice.value());

  auto dup = m.create_user({"alice"}, {});
  REQUIRE_FALSE(dup);
  CHECK(dup.err().code == errc::conflict);
  CHECK(dup.err().message == "user alice already exists");
  for (const char* bad : {"", "a/b", "tab\there"}) {
    auto r = m.create_user({bad}, {});
    REQUIRE_FALSE(r);
    CHECK(r.err().code == errc::invalid);
  }
  CHECK_FALSE(m.create_user({"bob", false, std::string("[1]")}, {}));  // user_info must be an object

  user_patch p;
  p.name = "alicia";
  p.user_info = std::optional<std::string>(R"({"display_name":"A"})");
  require_ok(m.wait([&](auto done) { return m.update_user("alice", p, done); }));
  CHECK_FALSE(m.find_user("alice"));
  f.reopen();
  auto& m2 = f.m();
  REQUIRE(m2.find_user("alicia"));
  CHECK(m2.find_user("alicia")->user_info == R"({"display_name":"A"})");
  require_ok(m2.wait([&](auto done) { return m2.delete_user("alicia", done); }));
  CHECK(m2.user_count() == 0);
  CHECK(m2.delete_user("alicia", {}).err().code == errc::not_found);
  f.reopen();
  CHECK(f.m().user_count() == 0);
}

TEST_CASE("bulk creation is all or nothing; listing is by id with offset and limit") {
  fixture f;
  auto& m = f.m();
  std::vector<new_user> many;
  for (int i = 0; i < 100; ++i) many.push_back({"u" + std::to_string(i)});
  require_ok(m.wait([&](auto done) { return m.create_users(many, done); }));
  std::vector<new_user> bad;
  bad.push_back({"fresh"});
  bad.push_back({"u5"});  // exists
  auto r = m.create_users(bad, {});
  REQUIRE_FALSE(r);
  CHECK(r.err().message.find("u5") != std::string::npos);
  CHECK_FALSE(m.find_user("fresh"));
  CHECK_FALSE(m.create_users({{"x"}, {"x"}}, {}));
  CHECK_FALSE(m.find_user("x"));
  auto page = m.list_users(10, 5);
  REQUIRE(page.size() == 5);
  CHECK(page[0]->name == "u10");
  CHECK(page[4]->name == "u14");
  CHECK(m.list_users(98, 10).size() == 2);
  CHECK(m.list_users(1000, 10).empty());
  auto odd = m.list_users_if(1, 2, [](const user& u) { return u.name.back() == '1'; });
  REQUIRE(odd.size() == 2);
  CHECK(odd[0]->name == "u11");
}

TEST_CASE("groups and memberships with provenance") {
  fixture f;
  auto& m = f.m();
  require_ok(m.wait([&](auto d) { return m.create_users({{"alice"}, {"bob"}}, d); }));
  require_ok(m.wait([&](auto d) { return m.create_group("team", "{}", d); }));
  CHECK(m.create_group("team", "{}", {}).err().code == errc::conflict);
  CHECK(m.create_group("other", "not json", {}).err().code == errc::invalid);

  // All or nothing: an unknown user adds nobody.
  auto r = m.add_group_members("team", {"alice", "nobody"}, "api", {});
  REQUIRE_FALSE(r);
  CHECK(r.err().message == "user nobody not found");
  CHECK_FALSE(m.is_member("alice", "team"));
  CHECK(m.add_group_members("team", {"alice"}, "bogus-source", {}).err().code == errc::invalid);

  require_ok(m.wait([&](auto d) { return m.add_group_members("team", {"alice", "bob"}, "api", d); }));
  require_ok(m.wait([&](auto d) { return m.add_group_members("team", {"alice"}, "authenticator", d); }));
  CHECK(m.is_member("alice", "team"));
  CHECK(m.group_members("team") == std::vector<std::string>{"alice", "bob"});
  CHECK(m.user_groups("alice") == std::vector<std::string>{"team"});
  auto ms = m.memberships_of_user("alice");
  REQUIRE(ms.size() == 1);
  CHECK(ms[0].sources == std::vector<std::string>{"api", "authenticator"});
  CHECK(m.group_has_members_from("team", "authenticator"));
  CHECK_FALSE(m.group_has_members_from("team", "config"));
  CHECK_FALSE(m.group_has_members_from("no-such-group", "api"));

  // A manage_groups login: authenticator memberships become exactly the list; api ones stay.
  require_ok(m.wait([&](auto d) { return m.set_user_groups_from_source("alice", {"physics"}, "authenticator", d); }));
  CHECK(m.find_group("physics"));
  CHECK(m.user_groups("alice") == std::vector<std::string>{"physics", "team"});
  CHECK(m.memberships_of_user("alice")[1].sources == std::vector<std::string>{"api"});
  CHECK_FALSE(m.group_has_members_from("team", "authenticator"));  // alice's came from the login and went

  require_ok(m.wait([&](auto d) { return m.remove_group_members("team", {"alice"}, "api", d); }));
  CHECK_FALSE(m.is_member("alice", "team"));
  CHECK(m.is_member("bob", "team"));

  f.reopen();
  auto& m2 = f.m();
  CHECK(m2.user_groups("alice") == std::vector<std::string>{"physics"});
  CHECK(m2.group_members("team") == std::vector<std::string>{"bob"});
  require_ok(m2.wait([&](auto d) { return m2.set_group_properties("team", R"({"a":1})", d); }));
  require_ok(m2.wait([&](auto d) { return m2.delete_group("team", d); }));
  CHECK(m2.user_groups("bob").empty());
  f.reopen();
  CHECK_FALSE(f.m().find_group("team"));
  CHECK(f.m().user_groups("bob").empty());
}

TEST_CASE("roles: create, assign with source, holders, default grants, admin flag") {
  fixture f;
  auto& m = f.m();
  require_ok(m.wait([&](auto d) { return m.create_role({"user", "default", {"self"}, "default"}, d); }));
  require_ok(m.wait([&](auto d) { return m.create_role({"admin", "", {"admin:users"}, "default"}, d); }));
  for (const char* bad : {"ab", "Upper", "1abc", "abc-", "a b c"}) CHECK(m.create_role({bad}, {}).err().code == errc::invalid);
  CHECK(m.create_role({"user"}, {}).err().code == errc::conflict);

  require_ok(m.wait([&](auto d) { return m.create_user({"alice"}, d); }));
  CHECK(m.roles_of(holder_kind::user, "alice").size() == 1);  // default `user` role
  const auto g0 = m.generation();
  user_patch promote;
  promote.admin = true;
  require_ok(m.wait([&](auto d) { return m.update_user("alice", promote, d); }));
  CHECK(m.generation() > g0);
  CHECK(m.holders_of("admin").users == std::vector<std::string>{"alice"});
  user_patch demote;
  demote.admin = false;
  require_ok(m.wait([&](auto d) { return m.update_user("alice", demote, d); }));
  CHECK(m.holders_of("admin").users.empty());

  require_ok(m.wait([&](auto d) { return m.create_role({"reader", "reads", {"read:users"}, "api"}, d); }));
  require_ok(m.wait([&](auto d) { return m.create_group("team", "{}", d); }));
  require_ok(m.wait([&](auto d) { return m.add_group_members("team", {"alice"}, "api", d); }));
  require_ok(m.wait([&](auto d) { return m.assign_role("reader", {holder_kind::group, "team"}, "config", d); }));
  CHECK(m.assign_role("reader", {holder_kind::group, "nope"}, "config", {}).err().code == errc::not_found);
  CHECK(m.holders_of("reader").groups == std::vector<std::string>{"team"});
  auto scopes = m.user_role_scopes("alice");
  CHECK(std::find(scopes.begin(), scopes.end(), "read:users") != scopes.end());
  CHECK(std::find(scopes.begin(), scopes.end(), "self") != scopes.end());

  role_patch rp;
  rp.scopes = std::vector<std::string>{"read:groups"};
  require_ok(m.wait([&](auto d) { return m.update_role("reader", rp, d); }));
  f.reopen();
  auto& m2 = f.m();
  CHECK(m2.find_role("reader")->scopes == std::vector<std::string>{"read:groups"});
  CHECK(m2.assignments_of(holder_kind::group, "team").at(0).from == "config");
  require_ok(m2.wait([&](auto d) { return m2.unassign_role("reader", {holder_kind::group, "team"}, "", d); }));
  CHECK(m2.roles_of(holder_kind::group, "team").empty());
  require_ok(m2.wait([&](auto d) { return m2.delete_role("reader", d); }));
  f.reopen();
  CHECK_FALSE(f.m().find_role("reader"));
}

TEST_CASE("tokens: digest lookup, expiry, owner cascade, no secret stored") {
  fixture f;
  auto& m = f.m();
  require_ok(m.wait([&](auto d) { return m.create_user({"alice"}, d); }));
  service sv;
  sv.name = "svc";
  require_ok(m.wait([&](auto d) { return m.put_service(sv, d); }));
  auto t = m.wait([&](auto d) { return m.create_token({holder_kind::user, "alice", {"read:users"}}, d); });
  require_ok(t);
  const auto secret = t->secret;
  CHECK(secret.size() == 32);
  CHECK(t->token->prefix == secret.substr(0, 4));
  CHECK(t->token->digest != secret);
  CHECK(m.find_token(secret) == t->token);
  CHECK_FALSE(m.find_token(secret + "x"));
  CHECK_FALSE(m.find_token(""));

  new_token expiring{holder_kind::service, "svc"};
  expiring.expires_at = now() + std::chrono::hours(1);
  auto e = m.wait([&](auto d) { return m.create_token(expiring, d); });
  require_ok(e);
  CHECK(m.find_token(e->secret));
  CHECK_FALSE(m.find_token(e->secret, now() + std::chrono::hours(2)));

  new_token provided{holder_kind::user, "alice"};
  provided.secret = "short";
  CHECK(m.create_token(provided, {}).err().code == errc::invalid);
  provided.secret = secret;  // collides
  CHECK(m.create_token(provided, {}).err().code == errc::conflict);
  CHECK(m.create_token({holder_kind::user, "nobody"}, {}).err().code == errc::not_found);

  f.reopen();
  auto& m2 = f.m();
  REQUIRE(m2.find_token(secret));
  CHECK(m2.tokens_of(holder_kind::user, "alice").size() == 1);
  CHECK(m2.tokens_of(holder_kind::service, "svc").size() == 1);
  CHECK(m2.purge_expired(now() + std::chrono::hours(2)) == 1);
  require_ok(m2.wait([&](auto d) { return m2.touch_token(m2.find_token(secret)->id, now(), d); }));
  CHECK(m2.find_token(secret)->last_activity);
  require_ok(m2.wait([&](auto d) { return m2.delete_user("alice", d); }));
  CHECK_FALSE(m2.find_token(secret));
  f.reopen();
  CHECK_FALSE(f.m().find_token(secret));
  CHECK(f.m().token_count() == 0);
}

TEST_CASE("OAuth: clients with hashed secrets, single-use codes, client deletion cascades") {
  fixture f;
  auto& m = f.m();
  require_ok(m.wait([&](auto d) { return m.create_user({"alice"}, d); }));
  oauth_client c;
  c.identifier = "service-x";
  c.redirect_uri = "/services/x/oauth_callback";
  require_ok(m.wait([&](auto d) { return m.put_oauth_client(c, std::string("client-secret"), d); }));
  CHECK(m.check_oauth_client_secret("service-x", "client-secret"));
  CHECK_FALSE(m.check_oauth_client_secret("service-x", "wrong"));
  CHECK(m.find_oauth_client("service-x")->secret_digest != "client-secret");

  new_oauth_code nc;
  nc.client_id = "service-x";
  nc.user = "alice";
  nc.redirect_uri = c.redirect_uri;
  nc.code_challenge = "abc";
  nc.code_challenge_method = "S256";
  auto code = m.wait([&](auto d) { return m.create_oauth_code(nc, d); });
  require_ok(code);
  CHECK(code->secret.size() == 30);
  CHECK(m.consume_oauth_code(code->secret, "other-client", {}).err().code == errc::not_found);
  auto got = m.wait([&](auto d) { return m.consume_oauth_code(code->secret, "service-x", d); });
  require_ok(got);
  CHECK(got->code_challenge == "abc");
  CHECK(m.consume_oauth_code(code->secret, "service-x", {}).err().code == errc::not_found);  // single use

  new_token nt{holder_kind::user, "alice"};
  nt.client_id = "service-x";
  auto tok = m.wait([&](auto d) { return m.create_token(nt, d); });
  require_ok(tok);
  require_ok(m.wait([&](auto d) { return m.delete_oauth_client("service-x", d); }));
  CHECK_FALSE(m.find_token(tok->secret));
  f.reopen();
  CHECK_FALSE(f.m().find_oauth_client("service-x"));
}

TEST_CASE("sessions, servers, events, shares and share codes") {
  fixture f;
  auto& m = f.m();
  std::mutex ev_mutex;
  std::vector<std::string> events;
  m.subscribe([&](const event& e) {
    std::lock_guard lock(ev_mutex);
    events.push_back(std::string(event_kind_name(e.kind)) + ":" + e.user + ":" + e.group + ":" + e.server);
  });
  require_ok(m.wait([&](auto d) { return m.create_users({{"alice"}, {"bob"}}, d); }));
  auto sess = m.wait([&](auto d) { return m.create_session("alice", d); });
  require_ok(sess);
  CHECK(m.find_session(sess.value()->id)->user_id == m.find_user("alice")->id);

  server_patch start;
  start.started = now();
  start.url = std::optional<std::string>("http://127.0.0.1:5000/user/alice/");
  start.state = R"({"pid":42})";
  require_ok(m.wait([&](auto d) { return m.update_server("alice", "", start, d); }));
  CHECK(m.update_server("alice", "a/b", start, {}).err().code == errc::invalid);
  server_patch bad_state;
  bad_state.state = "[]";
  CHECK(m.update_server("alice", "", bad_state, {}).err().code == errc::invalid);

  require_ok(m.wait([&](auto d) { return m.create_group("friends", "{}", d); }));
  require_ok(m.wait([&](auto d) { return m.add_group_members("friends", {"bob"}, "api", d); }));
  const auto g0 = m.generation();
  require_ok(m.wait([&](auto d) {
    return m.grant_share("alice", "", {holder_kind::group, "friends"}, {"access:servers!server=alice/"}, d);
  }));
  CHECK(m.generation() > g0);
  CHECK(m.grant_share("alice", "", {holder_kind::user, "alice"}, {"x"}, {}).err().code == errc::invalid);
  CHECK(m.shares_reaching_user("bob").size() == 1);
  CHECK(m.shares_of_owner("alice").size() == 1);

  auto code = m.wait([&](auto d) {
    return m.create_share_code("alice", "", {"access:servers!server=alice/"}, std::chrono::hours(24), d);
  });
  require_ok(code);
  CHECK(m.create_share_code("alice", "", {}, std::chrono::seconds(5), {}).err().code == errc::invalid);
  CHECK(m.exchange_share_code(code->secret, "alice", now(), {}).err().code == errc::invalid);
  auto sh = m.wait([&](auto d) { return m.exchange_share_code(code->secret, "bob", now(), d); });
  require_ok(sh);
  CHECK(m.shares_with(holder_kind::user, "bob").size() == 1);
  CHECK(m.share_codes_of_server("alice", "").at(0)->exchange_count == 1);
  CHECK_FALSE(m.find_share_code(code->secret, now() + std::chrono::hours(25)));

  server_patch stop;
  stop.started = opt_time{};
  require_ok(m.wait([&](auto d) { return m.update_server("alice", "", stop, d); }));

  f.reopen();
  auto& m2 = f.m();
  CHECK(m2.find_server("alice", "")->state == R"({"pid":42})");
  CHECK(m2.shares_reaching_user("bob").size() == 2);
  require_ok(m2.wait([&](auto d) { return m2.revoke_share("alice", "", {holder_kind::group, "friends"}, {}, d); }));
  require_ok(m2.wait([&](auto d) { return m2.delete_server("alice", "", d); }));
  CHECK(m2.shares_reaching_user("bob").empty());
  CHECK(m2.share_codes_of_server("alice", "").empty());
  require_ok(m2.wait([&](auto d) { return m2.delete_session(sess.value()->id, d); }));
  f.reopen();
  CHECK(f.m().shares_reaching_user("bob").empty());
  CHECK_FALSE(f.m().find_session(sess.value()->id));

  std::lock_guard lock(ev_mutex);
  CHECK(std::find(events.begin(), events.end(), "user_created:alice::") != events.end());
  CHECK(std::find(events.begin(), events.end(), "server_started:alice::") != events.end());
  CHECK(std::find(events.begin(), events.end(), "server_stopped:alice::") != events.end());
  CHECK(std::find(events.begin(), events.end(), "group_members_changed:bob:friends:") != events.end());
}

TEST_CASE("auth_state: encrypted at rest, rotation, wrong and missing keys") {
  fixture f;
  const auto k1 = st::to_hex(st::random_bytes(32)), k2 = st::to_hex(st::random_bytes(32));
  f.reopen({st::crypt_keeper::parse(k1).value()});
  auto& m = f.m();
  require_ok(m.wait([&](auto d) { return m.create_user({"alice"}, d); }));
  require_ok(m.wait([&](auto d) {
    return m.set_auth_state("alice", nlohmann::json{{"access_token", "very-secret"}}, d);
  }));
  CHECK(m.find_user("alice")->auth_state->find("very-secret") == std::string::npos);
  CHECK(m.get_auth_state("alice").value()->at("access_token") == "very-secret");

  // New key first, old key second: still readable; rotation moves it to the new key.
  f.reopen({st::crypt_keeper::parse(k2 + ";" + k1).value()});
  auto& m2 = f.m();
  CHECK(m2.get_auth_state("alice").value()->at("access_token") == "very-secret");
  auto rotated = m2.wait([&](auto d) { return m2.rotate_auth_state_keys(d); });
  require_ok(rotated);
  CHECK(rotated.value() == 1);
  CHECK(m2.wait([&](auto d) { return m2.rotate_auth_state_keys(d); }).value() == 0);

  f.reopen({st::crypt_keeper::parse(k2).value()});
  CHECK(f.m().get_auth_state("alice").value()->at("access_token") == "very-secret");

  f.reopen({st::crypt_keeper::parse(k1).value()});  // wrong key now
  auto wrong = f.m().get_auth_state("alice");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.err().code == errc::crypto);
  CHECK(wrong.err().message.find("alice") != std::string::npos);
  CHECK(f.m().rotate_auth_state_keys({}).err().code == errc::crypto);

  f.reopen();  // no key at all
  CHECK_FALSE(f.m().auth_state_enabled());
  CHECK(f.m().set_auth_state("alice", nlohmann::json::object(), {}).err().message.find("JUPYTERHUB_CRYPT_KEY") !=
        std::string::npos);
  CHECK(f.m().get_auth_state("alice").err().code == errc::crypto);
  require_ok(f.m().wait([&](auto d) { return f.m().set_auth_state("alice", std::nullopt, d); }));
  CHECK_FALSE(f.m().get_auth_state("alice").value());
}

TEST_CASE("a failed commit reports the error and restores memory from the database") {
  fixture f;
  auto& m = f.m();
  require_ok(m.wait([&](auto d) { return m.create_user({"alice"}, d); }));
  f.flaky->fail_next = true;
  auto r = m.wait([&](auto d) { return m.create_user({"bob"}, d); });
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::disk_full);
  CHECK_FALSE(m.find_user("bob"));  // rolled back in memory too
  CHECK(m.find_user("alice"));
  require_ok(m.wait([&](auto d) { return m.create_user({"bob"}, d); }));  // and it keeps working
  f.reopen();
  CHECK(f.m().user_count() == 2);
}

TEST_CASE("a commit group whose commit fails fails every change in it and memory forgets them all") {
  fixture f;
  auto& m = f.m();
  require_ok(m.wait([&](auto d) { return m.create_user({"alice"}, d); }));
  std::atomic<int> failed{0};
  hub_model::commit_group group(m);
  for (const char* n : {"bob", "carol"})
    require_ok(m.create_user({n}, [&](const status& s) {
      if (!s && s.err().code == errc::disk_full) ++failed;
    }));
  require_ok(m.delete_user("alice", {}));
  f.flaky->fail_next = true;
  auto st = group.commit();
  REQUIRE_FALSE(st);
  CHECK(st.err().code == errc::disk_full);
  CHECK(failed.load() == 2);
  CHECK(m.find_user("alice"));
  CHECK_FALSE(m.find_user("bob"));
  CHECK_FALSE(m.find_user("carol"));
  f.reopen();
  CHECK(f.m().user_count() == 1);
}

TEST_CASE("concurrent creations from many threads: all acknowledged, all durable") {
  fixture f;
  auto& m = f.m();
  std::vector<std::thread> threads;
  std::atomic<int> acked{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r = m.wait([&](auto d) { return m.create_user({"t" + std::to_string(t) + "-" + std::to_string(i)}, d); });
        if (r) ++acked;
        (void)m.find_user("t0-0");  // readers interleave with writers
      }
    });
  for (auto& th : threads) th.join();
  CHECK(acked == 400);
  CHECK(m.writer_stats().batches < 400);
  f.reopen();
  CHECK(f.m().user_count() == 400);
}

TEST_CASE("OAuth: a client id another owner registered is refused and stays as it was") {
  fixture f;
  auto& m = f.m();
  oauth_client c;
  c.identifier = "jupyterhub-user-cx-y";
  c.redirect_uri = "/user/cx/y/oauth_callback";
  c.owner = "access:servers!server=cx/y";
  require_ok(m.wait([&](auto d) { return m.put_oauth_client(c, std::string("cx-secret"), d); }));
  oauth_client other = c;
  other.redirect_uri = "/user/cx-y/oauth_callback";
  other.owner = "access:servers!server=cx-y/";
  auto r = m.put_oauth_client(other, std::string("other-secret"), {});
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::conflict);
  CHECK(r.err().message.find("belongs to access:servers!server=cx/y") != std::string::npos);
  CHECK(m.find_oauth_client(c.identifier)->redirect_uri == "/user/cx/y/oauth_callback");
  CHECK(m.check_oauth_client_secret(c.identifier, "cx-secret"));
  // Its own owner replaces it (a new spawn, a new secret).
  c.redirect_uri = "/user/cx/y/oauth_callback";
  require_ok(m.wait([&](auto d) { return m.put_oauth_client(c, std::string("new-secret"), d); }));
  CHECK(m.check_oauth_client_secret(c.identifier, "new-secret"));
  oauth_client mine = c;
  mine.identifier = "jupyterhub-user-cx%2Dy";
  mine.redirect_uri = "/user/cx-y/oauth_callback";
  mine.owner = "access:servers!server=cx-y/";
  require_ok(m.wait([&](auto d) { return m.put_oauth_client(mine, std::string("mine"), d); }));
  f.reopen();
  // Each under its own id after a restart.
  REQUIRE(f.m().list_oauth_clients().size() == 2);
  CHECK(f.m().check_oauth_client_secret("jupyterhub-user-cx%2Dy", "mine"));
  REQUIRE(f.m().find_oauth_client(c.identifier));
  CHECK(f.m().find_oauth_client(c.identifier)->owner == "access:servers!server=cx/y");
}
