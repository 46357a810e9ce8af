#pragma once
// The [plugins.rtc_collab] table (docs/rtc.md "Configuration"), parsed and checked once at create.
// Unknown keys and wrong types are refused with a message naming the key, so that a typo fails the
// start-up instead of silently turning a feature off.
#include "names.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hubd::plugins::rtc {

enum class on_empty_policy { keep, remove };
enum class on_error_policy { log, deny };

struct rtc_config {
  // Where collaborations come from: auth-model groups of this shape, and/or a static table.
  std::optional<name_pattern> group_pattern;
  std::map<std::string, std::vector<std::string>> collaborations;  // collaboration -> members

  // What a collaboration is made of. The group has the collaborative user's name.
  name_pattern user_pattern;  // "collab-{name}"
  name_pattern role_pattern;  // "collab-{name}"
  std::vector<std::string> role_scopes;  // templates over {user} {name} {group}
  std::string role_description;          // template over {user} {name} {group}
  std::string marker_group = "collaborative";
  std::string self_role = "rtc-self";  // empty: no explicit `self` grants
  on_empty_policy on_empty = on_empty_policy::keep;

  // pre_spawn for collaborative users' servers.
  std::vector<std::string> server_args;
  std::map<std::string, std::string> server_env;

  // Per-user sharing groups.
  bool sharing = false;
  name_pattern sharing_group_pattern;  // "server_sharing_{user}"
  name_pattern sharing_role_pattern;   // "server_sharing_{user}"
  std::vector<std::string> sharing_scopes;  // templates over {user} {group}; held by the group
  // The owner's own role over the group, so the owner adds and removes collaborators through the Groups API.
  name_pattern sharing_owner_role_pattern;        // "server_sharing_{user}_owner"
  std::vector<std::string> sharing_owner_scopes;  // templates over {user} {group}

  on_error_policy on_error = on_error_policy::log;

  bool collaborations_enabled() const { return group_pattern.has_value() || !collaborations.empty(); }
};

// The plugin's own name: its config table and the `source` of what it creates through the API.
inline constexpr const char* plugin_name = "rtc_collab";

// The defaults, as documented; parse_config starts from these.
rtc_config default_config();

// Parses the table hubd hands to create (its own keys timeout/roles/enabled already removed). On
// failure returns nullopt and sets error to "[plugins.rtc_collab] KEY: what is wrong".
std::optional<rtc_config> parse_config(const nlohmann::json& table, std::string& error);

}  // namespace hubd::plugins::rtc
