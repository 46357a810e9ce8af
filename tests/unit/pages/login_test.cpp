// Login, logout, cookies and redirects through the real router, model and templates.
#include "tests/unit/pages/hub_fixture.hpp"

using namespace hubd::test;

namespace {

std::string location(const http::response& r) { return std::string(r.header("Location").value_or("")); }

std::vector<std::string> set_cookies(const http::response& r) {
  std::vector<std::string> out;
  for (const auto& [k, v] : r.headers)
    if (http::iequals(k, "set-cookie")) out.push_back(v);
  return out;
}

std::string cookie_line(const http::response& r, const std::string& name) {
  for (const auto& c : set_cookies(r))
    if (c.rfind(name + "=", 0) == 0) return c;
  return {};
}

}  // namespace

TEST_CASE("login form: GET renders a form with an XSRF token and sets the _xsrf cookie") {
  hub_fixture hub;
  browser b{hub};
  auto r = b.send("GET", "/hub/login?next=%2Fhub%2Ftoken");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type").value_or("").find("text/html") == 0);
  CHECK(r.body.find("name=\"_xsrf\"") != std::string::npos);
  CHECK(r.body.find("name=\"username\"") != std::string::npos);
  CHECK(r.body.find("value=\"/hub/token\"") != std::string::npos);
  CHECK(b.jar.count("_xsrf") == 1);
}

TEST_CASE("login: success sets HttpOnly, path-scoped, SameSite cookies and redirects") {
  hub_fixture hub;
  browser b{hub};
  auto r = b.login("Alice", "pw", "/hub/token");
  REQUIRE(r.status == 302);
  CHECK(location(r) == "/hub/token");
  auto login = cookie_line(r, "jupyterhub-hub-login");
  CHECK(login.find("Path=/hub/") != std::string::npos);
  CHECK(login.find("HttpOnly") != std::string::npos);
  CHECK(login.find("SameSite=Lax") != std::string::npos);
  CHECK(login.find("Secure") == std::string::npos);
  auto session = cookie_line(r, "jupyterhub-session-id");
  CHECK(session.find("Path=/;") != std::string::npos);
  CHECK(session.find("HttpOnly") != std::string::npos);
  // The name was normalized, the user created with the default user role, the session stored.
  auto alice = hub.m().find_user("alice");
  REQUIRE(alice);
  CHECK_FALSE(alice->admin);
  auto roles = hub.m().roles_of(model::holder_kind::user, "alice");
  REQUIRE(roles.size() == 1);
  CHECK(roles[0]->name == "user");
  REQUIRE(b.jar.count("jupyterhub-session-id"));
  auto s = hub.m().find_session(b.jar["jupyterhub-session-id"]);
  REQUIRE(s);
  CHECK(s->user_id == alice->id);
  // Logged in now: the home page renders with the user's name.
  auto home = b.send("GET", "/hub/home");
  REQUIRE(home.status == 200);
  CHECK(home.body.find("alice") != std::string::npos);
}

TEST_CASE("login: Secure cookies behind TLS or an https public_url") {
  hub_fixture hub(nlohmann::json{{"JupyterHub", {{"public_url", "https://hub.example.org/"}}}});
  browser b{hub};
  auto r = b.login("alice");
  REQUIRE(r.status == 302);
  CHECK(cookie_line(r, "jupyterhub-hub-login").find("Secure") != std::string::npos);
  CHECK(cookie_line(r, "jupyterhub-session-id").find("Secure") != std::string::npos);
}

TEST_CASE("login: a POST without a valid XSRF token is refused") {
  hub_fixture hub;
  browser b{hub};
  b.send("GET", "/hub/login");
  auto r = b.send("POST", "/hub/login", "username=alice&password=pw");
  CHECK(r.status == 403);
  CHECK_FALSE(hub.m().find_user("alice"));
  auto forged = b.send("POST", "/hub/login", "_xsrf=2%7Cforged&username=alice&password=pw");
  CHECK(forged.status == 403);
  CHECK_FALSE(hub.m().find_user("alice"));
  // Not a form at all.
  auto json = b.send("POST", "/hub/login", "", {{"Content-Type", "application/json"}});
  CHECK(json.status >= 400);
}

