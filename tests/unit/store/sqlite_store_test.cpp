#include "core/store/sqlite_store.hpp"

#include "core/store/db_url.hpp"
#include "core/store/migrations.hpp"
#include "tests/unit/store/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace hubd::core::store;
namespace fs = std::filesystem;

namespace {

time_point at(std::int64_t us) { return time_point(std::chrono::microseconds(us)); }

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

user_row a_user(std::int64_t id, std::string name) {
  user_row u;
  u.id = id;
  u.name = std::move(name);
  u.created = at(1000 + id);
  u.cookie_id = "cookie-" + std::to_string(id);
  return u;
}

// Runs `body` in a child process (optionally as an unprivileged user) and returns its exit code.
template <class F>
int in_child(F&& body, bool drop_root) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (drop_root && ::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(99);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("a new file is created at the latest schema version with WAL") {
  hubd::test::temp_dir dir;
  auto s = sqlite_store::open(dir / "hub.sqlite");
  REQUIRE(s);
  REQUIRE(s.value()->schema_version() == latest_schema_version());
  REQUIRE(s.value()->integrity_check());
  auto snap = s.value()->load();
  REQUIRE(snap);
  REQUIRE(snap->users.empty());
}

TEST_CASE("every row type survives commit and load") {
  hubd::test::temp_dir dir;
  const auto file = dir / "hub.sqlite";
  {
    auto s = std::move(sqlite_store::open(file).value());
    user_row u = a_user(1, "alice");
    u.admin = true;
    u.last_activity = at(5);
    u.auth_state = std::string("\x01\x00\xff", 3);
    u.user_info = R"({"display_name":"Alice"})";
    group_row g{7, "team", R"({"k":1})"};
    role_row r{3, "reader", "reads", {"read:users", "read:groups!group=team"}, "config", true};
    service_row sv;
    sv.id = 2, sv.name = "svc", sv.url = "http://127.0.0.1:1", sv.oauth_allowed_scopes = {"a"}, sv.created = at(9);
    service_row plugin;
    plugin.id = 3, plugin.name = "rtc", plugin.kind = principal_kind::plugin, plugin.display = false, plugin.created = at(9);
    server_row srv;
    srv.id = 4, srv.user_id = 1, srv.name = "", srv.started = at(11), srv.pending = "spawn", srv.state = R"({"pid":1})";
    token_row t;
    t.id = 17, t.digest = std::string(32, '\x07'), t.prefix = "abcd", t.user_id = 1, t.scopes = {"inherit"};
    t.created = at(12), t.expires_at = at(99), t.note = "n", t.session_id = "sess", t.client_id = "jupyterhub";
    token_row st = t;
    st.id = 18, st.digest = std::string(32, '\x08'), st.user_id.reset(), st.service_id = 2;
    oauth_client_row c{"service-svc", "Svc", std::string(32, '\x09'), "/cb", {"x"}, at(13), "access:services!service=svc"};
    oauth_code_row code;
    code.id = 5, code.digest = std::string(32, '\x0a'), code.client_id = "service-svc", code.user_id = 1;
    code.redirect_uri = "/cb", code.expires_at = at(300), code.code_challenge = "ch", code.code_challenge_method = "S256";
    session_row sess{"sess", 1, at(14), std::nullopt};
    share_row sh{8, 4, std::nullopt, 7, {"access:servers!server=alice/"}, at(15)};
    share_code_row sc{9, 4, std::string(32, '\x0b'), {"x"}, at(16), at(17), 2, at(18)};
    std::vector<change> all{u, g, membership_row{1, 7, "api"}, membership_row{1, 7, "config"}, r,
                            role_assignment_row{3, holder_kind::group, 7, "config"}, sv, plugin, srv, t, st, c, code, sess, sh, sc};
    REQUIRE(s->commit(all));
  }
  auto s = std::move(sqlite_store::open(file).value());
  auto snap = s->load().value();
  REQUIRE(snap.users.size() == 1);
  CHECK(snap.users[0].name == "alice");
  CHECK(snap.users[0].admin);
  CHECK(snap.users[0].last_activity == at(5));
  CHECK(snap.users[0].auth_state == std::string("\x01\x00\xff", 3));
  CHECK(snap.users[0].user_info == R"({"display_name":"Alice"})");
  CHECK(snap.groups.at(0).properties == R"({"k":1})");
  CHECK(snap.memberships.size() == 2);
  CHECK(snap.roles.at(0).scopes == std::vector<std::string>{"read:users", "read:groups!group=team"});
  CHECK(snap.roles.at(0).managed_by_auth);
  CHECK(snap.role_assignments.at(0).kind == holder_kind::group);
  REQUIRE(snap.services.size() == 2);
  CHECK(snap.services.at(0).url == "http://127.0.0.1:1");
  CHECK(snap.services.at(0).kind == principal_kind::service);
  CHECK(snap.services.at(1).kind == principal_kind::plugin);
  CHECK(snap.servers.at(0).pending == "spawn");
  REQUIRE(snap.tokens.size() == 2);
  CHECK(snap.tokens[0].digest == std::string(32, '\x07'));
  CHECK(snap.tokens[0].expires_at == at(99));
  CHECK(snap.tokens[1].service_id == 2);
  CHECK(snap.oauth_clients.at(0).secret_digest == std::string(32, '\x09'));
  CHECK(snap.oauth_codes.at(0).code_challenge_method == "S256");
  CHECK(snap.sessions.at(0).user_id == 1);
  CHECK(snap.shares.at(0).group_id == 7);
  CHECK(snap.share_codes.at(0).exchange_count == 2);

  SECTION("deleting a user cascades to what it owns") {
    REQUIRE(s->commit(std::vector<change>{erase_assignments_of{holder_kind::user, 1}, erase_user{1}}));
    auto after = s->load().value();
    CHECK(after.users.empty());
    CHECK(after.memberships.empty());
    CHECK(after.servers.empty());
    CHECK(after.tokens.size() == 1);  // the service's token stays
    CHECK(after.oauth_codes.empty());
    CHECK(after.sessions.empty());
    CHECK(after.shares.empty());
    CHECK(after.share_codes.empty());
    CHECK(after.groups.size() == 1);
  }
  SECTION("a failing change rolls back the whole batch") {
    // Second row breaks UNIQUE(name): nothing of the batch may remain.
    auto r = s->commit(std::vector<change>{a_user(50, "bob"), a_user(51, "alice")});
    REQUIRE_FALSE(r);
    CHECK(r.err().code == errc::conflict);
    CHECK(s->load().value().users.size() == 1);
  }
}

TEST_CASE("every migration path: from an empty file and from each earlier version") {
  const int latest = latest_schema_version();
  for (int from = 0; from < latest; ++from) {
    DYNAMIC_SECTION("from version " << from) {
      hubd::test::temp_dir dir;
      const auto file = dir / "hub.sqlite";
      {
        auto old = sqlite_store::create_at_version(file, from);
        REQUIRE(old);
        REQUIRE(old.value()->schema_version() == from);
        if (from >= 1) {
          REQUIRE(old.value()->exec("INSERT INTO users(id,name,admin,created,cookie_id) VALUES(1,'alice',1,5,'c1');"
                                    "INSERT INTO groups(id,name) VALUES(1,'team');"
                                    "INSERT INTO user_group_map VALUES(1,1,'config');"
                                    "INSERT INTO api_tokens(id,digest,prefix,user_id,created) VALUES(3,x'00','abcd',1,6);"));
        }
        if (from >= 2)
          REQUIRE(old.value()->exec("INSERT INTO servers(id,user_id,name) VALUES(1,1,'');"
                                    "INSERT INTO shares(id,server_id,group_id,created) VALUES(1,1,1,7);"));
      }
      if (from >= 1) {
        auto refused = sqlite_store::open(file);
        REQUIRE_FALSE(refused);
        CHECK(refused.err().code == errc::needs_upgrade);
        CHECK(refused.err().message.find("hubd upgrade-db") != std::string::npos);
      }
      auto s = sqlite_store::open(file, open_mode::upgrade);
      REQUIRE(s);
      REQUIRE(s.value()->migrate());
      REQUIRE(s.value()->schema_version() == latest);
      REQUIRE(s.value()->integrity_check());
      auto snap = s.value()->load();
      REQUIRE(snap);
      if (from >= 1) {
        REQUIRE(snap->users.size() == 1);
        CHECK(snap->users[0].name == "alice");
        CHECK_FALSE(snap->users[0].user_info);
        CHECK(snap->memberships.size() == 1);
        CHECK(snap->tokens.size() == 1);
      }
      if (from >= 2) CHECK(snap->shares.size() == 1);
      s.value().reset();
      REQUIRE(sqlite_store::open(file));  // now serves
    }
  }
}

TEST_CASE("schema 4: ambiguous server OAuth client ids are dropped, unambiguous ones get their owner") {
  hubd::test::temp_dir dir;
  const auto file = dir / "hub.sqlite";
  {
    auto old = sqlite_store::create_at_version(file, 3);
    REQUIRE(old);
    // Before version 4 user "cx"'s server "y" and user "cx-y"'s default server shared one id; here
    // the row is cx-y's (its redirect URI), so nothing tells which server its codes and tokens were for.
    REQUIRE(old.value()->exec(
        "INSERT INTO users(id,name,admin,created,cookie_id) VALUES(1,'alice',0,5,'c1'),(2,'cx',0,5,'c2'),"
        "(3,'cx-y',0,5,'c3'),(4,'bob',0,5,'c4');"
        "INSERT INTO oauth_clients(identifier,redirect_uri,created) VALUES"
        "('jupyterhub-user-alice','/user/alice/oauth_callback',1),"
        "('jupyterhub-user-cx-y','/user/cx-y/oauth_callback',1),"
        "('jupyterhub-user-bob-gpu','/user/bob/gpu/oauth_callback',1),"
        "('service-grades','/services/grades/oauth_callback',1);"
        "INSERT INTO oauth_codes(id,digest,client_id,user_id,redirect_uri,expires_at) VALUES"
        "(1,x'01','jupyterhub-user-cx-y',3,'/user/cx-y/oauth_callback',9),"
        "(2,x'02','jupyterhub-user-alice',1,'/user/alice/oauth_callback',9);"
        "INSERT INTO api_tokens(id,digest,prefix,user_id,created,client_id) VALUES"
        "(1,x'11','a',3,6,'jupyterhub-user-cx-y'),(2,x'12','b',4,6,'jupyterhub-user-bob-gpu'),"
        "(3,x'13','c',1,6,'jupyterhub-user-alice'),(4,x'14','d',2,6,'jupyterhub');"));
  }
  auto s = sqlite_store::open(file, open_mode::upgrade);
  REQUIRE(s);
  REQUIRE(s.value()->migrate());
  REQUIRE(s.value()->integrity_check());
  auto snap = s.value()->load();
  REQUIRE(snap);
  std::map<std::string, std::optional<std::string>> owners;
  for (const auto& c : snap->oauth_clients) owners[c.identifier] = c.owner;
  CHECK(owners.size() == 3);
  CHECK_FALSE(owners.contains("jupyterhub-user-cx-y"));
  REQUIRE(owners.contains("jupyterhub-user-bob-gpu"));
  CHECK(owners["jupyterhub-user-bob-gpu"] == "access:servers!server=bob/gpu");
  // Ids without a '-' after the prefix mean the same under both rules: kept, owner set at next start.
  CHECK(owners.contains("jupyterhub-user-alice"));
  CHECK_FALSE(owners["jupyterhub-user-alice"]);
  CHECK(owners.contains("service-grades"));
  REQUIRE(snap->oauth_codes.size() == 1);
  CHECK(snap->oauth_codes[0].client_id == "jupyterhub-user-alice");
  std::set<std::string> token_clients;
  for (const auto& t : snap->tokens) token_clients.insert(t.client_id);
  CHECK(token_clients == std::set<std::string>{"jupyterhub", "jupyterhub-user-alice"});
  CHECK(snap->users.size() == 4);
}

TEST_CASE("schema 5: every service row starts as a service; the old plugin flag in info is neither trusted nor kept") {
  hubd::test::temp_dir dir;
  const auto file = dir / "hub.sqlite";
  {
    auto old = sqlite_store::create_at_version(file, 4);
    REQUIRE(old);
    // "rtc" is a row start-up wrote for a plugin; "borrower" set the same flag through the API.
    REQUIRE(old.value()->exec(
        "INSERT INTO services(id,name,info,display,created) VALUES"
        "(1,'rtc','{\"hubd_plugin\":true}',0,1),(2,'borrower','{\"hubd_plugin\": true, \"x\": 1}',1,1),"
        "(3,'plain','{\"k\":\"v\"}',1,1);"
        "INSERT INTO api_tokens(id,digest,prefix,service_id,created,note) VALUES"
        "(1,x'01','a',1,6,'hubd internal API'),(2,x'02','b',2,6,'hubd internal API'),(3,x'03','c',1,6,'kept');"));
  }
  auto s = sqlite_store::open(file, open_mode::upgrade);
  REQUIRE(s);
  REQUIRE(s.value()->migrate());
  auto snap = s.value()->load();
  REQUIRE(snap);
  REQUIRE(snap->services.size() == 3);
  for (const auto& sv : snap->services) CHECK(sv.kind == principal_kind::service);
  std::map<std::string, std::string> info;
  for (const auto& sv : snap->services) info[sv.name] = sv.info;
  CHECK(info["rtc"] == "{}");
  CHECK(info["borrower"] == R"({"hubd_plugin": true, "x": 1})");
  CHECK(info["plain"] == R"({"k":"v"})");
  // Only the tokens start-up minted for a plugin row go.
  std::set<std::int64_t> tokens;
  for (const auto& t : snap->tokens) tokens.insert(t.id);
  CHECK(tokens == std::set<std::int64_t>{2, 3});
  CHECK_FALSE(s.value()->exec("UPDATE services SET kind='root' WHERE id=3"));
}

TEST_CASE("backup writes a consistent, timestamped copy") {
  hubd::test::temp_dir dir;
  const auto file = dir / "hub.sqlite";
  auto s = std::move(sqlite_store::open(file).value());
  REQUIRE(s->commit(std::vector<change>{a_user(1, "alice")}));
  auto b = s->backup();
  REQUIRE(b);
  CHECK(b->string().rfind(file.string() + ".", 0) == 0);
  auto b2 = s->backup();
  REQUIRE(b2);
  CHECK(b2.value() != b.value());
  auto copy = sqlite_store::open(b.value());
  REQUIRE(copy);
  CHECK(copy.value()->load()->users.size() == 1);
}

TEST_CASE("a database newer than this hubd is refused") {
  hubd::test::temp_dir dir;
  const auto file = dir / "hub.sqlite";
  REQUIRE(sqlite_store::open(file).value()->exec("PRAGMA user_version=99"));
  for (auto mode : {open_mode::serve, open_mode::upgrade}) {
    auto r = sqlite_store::open(file, mode);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == errc::too_new);
    CHECK(r.err().message.find("99") != std::string::npos);
  }
}

TEST_CASE("a file that is not SQLite is refused and left untouched") {
  hubd::test::temp_dir dir;
  const auto file = dir / "hub.sqlite";
  std::string junk(8192, 'x');
  std::ofstream(file, std::ios::binary) << junk;
  auto r = sqlite_store::open(file);
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::not_a_database);
  CHECK(r.err().message.find(file.string()) != std::string::npos);
  CHECK(read_all(file) == junk);
}

