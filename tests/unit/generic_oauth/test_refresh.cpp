#include "authenticator.hpp"

#include "encoding.hpp"
#include "http_client.hpp"
#include "loopback_server.hpp"

#include <catch2/catch.hpp>

#include <thread>

using generic_oauth::oauth_authenticator;
using nlohmann::json;
using test_server::loopback_server;
using test_server::request;
using test_server::response;

namespace {

// The idle connections the tests leave behind are freed at exit, as the plugin's deinit frees them.
struct http_cleanup_at_exit {
  ~http_cleanup_at_exit() { generic_oauth::http_global_cleanup(); }
} const http_cleanup;

// The token endpoint rotates: rt1 -> rt2 -> rt3; anything else is a dead token (a bare 400, as
// Glewlwyd). mode changes the answer.
struct provider_state {
  std::mutex mutex;
  std::string mode = "rotate";
};

response token_endpoint(provider_state& p, const request& r) {
  if (r.path == "/me") {
    if (r.headers.find("Authorization: Bearer at2") == std::string::npos) return {401, ""};
    return {200, R"({"username": "alice", "groups": ["refreshed"]})"};
  }
  auto form = generic_oauth::parse_query(r.body);
  std::lock_guard lock(p.mutex);
  if (p.mode == "down") return {503, "busy"};
  if (p.mode == "keep" && form["refresh_token"] == "rt1")  // no refresh_token in the answer
    return {200, R"({"access_token": "at2", "token_type": "bearer", "expires_in": 3600})"};
  if (form["grant_type"] != "refresh_token") return {400, ""};
  if (form["refresh_token"] == "rt1")
    return {200, R"({"access_token": "at2", "token_type": "bearer", "expires_in": 3600, "refresh_token": "rt2"})"};
  if (form["refresh_token"] == "rt2")
    return {200, R"({"access_token": "at3", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt3"})"};
  return {400, ""};
}

struct bed {
  provider_state p;
  loopback_server server{[this](const request& r) { return token_endpoint(p, r); }};
  std::vector<std::string> log;
  std::mutex log_mutex;
  oauth_authenticator auth{settings(), [this](int, const std::string& m) {
                             std::lock_guard lock(log_mutex);
                             log.push_back(m);
                           }};

  generic_oauth::settings settings() {
    json c{{"client_id", "hub-client"}, {"client_secret", "hub-secret"}, {"basic_auth", true},
           {"authorize_url", server.url("/auth")}, {"token_url", server.url("/token")},
           {"userdata_url", server.url("/me")}};
    return *generic_oauth::parse_settings(c).value;
  }
  std::vector<std::string> refresh_tokens_sent() const {
    std::vector<std::string> out;
    for (const auto& r : server.requests())
      if (r.path == "/token") out.push_back(generic_oauth::parse_query(r.body)["refresh_token"]);
    return out;
  }
  json refresh(const json& state) {
    auto a = auth.refresh_user(json{{"user", {{"name", "alice"}}}, {"auth_state", state}});
    if (a.status != HUBD_OK) return json{{"failed", json::parse(a.json)}};
    return json::parse(a.json);
  }
};

// Expired (expires_at in 1970) with refresh token rt1.
json expired_state() {
  return json{{"access_token", "at1"}, {"refresh_token", "rt1"}, {"expires_at", 1},
              {"token_response", {{"access_token", "at1"}, {"expires_in", 3600}}}, {"oauth_user", {{"groups", {"old"}}}}};
}

}  // namespace

TEST_CASE("a refresh stores the rotated token, and the spent one is never sent again", "[generic_oauth][refresh]") {
  bed b;
  json first = b.refresh(expired_state());
  REQUIRE(first.is_object());
  CHECK(first["auth_state"]["access_token"] == "at2");
  CHECK(first["auth_state"]["refresh_token"] == "rt2");
  CHECK(first["auth_state"]["token_response"]["refresh_token"] == "rt2");
  CHECK(first["auth_state"]["expires_at"].get<std::int64_t>() > 1);
  CHECK(first["groups"] == json{"refreshed"});  // userinfo read again with the new access token
  CHECK(first["auth_state"]["oauth_user"]["username"] == "alice");
  // The client authenticated with Basic (basic_auth), never with the secret in the form.
  auto reqs = b.server.requests();
  REQUIRE_FALSE(reqs.empty());
  CHECK(reqs[0].headers.find("Authorization: Basic " + generic_oauth::base64_encode("hub-client:hub-secret")) !=
        std::string::npos);
  CHECK(reqs[0].body.find("client_secret") == std::string::npos);

  // The hub asks again with the old state (it had not stored the answer yet): the plugin continues
  // from rt2's state instead of replaying rt1, which the provider would punish.
  json second = b.refresh(expired_state());
  REQUIRE(second.is_object());
  CHECK(second["auth_state"]["refresh_token"] == "rt2");
  CHECK(b.refresh_tokens_sent() == std::vector<std::string>{"rt1"});
  // The stored new state, once expired, is renewed with rt2.
  json stored = first["auth_state"];
  stored["expires_at"] = 1;
  json third = b.refresh(stored);
  CHECK(third["auth_state"]["refresh_token"] == "rt3");
  CHECK(b.refresh_tokens_sent() == std::vector<std::string>{"rt1", "rt2"});
}

TEST_CASE("concurrent refreshes of one user make one refresh grant", "[generic_oauth][refresh]") {
  bed b;
  std::vector<json> results(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) threads.emplace_back([&, i] { results[i] = b.refresh(expired_state()); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) CHECK(r["auth_state"]["refresh_token"] == "rt2");
  CHECK(b.refresh_tokens_sent() == std::vector<std::string>{"rt1"});
}

TEST_CASE("a bare 400 ends the login; a 503 is transient; an answer without a refresh token keeps it",
          "[generic_oauth][refresh]") {
  bed b;
  json dead = expired_state();
  dead["refresh_token"] = "rt-dead";
  CHECK(b.refresh(dead) == json(false));
  bool logged = false;
  for (const auto& l : b.log)
    logged = logged || l.find("refused to refresh the tokens of alice (HTTP 400 (empty body)): login ended") != std::string::npos;
  CHECK(logged);
  for (const auto& l : b.log) CHECK(l.find("rt-dead") == std::string::npos);  // never the token

  {
    std::lock_guard lock(b.p.mutex);
    b.p.mode = "down";
  }
  json down = b.refresh(expired_state());
  CHECK(down["failed"]["status_code"] == 503);

  {
    std::lock_guard lock(b.p.mutex);
    b.p.mode = "keep";
  }
  json kept = b.refresh(expired_state());
  CHECK(kept["auth_state"]["access_token"] == "at2");
  CHECK(kept["auth_state"]["refresh_token"] == "rt1");
  CHECK(kept["auth_state"]["token_response"]["refresh_token"] == "rt1");
}

TEST_CASE("an access token away from expiry is left alone, without a request", "[generic_oauth][refresh]") {
  bed b;
  json fresh = expired_state();
  fresh["expires_at"] = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count() + 600;
  CHECK(b.refresh(fresh) == json(true));
  // Within the margin (30 s, or half the lifetime) it is renewed before it expires.
  json near = fresh;
  near["expires_at"] = fresh["expires_at"].get<std::int64_t>() - 590;
  CHECK(b.refresh(near)["auth_state"]["access_token"] == "at2");
  CHECK(b.refresh_tokens_sent() == std::vector<std::string>{"rt1"});
}