TEST_CASE("login: wrong password re-renders the form with 403") {
  hub_fixture hub;
  browser b{hub};
  auto r = b.login("alice", "nope");
  CHECK(r.status == 403);
  CHECK(r.body.find("Invalid username or password") != std::string::npos);
  CHECK(r.body.find("value=\"alice\"") != std::string::npos);
  CHECK_FALSE(hub.m().find_user("alice"));
  CHECK(b.jar.count("jupyterhub-hub-login") == 0);
}

TEST_CASE("login: open-redirect attempts land on the hub home") {
  hub_fixture hub;
  for (std::string next : {"//evil.example/x", "\\\\evil.example", "/\\evil.example", "https://evil.example/hub/",
                           "/%2F%2Fevil.example", "%2F%2Fevil.example", "http://evil.example", "javascript:alert(1)",
                           "/hub/../../etc", "///evil.example"}) {
    browser b{hub};
    auto r = b.login("alice", "pw", next);
    INFO(next);
    REQUIRE(r.status == 302);
    CHECK(location(r) == "/hub/home");
  }
  // Our own host reduces to its path.
  browser b{hub};
  auto r = b.login("alice", "pw", "http://hub.test/hub/token?x=1");
  CHECK(location(r) == "/hub/token?x=1");
}

TEST_CASE("login: blocked_users, allowed_users and admin_users") {
  hub_fixture hub(nlohmann::json{{"Authenticator",
                    {{"allowed_users", {"alice", "bob"}}, {"blocked_users", {"bob"}}, {"admin_users", {"root"}}}}});
  browser a{hub}, b{hub}, c{hub}, r{hub};
  CHECK(a.login("alice").status == 302);
  CHECK(b.login("bob").status == 403);     // blocked wins over allowed
  CHECK(c.login("carol").status == 403);   // not allowed
  CHECK(r.login("root").status == 302);    // admins are allowed
  CHECK_FALSE(hub.m().find_user("bob"));
  CHECK_FALSE(hub.m().find_user("carol"));
  auto root = hub.m().find_user("root");
  REQUIRE(root);
  CHECK(root->admin);
  // The admin page needs unfiltered admin-ui.
  CHECK(r.send("GET", "/hub/admin").status == 200);
  CHECK(a.send("GET", "/hub/admin").status == 403);
}

TEST_CASE("login: post_auth hooks patch the auth model or refuse") {
  hub_fixture hub(nlohmann::json::object(), [](web::web_context& c) {
    c.post_auth_hooks.push_back([](nlohmann::json auth, plugins::op_callback done) {
      plugins::op_result r;
      if (auth["name"] == "mallory") {
        r.status = plugins::op_status::denied;
      } else {
        r.status = plugins::op_status::ok;
        r.value = {{"admin", auth["name"] == "boss"}};
      }
      complete_later(std::move(done), std::move(r));
    });
  });
  browser m{hub}, boss{hub};
  CHECK(m.login("mallory").status == 403);
  CHECK_FALSE(hub.m().find_user("mallory"));
  CHECK(boss.login("boss").status == 302);
  REQUIRE(hub.m().find_user("boss"));
  CHECK(hub.m().find_user("boss")->admin);
}