TEST_CASE("a SQLite file with someone else's tables is refused") {
  hubd::test::temp_dir dir;
  const auto file = dir / "other.sqlite";
  REQUIRE(sqlite_store::create_at_version(file, 0).value()->exec("CREATE TABLE t(x)"));
  auto r = sqlite_store::open(file);
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::not_a_database);
}

TEST_CASE("a read-only directory gives a clear error and leaves the data intact") {
  hubd::test::temp_dir dir;
  const auto ro = dir / "ro";
  fs::create_directories(ro);
  const auto file = ro / "hub.sqlite";
  {
    auto s = std::move(sqlite_store::open(file).value());
    REQUIRE(s->commit(std::vector<change>{a_user(1, "alice")}));
  }
  ::chmod(dir.path().c_str(), 0755);
  ::chmod(ro.c_str(), 0555);
  ::chmod(file.c_str(), 0444);
  // Child processes (unprivileged when we are root, since root ignores modes) try to use it.
  const int existing = in_child(
      [&] {
        auto r = sqlite_store::open(file);
        if (r) return 1;
        std::fprintf(stderr, "expected error: %s\n", r.err().message.c_str());
        return r.err().code == errc::read_only && r.err().message.find(file.string()) != std::string::npos ? 0 : 2;
      },
      true);
  CHECK(existing == 0);
  const int fresh = in_child(
      [&] {
        auto r = sqlite_store::open(ro / "new.sqlite");
        if (r) return 1;
        std::fprintf(stderr, "expected error: %s\n", r.err().message.c_str());
        return r.err().code == errc::read_only ? 0 : 2;
      },
      true);
  CHECK(fresh == 0);
  ::chmod(ro.c_str(), 0755);
  ::chmod(file.c_str(), 0644);
  auto s = sqlite_store::open(file);
  REQUIRE(s);
  CHECK(s.value()->integrity_check());
  CHECK(s.value()->load()->users.size() == 1);
}

