#include "core/plugins/plugin_registry.hpp"

#include "core/plugins/authenticator_adapter.hpp"
#include "core/plugins/plugin_host.hpp"
#include "tests/unit/plugins/test_support.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace hubd::core::plugins;
using hubd::test::fixture;
using hubd::test::wait_op;
using nlohmann::json;

namespace {

std::string reason_for(const plugin_registry& reg, const std::string& file_name) {
  for (const auto& s : reg.skipped())
    if (s.file.filename() == file_name) return s.reason;
  return "(not skipped)";
}

bool has_plugin(const plugin_registry& reg, plugin_kind kind, const std::string& name) {
  for (const auto& p : reg.plugins())
    if (p.kind == kind && p.name == name) return true;
  return false;
}

}  // namespace

TEST_CASE("scanning the fixture folder registers good plugins and explains every broken file") {
  plugin_host host(2);
  plugin_registry reg(host);
  reg.scan({hubd::test::fixture_dir()});

  CHECK(has_plugin(reg, plugin_kind::authenticator, "fx-auth"));
  CHECK(has_plugin(reg, plugin_kind::hooks, "fx-hooks"));  // several plugins in one library
  CHECK(has_plugin(reg, plugin_kind::spawner, "fx-spawner"));
  CHECK(has_plugin(reg, plugin_kind::authenticator, "fx-old"));
  CHECK(has_plugin(reg, plugin_kind::authenticator, "fx-throws"));

  CHECK_THAT(reason_for(reg, "fx_no_entry.so"), Catch::Contains("missing entry symbol hubd_plugin_entry_v1"));
  CHECK_THAT(reason_for(reg, "fx_major2.so"), Catch::Contains("ABI major 2 != 1"));
  CHECK_THAT(reason_for(reg, "fx_short.so"), Catch::Contains("entry struct_size 8 is smaller than ABI v1.0's"));
  CHECK_THAT(reason_for(reg, "fx_init_fails.so"), Catch::Contains("init failed: fx: refusing to start"));
  CHECK_THAT(reason_for(reg, "fx_no_factory.so"), Catch::Contains("factory hubd.authenticator/1 missing"));
  CHECK_THAT(reason_for(reg, "fx_zdup.so"), Catch::Contains("duplicate authenticator name 'fx-auth'") &&
                                                Catch::Contains("fx_good.so"));
  CHECK_THAT(reason_for(reg, "fx_undef.so"), Catch::Contains("undefined symbol: hubd_fixture_symbol_that_does_not_exist"));
  CHECK_THAT(reason_for(reg, "not_elf.so"), Catch::Contains("not an ELF shared object"));

  for (const auto& p : reg.plugins()) {
    CHECK(p.abi_major == 1);
    // fx_plugin.c says 1.0 (an older plugin loads), the C++ fixtures the headers' minor (1.1).
    CHECK(p.abi_minor <= 1);
    if (p.name == "fx-auth") CHECK(p.abi_minor == 0);
    CHECK_FALSE(p.version.empty());
  }
}

TEST_CASE("require names the file and the reason for a configured plugin that did not load") {
  plugin_host host(1);
  plugin_registry reg(host);
  reg.scan({hubd::test::fixture_dir()});
  auto ok = reg.require(plugin_kind::authenticator, "fx-auth");
  REQUIRE(ok);
  CHECK(ok->file.filename() == "fx_good.so");

  auto broken = reg.require(plugin_kind::authenticator, "fx-nofactory");
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error(), Catch::Contains("fx_no_factory.so") && Catch::Contains("factory"));

  auto missing = reg.require(plugin_kind::authenticator, "nope");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error(), Catch::Contains("no authenticator plugin named 'nope'") &&
                                  Catch::Contains("fx-auth") && Catch::Contains("fx_major2.so"));

  // Same name, other kind: not found.
  CHECK_FALSE(reg.require(plugin_kind::spawner, "fx-auth"));
  // A missing folder is not an error; a file scanned twice loads once.
  reg.scan({"/nonexistent/plugins", fixture("fx_good.so")});
  CHECK(reg.require(plugin_kind::authenticator, "fx-auth"));
}

TEST_CASE("a duplicate name records the file that keeps it; a name found nowhere names the folders searched") {
  plugin_host host(1);
  plugin_registry reg(host);
  reg.scan({hubd::test::fixture_dir(), "/nonexistent/plugins"});
  const skipped_plugin* dup = nullptr;
  for (const auto& s : reg.skipped())
    if (s.plugin_name == "fx-auth") dup = &s;
  REQUIRE(dup);
  CHECK(dup->file.filename() == "fx_zdup.so");
  CHECK(dup->duplicate_of.filename() == "fx_good.so");
  CHECK(dup->kind == plugin_kind::authenticator);
  // The duplicate does not make the registered plugin look broken.
  CHECK(reg.require(plugin_kind::authenticator, "fx-auth"));
  REQUIRE(reg.scanned().size() == 2);
  auto missing = reg.require(plugin_kind::spawner, "nope");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error(), Catch::Contains("was found in " + hubd::test::fixture_dir() +
                                              ", /nonexistent/plugins"));
}