// An authenticator's own allow rule (LocalAuthenticator's allowed_groups) adds to the hub's allow
// configuration: false or a refusal still lets allow_all, allowed_users and admin_users in, as
// JupyterHub's check_allowed falls back to Authenticator.check_allowed; null leaves the default rule.
TEST_CASE("login: the authenticator's check_allowed adds to the hub's allow configuration") {
  auto rule = [](web::web_context& c) {
    c.authenticator.check_allowed = [](nlohmann::json in, plugins::op_callback done) {
      plugins::op_result r;
      const std::string name = in["name"];
      r.status = plugins::op_status::ok;
      if (name == "member") {
        r.value = true;
      } else if (name == "nobody") {
        r.value = nullptr;  // no rule of its own
      } else if (name == "broken") {
        r.status = plugins::op_status::misbehaving;
      } else {
        r.status = plugins::op_status::denied;
        r.value = {{"message", "You are not in a group allowed to use this hub."}};
      }
      complete_later(std::move(done), std::move(r));
    };
  };
  SECTION("allowed_users and admin_users still admit; the refusal's message is shown to the rest") {
    hub_fixture hub(nlohmann::json{{"Authenticator", {{"allowed_users", {"listed"}}, {"admin_users", {"boss"}}}}}, rule);
    browser m{hub}, l{hub}, b{hub}, o{hub}, n{hub}, x{hub};
    CHECK(m.login("member").status == 302);
    CHECK(l.login("listed").status == 302);
    CHECK(b.login("boss").status == 302);
    auto refused = o.login("outsider");
    CHECK(refused.status == 403);
    CHECK(refused.body.find("You are not in a group allowed to use this hub.") != std::string::npos);
    CHECK(n.login("nobody").status == 403);  // null: the default rule, and allowed_users does not list it
    CHECK(x.login("broken").status == 403);  // a misbehaving plugin fails closed
    CHECK_FALSE(hub.m().find_user("outsider"));
  }
  SECTION("allow_all admits everyone, whatever the rule says") {
    hub_fixture hub(nlohmann::json{{"Authenticator", {{"allow_all", true}}}}, rule);
    browser o{hub};
    CHECK(o.login("outsider").status == 302);
  }
  SECTION("without an allow configuration, null admits (the authenticator accepted the credentials)") {
    hub_fixture hub(nlohmann::json::object(), rule);
    browser n{hub}, o{hub};
    CHECK(n.login("nobody").status == 302);
    CHECK(o.login("outsider").status == 403);
  }
}

TEST_CASE("login: already logged in, GET /hub/login redirects to next") {
  hub_fixture hub;
  browser b{hub};
  REQUIRE(b.login("alice").status == 302);
  auto r = b.send("GET", "/hub/login?next=%2Fhub%2Ftoken");
  CHECK(r.status == 302);
  CHECK(location(r) == "/hub/token");
}

TEST_CASE("logout: clears cookies, deletes the session's tokens, keeps the others") {
  hub_fixture hub;
  browser b{hub}, other{hub};
  REQUIRE(b.login("alice").status == 302);
  REQUIRE(other.login("alice").status == 302);
  auto sid = b.jar["jupyterhub-session-id"];
  auto other_sid = other.jar["jupyterhub-session-id"];
  REQUIRE(sid != other_sid);
  auto mk = [&](std::optional<std::string> session) {
    model::new_token t;
    t.owner = "alice";
    t.scopes = {"read:users:name!user=alice"};
    t.session_id = session;
    t.client_id = "jupyterhub";
    auto r = hub.m().wait([&](auto done) { return hub.m().create_token(t, done); });
    require_ok(r);
    return r.value().secret;
  };
  auto session_token = mk(sid);
  auto other_token = mk(other_sid);
  auto plain_token = mk(std::nullopt);
  auto r = b.send("GET", "/hub/logout");
  REQUIRE(r.status == 302);
  CHECK(location(r) == "/hub/login");
  CHECK(cookie_line(r, "jupyterhub-hub-login").find("Max-Age=0") != std::string::npos);
  CHECK(cookie_line(r, "jupyterhub-session-id").find("Max-Age=0") != std::string::npos);
  CHECK(cookie_line(r, "_xsrf").find("Max-Age=0") != std::string::npos);
  CHECK_FALSE(hub.m().find_token(session_token));
  CHECK_FALSE(hub.m().find_session(sid));
  CHECK(hub.m().find_token(other_token));
  CHECK(hub.m().find_token(plain_token));
  CHECK(hub.m().find_session(other_sid));
  // The browser is logged out; the other one is not.
  CHECK(b.send("GET", "/hub/home").status == 302);
  CHECK(other.send("GET", "/hub/home").status == 200);
}

