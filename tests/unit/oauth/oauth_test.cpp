// The OAuth2 provider end to end in-process: authorize (confirm page, skip rules, errors), the
// token endpoint (secrets, single-use codes, redirect_uri, PKCE) and scope narrowing.
#include "core/oauth/clients.hpp"
#include "core/oauth/pkce.hpp"
#include "tests/unit/pages/hub_fixture.hpp"

using namespace hubd::test;
namespace oauth = hubd::core::oauth;

namespace {

std::string location(const http::response& r) { return std::string(r.header("Location").value_or("")); }

std::string query_value(const std::string& url, const std::string& key) {
  auto q = url.find('?');
  if (q == std::string::npos) return {};
  std::string rest = url.substr(q + 1);
  std::size_t i = 0;
  while (i <= rest.size()) {
    auto amp = rest.find('&', i);
    auto part = rest.substr(i, amp == std::string::npos ? std::string::npos : amp - i);
    if (part.rfind(key + "=", 0) == 0) {
      std::string out;
      http::percent_decode(part.substr(key.size() + 1), out, true);
      return out;
    }
    if (amp == std::string::npos) break;
    i = amp + 1;
  }
  return {};
}

const std::string secret = "grader-service-secret-0123456789";
const std::string redirect = "/services/grader/oauth_callback";

void add_grader(hub_fixture& hub) {
  model::service s;
  s.name = "grader";
  s.url = "http://127.0.0.1:9999";
  s.oauth_allowed_scopes = {"custom:grades:read", "read:users!user"};
  auto r = hub.m().wait([&](auto done) { return hub.m().put_service(s, done); });
  require_ok(r);
  require_ok(hub.m().wait([&](auto done) { return oauth::register_service_client(hub.m(), "/", *r.value(), secret, done); }));
}

std::string authorize_url(const std::string& extra = "") {
  return "/hub/api/oauth2/authorize?client_id=service-grader&redirect_uri=%2Fservices%2Fgrader%2Foauth_callback"
         "&response_type=code&state=s%2Bt%2F%3D" + extra;
}

http::response token_exchange(browser& b, const std::string& code, const std::string& client_secret = secret,
                        const std::string& extra = "") {
  return b.send("POST", "/hub/api/oauth2/token",
                "grant_type=authorization_code&client_id=service-grader&client_secret=" + client_secret +
                    "&code=" + code + "&redirect_uri=%2Fservices%2Fgrader%2Foauth_callback" + extra,
                {{"Authorization", "token " + client_secret}});
}

// Grants alice access to the grader service.
void grant_access(hub_fixture& hub, const std::string& user) {
  hub.make_user(user);
  model::new_role nr{"graders", "", {"access:services!service=grader", "custom:grades:read"}, "config", false};
  require_ok(hub.m().wait([&](auto done) { return hub.m().create_role(nr, done); }));
  require_ok(hub.m().wait([&](auto done) { return hub.m().assign_role("graders", {model::holder_kind::user, user}, "config", done); }));
}

nlohmann::json custom_scopes() {
  return {{"custom:grades:read", {{"description", "Read grades."}}}};
}

struct oauth_hub : hub_fixture {
  explicit oauth_hub(nlohmann::json config = nlohmann::json::object()) : hub_fixture(std::move(config)) {
    table.add_custom_scopes(custom_scopes());
    add_grader(*this);
  }
};

}  // namespace