TEST_CASE("a full disk (file size limit) gives a clear error and the committed data stays") {
  hubd::test::temp_dir dir;
  const auto file = dir / "hub.sqlite";
  {
    auto s = std::move(sqlite_store::open(file).value());
    REQUIRE(s->commit(std::vector<change>{a_user(1, "alice")}));
  }
  const int rc = in_child(
      [&] {
        std::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
        rlimit lim{256 * 1024, 256 * 1024};
        if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 3;
        auto s = sqlite_store::open(file);
        if (!s) return 4;
        const std::string big(4096, 'p');
        for (std::int64_t i = 2; i < 100000; ++i) {
          auto u = a_user(i, "user" + std::to_string(i));
          u.user_info = "{\"pad\":\"" + big + "\"}";
          auto st = s.value()->commit(std::vector<change>{u});
          if (!st) {
            std::fprintf(stderr, "expected error: %s\n", st.err().message.c_str());
            return st.err().code == errc::disk_full || st.err().code == errc::io ? 0 : 5;
          }
        }
        return 6;
      },
      false);
  REQUIRE(rc == 0);
  auto s = sqlite_store::open(file);
  REQUIRE(s);
  CHECK(s.value()->integrity_check());
  auto snap = s.value()->load();
  REQUIRE(snap);
  CHECK(snap->users.front().name == "alice");
  CHECK(snap->users.size() > 1);  // what the child committed before the limit is there too
}