TEST_CASE("pages: login required, redirects, health, errors") {
  hub_fixture hub;
  browser b{hub};
  auto home = b.send("GET", "/hub/home");
  CHECK(home.status == 302);
  CHECK(location(home) == "/hub/login?next=%2Fhub%2Fhome");
  CHECK(location(b.send("GET", "/hub")) == "/hub/");
  CHECK(location(b.send("GET", "/hub/")) == "/hub/login?next=%2Fhub%2F");
  CHECK(b.send("GET", "/hub/health").status == 200);
  CHECK(b.send("HEAD", "/hub/health").status == 200);
  auto missing = b.send("GET", "/hub/no-such-page");
  CHECK(missing.status == 404);
  CHECK(missing.header("Content-Type").value_or("").find("text/html") == 0);
  auto json404 = b.send("GET", "/hub/no-such-page", "", {{"Accept", "application/json"}});
  CHECK(json404.status == 404);
  CHECK(nlohmann::json::parse(json404.body)["status"] == 404);
  CHECK(location(b.send("GET", "/elsewhere/x?y=1")) == "/hub/elsewhere/x?y=1");
  CHECK(location(b.send("GET", "/user/alice")) == "/user/alice/");
  auto down = b.send("GET", "/hub/error/503");
  CHECK(down.status == 503);
  CHECK(down.body.find("Your server appears to be down") != std::string::npos);
  REQUIRE(b.login("alice").status == 302);
  CHECK(location(b.send("GET", "/hub/")) == "/hub/home");
  CHECK(location(b.send("GET", "/hub/user-redirect/lab/tree/a%20b.ipynb?x=1")) == "/user/alice/lab/tree/a%20b.ipynb?x=1");
  // Dot segments never lead out of /user/alice/: refused, or kept under it.
  auto dots = b.send("GET", "/hub/user-redirect/../../hub/admin");
  CHECK((dots.status >= 400 || location(dots).rfind("/user/alice/", 0) == 0));
  CHECK(b.send("GET", "/hub/token").status == 200);
  auto spawn = b.send("GET", "/hub/spawn-pending/alice");
  CHECK(spawn.status == 424);
}

TEST_CASE("static files: cached, typed, no traversal") {
  hub_fixture hub;
  browser b{hub};
  auto css = b.send("GET", "/hub/static/css/hubd.css");
  REQUIRE(css.status == 200);
  CHECK(css.header("Content-Type").value_or("").find("text/css") == 0);
  CHECK(css.header("Cache-Control") == std::optional<std::string_view>("no-cache"));
  auto etag = std::string(css.header("ETag").value_or(""));
  CHECK_FALSE(etag.empty());
  CHECK(b.send("GET", "/hub/static/css/hubd.css", "", {{"If-None-Match", etag}}).status == 304);
  auto versioned = b.send("GET", "/hub/static/css/hubd.css?v=0.1.0");
  CHECK(versioned.header("Cache-Control").value_or("").find("max-age=31536000") != std::string_view::npos);
  CHECK(b.send("GET", "/hub/logo").status == 200);
  for (const char* bad : {"/hub/static/../CMakeLists.txt", "/hub/static/..%2F..%2FCMakeLists.txt", "/hub/static/%2e%2e/templates/page.mustache",
                          "/hub/static/css/..%5C..%5Cweb_context.hpp", "/hub/static//etc/passwd", "/hub/static/nope.css"}) {
    INFO(bad);
    auto r = b.send("GET", bad);
    CHECK(r.status == 404);
    CHECK(r.body.find("#pragma") == std::string::npos);
  }
}
