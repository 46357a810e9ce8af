#include "config.hpp"

#include <set>

namespace hubd::plugins::rtc {
namespace {

using nlohmann::json;

const std::vector<std::string> known_keys = {
    "group_pattern", "group_prefix", "collaborations", "user_pattern", "role_pattern", "role_scopes",
    "role_description", "marker_group", "self_role", "on_empty", "server_args", "server_env", "sharing",
    "sharing_group_pattern", "sharing_role_pattern", "sharing_scopes", "sharing_owner_role_pattern",
    "sharing_owner_scopes", "on_error"};

struct bad_key {
  std::string key, message;
};

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string as_string(const json& v, const std::string& key) {
  if (!v.is_string()) throw bad_key{key, "must be a string"};
  return v.get<std::string>();
}

std::vector<std::string> as_strings(const json& v, const std::string& key) {
  if (!v.is_array()) throw bad_key{key, "must be a list of strings"};
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!x.is_string()) throw bad_key{key, "must be a list of strings"};
    out.push_back(x.get<std::string>());
  }
  return out;
}

name_pattern as_pattern(const json& v, const std::string& key, std::string_view placeholder) {
  std::string error;
  auto p = name_pattern::parse(as_string(v, key), placeholder, error);
  if (!p) throw bad_key{key, error};
  return *p;
}

void check_templates(const std::vector<std::string>& texts, const std::string& key,
                     const std::vector<std::string>& allowed) {
  for (const auto& t : texts)
    if (auto bad = unknown_placeholder(t, allowed))
      throw bad_key{key, "'" + t + "' has " + *bad + " (placeholders: {" + joined(allowed) + "})"};
}

}  // namespace

rtc_config default_config() {
  rtc_config c;
  std::string ignored;
  c.user_pattern = *name_pattern::parse("collab-{name}", "name", ignored);
  c.role_pattern = *name_pattern::parse("collab-{name}", "name", ignored);
  c.role_scopes = {"access:servers!user={user}", "admin:servers!user={user}", "read:users!user={user}"};
  c.role_description = "Members of the collaboration {name} use the server of {user}";
  // JupyterLab 3.x needs the flag; JupyterLab 4 turns collaboration on when jupyter-collaboration is
  // installed and only warns about the unknown option (docs/rtc.md).
  c.server_args = {"--LabApp.collaborative=True"};
  c.sharing_group_pattern = *name_pattern::parse("server_sharing_{user}", "user", ignored);
  c.sharing_role_pattern = *name_pattern::parse("server_sharing_{user}", "user", ignored);
  c.sharing_scopes = {"access:servers!user={user}"};
  c.sharing_owner_role_pattern = *name_pattern::parse("server_sharing_{user}_owner", "user", ignored);
  c.sharing_owner_scopes = {"groups!group={group}"};
  return c;
}

