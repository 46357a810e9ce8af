// The managed-service environment.
#include "core/app/service_env.hpp"

#include <catch2/catch.hpp>

using namespace hubd::core::app;

namespace {

service_env_input grades() {
  service_env_input in;
  in.name = "grades";
  in.url = "http://127.0.0.1:10101";
  in.api_token = "0123456789abcdef0123456789abcdef";
  in.client_id = "service-grades";
  in.base_url = "/jh/";
  in.hub_api_url = "http://127.0.0.1:8081/jh/hub/api";
  in.allowed_scopes = {"custom:grades:read"};
  in.parent_env = {{"PATH", "/usr/bin"}, {"LANG", "C.UTF-8"}, {"CONFIGPROXY_AUTH_TOKEN", "secret"},
                   {"JUPYTERHUB_CRYPT_KEY", "key"}, {"HOME", "/root"}};
  return in;
}

}  // namespace

TEST_CASE("a managed service gets JupyterHub's service environment") {
  auto env = service_environment(grades());
  CHECK(env["JUPYTERHUB_SERVICE_NAME"] == "grades");
  CHECK(env["JUPYTERHUB_API_TOKEN"] == "0123456789abcdef0123456789abcdef");
  CHECK(env["JPY_API_TOKEN"] == env["JUPYTERHUB_API_TOKEN"]);
  CHECK(env["JUPYTERHUB_CLIENT_ID"] == "service-grades");
  CHECK(env["JUPYTERHUB_API_URL"] == "http://127.0.0.1:8081/jh/hub/api");
  CHECK(env["JUPYTERHUB_BASE_URL"] == "/jh/");
  CHECK(env["JUPYTERHUB_SERVICE_URL"] == "http://127.0.0.1:10101");
  CHECK(env["JUPYTERHUB_SERVICE_PREFIX"] == "/jh/services/grades/");
  CHECK(env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == "/jh/services/grades/oauth_callback");
  CHECK(env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"] == R"(["access:services","access:services!service=grades"])");
  CHECK(env["JUPYTERHUB_OAUTH_SCOPES"] == env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"]);
  CHECK(env["JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES"] == R"(["custom:grades:read"])");
  CHECK(env["JUPYTERHUB_USER"].empty());
  CHECK(env["JUPYTERHUB_SERVER_NAME"].empty());
  CHECK(env["JUPYTERHUB_HOST"].empty());
  CHECK(env["JUPYTERHUB_PUBLIC_URL"].empty());
  CHECK(env["JUPYTERHUB_PUBLIC_HUB_URL"].empty());
  CHECK(env["JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"] == "0");
  CHECK(!env.count("JUPYTERHUB_ACTIVITY_URL"));
  CHECK(!env.count("JUPYTERHUB_COOKIE_OPTIONS"));
  CHECK(!env.count("JUPYTERHUB_ADMIN_ACCESS"));
}

TEST_CASE("only env_keep variables of hubd's environment reach the service") {
  auto env = service_environment(grades());
  CHECK(env["PATH"] == "/usr/bin");
  CHECK(env["LANG"] == "C.UTF-8");
  CHECK(!env.count("CONFIGPROXY_AUTH_TOKEN"));
  CHECK(!env.count("JUPYTERHUB_CRYPT_KEY"));
  CHECK(!env.count("HOME"));
}

TEST_CASE("public_url gives the host and public URLs") {
  auto in = grades();
  in.public_url = "https://hub.example.org/ignored/path";
  auto env = service_environment(in);
  CHECK(env["JUPYTERHUB_HOST"] == "https://hub.example.org");
  CHECK(env["JUPYTERHUB_PUBLIC_URL"] == "https://hub.example.org/jh/services/grades/");
  CHECK(env["JUPYTERHUB_PUBLIC_HUB_URL"] == "https://hub.example.org/jh/hub/");
}

TEST_CASE("the service's environment overrides everything but its own name, URL and prefix") {
  auto in = grades();
  in.environment = {{"JUPYTERHUB_OAUTH_CALLBACK_URL", "http://127.0.0.1:10101/jh/services/grades/oauth_callback"},
                    {"JUPYTERHUB_SERVICE_NAME", "other"},
                    {"JUPYTERHUB_SERVICE_PREFIX", "/elsewhere/"},
                    {"EXTRA", "1"}};
  auto env = service_environment(in);
  CHECK(env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == "http://127.0.0.1:10101/jh/services/grades/oauth_callback");
  CHECK(env["EXTRA"] == "1");
  CHECK(env["JUPYTERHUB_SERVICE_NAME"] == "grades");
  CHECK(env["JUPYTERHUB_SERVICE_PREFIX"] == "/jh/services/grades/");
}

TEST_CASE("a service without url has no service URL or prefix, and the optional settings show up") {
  auto in = grades();
  in.url.reset();
  in.admin_access = true;
  in.cookie_host_prefix_enabled = true;
  in.cookie_options = {{"secure", true}};
  in.user = "svc";
  auto env = service_environment(in);
  CHECK(!env.count("JUPYTERHUB_SERVICE_URL"));
  CHECK(!env.count("JUPYTERHUB_SERVICE_PREFIX"));
  CHECK(env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == "/jh/services/grades/oauth_callback");
  CHECK(env["JUPYTERHUB_ADMIN_ACCESS"] == "1");
  CHECK(env["JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"] == "1");
  CHECK(env["JUPYTERHUB_COOKIE_OPTIONS"] == R"({"secure":true})");
  CHECK(env["JUPYTERHUB_USER"] == "svc");
}
