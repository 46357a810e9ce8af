#include "plan.hpp"

#include <catch2/catch.hpp>

using namespace hubd::plugins::rtc;
using nlohmann::json;

namespace {

rtc_config config(json table = json{{"group_prefix", "team-"}}) {
  std::string error;
  auto c = parse_config(table, error);
  INFO(error);
  REQUIRE(c);
  return *c;
}

std::vector<std::string> calls_of(const unit_plan& p) {
  std::vector<std::string> out;
  for (const auto& c : p.calls) out.push_back(c.method + " " + c.path + (c.body.is_null() ? "" : " " + c.body.dump()));
  return out;
}

// Views of existing objects (a default-constructed view is "does not exist").
user_view user(std::set<std::string> groups = {}, std::set<std::string> roles = {}) {
  user_view v;
  v.exists = true;
  v.groups = std::move(groups);
  v.roles = std::move(roles);
  return v;
}
group_view group(std::set<std::string> users = {}) {
  group_view v;
  v.exists = true;
  v.users = std::move(users);
  return v;
}
role_view role(std::vector<std::string> scopes = {}, std::string description = {}, std::set<std::string> users = {},
               std::set<std::string> groups = {}) {
  role_view v;
  v.exists = true;
  v.scopes = std::move(scopes);
  v.description = std::move(description);
  v.users = std::move(users);
  v.groups = std::move(groups);
  v.source = "api";
  return v;
}

// The hub's state once a collaboration `a` with member alice is complete, as the API would show it.
collaboration_view complete_a() {
  collaboration_view v;
  v.user = user({"collaborative"}, {"rtc-self", "user"});
  v.group = group({"alice"});
  v.role = role({"access:servers!user=collab-a", "admin:servers!user=collab-a", "read:users!user=collab-a"},
                "Members of the collaboration a use the server of collab-a", {}, {"collab-a"});
  return v;
}

}  // namespace

TEST_CASE("API answers parse into views", "[rtc][plan]") {
  std::string error;
  auto u = parse_user(200, json{{"name", "alice"}, {"groups", {"g1", "g2"}}, {"roles", {"user"}}}, error);
  REQUIRE(u);
  CHECK(u->exists);
  CHECK(u->groups == std::set<std::string>{"g1", "g2"});
  CHECK(u->roles == std::set<std::string>{"user"});
  auto missing = parse_user(404, json{{"status", 404}, {"message", "Not Found"}}, error);
  REQUIRE(missing);
  CHECK_FALSE(missing->exists);
  CHECK_FALSE(parse_user(403, json{{"status", 403}, {"message", "Action is not authorized"}}, error));
  CHECK(error == "HTTP 403: Action is not authorized");
  CHECK_FALSE(parse_group(200, json("text"), error));
  auto r = parse_role(200, json::parse(R"({"kind":"role","name":"r","description":"d","scopes":["b","a"],
      "users":["u"],"groups":["g"],"services":[],"source":"plugin:rtc_collab"})"),
                      error);
  REQUIRE(r);
  CHECK(r->scopes == std::vector<std::string>{"a", "b"});
  CHECK(r->source == "plugin:rtc_collab");
  CHECK(r->groups == std::set<std::string>{"g"});
}

TEST_CASE("collaborations come from matching groups and the static table", "[rtc][plan]") {
  auto c = config(json{{"group_prefix", "team-"}, {"collaborations", json{{"proj", {"alice", "carol"}}}}});
  auto auth = json{{"name", "alice"}, {"groups", {"team-a", "staff", "team-b", "team-a"}}};
  CHECK(collaborations_of(c, auth) == std::vector<std::string>{"a", "b", "proj"});
  CHECK(collaborations_of(c, json{{"name", "bob"}, {"groups", {"staff"}}}).empty());
  CHECK(collaborations_of(c, json{{"name", "carol"}}) == std::vector<std::string>{"proj"});
  CHECK(collaborations_of(c, json{{"name", "bob"}, {"groups", nullptr}}).empty());
}

TEST_CASE("names of a collaboration, and bad ones", "[rtc][plan]") {
  auto c = config();
  auto n = names_of(c, "a");
  CHECK(n.user == "collab-a");
  CHECK(n.group == "collab-a");
  CHECK(n.role == "collab-a");
  CHECK_FALSE(n.problem);
  CHECK(names_of(c, "Big Team").problem->find("'collab-Big Team' is not a valid user name") == 0);
  CHECK(names_of(c, "a@b").problem->find("is not a valid role name") != std::string::npos);
  CHECK(names_of(c, "a-").problem);  // the role would end with '-'
  CHECK(role_scopes_of(c, n) ==
        std::vector<std::string>{"access:servers!user=collab-a", "admin:servers!user=collab-a", "read:users!user=collab-a"});
}

