#include "core/spawn/spawn_settings.hpp"

#include <catch2/catch.hpp>

using namespace hubd::core::spawn;
using nlohmann::json;

TEST_CASE("hub API URL as servers reach it", "[spawn_settings]") {
  CHECK(hub_api_url_of("http://127.0.0.1:8081", "/") == "http://127.0.0.1:8081/hub/api");
  CHECK(hub_api_url_of("http://:8081", "/") == "http://127.0.0.1:8081/hub/api");
  CHECK(hub_api_url_of("http://0.0.0.0:8081", "/jh") == "http://127.0.0.1:8081/jh/hub/api");
  CHECK(hub_api_url_of("http://[::]:8081/", "/") == "http://[::1]:8081/hub/api");
  CHECK(hub_api_url_of("https://hub.internal:443/ignored/path", "/x/") == "https://hub.internal:443/x/hub/api");
  CHECK(url_origin("https://hub.example.org/base/") == "https://hub.example.org");
  CHECK(url_origin("") == "");
}

TEST_CASE("settings from the config values", "[spawn_settings]") {
  json cfg = {
      {"JupyterHub",
       {{"allow_named_servers", true},
        {"named_server_limit_per_user", 3},
        {"concurrent_spawn_limit", 7},
        {"active_server_limit", 9},
        {"spawner_class", "local"},
        {"base_url", "jh"},
        {"hub_bind_url", "http://0.0.0.0:9000"},
        {"hub_connect_url", ""},
        {"public_url", "https://hub.example.org/jh/"},
        {"slow_spawn_timeout", 2.5},
        {"cleanup_servers", false}}},
      {"Spawner",
       {{"cmd", {"python3", "-m", "jupyterhub.singleuser"}},
        {"args", {"--debug"}},
        {"environment", {{"A", "1"}, {"NOT_A_STRING", 5}}},
        {"env_keep", {"PATH"}},
        {"default_url", "/lab"},
        {"notebook_dir", "~/{username}"},
        {"start_timeout", 12},
        {"http_timeout", 0.5},
        {"poll_interval", 3},
        {"oauth_client_allowed_scopes", {"read:users:name!user"}},
        {"cpu_limit", 1.5}}},
      {"plugins", {{"local", {{"mode", "user-folder"}}}, {"other", {{"x", 1}}}}},
  };
  auto s = spawn_settings_from_config(cfg);
  CHECK(s.limits.allow_named_servers);
  CHECK(s.limits.named_server_limit_per_user == 3);
  CHECK(s.limits.concurrent_spawn_limit == 7);
  CHECK(s.limits.active_server_limit == 9);
  CHECK(s.base_url == "/jh/");
  CHECK(s.hub_api_url == "http://127.0.0.1:9000/jh/hub/api");
  CHECK(s.public_host == "https://hub.example.org");
  CHECK(s.cmd == std::vector<std::string>{"python3", "-m", "jupyterhub.singleuser"});
  CHECK(s.args == std::vector<std::string>{"--debug"});
  CHECK(s.environment == env_map{{"A", "1"}});  // only strings are environment values
  CHECK(s.env_keep == std::vector<std::string>{"PATH"});
  CHECK(s.default_url == "/lab");
  CHECK(s.notebook_dir == "~/{username}");
  CHECK(s.start_timeout == std::chrono::milliseconds(12'000));
  CHECK(s.http_timeout == std::chrono::milliseconds(500));
  CHECK(s.poll_interval == std::chrono::milliseconds(3'000));
  CHECK(s.slow_spawn_timeout == std::chrono::milliseconds(2'500));
  CHECK(s.oauth_client_allowed_scopes == std::vector<std::string>{"read:users:name!user"});
  CHECK(s.cpu_limit == 1.5);
  CHECK_FALSE(s.cleanup_servers);
  CHECK(s.spawner_section == json{{"mode", "user-folder"}});

  SECTION("hub_connect_url wins over hub_bind_url") {
    cfg["JupyterHub"]["hub_connect_url"] = "http://hub.svc:8081";
    CHECK(spawn_settings_from_config(cfg).hub_api_url == "http://hub.svc:8081/jh/hub/api");
  }
}

TEST_CASE("defaults follow JupyterHub", "[spawn_settings]") {
  auto s = spawn_settings_from_config(json::object());
  CHECK(s.cmd == std::vector<std::string>{"jupyterhub-singleuser"});
  CHECK(s.base_url == "/");
  CHECK(s.hub_api_url == "http://127.0.0.1:8081/hub/api");
  CHECK(s.limits.concurrent_spawn_limit == 100);
  CHECK(s.start_timeout == std::chrono::seconds(60));
  CHECK(s.http_timeout == std::chrono::seconds(30));
  CHECK(s.poll_interval == std::chrono::seconds(30));
  CHECK(s.slow_spawn_timeout == std::chrono::seconds(10));
  CHECK(s.cleanup_servers);
  CHECK(s.public_host.empty());
}
