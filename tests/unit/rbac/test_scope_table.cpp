#include "tests/unit/rbac/helpers.hpp"

#include <catch2/catch.hpp>

using namespace hubd::test::rbac;
using nlohmann::json;

TEST_CASE("built-in ids follow the table order", "[rbac][table]") {
  const auto& t = table();
  REQUIRE(t.size() == id(builtin::count_));
  CHECK(t.name(id(builtin::no_scope)) == "(no_scope)");
  CHECK(t.name(id(builtin::read_users_name)) == "read:users:name");
  CHECK(t.name(id(builtin::start_servers)) == "start:servers");
  CHECK(t.name(id(builtin::read_metrics)) == "read:metrics");
  CHECK(t.name(id(builtin::admin_roles)) == "admin:roles");
  for (scope_id s = 0; s < t.size(); ++s) {
    INFO(t.name(s));
    REQUIRE(t.find(t.name(s)) == s);
    CHECK_FALSE(t.def(s).description.empty());
    CHECK_FALSE(t.def(s).custom);
  }
}

TEST_CASE("every JupyterHub 6 scope exists with its direct subscopes", "[rbac][table]") {
  const auto& t = table();
  struct row {
    const char* name;
    strings subs;
  };
  const std::vector<row> rows = {
      {"admin:users", {"admin:auth_state", "users", "read:roles:users", "delete:users"}},
      {"users", {"read:users", "list:users", "users:activity"}},
      {"list:users", {"read:users:name"}},
      {"read:users", {"read:users:name", "read:users:groups", "read:users:activity"}},
      {"read:roles", {"read:roles:users", "read:roles:services", "read:roles:groups"}},
      {"users:activity", {"read:users:activity"}},
      {"admin:servers", {"admin:server_state", "servers"}},
      {"servers", {"read:servers", "start:servers", "delete:servers"}},
      {"read:servers", {"read:users:name"}},
      {"tokens", {"read:tokens"}},
      {"admin:groups", {"groups", "read:roles:groups", "delete:groups"}},
      {"groups", {"read:groups", "list:groups"}},
      {"list:groups", {"read:groups:name"}},
      {"read:groups", {"read:groups:name"}},
      {"admin:services", {"list:services", "read:services", "read:roles:services"}},
      {"list:services", {"read:services:name"}},
      {"read:services", {"read:services:name"}},
      {"users:shares", {"read:users:shares"}},
      {"groups:shares", {"read:groups:shares"}},
      {"shares", {"access:servers", "read:shares", "users:shares", "groups:shares"}},
      {"self", {}}, {"inherit", {}}, {"(no_scope)", {}}, {"admin-ui", {}}, {"admin:auth_state", {}},
      {"delete:users", {}}, {"read:users:groups", {}}, {"read:users:activity", {}}, {"admin:server_state", {}},
      {"start:servers", {}}, {"delete:servers", {}}, {"read:tokens", {}}, {"delete:groups", {}},
      {"read:groups:name", {}}, {"read:services:name", {}}, {"read:hub", {}}, {"access:servers", {}},
      {"access:services", {}}, {"read:users:shares", {}}, {"read:groups:shares", {}}, {"read:shares", {}},
      {"proxy", {}}, {"shutdown", {}}, {"read:metrics", {}}, {"read:roles:users", {}},
      {"read:roles:services", {}}, {"read:roles:groups", {}}, {"admin:roles", {}},
  };
  CHECK(rows.size() + 1 == t.size());  // + read:users:name, listed only as a child
  for (const auto& r : rows) {
    INFO(r.name);
    auto sid = t.find(r.name);
    REQUIRE(sid);
    strings got;
    for (scope_id s : t.def(*sid).subscopes) got.push_back(t.name(s));
    CHECK(sorted(got) == sorted(r.subs));
  }
}

TEST_CASE("descriptions use the short forms of the spec", "[rbac][table]") {
  const auto& t = table();
  CHECK(t.def(id(builtin::self)).description == "Your own resources");
  CHECK(t.def(id(builtin::inherit)).description == "Anything you have access to");
  CHECK(t.def(id(builtin::admin_ui)).description == "Access the admin page.");
  CHECK(t.def(id(builtin::no_scope)).description == "Identify the owner of the requesting entity.");
  CHECK(t.def(id(builtin::admin_roles)).description == "Create, change, assign and delete roles");
}

TEST_CASE("closures are transitive; the server closure drops read:user*", "[rbac][table]") {
  const auto& t = table();
  auto names = [&](const std::vector<scope_id>& ids) {
    strings out;
    for (auto s : ids) out.push_back(t.name(s));
    return sorted(out);
  };
  CHECK(names(t.closure(id(builtin::admin_servers))) ==
        sorted({"admin:servers", "admin:server_state", "servers", "read:servers", "start:servers", "delete:servers",
                "read:users:name"}));
  CHECK(names(t.server_closure(id(builtin::admin_servers))) ==
        sorted({"admin:servers", "admin:server_state", "servers", "read:servers", "start:servers", "delete:servers"}));
  CHECK(names(t.closure(id(builtin::shares))) ==
        sorted({"shares", "access:servers", "read:shares", "users:shares", "read:users:shares", "groups:shares",
                "read:groups:shares"}));
  CHECK(names(t.server_closure(id(builtin::users_activity))) == strings{"users:activity"});
}

