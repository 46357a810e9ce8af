#include "tests/unit/rbac/helpers.hpp"

#include <catch2/catch.hpp>

using namespace hubd::test::rbac;
using nlohmann::json;

TEST_CASE("role names (spec 5.1)", "[rbac][roles]") {
  struct row {
    std::string name;
    bool ok;
  };
  const std::vector<row> rows = {
      {"abc", true},  {"ab", false},  {"a-b", true},   {"a_b.c~d9", true}, {"1ab", false}, {"abc-", false},
      {"Abc", false}, {"abC", false}, {"a b", false},  {"", false},        {"a/b", false}, {"caf\xc3\xa9", false},
      {std::string(255, 'a'), true},  {std::string(256, 'a'), false},      {"a\0b", false},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    CHECK(!role_name_error(r.name) == r.ok);
  }
}

TEST_CASE("default roles (spec 5.2)", "[rbac][roles]") {
  auto roles = default_roles();
  REQUIRE(roles.size() == 4);
  CHECK(roles[0] == role_def{"user", "Standard user privileges", {"self"}});
  CHECK(roles[1].name == "admin");
  CHECK(roles[1].scopes.size() == 17);
  CHECK(std::find(roles[1].scopes.begin(), roles[1].scopes.end(), "admin:roles") != roles[1].scopes.end());
  CHECK(roles[2] == role_def{"server", "Post activity only", {"users:activity!user", "access:servers!server"}});
  CHECK(roles[3] == role_def{"token", "Token with same permissions as its owner", {"inherit"}});
  for (const auto& r : roles) CHECK_NOTHROW(validate_role(table(), r));
  auto extra = default_roles(strings{"read:groups", "self"});
  CHECK(extra[0].scopes == strings{"self", "read:groups"});
  CHECK(is_default_role("token"));
  CHECK_FALSE(is_default_role("tokens"));
}

TEST_CASE("validate_role names the role and the bad scope", "[rbac][roles]") {
  try {
    validate_role(table(), role_def{"reader", "", {"read:users", "read:userz"}});
    FAIL("no error");
  } catch (const role_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("read:userz") && Catch::Contains("role 'reader'"));
    CHECK(e.key() == "scopes");
  }
  CHECK_THROWS_WITH(validate_role(table(), role_def{"reader", "", {"all"}}), Catch::Contains("inherit"));
  CHECK_THROWS_AS(validate_role(table(), role_def{"R", "", {}}), role_error);
}

TEST_CASE("load_roles merges over the defaults (spec 5.3)", "[rbac][roles]") {
  auto cfg = json::parse(R"([
    {"name": "user", "users": ["ann"]},
    {"name": "reader", "description": "reads", "scopes": ["read:users", "read:hub!user=x"], "groups": ["g"]},
    {"name": "empty"}
  ])");
  auto loaded = load_roles(table(), cfg, strings{"read:groups"});
  REQUIRE(loaded.roles.size() == 6);
  const auto& user = loaded.roles[0];
  CHECK(user.role.scopes == strings{"self", "read:groups"});
  CHECK(user.index == 0);
  CHECK(user.users == strings{"ann"});
  CHECK_FALSE(user.groups);
  CHECK(loaded.roles[1].index == -1);  // admin untouched
  const auto& reader = loaded.roles[4];
  CHECK(reader.role == role_def{"reader", "reads", {"read:users", "read:hub!user=x"}});
  CHECK(reader.groups == strings{"g"});
  CHECK_FALSE(reader.users);
  CHECK(loaded.roles[5].role.scopes.empty());
  auto has_warning = [&](const char* a, const char* b) {
    return std::any_of(loaded.warnings.begin(), loaded.warnings.end(), [&](const std::string& w) {
      return w.find(a) != std::string::npos && w.find(b) != std::string::npos;
    });
  };
  CHECK(has_warning("role 'empty'", "no scopes"));
  CHECK(has_warning("role 'reader'", "read:hub!user=x"));
}