std::optional<rtc_config> parse_config(const json& table, std::string& error) {
  const std::string where = std::string("[plugins.") + plugin_name + "] ";
  if (!table.is_object()) {
    error = where + "the config is not a table";
    return std::nullopt;
  }
  rtc_config c = default_config();
  try {
    bool have_prefix = false, have_pattern = false;
    for (const auto& [key, v] : table.items()) {
      if (key == "group_pattern") {
        c.group_pattern = as_pattern(v, key, "name");
        have_pattern = true;
      } else if (key == "group_prefix") {
        std::string prefix = as_string(v, key);
        if (prefix.empty() || prefix.find_first_of("{}") != std::string::npos)
          throw bad_key{key, "must be a non-empty string without braces"};
        std::string ignored;
        c.group_pattern = name_pattern::parse(prefix + "{name}", "name", ignored);
        have_prefix = true;
      } else if (key == "collaborations") {
        if (!v.is_object()) throw bad_key{key, "must be a table of collaboration = [user names]"};
        for (const auto& [name, members] : v.items()) {
          auto list = as_strings(members, key + "." + name);
          for (const auto& m : list)
            if (auto bad = username_problem(m)) throw bad_key{key + "." + name, "member '" + m + "': " + *bad};
          c.collaborations[name] = std::move(list);
        }
      } else if (key == "user_pattern") {
        c.user_pattern = as_pattern(v, key, "name");
      } else if (key == "role_pattern") {
        c.role_pattern = as_pattern(v, key, "name");
      } else if (key == "role_scopes") {
        c.role_scopes = as_strings(v, key);
        if (c.role_scopes.empty()) throw bad_key{key, "must not be empty: the role is what gives members access"};
      } else if (key == "role_description") {
        c.role_description = as_string(v, key);
      } else if (key == "marker_group") {
        c.marker_group = as_string(v, key);
        if (auto bad = group_name_problem(c.marker_group)) throw bad_key{key, "'" + c.marker_group + "': " + *bad};
      } else if (key == "self_role") {
        c.self_role = as_string(v, key);
        if (!c.self_role.empty())
          if (auto bad = role_name_problem(c.self_role)) throw bad_key{key, "'" + c.self_role + "': " + *bad};
      } else if (key == "on_empty") {
        auto s = as_string(v, key);
        if (s == "keep") c.on_empty = on_empty_policy::keep;
        else if (s == "remove") c.on_empty = on_empty_policy::remove;
        else throw bad_key{key, "must be \"keep\" or \"remove\", not \"" + s + "\""};
      } else if (key == "server_args") {
        c.server_args = as_strings(v, key);
      } else if (key == "server_env") {
        if (!v.is_object()) throw bad_key{key, "must be a table of NAME = \"value\""};
        c.server_env.clear();
        for (const auto& [name, value] : v.items()) {
          if (!value.is_string()) throw bad_key{key + "." + name, "must be a string"};
          c.server_env[name] = value.get<std::string>();
        }
      } else if (key == "sharing") {
        if (!v.is_boolean()) throw bad_key{key, "must be true or false"};
        c.sharing = v.get<bool>();
      } else if (key == "sharing_group_pattern") {
        c.sharing_group_pattern = as_pattern(v, key, "user");
      } else if (key == "sharing_role_pattern") {
        c.sharing_role_pattern = as_pattern(v, key, "user");
      } else if (key == "sharing_scopes") {
        c.sharing_scopes = as_strings(v, key);
        if (c.sharing_scopes.empty()) throw bad_key{key, "must not be empty"};
      } else if (key == "sharing_owner_role_pattern") {
        c.sharing_owner_role_pattern = as_pattern(v, key, "user");
      } else if (key == "sharing_owner_scopes") {
        c.sharing_owner_scopes = as_strings(v, key);
      } else if (key == "on_error") {
        auto s = as_string(v, key);
        if (s == "log") c.on_error = on_error_policy::log;
        else if (s == "deny") c.on_error = on_error_policy::deny;
        else throw bad_key{key, "must be \"log\" or \"deny\", not \"" + s + "\""};
      } else {
        throw bad_key{key, "unknown key (known: " + joined(known_keys) + "; hubd's own: timeout, roles, enabled)"};
      }
    }
    if (have_prefix && have_pattern) throw bad_key{"group_prefix", "set group_prefix or group_pattern, not both"};

    // Checks across keys.
    check_templates(c.role_scopes, "role_scopes", {"user", "name", "group"});
    check_templates({c.role_description}, "role_description", {"user", "name", "group"});
    check_templates(c.sharing_scopes, "sharing_scopes", {"user", "group"});
    check_templates(c.sharing_owner_scopes, "sharing_owner_scopes", {"user", "group"});
    // Logins whose name has the collaborative shape are refused, so the shape must not be every name.
    if (!c.user_pattern.has_fixed_part())
      throw bad_key{"user_pattern", "needs text around {name}, or every user would count as collaborative"};
    if (c.group_pattern && c.group_pattern->text() == c.user_pattern.text())
      throw bad_key{"group_pattern", "must differ from user_pattern: the collaboration's own group has the "
                                     "collaborative user's name and is not an identity-provider group"};
    if (c.user_pattern.match(c.marker_group))
      throw bad_key{"marker_group", "'" + c.marker_group + "' has the shape of user_pattern"};
    if (!c.collaborations_enabled() && !c.sharing)
      throw bad_key{"group_pattern", "nothing to do: set group_pattern (or group_prefix), collaborations, or "
                                     "sharing = true"};
    for (const auto& [name, members] : c.collaborations) {
      const std::string key = "collaborations." + name;
      auto user = c.user_pattern.expand(name);
      if (auto bad = username_problem(user)) throw bad_key{key, "collaborative user '" + user + "': " + *bad};
      auto role = c.role_pattern.expand(name);
      if (auto bad = role_name_problem(role)) throw bad_key{key, "role '" + role + "': " + *bad};
      for (const auto& m : members)
        if (c.user_pattern.match(m)) throw bad_key{key, "member '" + m + "' has the shape of user_pattern"};
    }
    if (c.sharing) {
      for (auto [key, pattern] : {std::pair{"sharing_role_pattern", &c.sharing_role_pattern},
                                  std::pair{"sharing_owner_role_pattern", &c.sharing_owner_role_pattern}}) {
        auto role = pattern->expand("user");
        if (auto bad = role_name_problem(role))
          throw bad_key{key, "'" + pattern->text() + "' gives '" + role + "': " + *bad};
      }
      if (c.sharing_role_pattern.text() == c.sharing_owner_role_pattern.text())
        throw bad_key{"sharing_owner_role_pattern", "must differ from sharing_role_pattern"};
    }
  } catch (const bad_key& b) {
    error = where + b.key + ": " + b.message;
    return std::nullopt;
  }
  return c;
}

}  // namespace hubd::plugins::rtc
