#pragma once
// The [plugins.pam] table: PAMAuthenticator's (and LocalAuthenticator's) trait names, checked once at
// create. Anything hubd cannot honour is refused naming the key, never silently ignored.
#include <nlohmann/json.hpp>

#include <string>
#include <variant>
#include <vector>

namespace hubd_pam {

struct settings {
  std::string service = "login";   // the PAM service: a file in /etc/pam.d
  bool open_sessions = false;      // pam_open_session at spawn, pam_close_session at stop
  bool check_account = true;       // pam_acct_mgmt after a good password
  bool pam_normalize_username = false;  // round-trip the name through the user database
  std::vector<std::string> admin_groups;    // Unix groups whose members are admins (authoritative)
  std::vector<std::string> allowed_groups;  // Unix groups whose members may log in
  int executor_threads = 4;        // PAM transactions at once (1: serialised)
};

// The settings, or the reason they are refused ("[plugins.pam] KEY: ...").
std::variant<settings, std::string> parse_settings(const nlohmann::json& table);

}  // namespace hubd_pam
