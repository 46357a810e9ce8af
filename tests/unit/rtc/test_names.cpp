#include "names.hpp"

#include <catch2/catch.hpp>

using namespace hubd::plugins::rtc;

TEST_CASE("a name pattern expands and matches its one placeholder", "[rtc][names]") {
  std::string error;
  auto p = name_pattern::parse("collab-{name}", "name", error);
  REQUIRE(p);
  CHECK(p->expand("team1") == "collab-team1");
  CHECK(p->match("collab-team1") == std::optional<std::string>("team1"));
  CHECK_FALSE(p->match("collab-"));
  CHECK_FALSE(p->match("alice"));
  CHECK(p->text() == "collab-{name}");

  auto suffix = name_pattern::parse("{name}-rtc", "name", error);
  REQUIRE(suffix);
  CHECK(suffix->match("a-rtc") == std::optional<std::string>("a"));
  CHECK_FALSE(suffix->match("-rtc"));
  CHECK(suffix->has_fixed_part());
  CHECK_FALSE(name_pattern::parse("{name}", "name", error)->has_fixed_part());
}

TEST_CASE("a name pattern refuses a missing, doubled or foreign placeholder", "[rtc][names]") {
  std::string error;
  CHECK_FALSE(name_pattern::parse("collab", "name", error));
  CHECK(error == "must contain {name}");
  CHECK_FALSE(name_pattern::parse("{name}-{name}", "name", error));
  CHECK(error.find("exactly once") != std::string::npos);
  CHECK_FALSE(name_pattern::parse("{user}-{name}", "name", error));
  CHECK(error.find("no placeholder other than") != std::string::npos);
}

TEST_CASE("templates substitute and report unknown placeholders", "[rtc][names]") {
  CHECK(substitute("access:servers!user={user}", {{"user", "collab-a"}}) == "access:servers!user=collab-a");
  CHECK(substitute("{name}/{name}", {{"name", "x"}}) == "x/x");
  CHECK_FALSE(unknown_placeholder("a {user} b {group}", {"user", "group"}));
  CHECK(unknown_placeholder("a {usr}", {"user"}) == std::optional<std::string>("{usr}"));
  CHECK(unknown_placeholder("a {user", {"user"}) == std::optional<std::string>("{"));
}

TEST_CASE("user, role and group name rules", "[rtc][names]") {
  CHECK_FALSE(username_problem("collab-team1"));
  CHECK_FALSE(username_problem("alice@example.org"));
  CHECK(username_problem(""));
  CHECK(username_problem("Collab-A")->find("upper-case") != std::string::npos);
  CHECK(username_problem("collab-a b"));
  CHECK(username_problem("collab-a/b"));
  CHECK(username_problem(std::string(256, 'a')));

  CHECK_FALSE(role_name_problem("collab-team1"));
  CHECK_FALSE(role_name_problem("server_sharing_alice"));
  CHECK(role_name_problem("ab"));
  CHECK(role_name_problem("1abc"));
  CHECK(role_name_problem("abc-"));
  CHECK(role_name_problem("collab-a@b"));
  CHECK(role_name_problem("Collab"));

  CHECK_FALSE(group_name_problem("collaborative"));
  CHECK(group_name_problem(""));
  CHECK(group_name_problem("a/b"));
}

TEST_CASE("path segments are percent-encoded", "[rtc][names]") {
  CHECK(path_segment("collab-a_b.c~d") == "collab-a_b.c~d");
  CHECK(path_segment("a@b c") == "a%40b%20c");
  CHECK(path_segment("a/b") == "a%2Fb");
}