TEST_CASE("the C example authenticator, built as C, works through the adapter") {
  plugin_host host(2);
  plugin_registry reg(host);
  reg.scan({hubd::test::shipped("c_authenticator.so")});
  REQUIRE(reg.require(plugin_kind::authenticator, "c-example"));

  auto auth = reg.create_authenticator("c-example", json{{"users", {"alice", "b\"ob"}}, {"password", "pw"}, {"timeout", 5}});
  REQUIRE(auth);
  auto a = auth.value();

  auto r = wait_op([&](auto cb) { a->authenticate({{"username", "alice"}, {"password", "pw"}, {"_xsrf", "x"}}, cb); });
  REQUIRE(r.ok());
  CHECK(r.value == json{{"name", "alice"}});

  r = wait_op([&](auto cb) { a->authenticate({{"username", "b\"ob"}, {"password", "pw"}}, cb); });
  REQUIRE(r.ok());
  CHECK(r.value["name"] == "b\"ob");  // escaped correctly by the plugin

  r = wait_op([&](auto cb) { a->authenticate({{"username", "alice"}, {"password", "wrong"}}, cb); });
  CHECK(r.status == op_status::denied);
  CHECK(r.http_status() == 403);
  r = wait_op([&](auto cb) { a->authenticate({{"username", "mallory"}, {"password", "pw"}}, cb); });
  CHECK(r.status == op_status::denied);
  r = wait_op([&](auto cb) { a->authenticate(json::array({1, 2}), cb); });
  CHECK(r.status == op_status::failed);

  // Defaults where the plugin has no slot.
  CHECK(a->normalize_username("Alice").name == "alice");
  CHECK(a->login_url("/hub/") == "/hub/login");
  CHECK(a->validate_username("a/b").has_value());
  CHECK_FALSE(a->implements("refresh_user"));
  auto nr = wait_op([&](auto cb) { a->refresh_user(json::object(), cb); });
  CHECK(nr.status == op_status::failed);
  CHECK_THAT(nr.message, Catch::Contains("does not implement refresh_user"));
  // No logout slot (the ABI 1.1 op): not implemented.
  CHECK_FALSE(a->implements("logout"));
  auto lo = wait_op([&](auto cb) { a->logout(json::object(), cb); });
  CHECK(lo.status == op_status::failed);
  CHECK_THAT(lo.message, Catch::Contains("does not implement logout"));

  auto bad = reg.create_authenticator("c-example", json{{"users", {"alice"}}, {"colour", "blue"}});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error(), Catch::Contains("unknown config key 'colour'") && Catch::Contains("c_authenticator.so"));
}

TEST_CASE("the dummy authenticator accepts anyone, or requires its shared password") {
  plugin_host host(1);
  plugin_registry reg(host);
  reg.scan({hubd::test::shipped("")});
  auto open = reg.create_authenticator("dummy", json::object());
  REQUIRE(open);
  auto r = wait_op([&](auto cb) { open.value()->authenticate({{"username", "anyone"}, {"password", ""}}, cb); });
  REQUIRE(r.ok());
  CHECK(r.value["name"] == "anyone");
  r = wait_op([&](auto cb) { open.value()->authenticate({{"username", ""}}, cb); });
  CHECK(r.status == op_status::denied);

  auto locked = reg.create_authenticator("dummy", json{{"password", "letmein"}});
  REQUIRE(locked);
  r = wait_op([&](auto cb) { locked.value()->authenticate({{"username", "x"}, {"password", "nope"}}, cb); });
  CHECK(r.status == op_status::denied);
  r = wait_op([&](auto cb) { locked.value()->authenticate({{"username", "x"}, {"password", "letmein"}}, cb); });
  CHECK(r.ok());

  auto bad = reg.create_authenticator("dummy", json{{"password", 3}});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error(), Catch::Contains("password: must be a string"));
}

TEST_CASE("a plugin built with an older, shorter vtable still loads; later slots are defaults") {
  plugin_host host(1);
  plugin_registry reg(host);
  reg.scan({fixture("fx_old.so")});
  auto a = reg.create_authenticator("fx-old", json::object());
  REQUIRE(a);
  auto r = wait_op([&](auto cb) { a.value()->authenticate({{"username", "someone"}}, cb); });
  CHECK(r.ok());
  CHECK(a.value()->normalize_username("MiXed").name == "mixed");
  CHECK(a.value()->routes().empty());
  CHECK_FALSE(a.value()->implements("handle_request"));
}