TEST_CASE("custom scope names", "[rbac][custom]") {
  struct row {
    const char* name;
    bool ok;
  };
  const row rows[] = {
      {"custom:abc", true},        {"custom:ab", false},          {"custom:a-b", true},
      {"custom:jupyter_server:read:contents", true},              {"custom:x*", false},
      {"custom:a**", true},        {"custom:abc-", false},        {"custom:abc:", false},
      {"custom:Abc", false},       {"custom:a.bc", false},        {"custom:-abc", false},
      {"custom:_abc", false},      {"custom:ab_", true},          {"custom:", false},
      {"Custom:abc", false},       {"read:users", false},         {"custom:ab\xc3\xa9", false},
      {"custom:abc d", false},     {"custom:9ab", true},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    CHECK(scope_table::valid_custom_name(r.name) == r.ok);
  }
}

TEST_CASE("add_custom_scopes validates everything, then adds", "[rbac][custom]") {
  scope_table t;
  auto r = t.add_custom_scopes(json::parse(R"({
    "custom:jupyter_server:read": {"description": "read a server", "subscopes": ["custom:jupyter_server:read:contents"]},
    "custom:jupyter_server:read:contents": {"description": "read files", "color": "blue"}
  })"));
  REQUIRE(r.ok());
  CHECK(r.added.size() == 2);
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("'color'") != std::string::npos);
  auto read = t.find("custom:jupyter_server:read");
  REQUIRE(read);
  CHECK(t.def(*read).custom);
  CHECK(t.def(*read).description == "read a server");
  CHECK(t.closure(*read).size() == 2);

  // Custom scopes take filters like built-ins.
  auto e = expand(t, strings{"custom:jupyter_server:read!user"}, principal_ref::user("ann"));
  CHECK(e.scopes.to_strings(t) ==
        strings{"custom:jupyter_server:read!user=ann", "custom:jupyter_server:read:contents!user=ann"});

  SECTION("identical redefinition is a no-op") {
    auto again = t.add_custom_scopes(json::parse(R"({"custom:jupyter_server:read:contents": {"description": "read files"}})"));
    CHECK(again.ok());
    CHECK(again.added.empty());
  }
  SECTION("a different redefinition is an error naming the scope") {
    auto again = t.add_custom_scopes(json::parse(R"({"custom:jupyter_server:read:contents": {"description": "other"}})"));
    REQUIRE_FALSE(again.ok());
    CHECK(again.errors[0].find("custom:jupyter_server:read:contents") != std::string::npos);
  }
}

TEST_CASE("custom_scope_error: one scope a plugin registers, beside those registered before", "[rbac][custom]") {
  json defined = json::object();
  CHECK(custom_scope_error(defined, "custom:abc", {{"description", "d"}}).empty());
  CHECK_THAT(custom_scope_error(defined, "custom:ab", {{"description", "d"}}), Catch::Contains("invalid custom scope name"));
  CHECK_FALSE(custom_scope_error(defined, "custom:Abc", {{"description", "d"}}).empty());
  CHECK_FALSE(custom_scope_error(defined, "custom:abc-", {{"description", "d"}}).empty());
  CHECK_THAT(custom_scope_error(defined, "read:users", {{"description", "d"}}), Catch::Contains("built-in"));
  CHECK_THAT(custom_scope_error(defined, "custom:abc", json::object()), Catch::Contains("missing key 'description'"));
  CHECK_THAT(custom_scope_error(defined, "custom:abc", {{"description", "d"}, {"subscopes", {"read:users"}}}),
             Catch::Contains("only have custom subscopes"));
  CHECK_THAT(custom_scope_error(defined, "custom:abc", {{"description", "d"}, {"subscopes", {"custom:zzz"}}}),
             Catch::Contains("not defined"));
  defined["custom:abc"] = {{"description", "d"}};
  // A later scope may name an earlier one as its subscope; the same definition again is no change.
  CHECK(custom_scope_error(defined, "custom:abd", {{"description", "e"}, {"subscopes", {"custom:abc"}}}).empty());
  CHECK(custom_scope_error(defined, "custom:abc", {{"description", "d"}}).empty());
  CHECK_THAT(custom_scope_error(defined, "custom:abc", {{"description", "other"}}), Catch::Contains("cannot redefine"));
}

TEST_CASE("add_custom_scopes errors name the scope and add nothing", "[rbac][custom]") {
  struct row {
    const char* defs;
    const char* needle;
  };
  const row rows[] = {
      {R"({"custom:abc": {}})", "'custom:abc': missing key 'description'"},
      {R"({"custom:abc": {"description": 3}})", "'description' must be a string"},
      {R"({"custom:abc": "x"})", "'custom:abc'"},
      {R"({"custom:ab": {"description": "x"}})", "invalid custom scope name 'custom:ab'"},
      {R"({"read:users": {"description": "x"}})", "cannot redefine built-in scope 'read:users'"},
      {R"({"custom:abc": {"description": "x", "subscopes": ["read:users"]}})", "custom scopes may only have custom subscopes"},
      {R"({"custom:abc": {"description": "x", "subscopes": ["custom:nope"]}})", "subscope 'custom:nope' is not defined"},
      {R"({"custom:abc": {"description": "x", "subscopes": "custom:abd"}})", "'subscopes' must be a list"},
      {R"({"custom:abc": {"description": "x", "subscopes": [1]}})", "'subscopes' must be a list"},
      {R"({"custom:abc": {"description": "x", "subscopes": ["custom:abd"]},
           "custom:abd": {"description": "y", "subscopes": ["custom:abc"]}})", "cycle"},
      {R"({"custom:abc": {"description": "x", "subscopes": ["custom:abc"]}})", "cycle"},
      {R"(["custom:abc"])", "must be a table"},
  };
  for (const auto& r : rows) {
    INFO(r.defs);
    scope_table t;
    auto res = t.add_custom_scopes(json::parse(r.defs));
    REQUIRE_FALSE(res.ok());
    CHECK_THAT(res.errors[0], Catch::Contains(r.needle));
    CHECK(t.size() == id(builtin::count_));
  }
}
