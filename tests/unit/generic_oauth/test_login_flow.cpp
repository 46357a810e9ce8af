#include "authenticator.hpp"

#include "encoding.hpp"

#include <catch2/catch.hpp>

#include <vector>

using generic_oauth::oauth_authenticator;
using nlohmann::json;

namespace {

// Configured endpoints and no issuer: oauth_login and the callback's checks need no network.
generic_oauth::settings offline_settings() {
  json c{{"client_id", "hub-client"}, {"client_secret", "hub-secret"}, {"authorize_url", "http://127.0.0.1:9/auth?x=1"},
         {"token_url", "http://127.0.0.1:9/token"}, {"userdata_url", "http://127.0.0.1:9/me"},
         {"scope", {"openid", "groups"}}, {"extra_authorize_params", {{"prompt", "login"}}}};
  return *generic_oauth::parse_settings(c).value;
}

struct logged {
  std::vector<std::string> lines;
};

struct fixture {
  std::shared_ptr<logged> log = std::make_shared<logged>();
  oauth_authenticator auth{offline_settings(), [l = log](int, const std::string& m) { l->lines.push_back(m); }};

  json login(const std::string& query = "") {
    auto a = auth.handle_request(json{{"method", "GET"}, {"path", "/hub/oauth_login"}, {"query", query},
                                      {"headers", {{"Host", "127.0.0.1:8000"}}}, {"cookies", json::object()}});
    REQUIRE(a.status == HUBD_OK);
    return json::parse(a.json);
  }
  generic_oauth::answer callback(const std::string& query, const std::string& cookie) {
    json cookies = json::object();
    if (!cookie.empty()) cookies["oauthenticator-state"] = cookie;
    return auth.handle_request(json{{"method", "GET"}, {"path", "/hub/oauth_callback"}, {"query", query},
                                    {"headers", {{"Host", "127.0.0.1:8000"}}}, {"cookies", cookies}});
  }
};

std::map<std::string, std::string> query_of(const std::string& url) {
  return generic_oauth::parse_query(url.substr(url.find('?') + 1));
}

std::string cookie_value(const json& login) {
  std::string h = login["headers"]["Set-Cookie"];
  auto start = h.find('=') + 1;
  return h.substr(start, h.find(';') - start);
}

void check_failure(const generic_oauth::answer& a, int status, const std::string& message_part) {
  REQUIRE(a.status == HUBD_FAILED);
  json j = json::parse(a.json);
  CHECK(j["status_code"] == status);
  CHECK(j["message"].get<std::string>().find(message_part) != std::string::npos);
}

}  // namespace

TEST_CASE("oauth_login redirects to the provider with state, nonce and PKCE S256", "[generic_oauth][flow]") {
  fixture f;
  json out = f.login("next=%2Fhub%2Fspawn");
  CHECK(out["status"] == 302);
  std::string url = out["redirect"];
  CHECK(url.rfind("http://127.0.0.1:9/auth?x=1&", 0) == 0);  // the configured query is kept
  auto q = query_of(url);
  CHECK(q["response_type"] == "code");
  CHECK(q["client_id"] == "hub-client");
  CHECK(q["redirect_uri"] == "http://127.0.0.1:8000/hub/oauth_callback");  // guessed from Host
  CHECK(q["scope"] == "openid groups");
  CHECK(q["prompt"] == "login");
  CHECK(q["state"].size() >= 32);
  CHECK(q["nonce"].size() >= 32);
  CHECK(q["code_challenge_method"] == "S256");
  CHECK(q["code_challenge"].size() == 43);
  CHECK(q.count("client_secret") == 0);
  std::string cookie = out["headers"]["Set-Cookie"];
  CHECK(cookie.rfind("oauthenticator-state=", 0) == 0);
  CHECK(cookie.find("Path=/hub/;") != std::string::npos);
  CHECK(cookie.find(q["state"]) == std::string::npos);  // sealed, not readable
  // Each login gets its own state.
  CHECK(query_of(f.login()["redirect"])["state"] != q["state"]);
}

TEST_CASE("the callback refuses a missing, changed or foreign state", "[generic_oauth][flow]") {
  fixture f;
  json out = f.login();
  std::string state = query_of(out["redirect"])["state"];
  std::string cookie = cookie_value(out);

  check_failure(f.callback("code=c&state=" + state, ""), 400, "OAuth state missing from cookies");
  check_failure(f.callback("code=c&state=wrong-" + state, cookie), 400, "OAuth state mismatch");
  check_failure(f.callback("code=c", cookie), 400, "OAuth state missing from URL");
  std::string tampered = cookie;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  check_failure(f.callback("code=c&state=" + state, tampered), 400, "OAuth state cookie is not valid");
  // The cookie of another hub process (another key) does not open either.
  fixture other;
  check_failure(other.callback("code=c&state=" + state, cookie), 400, "OAuth state cookie is not valid");
  check_failure(f.callback("state=" + state, cookie), 400, "without a code");
  check_failure(f.callback("error=access_denied&error_description=The+user+said+no", cookie), 400,
                "OAuth error: The user said no");
}