TEST_CASE("collaborative users cannot log in", "[rtc][plan]") {
  auto c = config();
  CHECK(login_refusal(c, "collab-a", user_view{})->find("has the shape of a collaborative user") != std::string::npos);
  CHECK(login_refusal(c, "rtcbot", user({"collaborative"}))->find("in group collaborative") !=
        std::string::npos);
  CHECK_FALSE(login_refusal(c, "alice", user({"team-a"}, {"user"})));
  // Sharing only: there are no collaborative users, so no name shape is refused.
  CHECK_FALSE(login_refusal(config(json{{"sharing", true}}), "collab-a", user_view{}));
}

TEST_CASE("a first login makes the user's part", "[rtc][plan]") {
  auto c = config();
  auto p = plan_user(c, "alice", user_view{}, group_view{}, role_view{}, true);
  CHECK_FALSE(p.error);
  CHECK(calls_of(p) == std::vector<std::string>{
                           "POST /groups/collaborative",
                           R"(POST /roles {"description":"Explicit self for users of RTC collaborations","name":"rtc-self","scopes":["self"]})",
                           "POST /users/alice",
                           R"(DELETE /roles/user/users {"users":["alice"]})",
                           R"(POST /roles/rtc-self/users {"users":["alice"]})"});
  // Creates are allowed to lose a race.
  CHECK(p.calls[0].done_if == std::vector<int>{409});
  CHECK(p.calls[2].done_if == std::vector<int>{409});
  CHECK(p.calls[3].only_after_create);  // only for a user this login created
  CHECK(p.calls[4].done_if.empty());
  CHECK_FALSE(p.calls[4].only_after_create);
  // Nothing to do for a user in no collaboration, and nothing once done.
  CHECK(plan_user(c, "bob", user_view{}, group_view{}, role_view{}, false).calls.empty());
  CHECK(plan_user(c, "alice", user({}, {"rtc-self"}), group(), role(), true).calls.empty());
  // self_role = "" turns the explicit grants off.
  auto no_self = config(json{{"group_prefix", "team-"}, {"self_role", ""}});
  CHECK(calls_of(plan_user(no_self, "alice", user(), group(), role_view{}, true)).empty());
}

TEST_CASE("joining a new collaboration makes all of it", "[rtc][plan]") {
  auto c = config();
  auto p = plan_join(c, "alice", "a", collaboration_view{});
  CHECK_FALSE(p.error);
  CHECK(p.unit == "collaboration a");
  CHECK(calls_of(p) ==
        std::vector<std::string>{
            "POST /users/collab-a",
            R"(POST /groups/collaborative/users {"users":["collab-a"]})",
            R"(POST /roles/rtc-self/users {"users":["collab-a"]})",
            "POST /groups/collab-a",
            R"(POST /groups/collab-a/users {"users":["alice"]})",
            R"(POST /roles {"description":"Members of the collaboration a use the server of collab-a","name":"collab-a","scopes":["access:servers!user=collab-a","admin:servers!user=collab-a","read:users!user=collab-a"]})",
            R"(POST /roles/collab-a/groups {"groups":["collab-a"]})"});
}

TEST_CASE("joining an existing collaboration only adds the member; a complete one plans nothing", "[rtc][plan]") {
  auto c = config();
  auto v = complete_a();
  CHECK(plan_join(c, "alice", "a", v).calls.empty());
  CHECK(calls_of(plan_join(c, "bob", "a", v)) ==
        std::vector<std::string>{R"(POST /groups/collab-a/users {"users":["bob"]})"});
}

TEST_CASE("a changed role_scopes config updates the plugin's role, not a config role", "[rtc][plan]") {
  auto c = config(json{{"group_prefix", "team-"}, {"role_scopes", {"access:servers!user={user}"}}});
  auto v = complete_a();
  v.role.description = "Members of the collaboration a use the server of collab-a";
  auto p = plan_join(c, "alice", "a", v);
  REQUIRE(p.calls.size() == 1);
  CHECK(p.calls[0].method == "PATCH");
  CHECK(p.calls[0].path == "/roles/collab-a");
  CHECK(p.calls[0].body["scopes"] == json{"access:servers!user=collab-a"});
  v.role.source = "config";
  CHECK(plan_join(c, "alice", "a", v).calls.empty());
}

TEST_CASE("a collaboration that would take over a real user is refused whole", "[rtc][plan]") {
  auto c = config();
  collaboration_view v;
  v.user = user({"staff"}, {"user"});  // a real collab-a, not in the marker group
  auto p = plan_join(c, "alice", "a", v);
  REQUIRE(p.error);
  CHECK(p.error->find("user 'collab-a' exists and is not collaborative") == 0);
  CHECK(p.calls.empty());
}

