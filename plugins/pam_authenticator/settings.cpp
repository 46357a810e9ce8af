#include "settings.hpp"

#include <algorithm>
#include <cctype>

namespace hubd_pam {
namespace {

using nlohmann::json;

constexpr const char* prefix = "[plugins.pam] ";
constexpr const char* known = "service, open_sessions, check_account, admin_groups, allowed_groups, "
                              "pam_normalize_username, executor_threads, encoding";

// Keys an operator brings from a JupyterHub config that belong elsewhere or that hubd does not do.
const char* advice_for(const std::string& key) {
  if (key == "allowed_users" || key == "admin_users" || key == "blocked_users" || key == "allow_all" ||
      key == "allow_existing_users" || key == "username_map" || key == "username_pattern")
    return "belongs to hubd's [Authenticator] table, where it applies to every authenticator";
  if (key == "group_whitelist") return "JupyterHub's deprecated name: use allowed_groups";
  if (key == "create_system_users" || key == "add_user_cmd" || key == "uids")
    return "hubd does not create system users: create the accounts (useradd, or your directory service) "
           "before people log in";
  if (key == "executor") return "not configurable; executor_threads bounds how many PAM transactions run at once";
  return nullptr;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool read_bool(const json& v, const std::string& key, bool& out, std::string& err) {
  if (!v.is_boolean()) {
    err = prefix + key + ": must be true or false";
    return false;
  }
  out = v.get<bool>();
  return true;
}

bool read_groups(const json& v, const std::string& key, std::vector<std::string>& out, std::string& err) {
  bool ok = v.is_array();
  for (const auto& g : ok ? v : json::array())
    ok = ok && g.is_string() && !g.get_ref<const std::string&>().empty() &&
         g.get_ref<const std::string&>().find('\0') == std::string::npos;
  if (!ok) {
    err = prefix + key + ": must be a list of Unix group names";
    return false;
  }
  out = v.get<std::vector<std::string>>();
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return true;
}

}  // namespace

std::variant<settings, std::string> parse_settings(const json& table) {
  if (!table.is_object()) return std::string(prefix) + "must be a table";
  settings s;
  std::string err;
  for (const auto& [key, v] : table.items()) {
    bool ok = true;
    if (key == "service") {
      // Linux-PAM reads /etc/pam.d/SERVICE: a path would leave that folder.
      ok = v.is_string() && !v.get_ref<const std::string&>().empty() &&
           v.get_ref<const std::string&>().find_first_of(std::string("/\0", 2)) == std::string::npos &&
           v.get_ref<const std::string&>() != "." && v.get_ref<const std::string&>() != "..";
      if (!ok) {
        err = std::string(prefix) + "service: must be a PAM service name (a file in /etc/pam.d, no '/')";
      } else {
        s.service = v.get<std::string>();
      }
    } else if (key == "open_sessions") {
      ok = read_bool(v, key, s.open_sessions, err);
    } else if (key == "check_account") {
      ok = read_bool(v, key, s.check_account, err);
    } else if (key == "pam_normalize_username") {
      ok = read_bool(v, key, s.pam_normalize_username, err);
    } else if (key == "admin_groups") {
      ok = read_groups(v, key, s.admin_groups, err);
    } else if (key == "allowed_groups") {
      ok = read_groups(v, key, s.allowed_groups, err);
    } else if (key == "executor_threads") {
      ok = v.is_number_integer() && v.get<long long>() >= 1 && v.get<long long>() <= 64;
      if (!ok) err = std::string(prefix) + "executor_threads: must be an integer from 1 to 64";
      else s.executor_threads = v.get<int>();
    } else if (key == "encoding") {
      // hubd's strings are UTF-8 end to end; another encoding would need a conversion hubd does not do.
      ok = v.is_string() && (lower(v.get<std::string>()) == "utf8" || lower(v.get<std::string>()) == "utf-8");
      if (!ok) err = std::string(prefix) + "encoding: only \"utf8\" is supported (hubd hands PAM UTF-8)";
    } else if (const char* why = advice_for(key)) {
      ok = false;
      err = std::string(prefix) + key + ": " + why;
    } else {
      ok = false;
      err = std::string(prefix) + "unknown config key '" + key + "' (known: " + known + ")";
    }
    if (!ok) return err;
  }
  return s;
}

}  // namespace hubd_pam
