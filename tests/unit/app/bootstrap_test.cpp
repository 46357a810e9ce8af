// Start-up against a real SQLite file: the config's users, groups, roles and services land in one
// commit however many there are, and a restart over the same file changes nothing.
#include "core/app/bootstrap.hpp"

#include "core/model/hub_model.hpp"
#include "core/rbac/rbac.hpp"
#include "core/store/sqlite_store.hpp"
#include "tests/unit/store/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

namespace app = hubd::core::app;
namespace model = hubd::core::model;
namespace st = hubd::core::store;

namespace {

std::unique_ptr<model::hub_model> open_model(const std::filesystem::path& file) {
  auto m = model::hub_model::open(std::move(st::sqlite_store::open(file).value()));
  REQUIRE(m);
  return std::move(m.value());
}

std::string config_with_users(int n) {
  std::string users;
  for (int i = 0; i < n; ++i) users += (i ? ", " : "") + std::string("\"user") + std::to_string(i) + "\"";
  return R"([Authenticator]
admin_users = ["root"]
allowed_users = [)" + users + R"(]

[JupyterHub.load_groups.physics]
users = ["user1", "user2", "newcomer"]
properties = {lab = "b2"}

[[JupyterHub.load_roles]]
name = "reader"
scopes = ["read:users"]
users = ["user3"]
groups = ["physics"]

[[JupyterHub.services]]
name = "grader"
api_token = "a-service-token-of-some-length"
)";
}

// The config_error apply_config throws for `toml`, or "" when it accepts it.
std::string config_error_of(model::hub_model& m, std::string_view toml) {
  auto cfg = app::load_config_text(toml, "hub.toml");
  hubd::core::rbac::scope_table scopes;
  try {
    app::apply_config(cfg, scopes, m);
  } catch (const app::config_error& e) {
    return e.what();
  }
  return "";
}

bool holds(const model::hub_model& m, std::string_view user, std::string_view role) {
  auto roles = m.roles_of(model::holder_kind::user, user);
  return std::any_of(roles.begin(), roles.end(), [&](const auto& r) { return r->name == role; });
}

}  // namespace

TEST_CASE("start-up with many allowed users is one commit, and a restart over the same file is one more") {
  hubd::test::temp_dir dir;
  const auto file = dir / "hub.sqlite";
  const int n = 500;
  auto cfg = app::load_config_text(config_with_users(n), "hub.toml");
  hubd::core::rbac::scope_table scopes;
  {
    auto m = open_model(file);
    const auto before = m->writer_stats();
    auto report = app::apply_config(cfg, scopes, *m);
    const auto after = m->writer_stats();
    CHECK(after.items - before.items == 1);  // every change of the start-up in one transaction
    CHECK(after.batches - before.batches == 1);
    CHECK(report.users_created == static_cast<std::size_t>(n) + 2);  // root and newcomer
    CHECK(report.roles_created == 5);                                // the 4 default roles and reader
  }
  auto m = open_model(file);  // what the commit made durable
  CHECK(m->user_count() == static_cast<std::size_t>(n) + 2);
  for (const char* u : {"user0", "user499", "newcomer"}) CHECK(holds(*m, u, "user"));
  CHECK(holds(*m, "root", "admin"));
  CHECK(m->find_user("root")->admin);
  CHECK(holds(*m, "user3", "reader"));
  CHECK(m->holders_of("reader").groups == std::vector<std::string>{"physics"});
  CHECK(m->group_members("physics") == std::vector<std::string>{"user1", "user2", "newcomer"});
  CHECK(m->find_group("physics")->properties == R"({"lab":"b2"})");
  REQUIRE(m->find_service("grader"));
  REQUIRE(m->find_token("a-service-token-of-some-length"));
  CHECK(m->find_token("a-service-token-of-some-length")->service_id == m->find_service("grader")->id);

  const auto before = m->writer_stats();
  auto again = app::apply_config(cfg, scopes, *m);
  CHECK(again.users_created == 0);
  CHECK(again.roles_created == 0);
  CHECK(m->writer_stats().items - before.items == 1);
  CHECK(m->user_count() == static_cast<std::size_t>(n) + 2);
}

TEST_CASE("a bad name among the allowed users is named, and the users before it are created") {
  hubd::test::temp_dir dir;
  auto m = open_model(dir / "hub.sqlite");
  // The loader refuses such a name already; the bootstrap still names what the model refuses.
  auto cfg = app::load_config_text("[Authenticator]\nallowed_users = [\"ann\"]\n", "hub.toml");
  cfg.values["Authenticator"]["allowed_users"] = {"ann", "ann", "b/c", "dee"};
  hubd::core::rbac::scope_table scopes;
  std::string error;
  try {
    app::apply_config(cfg, scopes, *m);
  } catch (const app::config_error& e) {
    error = e.what();
  }
  CHECK(error.find("Authenticator.allowed_users: cannot create user 'b/c'") != std::string::npos);
  CHECK(m->find_user("ann"));
  CHECK_FALSE(m->find_user("dee"));
}

TEST_CASE("a config mistake found half-way is still an error naming the key") {
  hubd::test::temp_dir dir;
  auto m = open_model(dir / "hub.sqlite");
  auto error = config_error_of(*m, R"([[JupyterHub.load_roles]]
name = "reader"
scopes = ["read:users"]
services = ["nobody"]
)");
  CHECK(error.find("JupyterHub.load_roles[0].services") != std::string::npos);
  CHECK(error.find("'nobody', which is not defined") != std::string::npos);
  // What was applied before the mistake is in memory and made durable on the way out.
  REQUIRE(m->flush());
  CHECK(open_model(dir / "hub.sqlite")->find_role("reader"));
}