TEST_CASE("a collaboration with an invalid name is refused whole", "[rtc][plan]") {
  auto p = plan_join(config(), "alice", "Big Team", collaboration_view{});
  REQUIRE(p.error);
  CHECK(p.calls.empty());
}

TEST_CASE("leaving: the member goes; an emptied collaboration stays or goes as configured", "[rtc][plan]") {
  auto keep = config();
  auto remove = config(json{{"group_prefix", "team-"}, {"on_empty", "remove"}});
  auto v = complete_a();
  auto me = user({"collab-a", "collaborative", "team-b", "collab-b"});
  CHECK(left_collaborations(keep, me, {"b"}, json{{"name", "alice"}, {"groups", {"team-b"}}}) ==
        std::vector<std::string>{"a"});
  // No groups from the identity source (missing or null): group collaborations are not left ...
  CHECK(left_collaborations(keep, me, {}, json{{"name", "alice"}}).empty());
  CHECK(left_collaborations(keep, me, {}, json{{"name", "alice"}, {"groups", nullptr}}).empty());
  // ... but a static collaboration that no longer lists the user is.
  auto both = config(json{{"group_prefix", "team-"}, {"collaborations", json{{"a", {"bob"}}}}});
  CHECK(left_collaborations(both, me, {}, json{{"name", "alice"}}) == std::vector<std::string>{"a"});

  CHECK(calls_of(plan_leave(keep, "alice", "a", v)) ==
        std::vector<std::string>{R"(DELETE /groups/collab-a/users {"users":["alice"]})"});
  CHECK(calls_of(plan_leave(remove, "alice", "a", v)) ==
        std::vector<std::string>{R"(DELETE /groups/collab-a/users {"users":["alice"]})", "DELETE /roles/collab-a",
                                 "DELETE /groups/collab-a", "DELETE /users/collab-a"});
  v.group.users.insert("bob");
  CHECK(calls_of(plan_leave(remove, "alice", "a", v)) ==
        std::vector<std::string>{R"(DELETE /groups/collab-a/users {"users":["alice"]})"});
  // A group of the collaborative shape that the plugin did not make (no collaborative user) is left alone.
  collaboration_view foreign;
  foreign.group = group({"alice"});
  foreign.user = user();
  CHECK(plan_leave(remove, "alice", "a", foreign).calls.empty());
  CHECK(plan_leave(remove, "alice", "a", collaboration_view{}).calls.empty());
}

TEST_CASE("sharing mode: a group, its role and the owner's role", "[rtc][plan]") {
  auto c = config(json{{"sharing", true}});
  auto p = plan_sharing(c, "alice", user({}, {"user"}), group_view{}, role_view{}, role_view{});
  CHECK_FALSE(p.error);
  CHECK(calls_of(p) ==
        std::vector<std::string>{
            "POST /groups/server_sharing_alice",
            R"(POST /roles {"description":"Members of server_sharing_alice may use the servers of alice","name":"server_sharing_alice","scopes":["access:servers!user=alice"]})",
            R"(POST /roles/server_sharing_alice/groups {"groups":["server_sharing_alice"]})",
            R"(POST /roles {"description":"alice chooses the members of server_sharing_alice","name":"server_sharing_alice_owner","scopes":["groups!group=server_sharing_alice"]})",
            R"(POST /roles/server_sharing_alice_owner/users {"users":["alice"]})"});
  auto r = role({"access:servers!user=alice"}, "Members of server_sharing_alice may use the servers of alice", {},
                {"server_sharing_alice"});
  auto o = role({"groups!group=server_sharing_alice"}, "alice chooses the members of server_sharing_alice", {"alice"});
  CHECK(plan_sharing(c, "alice", user({}, {"server_sharing_alice_owner"}), group({"bob"}), r, o)
            .calls.empty());
  CHECK(plan_sharing(c, "a@b", user(), group_view{}, role_view{}, role_view{}).error);
}

TEST_CASE("pre_spawn: collaborative servers get the settings, others nothing", "[rtc][plan]") {
  auto c = config(json{{"group_prefix", "team-"}, {"server_args", {"--LabApp.collaborative=True"}},
                       {"server_env", json{{"JUPYTER_RTC", "1"}}}});
  CHECK(spawn_patch(c, json{{"args", {"--debug"}}}, false) == json::object());
  auto patch = spawn_patch(c, json{{"args", {"--debug", "--LabApp.collaborative=True"}}}, true);
  CHECK(patch["args"] == json{"--debug", "--LabApp.collaborative=True"});
  CHECK(patch["env"] == json{{"JUPYTER_RTC", "1"}});
  CHECK(spawn_patch(c, json::object(), true)["args"] == json{"--LabApp.collaborative=True"});
}
