#include "config.hpp"

#include <catch2/catch.hpp>

using generic_oauth::parse_settings;
using nlohmann::json;

namespace {
json minimal() { return json{{"client_id", "hub-client"}, {"issuer", "https://id.example.org/realms/hub/"}}; }
}  // namespace

TEST_CASE("defaults follow GenericOAuthenticator", "[generic_oauth][config]") {
  auto p = parse_settings(minimal());
  REQUIRE(p.value);
  const auto& s = *p.value;
  CHECK(s.issuer == "https://id.example.org/realms/hub/");  // as typed; discovery drops the slash
  CHECK(s.username_claim == "username");
  CHECK(s.auth_state_groups_key == "oauth_user.groups");
  CHECK(s.login_service.empty());  // the hub's button then reads "Sign in"
  CHECK(s.enable_pkce);
  CHECK(s.validate_server_cert);
  CHECK_FALSE(s.basic_auth);
  CHECK(s.scope.empty());
}

TEST_CASE("every documented key is read", "[generic_oauth][config]") {
  json c = minimal();
  c.update(json{{"client_secret", "s"}, {"oauth_callback_url", "https://hub.example.org/hub/oauth_callback"},
                {"authorize_url", "https://id.example.org/auth"}, {"token_url", "https://id.example.org/token"},
                {"userdata_url", "https://id.example.org/userinfo"}, {"scope", {"openid", "groups"}},
                {"username_claim", "preferred_username"}, {"allowed_groups", {"hub-users"}}, {"admin_groups", {"hub-admins"}},
                {"login_service", "Keycloak"}, {"logout_redirect_url", "https://id.example.org/logout"}, {"basic_auth", true},
                {"token_params", {{"audience", "hub"}, {"n", 1}}}, {"extra_authorize_params", {{"prompt", "login"}}},
                {"validate_server_cert", false}, {"enable_pkce", false}});
  auto p = parse_settings(c);
  REQUIRE(p.value);
  CHECK(p.value->scope == std::vector<std::string>{"openid", "groups"});
  CHECK(p.value->token_params.at("n") == "1");
  CHECK(p.value->allowed_groups.count("hub-users"));
  CHECK(p.value->basic_auth);
  CHECK_FALSE(p.value->enable_pkce);
}

TEST_CASE("claim_groups_key is the older spelling of auth_state_groups_key", "[generic_oauth][config]") {
  json c = minimal();
  c["claim_groups_key"] = "roles";
  CHECK(parse_settings(c).value->auth_state_groups_key == "oauth_user.roles");
  c["auth_state_groups_key"] = "userinfo.teams";
  CHECK(parse_settings(c).value->auth_state_groups_key == "userinfo.teams");
}

TEST_CASE("an unknown key is refused by name", "[generic_oauth][config]") {
  json c = minimal();
  c["client_secrett"] = "typo";
  auto p = parse_settings(c);
  CHECK_FALSE(p.value);
  CHECK(p.error.find("[plugins.generic-oauth] unknown config key 'client_secrett'") == 0);
  CHECK(p.error.find("client_secret,") != std::string::npos);  // lists the known ones
}

TEST_CASE("wrong types and missing requirements name the key", "[generic_oauth][config]") {
  auto error_of = [](json patch) {
    json c = minimal();
    c.merge_patch(patch);
    return parse_settings(c).error;
  };
  CHECK(error_of({{"scope", "openid profile"}}) == "[plugins.generic-oauth] scope: must be a list of strings");
  CHECK(error_of({{"basic_auth", "yes"}}) == "[plugins.generic-oauth] basic_auth: must be true or false");
  CHECK(error_of({{"token_url", "ftp://x"}}).find("[plugins.generic-oauth] token_url: must be an http") == 0);
  CHECK(error_of({{"token_params", {{"a", {1, 2}}}}}) ==
        "[plugins.generic-oauth] token_params.a: must be a string, number or boolean");
  CHECK(error_of({{"client_id", ""}}).find("[plugins.generic-oauth] client_id: is required") == 0);
  CHECK(error_of({{"username_claim", ""}}) == "[plugins.generic-oauth] username_claim: must not be empty");
  auto no_issuer = parse_settings(json{{"client_id", "c"}, {"authorize_url", "https://a/auth"}});
  CHECK(no_issuer.error.find("[plugins.generic-oauth] token_url: is required without issuer") == 0);
  CHECK(parse_settings(json("not json")).error == "[plugins.generic-oauth] must be a table");
}
