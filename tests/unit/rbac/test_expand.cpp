#include "tests/unit/rbac/helpers.hpp"

#include <catch2/catch.hpp>

using namespace hubd::test::rbac;

TEST_CASE("self expands to the 15 scopes of a user", "[rbac][expand]") {
  strings want;
  for (const char* s : {"read:users", "read:users:name", "read:users:groups", "read:users:activity", "users:activity",
                        "users:shares", "read:users:shares", "read:shares", "servers", "read:servers",
                        "start:servers", "delete:servers", "tokens", "read:tokens", "access:servers"})
    want.push_back(std::string(s) + "!user=alice");
  CHECK(expanded({"self"}, principal_ref::user("alice")) == sorted(want));
  CHECK(self_scopes(table(), principal_ref::user("alice")).count() == 15);
}

TEST_CASE("self for a service or nobody expands to nothing, with a warning", "[rbac][expand]") {
  for (const auto& owner : {principal_ref::service("svc"), principal_ref::none()}) {
    auto e = expand(table(), strings{"self"}, owner);
    CHECK(e.scopes.empty());
    REQUIRE(e.warnings.size() == 1);
    CHECK_THAT(e.warnings[0], Catch::Contains("'self'"));
  }
}

TEST_CASE("the admin role expands to every concrete scope", "[rbac][expand]") {
  auto roles = default_roles();
  auto e = expand(table(), roles[1].scopes, principal_ref::user("root"));
  // 45 JupyterHub scopes plus hubd's admin:roles; only self, inherit and (no_scope) are left out.
  CHECK(e.scopes.count() == 46);
  for (auto left_out : {builtin::self, builtin::inherit, builtin::no_scope}) CHECK_FALSE(e.scopes.has_any(id(left_out)));
  CHECK(e.warnings.empty());
}

TEST_CASE("filters are carried to every child (spec 4.2)", "[rbac][expand]") {
  struct row {
    strings raw;
    strings want;
  };
  const std::vector<row> rows = {
      {{"read:users!user=bob"},
       {"read:users!user=bob", "read:users:activity!user=bob", "read:users:groups!user=bob", "read:users:name!user=bob"}},
      {{"read:servers!server=u/x"}, {"read:servers!server=u/x"}},
      {{"users:activity!server=u/x"}, {"users:activity!server=u/x"}},
      {{"read:servers!user=u"}, {"read:servers!user=u", "read:users:name!user=u"}},
      {{"servers!group=g"},
       {"delete:servers!group=g", "read:servers!group=g", "read:users:name!group=g", "servers!group=g",
        "start:servers!group=g"}},
      {{"access:servers!server=u/"}, {"access:servers!server=u/"}},
      // reduce: an unfiltered base absorbs its filtered variants
      {{"access:services", "access:services!service=x"}, {"access:services"}},
      {{"read:users:name!user=a", "list:users"}, {"list:users", "read:users:name"}},
      // inherit and (no_scope) stay literal in roles
      {{"inherit"}, {"inherit"}},
      {{"(no_scope)"}, {"(no_scope)"}},
      // a filtered self is kept literally and grants nothing
      {{"self!user=x"}, {"self!user=x"}},
      {{}, {}},
  };
  for (const auto& r : rows) {
    INFO(::Catch::Detail::stringify(r.raw));
    CHECK(expanded(r.raw) == r.want);
  }
}

TEST_CASE("bare filters bind to the owner or the issuing client (spec 4.1)", "[rbac][expand]") {
  SECTION("!user binds to a user owner") {
    CHECK(expanded({"read:users:name!user"}, principal_ref::user("ann")) == strings{"read:users:name!user=ann"});
  }
  SECTION("!user is dropped for a service owner, with a warning") {
    auto e = expand(table(), strings{"read:users!user"}, principal_ref::service("svc"));
    CHECK(e.scopes.empty());
    REQUIRE(e.warnings.size() == 1);
    CHECK_THAT(e.warnings[0], Catch::Contains("!user") && Catch::Contains("read:users!user"));
  }
  SECTION("!service binds to a service owner") {
    CHECK(expanded({"access:services!service"}, principal_ref::service("svc")) ==
          strings{"access:services!service=svc"});
  }
  SECTION("!service binds to the issuing service, which wins over the owner") {
    CHECK(expanded({"access:services!service"}, principal_ref::service("own"), oauth_client_ref::service("issuer")) ==
          strings{"access:services!service=issuer"});
  }
  SECTION("!server binds only to an issuing server client") {
    CHECK(expanded({"access:servers!server"}, principal_ref::user("ann")).empty());
    CHECK(expanded({"read:servers!server"}, principal_ref::user("ann"), oauth_client_ref::server("bob", "lab")) ==
          strings{"read:servers!server=bob/lab"});
  }
  SECTION("the server role for a user") {
    auto e = expand(table(), default_roles()[2].scopes, principal_ref::user("ann"));
    CHECK(e.scopes.to_strings(table()) == strings{"read:users:activity!user=ann", "users:activity!user=ann"});
    CHECK(e.warnings.size() == 1);  // access:servers!server has no target
  }
}

TEST_CASE("identify and access scopes", "[rbac][expand]") {
  CHECK(identify_scopes(table(), principal_ref::user("u")).to_strings(table()) ==
        strings{"read:users:groups!user=u", "read:users:name!user=u"});
  CHECK(identify_scopes(table(), principal_ref::service("s")).to_strings(table()) ==
        strings{"read:services:name!service=s"});
  CHECK(expanded(raw_identify_scopes(), principal_ref::user("u")) ==
        identify_scopes(table(), principal_ref::user("u")).to_strings(table()));
  CHECK(access_scopes(table(), oauth_client_ref::server("u", "")).to_strings(table()) ==
        strings{"access:servers!server=u/"});
  CHECK(access_scopes(table(), oauth_client_ref::service("n")).to_strings(table()) ==
        strings{"access:services!service=n"});
  CHECK(access_scopes(table(), oauth_client_ref::hub()).empty());
  CHECK(access_scope_string(oauth_client_ref::server("u", "x")) == "access:servers!server=u/x");
}

TEST_CASE("share scopes are forced to the shared server (spec 13)", "[rbac][expand][shares]") {
  CHECK(normalize_share_scopes(table(), strings{"access:servers", "servers!server", "read:servers!server=bob/x"}, "bob",
                               "x") ==
        strings{"access:servers!server=bob/x", "servers!server=bob/x", "read:servers!server=bob/x"});
  CHECK(expand_share_scopes(table(), strings{"servers"}, "bob", "").to_strings(table()) ==
        strings{"delete:servers!server=bob/", "read:servers!server=bob/", "servers!server=bob/",
                "start:servers!server=bob/"});
  for (const char* bad : {"access:servers!user=bob", "access:servers!server=bob/y", "access:servers!group=g",
                          "access:servers!server=alice/x", "nope"})
    CHECK_THROWS_AS(normalize_share_scopes(table(), strings{bad}, "bob", "x"), scope_not_found);
}
