#include "core/app/config.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using hubd::core::app::config_error;
using hubd::core::app::load_config_text;

namespace {
std::string error_of(std::string_view text) {
  try {
    load_config_text(text, "hub.toml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("defaults are filled in for every section") {
  auto cfg = load_config_text("", "hub.toml");
  CHECK(cfg.get("JupyterHub", "base_url") == "/");
  CHECK(cfg.get("JupyterHub", "api_page_max_limit") == 200);
  CHECK(cfg.get("Authenticator", "admin_users").empty());
  CHECK(cfg.get("Spawner", "cmd")[0] == "jupyterhub-singleuser");
  CHECK(cfg.section("plugins").empty());
}

TEST_CASE("values mirror JupyterHub's traitlets names") {
  auto cfg = load_config_text(R"(
[JupyterHub]
base_url = "/jh/"
allow_named_servers = true

[[JupyterHub.load_roles]]
name = "reader"
scopes = ["read:users"]
users = ["alice"]

[JupyterHub.custom_scopes."custom:grades:read"]
description = "read grades"

[Authenticator]
admin_users = ["root"]
)", "hub.toml");
  CHECK(cfg.get("JupyterHub", "base_url") == "/jh/");
  CHECK(cfg.get("JupyterHub", "allow_named_servers") == true);
  REQUIRE(cfg.get("JupyterHub", "load_roles").size() == 1);
  CHECK(cfg.get("JupyterHub", "load_roles")[0]["scopes"][0] == "read:users");
  CHECK(cfg.get("JupyterHub", "custom_scopes")["custom:grades:read"]["description"] == "read grades");
  CHECK(cfg.get("Authenticator", "admin_users")[0] == "root");
  CHECK(cfg.where("JupyterHub.load_roles[0].scopes") == "hub.toml:8: JupyterHub.load_roles[0].scopes");
}

TEST_CASE("unknown keys and sections are errors naming the file line") {
  CHECK(error_of("[JupyterHub]\nbase_url = \"/\"\nbind_ur = \"x\"\n") ==
        "hub.toml:3: JupyterHub.bind_ur: unknown key (did you mean bind_url?)");
  CHECK(error_of("[JupyterHub]\nzzzzzz = 1\n") == "hub.toml:2: JupyterHub.zzzzzz: unknown key");
  CHECK(error_of("[JupyterHub]\nport = 8000\n") ==
        "hub.toml:2: JupyterHub.port: unknown key (JupyterHub's ip and port are bind_url = \"http://IP:PORT\" in hubd)");
  CHECK(error_of("[JupyterHub]\nhub_ip = \"0.0.0.0\"\n").find("hub_bind_url") != std::string::npos);
  CHECK(error_of("[NotAThing]\nx = 1\n") == "hub.toml:1: NotAThing: unknown section");
  CHECK(error_of("[Authenticatr]\nx = 1\n") == "hub.toml:1: Authenticatr: unknown section (did you mean Authenticator?)");
  CHECK(error_of("[[JupyterHub.load_roles]]\nname = \"a\"\nscope = []\n") ==
        "hub.toml:3: JupyterHub.load_roles[0].scope: unknown key (did you mean scopes?)");
}

TEST_CASE("wrong types are errors naming the expected type") {
  CHECK(error_of("[JupyterHub]\nallow_named_servers = \"yes\"\n") ==
        "hub.toml:2: JupyterHub.allow_named_servers: must be true or false");
  CHECK(error_of("[Authenticator]\nadmin_users = [\"a\", 1]\n") ==
        "hub.toml:2: Authenticator.admin_users: must be a list of strings");
  CHECK(error_of("[Spawner]\nenvironment = { A = 1 }\n") == "hub.toml:2: Spawner.environment.A: must be a string");
  CHECK(error_of("[JupyterHub]\napi_page_max_limit = 1.5\n") ==
        "hub.toml:2: JupyterHub.api_page_max_limit: must be an integer");
}

TEST_CASE("TOML syntax errors name the line") {
  auto msg = error_of("[JupyterHub]\nbase_url = \n");
  CHECK(msg.rfind("hub.toml:2: ", 0) == 0);
}

TEST_CASE("plugin tables keep their own keys and get the host's defaults") {
  auto cfg = load_config_text("[plugins.rtc_collab]\nprefix = \"collab-\"\ntimeout = 5\n", "hub.toml");
  const auto& p = cfg.section("plugins")["rtc_collab"];
  CHECK(p["prefix"] == "collab-");
  CHECK(p["timeout"] == 5);
  CHECK(p["roles"].empty());
  CHECK(error_of("[plugins.x]\ntimeout = \"slow\"\n") == "hub.toml:2: plugins.x.timeout: must be a number");
  CHECK(error_of("[plugins]\nx = 1\n") == "hub.toml:2: plugins.x: must be a table");
}

TEST_CASE("the generated default config loads back unchanged") {
  auto text = hubd::core::app::generate_default_config();
  auto cfg = load_config_text(text, "generated.toml");
  CHECK(cfg.values == load_config_text("", "empty.toml").values);
}

TEST_CASE("keys whose feature hubd lacks are refused naming key and line") {
  CHECK(error_of("[JupyterHub]\nauthenticate_prometheus = false\n") ==
        "hub.toml:2: JupyterHub.authenticate_prometheus: not supported yet by hubd");
  auto text = hubd::core::app::generate_default_config();
  CHECK(text.find("# authenticate_prometheus: not supported yet by hubd") != std::string::npos);
  CHECK(text.find("authenticate_prometheus = ") == std::string::npos);
}

TEST_CASE("the refresh keys take JupyterHub's defaults and refuse a negative age naming key and line") {
  auto cfg = load_config_text("", "hub.toml");
  CHECK(cfg.get("Authenticator", "auth_refresh_age") == 300);
  CHECK(cfg.get("Authenticator", "refresh_pre_spawn") == false);
  CHECK(cfg.get("Authenticator", "refresh_pre_stop") == false);
  CHECK(error_of("[Authenticator]\n\nauth_refresh_age = -5\n") ==
        "hub.toml:3: Authenticator.auth_refresh_age: must be 0 (never refresh by age) or a number of seconds");
  CHECK(error_of("[Authenticator]\nrefresh_pre_stop = \"yes\"\n") ==
        "hub.toml:2: Authenticator.refresh_pre_stop: must be true or false");
  CHECK(load_config_text("[Authenticator]\nauth_refresh_age = 0\n", "hub.toml").get("Authenticator", "auth_refresh_age") == 0);
}

TEST_CASE("JupyterHub class names become hubd plugin names, or are refused naming the hubd equivalent") {
  auto cfg = load_config_text(
      "[JupyterHub]\nauthenticator_class = \"jupyterhub.auth.DummyAuthenticator\"\nspawner_class = \"localprocess\"\n",
      "hub.toml");
  CHECK(cfg.get("JupyterHub", "authenticator_class") == "dummy");
  CHECK(cfg.get("JupyterHub", "spawner_class") == "local");
  CHECK(load_config_text("[JupyterHub]\nspawner_class = \"jupyterhub.spawner.LocalProcessSpawner\"\n")
            .get("JupyterHub", "spawner_class") == "local");
  auto simple = error_of("[JupyterHub]\nspawner_class = \"simple\"\n");
  CHECK(simple.rfind("hub.toml:2: JupyterHub.spawner_class: \"simple\": ", 0) == 0);
  CHECK(simple.find("spawner_class = \"local\"") != std::string::npos);
  CHECK(error_of("[JupyterHub]\nspawner_class = \"dockerspawner.DockerSpawner\"\n").find("hubd ships \"local\"") !=
        std::string::npos);
  CHECK(error_of("[JupyterHub]\nauthenticator_class = \"oauthenticator.GitHubOAuthenticator\"\n")
            .find("looks like a Python class") != std::string::npos);
  // A name hubd does not know may be a plugin's: the plugin registry decides.
  CHECK(load_config_text("[JupyterHub]\nspawner_class = \"docker\"\n").get("JupyterHub", "spawner_class") == "docker");
}

TEST_CASE("username_pattern is a regular expression checked at load") {
  CHECK(error_of("[Authenticator]\nusername_pattern = \"[a-z\"\n")
            .rfind("hub.toml:2: Authenticator.username_pattern: not a valid regular expression", 0) == 0);
  // The pattern sees the normalised name, as a login's name.
  CHECK(error_of("[Authenticator]\nusername_pattern = \"^[a-z]+$\"\nadmin_users = [\"Bob1\"]\n") ==
        "hub.toml:3: Authenticator.admin_users: \"bob1\" does not match Authenticator.username_pattern");
  CHECK_NOTHROW(load_config_text("[Authenticator]\nusername_pattern = \"^[a-z]+$\"\nadmin_users = [\"BOB\"]\n"));
  CHECK_NOTHROW(load_config_text("[Authenticator]\nusername_pattern = \"[a-z]+\"\nallowed_users = [\"bob1\"]\n"));
}

TEST_CASE("user names in the config are composed and unusable ones refused naming key and line") {
  // Case is the authenticator's to fold at start-up (a PAM account may be Alice): the loader composes.
  auto cfg = load_config_text(
      "[JupyterHub.load_groups]\nteam = [\"CAROL\"]\nstaff = {users = [\"Zoe\u0308\"]}\n"
      "[[JupyterHub.load_roles]]\nname = \"r\"\nscopes = [\"read:users\"]\nusers = [\"RENE\u0301\"]\n"
      "[Authenticator]\nallowed_users = [\"E\u0301LISE\", \"Stra\u00dfe\"]\nadmin_users = [\"ADMIN\"]\n"
      "blocked_users = [\"MALLORY\"]\nusername_map = {\"Alice@Example.org\" = \"ALICE\", \"x\" = \"o\u0308\"}\n");
  CHECK(cfg.get("Authenticator", "allowed_users") == nlohmann::json({"\u00c9LISE", "Stra\u00dfe"}));
  CHECK(cfg.get("Authenticator", "admin_users") == nlohmann::json({"ADMIN"}));
  CHECK(cfg.get("Authenticator", "blocked_users") == nlohmann::json({"MALLORY"}));
  CHECK(cfg.get("Authenticator", "username_map") == nlohmann::json({{"Alice@Example.org", "ALICE"}, {"x", "\u00f6"}}));
  CHECK(cfg.get("JupyterHub", "load_groups")["team"] == nlohmann::json({"CAROL"}));
  CHECK(cfg.get("JupyterHub", "load_groups")["staff"]["users"] == nlohmann::json({"Zo\u00eb"}));
  CHECK(cfg.get("JupyterHub", "load_roles")[0]["users"] == nlohmann::json({"REN\u00c9"}));

  // Every name, with the key its refusal names; what the walker's function writes is kept.
  std::vector<std::string> seen;
  hubd::core::app::for_each_user_name(cfg, [&](nlohmann::json& n, const std::string& key) {
    seen.push_back(key + "=" + n.get<std::string>());
    n = "u" + std::to_string(seen.size());
  });
  CHECK(seen.size() == 11);
  CHECK(std::count(seen.begin(), seen.end(), "JupyterHub.load_roles[0].users=REN\u00c9") == 1);
  CHECK(cfg.get("Authenticator", "blocked_users") == nlohmann::json({"u4"}));
  CHECK(cfg.get("Authenticator", "username_map").size() == 2);

  CHECK(error_of("[Authenticator]\n\nallowed_users = [\"alice\", \"\u00a0bob\"]\n") ==
        "hub.toml:3: Authenticator.allowed_users: \"\u00a0bob\": username must not start or end with whitespace");
  CHECK(error_of("[Authenticator]\nadmin_users = [\"..\"]\n") ==
        "hub.toml:2: Authenticator.admin_users: \"..\": username must not be \".\" or \"..\"");
  CHECK(error_of("[Authenticator]\nblocked_users = [\"a\\u0001b\"]\n").find("Authenticator.blocked_users: \"a\\u0001b\": username must not contain control characters (U+0001)") != std::string::npos);
  CHECK(error_of("[JupyterHub.load_groups]\nteam = [\"a/b\"]\n").find("JupyterHub.load_groups") != std::string::npos);
  CHECK(error_of("[Authenticator]\nusername_map = {\"x\" = \"a\\u202eb\"}\n").find("Authenticator.username_map") != std::string::npos);
}

TEST_CASE("configured tokens: at least 16 characters unless trust_user_provided_tokens") {
  const std::string svc = "[[JupyterHub.services]]\nname = \"s\"\napi_token = \"short-token\"\n";
  CHECK(error_of(svc).rfind("hub.toml:3: JupyterHub.services[0].api_token: must be at least 16 characters", 0) == 0);
  CHECK_NOTHROW(load_config_text("[JupyterHub]\ntrust_user_provided_tokens = true\n" + svc));
  CHECK(error_of("[JupyterHub]\ntrust_user_provided_tokens = true\n[[JupyterHub.services]]\nname = \"s\"\napi_token = "
                 "\"1234567\"\n") == "hub.toml:5: JupyterHub.services[0].api_token: must be at least 8 characters");
  CHECK(error_of("[[JupyterHub.services]]\nname = \"s\"\noauth_roles = [\"admin\"]\n")
            .rfind("hub.toml:3: JupyterHub.services[0].oauth_roles: deprecated since JupyterHub 3.0", 0) == 0);
}

TEST_CASE("data_dir: relative state paths resolve against it, it against the config folder") {
  auto cfg = load_config_text("[JupyterHub]\ndata_dir = \"state\"\ndb_url = \"sqlite:///hub.sqlite\"\n"
                              "cookie_secret_file = \"secret\"\n");
  auto dir = std::filesystem::current_path() / "state";
  CHECK(cfg.data_dir() == dir);
  CHECK(cfg.get("JupyterHub", "db_url") == "sqlite:///" + (dir / "hub.sqlite").string());
  CHECK(cfg.get("JupyterHub", "cookie_secret_file") == (dir / "secret").string());
  auto abs = load_config_text("[JupyterHub]\ndata_dir = \"state\"\ndb_url = \"sqlite:////tmp/x.sqlite\"\n");
  CHECK(abs.get("JupyterHub", "db_url") == "sqlite:////tmp/x.sqlite");
  CHECK(load_config_text("").get("JupyterHub", "db_url") == "sqlite:///jupyterhub.sqlite");
}