TEST_CASE("load_roles warnings about the user role", "[rbac][roles]") {
  auto loaded = load_roles(table(), json::parse(R"([{"name": "user", "scopes": ["read:hub"]}])"), strings{"read:groups"});
  CHECK(loaded.roles[0].role.scopes == strings{"read:hub"});
  CHECK(loaded.warnings.size() == 2);
}

TEST_CASE("load_roles errors", "[rbac][roles]") {
  struct row {
    const char* cfg;
    int index;
    const char* key;
    const char* needle;
  };
  const row rows[] = {
      {R"([{"name": "a"}])", 0, "name", "3 to 255"},
      {R"([{"scopes": []}])", 0, "name", "without a 'name'"},
      {R"([{"name": "abc"}, {"name": "abc"}])", 1, "name", "duplicate role name 'abc'"},
      {R"([{"name": "abc", "scopes": ["read:users!usr=x"]}])", 0, "scopes", "read:users!usr=x"},
      {R"([{"name": "abc", "scopes": ["nope"]}])", 0, "scopes", "Scope 'nope' for role 'abc' does not exist"},
      {R"([{"name": "abc", "scopes": "read:users"}])", 0, "scopes", "must be a list"},
      {R"([{"name": "abc", "users": [1]}])", 0, "users", "must be a list"},
      {R"([{"name": "admin", "scopes": ["read:hub"]}])", 0, "scopes", "cannot be changed"},
      {R"([{"name": "admin", "description": "x"}])", 0, "description", "cannot be changed"},
      {R"([{"name": 5}])", 0, "name", "must be a string"},
      {R"([3])", 0, "", "must be a table"},
  };
  for (const auto& r : rows) {
    INFO(r.cfg);
    try {
      load_roles(table(), json::parse(r.cfg));
      FAIL("no error");
    } catch (const role_error& e) {
      CHECK_THAT(e.what(), Catch::Contains(r.needle));
      CHECK(e.index() == r.index);
      CHECK(e.key() == r.key);
    }
  }
  // The admin role may restate its own scopes, in any order, and set holders.
  auto admin = default_roles()[1];
  json entry = {{"name", "admin"}, {"users", {"root"}}, {"scopes", json(strings(admin.scopes.rbegin(), admin.scopes.rend()))}};
  CHECK_NOTHROW(load_roles(table(), json::array({entry})));
  CHECK_THROWS_AS(load_roles(table(), json::array(), strings{"bogus"}), role_error);
}

TEST_CASE("filters that can never match (spec 4.3)", "[rbac][roles]") {
  struct row {
    const char* scope;
    bool warns;
  };
  const row rows[] = {
      {"read:hub!user=x", true},          {"proxy!group=g", true},           {"read:users!server=u/x", true},
      {"read:users!user=x", false},       {"read:users!group=g", false},     {"read:users!service=s", true},
      {"read:servers!server=u/x", false}, {"access:servers!service=s", true}, {"read:groups!user=x", true},
      {"read:groups!group=g", false},     {"access:services!user=u", true},  {"access:services!service", false},
      {"read:roles!group=g", false},      {"read:roles!service=s", false},   {"shares!user", false},
      {"self!user=x", true},              {"read:metrics!user=x", true},     {"admin:roles!user=x", true},
      {"users:activity!server=u/x", true}, {"read:users:name!server", true}, {"read:users", false},
  };
  for (const auto& r : rows) {
    INFO(r.scope);
    auto w = never_matching_filters(table(), strings{r.scope}, "role 'x'");
    CHECK(w.empty() == !r.warns);
    if (!w.empty()) CHECK_THAT(w[0], Catch::Contains("role 'x'") && Catch::Contains(r.scope));
  }
  scope_table t;
  REQUIRE(t.add_custom_scopes(json::parse(R"({"custom:abc": {"description": "d"}})")).ok());
  CHECK(never_matching_filters(t, strings{"custom:abc!group=g"}, "role 'x'").empty());
}
