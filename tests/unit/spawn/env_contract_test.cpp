// The env contract, variable by variable, and the derived names.
#include "core/spawn/env_contract.hpp"

#include <catch2/catch.hpp>

using namespace hubd::core::spawn;

namespace {
env_inputs alice_gpu() {
  env_inputs in;
  in.user = "alice";
  in.server_name = "gpu";
  in.api_token = "0123456789abcdef0123456789abcdef";
  in.client_id = oauth_client_id("alice", "gpu");
  in.hub_api_url = "http://127.0.0.1:8081/hub/api";
  in.base_url = "/";
  in.ip = "127.0.0.1";
  in.port = 45678;
  in.access_scopes = env_access_scopes("alice", "gpu");
  return in;
}
}  // namespace

TEST_CASE("names derived from a user server", "[env]") {
  CHECK(server_prefix("/", "alice", "") == "/user/alice/");
  CHECK(server_prefix("/", "alice", "gpu") == "/user/alice/gpu/");
  CHECK(server_prefix("/jh/", "a b@x~y", "") == "/jh/user/a%20b@x~y/");
  CHECK(server_prefix("/jh", "u", "s") == "/jh/user/u/s/");
  CHECK(oauth_client_id("alice", "") == "jupyterhub-user-alice");
  CHECK(oauth_client_id("alice", "gpu") == "jupyterhub-user-alice-gpu");
  CHECK(oauth_client_id("a@b c", "") == "jupyterhub-user-a%40b%20c");
  CHECK(oauth_callback_url("/", "alice", "gpu") == "/user/alice/gpu/oauth_callback");
  CHECK(oauth_callback_url("/", "alice", "") == "/user/alice/oauth_callback");
  CHECK(oauth_callback_url("/", "alice@example.com", "") == "/user/alice@example.com/oauth_callback");
  CHECK(oauth_client_id("alice@example.com", "") == "jupyterhub-user-alice%40example.com");
  CHECK(access_scope("alice", "") == "access:servers!server=alice/");
  CHECK(env_access_scopes("alice", "gpu") ==
        std::vector<std::string>{"access:servers!server=alice/gpu", "access:servers!user=alice"});
  CHECK(escape_path("é/") == "%C3%A9%2F");
  CHECK(quote("a/b@") == "a/b%40");
}

TEST_CASE("server token scopes (rbac.md 10.5)", "[env]") {
  std::vector<std::string> server_role = {"users:activity!user", "access:servers!server"};
  auto r = server_token_request({}, server_role, "alice", "gpu");
  CHECK(r.scopes == std::vector<std::string>{"access:servers!server=alice/gpu", "users:activity!user"});
  CHECK_FALSE(r.added_activity);

  r = server_token_request({"read:users!user", "custom!server"}, server_role, "alice", "");
  CHECK(r.scopes == std::vector<std::string>{"custom!server=alice/", "read:users!user", "users:activity!user"});
  CHECK(r.added_activity);

  CHECK_FALSE(server_token_request({"inherit"}, server_role, "a", "").added_activity);
  CHECK_FALSE(server_token_request({"users:activity"}, server_role, "a", "").added_activity);
  // A filter that already names a server is left alone.
  CHECK(server_token_request({"access:servers!server=bob/x", "users:activity!user"}, {}, "a", "").scopes ==
        std::vector<std::string>{"access:servers!server=bob/x", "users:activity!user"});
}

TEST_CASE("format_spawner_string expands JupyterHub's fields", "[env]") {
  CHECK(format_spawner_string("/home/{username}/{servername}", "a b", "s", "/") == "/home/a%20b/s");
  CHECK(format_spawner_string("{unescaped_username}:{unescaped_servername}{base_url}", "a b", "s", "/jh/") ==
        "a b:s/jh/");
  CHECK(format_spawner_string("/lab", "a", "", "/") == "/lab");
}

TEST_CASE("python_json matches json.dumps", "[env]") {
  CHECK(python_json(nlohmann::json::array()) == "[]");
  CHECK(python_json(nlohmann::json({"a", "b"})) == "[\"a\", \"b\"]");
  CHECK(python_json(nlohmann::json{{"secure", true}, {"x", 1}}) == "{\"secure\": true, \"x\": 1}");
  CHECK(python_json(nlohmann::json("é")) == "\"\\u00e9\"");
}

