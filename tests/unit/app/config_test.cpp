#include "core/app/config.hpp"

#include <catch2/catch.hpp>

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
  CHECK(error_of("[JupyterHub]\nbase_url = \"/\"\nbind_ur = \"x\"\n") == "hub.toml:3: JupyterHub.bind_ur: unknown key");
  CHECK(error_of("[NotAThing]\nx = 1\n") == "hub.toml:1: NotAThing: unknown section");
  CHECK(error_of("[[JupyterHub.load_roles]]\nname = \"a\"\nscope = []\n") ==
        "hub.toml:3: JupyterHub.load_roles[0].scope: unknown key");
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
