#include "config.hpp"

#include <catch2/catch.hpp>

using namespace hubd::plugins::rtc;
using nlohmann::json;

namespace {
std::string error_of(const json& table) {
  std::string error;
  auto c = parse_config(table, error);
  CHECK_FALSE(c);
  return error;
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("defaults as documented", "[rtc][config]") {
  std::string error;
  auto c = parse_config(json{{"group_prefix", "team-"}}, error);
  REQUIRE(c);
  CHECK(error.empty());
  CHECK(c->group_pattern->match("team-a") == std::optional<std::string>("a"));
  CHECK(c->user_pattern.text() == "collab-{name}");
  CHECK(c->role_pattern.text() == "collab-{name}");
  CHECK(c->role_scopes ==
        std::vector<std::string>{"access:servers!user={user}", "admin:servers!user={user}", "read:users!user={user}"});
  CHECK(c->marker_group == "collaborative");
  CHECK(c->self_role == "rtc-self");
  CHECK(c->on_empty == on_empty_policy::keep);
  CHECK(c->on_error == on_error_policy::log);
  CHECK(c->server_args == std::vector<std::string>{"--LabApp.collaborative=True"});
  CHECK_FALSE(c->sharing);
  CHECK(c->sharing_group_pattern.text() == "server_sharing_{user}");
  CHECK(c->sharing_scopes == std::vector<std::string>{"access:servers!user={user}"});
  CHECK(c->sharing_owner_scopes == std::vector<std::string>{"groups!group={group}"});
}

TEST_CASE("every key is read", "[rtc][config]") {
  std::string error;
  auto c = parse_config(json::parse(R"({
    "group_pattern": "{name}-team", "collaborations": {"proj": ["alice", "bob"]},
    "user_pattern": "rtc-{name}", "role_pattern": "rtc-role-{name}", "role_scopes": ["access:servers!user={user}"],
    "role_description": "team {name}", "marker_group": "collaborators", "self_role": "", "on_empty": "remove",
    "server_args": ["--x"], "server_env": {"A": "1"}, "sharing": true, "sharing_group_pattern": "share-{user}",
    "sharing_role_pattern": "share-{user}", "sharing_scopes": ["access:servers!user={user}"],
    "sharing_owner_role_pattern": "share-{user}-owner", "sharing_owner_scopes": [], "on_error": "deny"})"),
                        error);
  INFO(error);
  REQUIRE(c);
  CHECK(c->group_pattern->match("x-team") == std::optional<std::string>("x"));
  CHECK(c->collaborations.at("proj") == std::vector<std::string>{"alice", "bob"});
  CHECK(c->user_pattern.expand("p") == "rtc-p");
  CHECK(c->role_pattern.expand("p") == "rtc-role-p");
  CHECK(c->role_description == "team {name}");
  CHECK(c->marker_group == "collaborators");
  CHECK(c->self_role.empty());
  CHECK(c->on_empty == on_empty_policy::remove);
  CHECK(c->server_env.at("A") == "1");
  CHECK(c->sharing);
  CHECK(c->sharing_owner_scopes.empty());
  CHECK(c->on_error == on_error_policy::deny);
}

TEST_CASE("unknown keys and wrong types name the key", "[rtc][config]") {
  auto e = error_of(json{{"group_prefix", "team-"}, {"colaborations", json::object()}});
  CHECK(contains(e, "[plugins.rtc_collab] colaborations: unknown key"));
  CHECK(contains(e, "collaborations"));  // the known keys are listed
  CHECK(contains(error_of(json{{"group_prefix", 3}}), "group_prefix: must be a string"));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"role_scopes", "x"}}), "role_scopes: must be a list of strings"));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"role_scopes", json::array({1})}}), "role_scopes: must be a list"));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"sharing", "yes"}}), "sharing: must be true or false"));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"server_env", json{{"A", 1}}}}), "server_env.A: must be a string"));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"on_empty", "delete"}}), "on_empty: must be \"keep\" or \"remove\""));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"on_error", "x"}}), "on_error:"));
  CHECK(contains(error_of(json{{"collaborations", json{{"a", "alice"}}}}), "collaborations.a: must be a list of strings"));
  CHECK(contains(error_of(json::array()), "not a table"));
}

TEST_CASE("bad patterns, templates and combinations are refused", "[rtc][config]") {
  CHECK(contains(error_of(json{{"group_pattern", "team"}}), "group_pattern: must contain {name}"));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"user_pattern", "{name}"}}), "user_pattern: needs text around"));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"group_pattern", "x-{name}"}}), "not both"));
  CHECK(contains(error_of(json{{"group_pattern", "collab-{name}"}}), "group_pattern: must differ from user_pattern"));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"role_scopes", {"access:servers!user={usr}"}}}),
                 "role_scopes: 'access:servers!user={usr}' has {usr}"));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"role_scopes", json::array()}}), "role_scopes: must not be empty"));
  CHECK(contains(error_of(json{{"sharing", true}, {"sharing_scopes", {"x!user={name}"}}}), "sharing_scopes:"));
  CHECK(contains(error_of(json::object()), "nothing to do"));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"marker_group", "collab-x"}}), "marker_group:"));
  CHECK(contains(error_of(json{{"group_prefix", "t-"}, {"self_role", "X"}}), "self_role: 'X'"));
  CHECK(contains(error_of(json{{"sharing", true}, {"sharing_role_pattern", "9-{user}"}}), "sharing_role_pattern:"));
}

TEST_CASE("a static collaboration with a bad name or member fails at start-up", "[rtc][config]") {
  CHECK(contains(error_of(json{{"collaborations", json{{"Team A", {"alice"}}}}}),
                 "collaborations.Team A: collaborative user 'collab-Team A':"));
  CHECK(contains(error_of(json{{"collaborations", json{{"a", {"Alice"}}}}}), "collaborations.a: member 'Alice':"));
  CHECK(contains(error_of(json{{"collaborations", json{{"a", {"collab-b"}}}}}), "has the shape of user_pattern"));
  CHECK(contains(error_of(json{{"collaborations", json{{"a@b", {"alice"}}}}}), "role 'collab-a@b'"));
}
