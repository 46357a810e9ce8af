#include "tests/unit/rbac/helpers.hpp"

#include <catch2/catch.hpp>

using namespace hubd::test::rbac;

namespace {
strings inter(const strings& a_raw, const strings& b_raw, const membership_view* m) {
  auto a = expand(table(), a_raw, principal_ref::none()).scopes;
  auto b = expand(table(), b_raw, principal_ref::none()).scopes;
  auto ab = intersect(a, b, m);
  auto ba = intersect(b, a, m);
  CHECK(ab == ba);
  return ab.to_strings(table());
}
strings with_children(const char* filter) {
  strings out;
  for (const char* s : {"read:users", "read:users:activity", "read:users:groups", "read:users:name"})
    out.push_back(std::string(s) + filter);
  return out;
}
}  // namespace

TEST_CASE("intersection examples of spec 8.1", "[rbac][intersect]") {
  fake_membership m{{"bob", "g"}, {"ux", "gx"}, {"uy", "gy"}};
  CHECK(inter({"read:users!group=g"}, {"read:users!user=bob"}, &m) == with_children("!user=bob"));
  CHECK(inter({"read:users!group=g"}, {"read:users!user=alice"}, &m).empty());
  CHECK(inter({"read:users"}, {"read:users!user=alice"}, &m) == with_children("!user=alice"));
  CHECK(inter({"read:servers!user=bob"}, {"read:servers!server=bob/x"}, &m) == strings{"read:servers!server=bob/x"});
  CHECK(inter({"read:servers!user=abc"}, {"read:servers!server=abcd/x"}, &m).empty());
  CHECK(inter({"access:servers!group=g"}, {"access:servers!server=bob/"}, &m) == strings{"access:servers!server=bob/"});
  CHECK(inter({"users"}, {"read:users:name"}, &m) == strings{"read:users:name"});
  CHECK(inter({"read:servers!user=ux", "read:servers!group=gy"}, {"read:servers!user=uy", "read:servers!group=gx"}, &m) ==
        strings{"read:servers!user=ux", "read:servers!user=uy", "read:users:name!user=ux", "read:users:name!user=uy"});
  // group filters are never widened to group results unless on both sides
  CHECK(inter({"read:groups!group=g"}, {"read:groups!group=g"}, &m) ==
        strings{"read:groups!group=g", "read:groups:name!group=g"});
  CHECK(inter({"read:users!group=g"}, {"read:users!group=h"}, &m).empty());
}

TEST_CASE("without membership access, user-group pairs are skipped with a warning", "[rbac][intersect]") {
  auto a = set_of({"read:users!group=g"});
  auto b = set_of({"read:users!user=bob"});
  std::vector<std::string> warnings;
  CHECK(intersect(&table(), a, b, nullptr, &warnings).empty());
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("read:users"));
  CHECK(intersect(a, b, nullptr).empty());
}

TEST_CASE("token resolution (spec 8.2)", "[rbac][token]") {
  fake_membership m{};
  const auto alice = principal_ref::user("alice");
  auto owner_with = [&](const strings& roles_scopes) { return expand(table(), roles_scopes, alice).scopes; };

  SECTION("inherit is exactly the owner's set") {
    auto owner = owner_with({"self", "read:groups"});
    auto t = resolve_token(table(), strings{"inherit", "admin:users"}, alice, {}, owner, &m);
    CHECK(t.scopes == owner);
    CHECK(t.discarded.empty());
  }
  SECTION("a token shrinks when its owner shrinks, and regains") {
    const strings stored{"read:users"};
    auto t1 = resolve_token(table(), stored, alice, {}, owner_with({"self", "read:users"}), &m);
    CHECK(t1.scopes.to_strings(table()) ==
          strings{"read:users", "read:users:activity", "read:users:groups", "read:users:name"});
    auto t2 = resolve_token(table(), stored, alice, {}, owner_with({"self"}), &m);
    CHECK(t2.scopes.to_strings(table()) == with_children("!user=alice"));
    CHECK_FALSE(t2.discarded.empty());
    CHECK_THAT(t2.warnings.back(), Catch::Contains("discarding scopes") && Catch::Contains("User alice"));
  }
  SECTION("an empty stored list resolves to the identify scopes") {
    auto t = resolve_token(table(), strings{}, alice, {}, owner_with({"self"}), &m);
    CHECK(t.scopes.to_strings(table()) == strings{"read:users:groups!user=alice", "read:users:name!user=alice"});
  }
  SECTION("an OAuth token gets its client's access scope, if the owner holds it") {
    auto client = oauth_client_ref::server("alice", "");
    auto t = resolve_token(table(), strings{}, alice, client, owner_with({"self"}), &m);
    CHECK(t.scopes.to_strings(table()) == strings{"access:servers!server=alice/", "read:users:groups!user=alice",
                                                  "read:users:name!user=alice"});
    auto other = resolve_token(table(), strings{}, alice, oauth_client_ref::server("bob", ""), owner_with({"self"}), &m);
    CHECK_FALSE(other.scopes.has_any(id(builtin::access_servers)));
  }
  SECTION("a service owner") {
    auto svc = principal_ref::service("svc");
    auto owner = expand(table(), strings{"read:users", "list:services"}, svc).scopes;
    auto t = resolve_token(table(), strings{"read:users:name"}, svc, {}, owner, &m);
    CHECK(t.scopes.to_strings(table()) == strings{"read:services:name!service=svc", "read:users:name"});
  }
}