// Hidden ("[.]"): it runs only as its own CTest test, store_sqlite_full_tmpfs_test, which counts the
// exit status 77 as skipped, so a machine that cannot mount says so instead of passing silently.
TEST_CASE("a full tmpfs gives SQLITE_FULL as a disk_full error and the committed data stays", "[.][tmpfs]") {
  hubd::test::temp_dir dir;
  const auto mnt = dir / "tiny";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=320k") != 0) {
    const int err = errno;
    std::error_code ec;
    fs::remove_all(dir.path(), ec);  // std::exit runs no destructor
    std::printf("skipped: cannot mount a tmpfs here (%s); the RLIMIT_FSIZE test covers a full disk\n",
                std::strerror(err));
    std::exit(77);
  }
  struct unmount {
    fs::path p;
    ~unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } guard{mnt};
  const auto file = mnt / "hub.sqlite";
  auto s = std::move(sqlite_store::open(file).value());
  REQUIRE(s->commit(std::vector<change>{a_user(1, "alice")}));
  const std::string big(4096, 'p');
  error last{errc::io, {}};
  bool failed = false;
  for (std::int64_t i = 2; i < 10000 && !failed; ++i) {
    auto u = a_user(i, "user" + std::to_string(i));
    u.user_info = "{\"pad\":\"" + big + "\"}";
    auto st = s->commit(std::vector<change>{u});
    if (!st) failed = true, last = st.err();
  }
  REQUIRE(failed);
  INFO(last.message);
  CHECK(last.code == errc::disk_full);
  CHECK(last.message.find("disk is full") != std::string::npos);
  s.reset();
  auto again = sqlite_store::open(file);
  REQUIRE(again);
  CHECK(again.value()->integrity_check());
  CHECK(again.value()->load()->users.front().name == "alice");
}

TEST_CASE("db_url: sqlite:/// paths relative to the config folder, absolute with four slashes") {
  CHECK(sqlite_path_from_url("sqlite:///jupyterhub.sqlite", "/etc/hub").value() == fs::path("/etc/hub/jupyterhub.sqlite"));
  CHECK(sqlite_path_from_url("sqlite:////var/lib/hub.sqlite", "/etc/hub").value() == fs::path("/var/lib/hub.sqlite"));
  CHECK(sqlite_path_from_url("sqlite:///../db/h.sqlite", "/etc/hub").value() == fs::path("/etc/db/h.sqlite"));
  auto pg = sqlite_path_from_url("postgresql://u:pw@host/db", "/");
  REQUIRE_FALSE(pg);
  CHECK(pg.err().message.find("postgresql") != std::string::npos);
  CHECK(pg.err().message.find("pw") == std::string::npos);
  CHECK_FALSE(sqlite_path_from_url("sqlite:///:memory:", "/"));
  CHECK_FALSE(sqlite_path_from_url("sqlite:///", "/"));
}
