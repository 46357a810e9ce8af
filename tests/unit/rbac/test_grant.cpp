// The no-escalation rule for role grants: bare filters are checked for everyone a grant reaches.
#include "helpers.hpp"

#include <catch2/catch.hpp>

using namespace hubd::test::rbac;

namespace {
std::optional<grant_refusal> grant(const strings& role, const grant_holder& h, const strings& granter_expanded,
                                   const membership_view* m = nullptr) {
  return check_grant(table(), role, h, set_of(granter_expanded), m);
}
}  // namespace

TEST_CASE("grant to a group: bare !user is checked for every member") {
  // The granter holds admin:roles only (plus what he holds for himself): granting admin:users!user to a
  // group he is in would give him admin:users!user=mallory.
  strings own = expanded({"admin:roles", "read:roles", "self"}, principal_ref::user("mallory"));
  auto r = grant({"admin:users!user", "tokens!user"}, grant_holder::group("team", {"mallory"}), own);
  REQUIRE(r);
  CHECK(r->scope == "admin:users!user");
  CHECK(r->reached == "user mallory");
  CHECK(r->missing.find("!user=mallory") != std::string::npos);
  // A member he does not cover is named, even when he covers the first one.
  strings covers_bob = expanded({"admin:users!user=bob", "tokens!user=bob"});
  auto r2 = grant({"admin:users!user"}, grant_holder::group("team", {"bob", "carol"}), covers_bob);
  REQUIRE(r2);
  CHECK(r2->reached == "user carol");
  // Holding the scope for every member is enough.
  strings both = expanded({"admin:users!user=bob", "admin:users!user=carol"});
  CHECK_FALSE(grant({"admin:users!user"}, grant_holder::group("team", {"bob", "carol"}), both));
  // Or holding it through the group filter.
  fake_membership m{{"bob", "team"}, {"carol", "team"}};
  CHECK_FALSE(grant({"admin:users!user"}, grant_holder::group("team", {"bob", "carol"}),
                    expanded({"admin:users!group=team"}), &m));
  // An empty group reaches no one yet.
  CHECK_FALSE(grant({"admin:users!user"}, grant_holder::group("empty", {}), own));
}

TEST_CASE("grant to a user: bare !server covers all of the user's servers") {
  strings own = expanded({"admin:roles"});
  auto r = grant({"servers!server"}, grant_holder::user("bob"), own);
  REQUIRE(r);
  CHECK(r->scope == "servers!server");
  CHECK(r->missing.find("!user=bob") != std::string::npos);
  CHECK_FALSE(grant({"servers!server"}, grant_holder::user("bob"), expanded({"servers!user=bob"})));
  // One server of bob's is not enough: the role binds to whichever server issues the token.
  CHECK(grant({"servers!server"}, grant_holder::user("bob"), expanded({"servers!server=bob/"})));
  // Members of a group, too.
  CHECK(grant({"servers!server"}, grant_holder::group("g", {"bob"}), own));
}

TEST_CASE("grant to a user: bare !user, !service; grant to a service") {
  CHECK(grant({"tokens!user"}, grant_holder::user("bob"), expanded({"admin:roles"})));
  CHECK_FALSE(grant({"tokens!user"}, grant_holder::user("bob"), expanded({"tokens!user=bob"})));
  // A user's bare !service binds to any service's client: only the unfiltered scope covers it.
  CHECK(grant({"read:services!service"}, grant_holder::user("bob"), expanded({"read:services!service=s"})));
  CHECK_FALSE(grant({"read:services!service"}, grant_holder::user("bob"), expanded({"read:services"})));
  // A service's bare !service is the service itself.
  CHECK(grant({"read:services!service"}, grant_holder::service("s"), expanded({"admin:roles"})));
  CHECK_FALSE(grant({"read:services!service"}, grant_holder::service("s"), expanded({"read:services!service=s"})));
  // Unfiltered scopes are checked as before, for services too.
  auto r = grant({"admin:users"}, grant_holder::service("s"), expanded({"admin:users!user=bob"}));
  REQUIRE(r);
  CHECK(r->reached == "service s");
  CHECK_THROWS_AS(grant({"no-such-scope"}, grant_holder::user("bob"), {}), scope_not_found);
}
