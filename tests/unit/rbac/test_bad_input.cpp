// Bad input: clear errors, never a crash.
#include "tests/unit/rbac/helpers.hpp"

#include <catch2/catch.hpp>

using namespace hubd::test::rbac;
using nlohmann::json;

TEST_CASE("malformed scopes are rejected with a message naming them", "[rbac][bad]") {
  struct row {
    std::string scope;
    const char* needle;
  };
  const std::vector<row> rows = {
      {"", "Scope '' does not exist"},
      {"!user=x", "Scope '!user=x' does not exist"},
      {"all", "now called 'inherit'"},
      {"all!user=x", "now called 'inherit'"},
      {"read:users!", "filter kind"},
      {"read:users!user=", "empty"},
      {"read:users!group", "needs a group name"},
      {"read:users!server=alice", "server=USER/SERVER"},
      {"read:users!server=/x", "server=USER/SERVER"},
      {"read:users!bogus=x", "filter kind"},
      {"read:users!USER=x", "filter kind"},
      {"read:users!user=x!y", ""},  // accepted: the value is everything after '='
      {"READ:USERS", "does not exist"},
      {"read:users ", "does not exist"},
      {"read:us\xc3\xa9rs", "does not exist"},
      {std::string("read:users\0x", 12), "does not exist"},
      {"custom:nope", "does not exist"},
  };
  for (const auto& r : rows) {
    INFO(r.scope);
    if (std::string_view(r.needle).empty()) {
      CHECK_NOTHROW(parse_scope(table(), r.scope));
      continue;
    }
    CHECK_THROWS_WITH(parse_scope(table(), r.scope), Catch::Contains(r.needle));
    CHECK_THROWS_AS(expand(table(), strings{r.scope}, principal_ref::user("u")), scope_not_found);
  }
  CHECK_THROWS_WITH(parse_scope(table(), "nope", "role 'r'"), Catch::Contains("for role 'r'"));
}

TEST_CASE("unicode and odd names are plain values", "[rbac][bad]") {
  const std::string name = "\xe3\x83\xa6\xe3\x83\xbc\xe3\x82\xb6\xe3\x83\xbc";  // "ユーザー"
  auto e = expand(table(), strings{"self"}, principal_ref::user(name));
  CHECK(e.scopes.count() == 15);
  CHECK(check(e.scopes, {id(builtin::read_users)}, resource_ref::user(name), nullptr) == access_result::allowed);
  CHECK(check(e.scopes, {id(builtin::read_users)}, resource_ref::user("x"), nullptr) == access_result::not_found);
  auto s = expand(table(), strings{"read:users!user=a b/c=d"}, principal_ref::none()).scopes;
  CHECK(has_scope(s, id(builtin::read_users), resource_ref::user("a b/c=d"), nullptr));
  CHECK(check(s, {id(builtin::read_users)}, resource_ref::user(""), nullptr) == access_result::not_found);
}

TEST_CASE("expanded sets reject bare filters", "[rbac][bad]") {
  CHECK_THROWS_AS(scope_set::from_strings(table(), strings{"read:users!user"}), scope_not_found);
}

TEST_CASE("10k-scope roles", "[rbac][bad]") {
  strings big;
  for (int i = 0; i < 10000; ++i) big.push_back("read:users!user=u" + std::to_string(i));
  auto e = expand(table(), big, principal_ref::none());
  CHECK(e.scopes.count() == 40000);
  CHECK(has_scope(e.scopes, id(builtin::read_users), resource_ref::user("u9999"), nullptr));
  CHECK_FALSE(has_scope(e.scopes, id(builtin::read_users), resource_ref::user("u10000"), nullptr));
  auto narrow = intersect(e.scopes, set_of({"read:users:name!user=u5"}), nullptr);
  CHECK(narrow.to_strings(table()) == strings{"read:users:name!user=u5"});
  CHECK_NOTHROW(validate_role(table(), role_def{"big-role", "", big}));
  big.push_back("read:users!user");
  big.push_back("nope");
  CHECK_THROWS_WITH(validate_role(table(), role_def{"big-role", "", big}), Catch::Contains("'nope'"));

  json defs = json::object();
  for (int i = 0; i < 2000; ++i) {
    json d = {{"description", "d"}};
    if (i + 1 < 2000) d["subscopes"] = {"custom:s" + std::to_string(i + 1) + "x"};
    defs["custom:s" + std::to_string(i) + "x"] = d;
  }
  scope_table t;
  auto r = t.add_custom_scopes(defs);
  REQUIRE(r.ok());
  CHECK(t.closure(*t.find("custom:s0x")).size() == 2000);
}

TEST_CASE("custom scope tables of the wrong shape", "[rbac][bad]") {
  scope_table t;
  for (const char* bad : {"null", "3", "\"x\"", "[]", R"({"custom:abc": null})", R"({"custom:abc": []})"}) {
    INFO(bad);
    CHECK_FALSE(t.add_custom_scopes(json::parse(bad)).ok());
  }
  CHECK(t.add_custom_scopes(json::object()).ok());
}