TEST_CASE("lenient requested within held (spec 8.3)", "[rbac][oauth]") {
  fake_membership m{{"ann", "g"}};
  const auto ann = principal_ref::user("ann");
  const auto client = oauth_client_ref::server("ann", "lab");
  SECTION("spec example: a partial grant") {
    auto r = resolve_requested(table(), strings{"admin:servers!server"}, strings{"read:servers"}, ann, client, &m);
    CHECK(r.allowed == strings{"read:servers!server=ann/lab"});
    CHECK(r.disallowed == strings{"admin:servers!server"});
  }
  SECTION("spec example: an abbreviation kept as is") {
    auto r = resolve_requested(table(), strings{"read:servers!server"}, strings{"read:servers!user"}, ann, client, &m);
    CHECK(r.allowed == strings{"read:servers!server"});
    CHECK(r.disallowed.empty());
  }
  SECTION("verbatim matches") {
    auto r = resolve_requested(table(), strings{"self", "read:hub"}, strings{"self"}, ann, client, &m);
    CHECK(r.allowed == strings{"self"});
    CHECK(r.disallowed == strings{"read:hub"});
  }
  SECTION("group grants resolve through membership") {
    auto r = resolve_requested(table(), strings{"read:users!user=ann"}, strings{"read:users!group=g"}, ann, client, &m);
    CHECK(r.allowed == strings{"read:users!user=ann"});
  }
  SECTION("unknown requested scopes throw") {
    CHECK_THROWS_AS(resolve_requested(table(), strings{"read:nothing"}, strings{}, ann, client, &m), scope_not_found);
  }
}

TEST_CASE("strict token creation (spec 8.4)", "[rbac][token]") {
  fake_membership m{{"ann", "g"}};
  const auto ann = principal_ref::user("ann");
  auto owner = expand(table(), strings{"self", "read:groups!group=g"}, ann).scopes;
  CHECK_FALSE(check_token_scopes(table(), strings{"inherit"}, ann, {}, owner, &m));
  CHECK_FALSE(check_token_scopes(table(), strings{}, ann, {}, owner, &m));
  CHECK_FALSE(check_token_scopes(table(), strings{"read:users!user"}, ann, {}, owner, &m));
  CHECK_FALSE(check_token_scopes(table(), strings{"inherit", "tokens!user=ann"}, ann, {}, owner, &m));
  CHECK_FALSE(check_token_scopes(table(), strings{"read:groups:name!group=g"}, ann, {}, owner, &m));
  auto err = check_token_scopes(table(), strings{"read:users"}, ann, {}, owner, &m);
  REQUIRE(err);
  CHECK_THAT(*err, Catch::StartsWith("Not assigning requested scopes ") && Catch::EndsWith("not held by User ann"));
  CHECK_THAT(*err, Catch::Contains("read:users"));
  CHECK(check_token_scopes(table(), strings{"admin:users!user=ann"}, ann, {}, owner, &m));
  CHECK_THROWS_AS(check_token_scopes(table(), strings{"all"}, ann, {}, owner, &m), scope_not_found);
}

TEST_CASE("not_covered: what a granter may hand out (no escalation)") {
  const auto& t = table();
  auto set = [&](const strings& raw) { return expand(t, raw, principal_ref::user("granter")).scopes; };
  // An unfiltered scope covers its filtered forms and its subscopes.
  CHECK(not_covered(t, set({"read:users!user=bob"}), set({"read:users"}), nullptr).empty());
  CHECK(not_covered(t, set({"read:users:name"}), set({"read:users"}), nullptr).empty());
  // A filtered one does not cover the unfiltered form.
  // (the expanded set: the scope and each of its subscopes, unfiltered)
  CHECK(not_covered(t, set({"read:users"}), set({"read:users!user=bob"}), nullptr) ==
        strings{"read:users", "read:users:activity", "read:users:groups", "read:users:name"});
  // admin:users is not covered by admin:roles alone: the escalation the roles API refuses.
  auto missing = not_covered(t, set({"admin:users"}), set({"admin:roles", "read:users"}), nullptr);
  CHECK(std::find(missing.begin(), missing.end(), "admin:users") != missing.end());
  // Group filters cover user filters only through membership.
  fake_membership m{{"bob", "team"}};
  CHECK(not_covered(t, set({"read:users!user=bob"}), set({"read:users!group=team"}), &m).empty());
  CHECK(!not_covered(t, set({"read:users!user=carol"}), set({"read:users!group=team"}), &m).empty());
}