TEST_CASE("pkce: S256 and plain") {
  std::string verifier(43, 'a');
  // sha256("aaa...a" x43), URL-safe base64 without padding, computed by the implementation itself
  // must differ from the verifier and not verify with another verifier.
  CHECK(oauth::verify_pkce("plain", verifier, verifier));
  CHECK_FALSE(oauth::verify_pkce("plain", verifier, std::string(43, 'b')));
  CHECK_FALSE(oauth::verify_pkce("S256", verifier, verifier));
  CHECK_FALSE(oauth::verify_pkce("md5", verifier, verifier));
  CHECK_FALSE(oauth::valid_pkce_string("short"));
  CHECK_FALSE(oauth::valid_pkce_string(std::string(43, '/')));
  // RFC 7636 appendix B.
  CHECK(oauth::verify_pkce("S256", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
}

TEST_CASE("client ids and redirect URIs") {
  CHECK(oauth::server_client_id("alice", "") == "jupyterhub-user-alice");
  CHECK(oauth::server_client_id("a b", "gpu") == "jupyterhub-user-a%20b-gpu");
  CHECK(oauth::server_redirect_uri("/", "alice", "gpu") == "/user/alice/gpu/oauth_callback");
  // The redirect URI is exactly the JUPYTERHUB_OAUTH_CALLBACK_URL a spawned server gets
  // (spawn::oauth_callback_url): '@' and '~' stay, as JupyterHub's url_escape_path keeps them.
  CHECK(oauth::server_redirect_uri("/", "alice@example.com", "") == "/user/alice@example.com/oauth_callback");
  CHECK(oauth::server_redirect_uri("/jh/", "b~o b", "") == "/jh/user/b~o%20b/oauth_callback");
  CHECK(oauth::server_client_id("alice@example.com", "") == "jupyterhub-user-alice%40example.com");
}

TEST_CASE("authorize: login first, bad client or redirect_uri is a 400 page") {
  oauth_hub hub;
  browser b{hub};
  auto r = b.send("GET", authorize_url());
  CHECK(r.status == 302);
  CHECK(location(r).rfind("/hub/login?next=", 0) == 0);
  REQUIRE(b.login("alice").status == 302);
  CHECK(b.send("GET", "/hub/api/oauth2/authorize?client_id=nope&response_type=code").status == 400);
  CHECK(b.send("GET", "/hub/api/oauth2/authorize?client_id=service-grader&redirect_uri=https%3A%2F%2Fevil&response_type=code").status == 400);
  // A default user holds no access:services: 403.
  CHECK(b.send("GET", authorize_url()).status == 403);
}

TEST_CASE("authorize: confirm page, XSRF, code single use, state echoed, token scopes") {
  oauth_hub hub;
  grant_access(hub, "alice");
  browser b{hub};
  REQUIRE(b.login("alice").status == 302);
  auto page = b.send("GET", authorize_url());
  REQUIRE(page.status == 200);
  CHECK(page.body.find("JupyterHub service grader") != std::string::npos);
  CHECK(page.body.find("Read grades.") != std::string::npos);
  auto xsrf = b.xsrf_from_page(page);

  // No XSRF: refused.
  CHECK(b.send("POST", authorize_url(), "scopes=custom%3Agrades%3Aread").status == 403);

  std::string body = "_xsrf=" + http::percent_encode(xsrf) +
                     "&scopes=custom%3Agrades%3Aread&scopes=admin%3Ausers&scopes=access%3Aservices%21service%3Dgrader"
                     "&scopes=read%3Ausers%3Aname%21user%3Dalice";
  auto r = b.send("POST", authorize_url(), body);
  REQUIRE(r.status == 302);
  auto loc = location(r);
  CHECK(loc.rfind(redirect + "?code=", 0) == 0);
  CHECK(loc.find("&state=s%2Bt%2F%3D") != std::string::npos);  // byte for byte
  auto code = query_value(loc, "code");
  REQUIRE(code.size() >= 20);

  browser client{hub};
  CHECK(token_exchange(client, code, "wrong-secret").status == 401);
  auto t = token_exchange(client, code);
  REQUIRE(t.status == 200);
  auto j = nlohmann::json::parse(t.body);
  CHECK(j["token_type"] == "Bearer");
  auto token = hub.m().find_token(j["access_token"].get<std::string>());
  REQUIRE(token);
  CHECK(token->client_id == "service-grader");
  CHECK(token->session_id == std::optional<std::string>(b.jar["jupyterhub-session-id"]));
  // The forged admin:users from the form was not granted.
  CHECK(std::find(token->scopes.begin(), token->scopes.end(), "admin:users") == token->scopes.end());
  CHECK(std::find(token->scopes.begin(), token->scopes.end(), "custom:grades:read") != token->scopes.end());
  // A stolen code cannot be reused.
  auto again = token_exchange(client, code);
  CHECK(again.status == 400);
  CHECK(nlohmann::json::parse(again.body)["error"] == "invalid_grant");

  // Logging out removes the session's OAuth token.
  b.send("GET", "/hub/logout");
  CHECK_FALSE(hub.m().find_token(j["access_token"].get<std::string>()));
}

TEST_CASE("authorize: invalid scope redirects with error, unknown grant types refused") {
  oauth_hub hub;
  grant_access(hub, "alice");
  browser b{hub};
  REQUIRE(b.login("alice").status == 302);
  auto r = b.send("GET", authorize_url("&scope=admin%3Ausers"));
  REQUIRE(r.status == 302);
  CHECK(query_value(location(r), "error") == "invalid_scope");
  CHECK(query_value(location(r), "state") == "s+t/=");
  auto g = b.send("POST", "/hub/api/oauth2/token", "grant_type=password&username=a&password=b");
  CHECK(g.status == 400);
  CHECK(nlohmann::json::parse(g.body)["error"] == "unsupported_grant_type");
}

TEST_CASE("authorize: PKCE S256 and oauth_require_pkce; own server skips confirmation") {
  hub_fixture hub(nlohmann::json{{"JupyterHub", {{"oauth_require_pkce", true}}}});
  browser b{hub};
  REQUIRE(b.login("alice").status == 302);
  auto server = hub.m().wait([&](auto done) { return hub.m().update_server("alice", "", model::server_patch{}, done); });
  require_ok(server);
  const std::string server_secret = "server-token-secret-0123456789ab";
  require_ok(hub.m().wait([&](auto done) {
    return oauth::register_server_client(hub.m(), "/", "alice", "", server_secret, {}, done);
  }));
  std::string base = "/hub/api/oauth2/authorize?client_id=jupyterhub-user-alice&redirect_uri=%2Fuser%2Falice%2Foauth_callback"
                     "&response_type=code&state=xyz";
  auto no_pkce = b.send("GET", base);
  REQUIRE(no_pkce.status == 302);
  CHECK(query_value(location(no_pkce), "error") == "invalid_request");
  auto r = b.send("GET", base + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256");
  REQUIRE(r.status == 302);  // own server: no confirm page
  auto code = query_value(location(r), "code");
  REQUIRE_FALSE(code.empty());
  auto tok = [&](const std::string& c, const std::string& verifier) {
    return b.send("POST", "/hub/api/oauth2/token",
                  "grant_type=authorization_code&client_id=jupyterhub-user-alice&client_secret=" + server_secret +
                      "&code=" + c + "&redirect_uri=%2Fuser%2Falice%2Foauth_callback&code_verifier=" + verifier);
  };
  CHECK(tok(code, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX").status == 400);  // wrong verifier burns the code
  auto r2 = b.send("GET", base + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256");
  auto code2 = query_value(location(r2), "code");
  auto ok = tok(code2, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  REQUIRE(ok.status == 200);
  auto token = hub.m().find_token(nlohmann::json::parse(ok.body)["access_token"].get<std::string>());
  REQUIRE(token);
  CHECK(std::find(token->scopes.begin(), token->scopes.end(), "access:servers!server=alice/") != token->scopes.end());
}

TEST_CASE("oauth_token_expires_in sets the lifetime of issued access tokens") {
  oauth_hub hub(nlohmann::json{{"JupyterHub", {{"oauth_token_expires_in", 120}}}});
  grant_access(hub, "alice");
  browser b{hub};
  REQUIRE(b.login("alice").status == 302);
  auto page = b.send("GET", authorize_url());
  REQUIRE(page.status == 200);
  auto r = b.send("POST", authorize_url(), "_xsrf=" + http::percent_encode(b.xsrf_from_page(page)) +
                                               "&scopes=custom%3Agrades%3Aread");
  REQUIRE(r.status == 302);
  browser client{hub};
  auto t = token_exchange(client, query_value(location(r), "code"));
  REQUIRE(t.status == 200);
  auto j = nlohmann::json::parse(t.body);
  CHECK(j["expires_in"] == 120);
  auto token = hub.m().find_token(j["access_token"].get<std::string>());
  REQUIRE(token);
  REQUIRE(token->expires_at);
  auto left = std::chrono::duration_cast<std::chrono::seconds>(*token->expires_at - model::now()).count();
  CHECK(left > 100);
  CHECK(left <= 120);
}
