#include "settings.hpp"

#include <catch2/catch.hpp>

using nlohmann::json;
using hubd_pam::settings;

namespace {

std::string error_of(const json& table) {
  auto r = hubd_pam::parse_settings(table);
  auto* e = std::get_if<std::string>(&r);
  return e ? *e : std::string();
}

settings parsed(const json& table) {
  auto r = hubd_pam::parse_settings(table);
  INFO(error_of(table));
  REQUIRE(std::holds_alternative<settings>(r));
  return std::get<settings>(r);
}

}  // namespace

TEST_CASE("pam settings: JupyterHub's defaults") {
  auto s = parsed(json::object());
  CHECK(s.service == "login");
  CHECK_FALSE(s.open_sessions);
  CHECK(s.check_account);
  CHECK_FALSE(s.pam_normalize_username);
  CHECK(s.admin_groups.empty());
  CHECK(s.allowed_groups.empty());
  CHECK(s.executor_threads == 4);
}

TEST_CASE("pam settings: every key is read") {
  auto s = parsed(json{{"service", "jupyterhub"}, {"open_sessions", true}, {"check_account", false},
                       {"pam_normalize_username", true}, {"admin_groups", {"wheel", "adm", "wheel"}},
                       {"allowed_groups", {"jupyter"}}, {"executor_threads", 1}, {"encoding", "UTF-8"}});
  CHECK(s.service == "jupyterhub");
  CHECK(s.open_sessions);
  CHECK_FALSE(s.check_account);
  CHECK(s.pam_normalize_username);
  CHECK(s.admin_groups == std::vector<std::string>{"adm", "wheel"});  // a set, as JupyterHub's
  CHECK(s.allowed_groups == std::vector<std::string>{"jupyter"});
  CHECK(s.executor_threads == 1);
  CHECK(parsed(json{{"encoding", "utf8"}}).service == "login");
}

TEST_CASE("pam settings: bad values are refused naming the key") {
  CHECK(error_of(json{{"service", "../shadow"}}) ==
        "[plugins.pam] service: must be a PAM service name (a file in /etc/pam.d, no '/')");
  CHECK(error_of(json{{"service", ""}}).find("[plugins.pam] service:") == 0);
  CHECK(error_of(json{{"service", ".."}}).find("[plugins.pam] service:") == 0);
  CHECK(error_of(json{{"service", std::string("lo\0gin", 6)}}).find("[plugins.pam] service:") == 0);
  CHECK(error_of(json{{"open_sessions", "yes"}}) == "[plugins.pam] open_sessions: must be true or false");
  CHECK(error_of(json{{"check_account", 1}}) == "[plugins.pam] check_account: must be true or false");
  CHECK(error_of(json{{"admin_groups", "wheel"}}) == "[plugins.pam] admin_groups: must be a list of Unix group names");
  CHECK(error_of(json{{"allowed_groups", {"ok", 3}}}) ==
        "[plugins.pam] allowed_groups: must be a list of Unix group names");
  CHECK(error_of(json{{"allowed_groups", {""}}}).find("[plugins.pam] allowed_groups:") == 0);
  CHECK(error_of(json{{"executor_threads", 0}}) == "[plugins.pam] executor_threads: must be an integer from 1 to 64");
  CHECK(error_of(json{{"executor_threads", 65}}).find("[plugins.pam] executor_threads:") == 0);
  CHECK(error_of(json{{"executor_threads", 2.5}}).find("[plugins.pam] executor_threads:") == 0);
  CHECK(error_of(json{{"encoding", "latin-1"}}) == "[plugins.pam] encoding: only \"utf8\" is supported (hubd hands PAM UTF-8)");
  CHECK(error_of(json::array()) == "[plugins.pam] must be a table");
}

TEST_CASE("pam settings: unknown keys, and keys that belong elsewhere, are refused with what to do") {
  CHECK(error_of(json{{"servise", "login"}}).find("[plugins.pam] unknown config key 'servise' (known: service,") == 0);
  CHECK(error_of(json{{"allowed_users", {"alice"}}}) ==
        "[plugins.pam] allowed_users: belongs to hubd's [Authenticator] table, where it applies to every authenticator");
  CHECK(error_of(json{{"group_whitelist", {"a"}}}) == "[plugins.pam] group_whitelist: JupyterHub's deprecated name: use allowed_groups");
  for (const char* k : {"create_system_users", "add_user_cmd", "uids"})
    CHECK(error_of(json{{k, true}}).find(std::string("[plugins.pam] ") + k + ": hubd does not create system users") == 0);
}