TEST_CASE("a matching state goes on to the token endpoint; a dead provider is a clear 503", "[generic_oauth][flow]") {
  fixture f;  // the endpoints are on port 9 (discard): nothing listens there
  json out = f.login();
  auto a = f.callback("code=c&state=" + query_of(out["redirect"])["state"], cookie_value(out));
  check_failure(a, 503, "did not answer");
  REQUIRE_FALSE(f.log->lines.empty());
  CHECK(f.log->lines.back().find("oauth: the token endpoint http://127.0.0.1:9/token did not answer") == 0);
}

TEST_CASE("next is carried only as a local path", "[generic_oauth][flow]") {
  CHECK(oauth_authenticator::local_next("/hub/spawn?x=1") == "/hub/spawn?x=1");
  CHECK(oauth_authenticator::local_next("/user/alice/lab") == "/user/alice/lab");
  for (const char* bad : {"", "https://evil.example", "//evil.example/x", "/\\evil.example", "evil", "/a\\b", "/a\r\nb",
                          "javascript:alert(1)"})
    CHECK(oauth_authenticator::local_next(bad).empty());
  fixture f;
  auto state_next = [&](const std::string& next) {
    json out = f.login("next=" + generic_oauth::percent_encode(next));
    return out;  // next lives only in the sealed cookie; the redirect never carries it
  };
  CHECK(state_next("//evil.example")["redirect"].get<std::string>().find("evil") == std::string::npos);
}

TEST_CASE("groups come from auth_state_groups_key, a dotted path", "[generic_oauth][flow]") {
  fixture f;
  json state{{"oauth_user", {{"groups", {"b", "a", "b", 7}}}}};
  CHECK(f.auth.groups_of(state) == std::vector<std::string>{"a", "b"});
  CHECK(f.auth.groups_of(json{{"oauth_user", json::object()}}).empty());
  CHECK(f.log->lines.back().find("auth_state_groups_key 'oauth_user.groups'") != std::string::npos);
}

TEST_CASE("refresh_user without auth_state leaves the login alone", "[generic_oauth][refresh]") {
  fixture f;
  auto a = f.auth.refresh_user(json{{"user", {{"name", "alice"}}}, {"auth_state", nullptr}});
  CHECK(a.status == HUBD_OK);
  CHECK(a.json == "true");
  // An access token far from expiry needs no request at all.
  std::int64_t later = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count() + 3600;
  a = f.auth.refresh_user(json{{"user", {{"name", "alice"}}},
                               {"auth_state", {{"access_token", "at"}, {"refresh_token", "rt"}, {"expires_at", later},
                                               {"token_response", {{"expires_in", 3600}}}}}});
  CHECK(a.json == "true");
  // Expired, the provider down: transient, the login stays.
  a = f.auth.refresh_user(json{{"user", {{"name", "alice"}}},
                               {"auth_state", {{"access_token", "at"}, {"refresh_token", "rt"}, {"expires_at", 1}}}});
  check_failure(a, 503, "could not renew");
  // Expired without a refresh token: the login is over.
  a = f.auth.refresh_user(json{{"user", {{"name", "alice"}}}, {"auth_state", {{"access_token", "at"}, {"expires_at", 1}}}});
  CHECK(a.json == "false");
}

TEST_CASE("check_allowed admits allowed_groups members and admins, refuses others with a message", "[generic_oauth][flow]") {
  auto s = offline_settings();
  s.allowed_groups = {"hub-users"};
  s.admin_groups = {"hub-admins"};
  oauth_authenticator auth{s, [](int, const std::string&) {}};
  auto check = [&](json model) { return auth.check_allowed(json{{"name", "bob"}, {"auth_model", std::move(model)}}); };
  CHECK(check(json{{"groups", {"hub-users"}}}).json == "true");
  CHECK(check(json{{"groups", {"hub-admins"}}, {"admin", true}}).json == "true");
  auto refused = check(json{{"groups", {"outsiders"}}, {"admin", false}});
  CHECK(refused.status == HUBD_DENIED);
  CHECK(json::parse(refused.json)["message"].get<std::string>().find("not currently authorized") != std::string::npos);
  // As oauthenticator: with no allowed_groups the plugin admits no one by itself; the hub's
  // allow_all / allowed_users / admin_users / allow_existing_users decide.
  fixture f;
  CHECK(f.auth.check_allowed(json{{"name", "bob"}, {"auth_model", {{"groups", {"hub-users"}}}}}).status == HUBD_DENIED);
}
