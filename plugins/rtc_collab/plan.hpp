#pragma once
// What the RTC plugin does at a login, as pure functions: (config, auth model, what the hub holds now)
// in, the internal-API calls to make out. rtc_collab.cpp reads the state, calls these, runs the calls.
//
// The work is cut into units (the user's own part, one per collaboration, one for leaving a
// collaboration, one for the sharing group). A unit whose names are bad, or whose collaborative user
// would take over a real user, is refused before any call, so it leaves nothing behind; the other
// units go on. Every plan is computed from state, so running it again on the new state is empty: that
// is what makes a login idempotent, and what lets a unit re-read and re-plan after a 409 race.
#include "config.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hubd::plugins::rtc {

// ---- what the hub holds (parsed from internal-API answers) ----

struct user_view {
  bool exists = false;
  std::set<std::string> groups;
  std::set<std::string> roles;  // direct roles
};
struct group_view {
  bool exists = false;
  std::set<std::string> users;
};
struct role_view {
  bool exists = false;
  std::vector<std::string> scopes;
  std::string description;
  std::set<std::string> users, groups;
  std::string source;  // "default", "config", "authenticator", "api", "plugin:NAME"
};

// An answer to GET /users/{u}, /groups/{g} or /roles/{r}: 404 means "does not exist"; anything but 200
// or 404, or a body of the wrong shape, is an error (set error to "HTTP 403: message" or what is wrong
// with the body, return nullopt).
std::optional<user_view> parse_user(int status, const nlohmann::json& body, std::string& error);
std::optional<group_view> parse_group(int status, const nlohmann::json& body, std::string& error);
std::optional<role_view> parse_role(int status, const nlohmann::json& body, std::string& error);

// ---- what to do ----

struct api_call {
  std::string method;
  std::string path;  // relative to /hub/api, segments percent-encoded
  nlohmann::json body;  // null: no body
  // Statuses that mean "someone else already did it" (409 on a create): counted as done, and the unit
  // then re-reads and re-plans.
  std::vector<int> done_if;
  std::string what;  // for the log: "create collaborative user collab-a"
  // Run only when the call before it really made its object (not when it was done_if): a follow-up
  // that is right only for an object this call created.
  bool only_after_create = false;
  bool operator==(const api_call& o) const { return method == o.method && path == o.path && body == o.body; }
};

struct unit_plan {
  std::string unit;                  // "collaboration a", "user alice", "sharing alice"
  std::optional<std::string> error;  // refused: calls is empty
  std::vector<api_call> calls;
};

// The names a collaboration is made of, or why it cannot be made (bad names).
struct collaboration_names {
  std::string name, user, group, role;
  std::optional<std::string> problem;
};
collaboration_names names_of(const rtc_config& cfg, std::string_view collaboration);

// Collaborations the auth model puts the user in: groups matching group_pattern plus static entries
// listing the user. Sorted, without duplicates.
std::vector<std::string> collaborations_of(const rtc_config& cfg, const nlohmann::json& auth_model);

// Collaborations whose group the user is in (by name shape) that are not in `current`: candidates to
// leave. plan_leave checks they really are collaborations before touching them. When the auth model
// carries no `groups` list (missing, or null: "leave membership unchanged"), the identity
// source said nothing about groups, so only static collaborations can be left.
std::vector<std::string> left_collaborations(const rtc_config& cfg, const user_view& me,
                                             const std::vector<std::string>& current, const nlohmann::json& auth_model);

// Why this login must be refused, or nullopt: a collaborative user never logs in itself. A name of the
// collaborative shape is refused even when no such user exists yet, so nobody can claim a
// collaboration's name by logging in first.
std::optional<std::string> login_refusal(const rtc_config& cfg, std::string_view name, const user_view& me);

// The user's own part: the marker group and the self role exist, the user exists and holds the self
// role. A user the plugin creates (hubd creates it only after the post_auth hooks, but group
// membership needs it now) gives its API-sourced default `user` role back, so that the login grants it
// as the authenticator's and Authenticator.manage_roles keeps JupyterHub's semantics for it. `participates` is false when the user is in no collaboration and sharing is off (nothing to do).
unit_plan plan_user(const rtc_config& cfg, std::string_view me, const user_view& me_view, const group_view& marker,
                    const role_view& self_role, bool participates);

struct collaboration_view {
  user_view user;    // the collaborative user
  group_view group;  // the collaboration's group
  role_view role;    // the collaboration's role
};

// Joining (or keeping) a collaboration: the collaborative user (in the marker group, with the self
// role), its group with `me` in it, and its role granted to the group.
unit_plan plan_join(const rtc_config& cfg, std::string_view me, std::string_view collaboration,
                    const collaboration_view& v);

// Leaving a collaboration the identity source no longer lists: `me` leaves its group; with
// on_empty = "remove", an emptied collaboration's role, group and user are deleted.
unit_plan plan_leave(const rtc_config& cfg, std::string_view me, std::string_view collaboration,
                     const collaboration_view& v);

// The per-user sharing group, the role its members hold over the user's servers, and the owner's role
// over the group (sharing = true). me_view must show the user as existing (plan_user ran first).
unit_plan plan_sharing(const rtc_config& cfg, std::string_view me, const user_view& me_view, const group_view& group,
                       const role_view& role, const role_view& owner_role);

// pre_spawn: the patch for a server of `user` (the user model or name, as the hook input carries it).
// Collaborative users' servers get server_args appended to the spawner's args and server_env; other
// servers get {}.
nlohmann::json spawn_patch(const rtc_config& cfg, const nlohmann::json& spawner, bool collaborative);

// The role scopes and description of a collaboration, placeholders filled in.
std::vector<std::string> role_scopes_of(const rtc_config& cfg, const collaboration_names& n);

}  // namespace hubd::plugins::rtc