TEST_CASE("build_env sets every variable of the contract", "[env]") {
  auto env = build_env(alice_gpu());
  CHECK(env.at("JUPYTERHUB_API_TOKEN") == "0123456789abcdef0123456789abcdef");
  CHECK(env.at("JPY_API_TOKEN") == env.at("JUPYTERHUB_API_TOKEN"));
  CHECK(env.at("JUPYTERHUB_API_URL") == "http://127.0.0.1:8081/hub/api");
  CHECK(env.at("JUPYTERHUB_ACTIVITY_URL") == "http://127.0.0.1:8081/hub/api/users/alice/activity");
  CHECK(env.at("JUPYTERHUB_BASE_URL") == "/");
  CHECK(env.at("JUPYTERHUB_HOST") == "");
  CHECK(env.at("JUPYTERHUB_CLIENT_ID") == "jupyterhub-user-alice-gpu");
  CHECK(env.at("JUPYTERHUB_OAUTH_CALLBACK_URL") == "/user/alice/gpu/oauth_callback");
  CHECK(env.at("JUPYTERHUB_OAUTH_ACCESS_SCOPES") ==
        "[\"access:servers!server=alice/gpu\", \"access:servers!user=alice\"]");
  CHECK(env.at("JUPYTERHUB_OAUTH_SCOPES") == env.at("JUPYTERHUB_OAUTH_ACCESS_SCOPES"));
  CHECK(env.at("JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES") == "[]");
  CHECK(env.at("JUPYTERHUB_USER") == "alice");
  CHECK(env.at("JUPYTERHUB_SERVER_NAME") == "gpu");
  CHECK(env.at("JUPYTERHUB_SERVICE_PREFIX") == "/user/alice/gpu/");
  CHECK(env.at("JUPYTERHUB_SERVICE_URL") == "http://127.0.0.1:45678/user/alice/gpu/");
  CHECK(env.at("JUPYTERHUB_PUBLIC_URL") == "");
  CHECK(env.at("JUPYTERHUB_PUBLIC_HUB_URL") == "");
  CHECK(env.at("JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED") == "0");
  // Only set when configured.
  for (const char* k : {"JUPYTERHUB_COOKIE_OPTIONS", "JUPYTERHUB_ADMIN_ACCESS", "JUPYTERHUB_ROOT_DIR",
                        "JUPYTERHUB_DEFAULT_URL", "JUPYTERHUB_DEBUG", "JUPYTERHUB_DISABLE_USER_CONFIG", "MEM_LIMIT",
                        "MEM_GUARANTEE", "CPU_LIMIT", "CPU_GUARANTEE", "JUPYTERHUB_SERVICE_NAME", "PATH"})
    CHECK(env.count(k) == 0);
}

TEST_CASE("build_env optional variables", "[env]") {
  auto in = alice_gpu();
  in.server_name = "";
  in.client_id = oauth_client_id("alice", "");
  in.cookie_options = {{"secure", true}};
  in.cookie_host_prefix_enabled = true;
  in.admin_access = true;
  in.notebook_dir = "/srv/{username}";
  in.default_url = "/lab/tree/{servername}";
  in.debug = true;
  in.disable_user_config = true;
  in.mem_limit = "1073741824";
  in.mem_guarantee = "1024";
  in.cpu_limit = 2;
  in.cpu_guarantee = 0.5;
  in.public_host = "https://hub.example.org";
  in.public_url = "https://hub.example.org/user/alice/";
  in.public_hub_url = "https://hub.example.org/hub/";
  in.client_allowed_scopes = {"read:users!user"};
  in.ip = "::1";
  auto env = build_env(in);
  CHECK(env.at("JUPYTERHUB_SERVER_NAME") == "");
  CHECK(env.at("JUPYTERHUB_COOKIE_OPTIONS") == "{\"secure\": true}");
  CHECK(env.at("JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED") == "1");
  CHECK(env.at("JUPYTERHUB_ADMIN_ACCESS") == "1");
  CHECK(env.at("JUPYTERHUB_ROOT_DIR") == "/srv/alice");
  CHECK(env.at("JUPYTERHUB_DEFAULT_URL") == "/lab/tree/");
  CHECK(env.at("JUPYTERHUB_DEBUG") == "1");
  CHECK(env.at("JUPYTERHUB_DISABLE_USER_CONFIG") == "1");
  CHECK(env.at("MEM_LIMIT") == "1073741824");
  CHECK(env.at("MEM_GUARANTEE") == "1024");
  CHECK(env.at("CPU_LIMIT") == "2.0");
  CHECK(env.at("CPU_GUARANTEE") == "0.5");
  CHECK(env.at("JUPYTERHUB_HOST") == "https://hub.example.org");
  CHECK(env.at("JUPYTERHUB_PUBLIC_URL") == "https://hub.example.org/user/alice/");
  CHECK(env.at("JUPYTERHUB_PUBLIC_HUB_URL") == "https://hub.example.org/hub/");
  CHECK(env.at("JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES") == "[\"read:users!user\"]");
  CHECK(env.at("JUPYTERHUB_SERVICE_URL") == "http://[::1]:45678/user/alice/");
  CHECK(env.at("JUPYTERHUB_OAUTH_CALLBACK_URL") == "/user/alice/oauth_callback");
}

TEST_CASE("build_env: env_keep copies from hubd's environment, Spawner.environment wins", "[env]") {
  auto in = alice_gpu();
  in.env_keep = {"PATH", "LANG", "MISSING"};
  in.hub_environ = {{"PATH", "/usr/bin"}, {"LANG", "C.UTF-8"}, {"SECRET", "x"}};
  in.environment = {{"LANG", "de_DE.UTF-8"}, {"JUPYTERHUB_SINGLEUSER_APP", "notebook"}, {"JUPYTERHUB_USER", "o"}};
  auto env = build_env(in);
  CHECK(env.at("PATH") == "/usr/bin");
  CHECK(env.at("LANG") == "de_DE.UTF-8");
  CHECK(env.at("JUPYTERHUB_SINGLEUSER_APP") == "notebook");
  CHECK(env.at("JUPYTERHUB_USER") == "o");
  CHECK(env.count("SECRET") == 0);
  CHECK(env.count("MISSING") == 0);
}
