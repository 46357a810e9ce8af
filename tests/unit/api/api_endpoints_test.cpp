// In-process tests of the REST endpoints: a real model on SQLite in a temp dir, the real router,
// requests dispatched without a socket.
#include "core/session/session_identifier.hpp"
#include "core/api/routes.hpp"
#include "core/http/router.hpp"
#include "core/model/hub_model.hpp"
#include "core/rbac/rbac.hpp"
#include "core/store/sqlite_store.hpp"
#include "tests/unit/store/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <future>

using namespace hubd::core;
using nlohmann::json;

namespace {

struct hub {
  hubd::test::temp_dir dir;
  std::unique_ptr<model::hub_model> model;
  rbac::scope_table table;
  json config = {{"JupyterHub", {{"api_page_max_limit", 200}, {"api_page_default_limit", 50}}}};
  http::cookie_signer signer{"0123456789abcdef0123456789abcdef"};
  std::unique_ptr<session::session_identifier> sessions;
  std::unique_ptr<api::api_context> ctx;
  http::router router;
  std::string alice_token, bob_token;

  hub() {
    auto db = store::sqlite_store::open(dir / "hub.sqlite");
    REQUIRE(db.ok());
    auto m = model::hub_model::open(std::move(db.value()));
    REQUIRE(m.ok());
    model = std::move(m.value());
    for (const auto& r : rbac::default_roles()) {
      model::new_role nr{r.name, r.description, r.scopes, "default"};
      REQUIRE(model->wait([&](auto done) { return model->create_role(nr, done); }).ok());
    }
    model::new_user a{"alice", true};
    model::new_user b{"bob", false};
    REQUIRE(model->wait([&](auto done) { return model->create_user(a, done); }).ok());
    REQUIRE(model->wait([&](auto done) { return model->create_user(b, done); }).ok());
    alice_token = token_for("alice");
    bob_token = token_for("bob");
    sessions = std::make_unique<session::session_identifier>(*model, table, signer, session::session_settings{});
    ctx = std::make_unique<api::api_context>(*model, table, config, *sessions);
    api::register_api_routes(router, *ctx);
  }

  std::string token_for(const std::string& user, std::vector<std::string> scopes = {"inherit"}) {
    model::new_token t;
    t.owner = user;
    t.scopes = std::move(scopes);
    auto r = model->wait([&](auto done) { return model->create_token(t, done); });
    REQUIRE(r.ok());
    return r.value().secret;
  }

  http::response call(const std::string& method, const std::string& target, const std::string& token = {},
                      std::string body = {}, http::header_list headers = {}) {
    if (!token.empty()) headers.emplace_back("Authorization", "token " + token);
    auto req = http::make_request(method, target, std::move(body), std::move(headers));
    REQUIRE(req);
    std::promise<http::response> p;
    auto f = p.get_future();
    router.dispatch(req, [&p](http::response&& r) { p.set_value(std::move(r)); });
    return f.get();
  }
  static json body(const http::response& r) { return json::parse(r.body); }
};

}  // namespace

TEST_CASE("root, info and health") {
  hub h;
  auto r = h.call("GET", "/hub/api/");
  CHECK(r.status == 200);
  // The JupyterHub API version clients branch on, and hubd's own beside it.
  CHECK(hub::body(r)["version"] == "5.4.0");
  CHECK(hub::body(r)["hubd_version"] == HUBD_VERSION);
  CHECK(r.header("X-JupyterHub-Version") == std::string("5.4.0"));
  CHECK(h.call("GET", "/hub/api/info").status == 403);
  CHECK(h.call("GET", "/hub/api/info", h.alice_token).status == 200);
  CHECK(h.call("GET", "/hub/api/info", h.bob_token).status == 403);
  CHECK(h.call("GET", "/hub/api/health").status == 200);
  CHECK(h.call("POST", "/hub/api/authorizations/token", h.alice_token).status == 404);
}

TEST_CASE("whoami answers 403 for missing or bad credentials, never 401") {
  hub h;
  auto r = h.call("GET", "/hub/api/user");
  CHECK(r.status == 403);
  CHECK(hub::body(r)["message"] == "Missing or invalid credentials.");
  CHECK(h.call("GET", "/hub/api/user", "not-a-token").status == 403);
  r = h.call("GET", "/hub/api/user", h.bob_token);
  REQUIRE(r.status == 200);
  auto m = hub::body(r);
  CHECK(m["name"] == "bob");
  CHECK(m["kind"] == "user");
  CHECK(m["admin"] == false);
  CHECK(m["token_id"].is_string());
  CHECK(m["session_id"].is_null());
  CHECK(!m["scopes"].empty());
  // Bearer works too.
  CHECK(h.call("GET", "/hub/api/user", {}, {}, {{"Authorization", "Bearer " + h.bob_token}}).status == 200);
}

TEST_CASE("user listing needs list:users and paginates") {
  hub h;
  auto r = h.call("GET", "/hub/api/users", h.alice_token);
  REQUIRE(r.status == 200);
  CHECK(hub::body(r).size() == 2);
  CHECK(h.call("GET", "/hub/api/users", h.bob_token).status == 403);
  r = h.call("GET", "/hub/api/users?limit=1", h.alice_token, {},
             {{"Accept", "application/jupyterhub-pagination+json"}});
  REQUIRE(r.status == 200);
  auto env = hub::body(r);
  CHECK(env["items"].size() == 1);
  CHECK(env["_pagination"]["total"] == 2);
  CHECK(env["_pagination"]["next"]["offset"] == 1);
  CHECK(h.call("GET", "/hub/api/users?offset=x", h.alice_token).status == 400);
  CHECK(h.call("GET", "/hub/api/users?state=bogus", h.alice_token).status == 400);
  CHECK(h.call("GET", "/hub/api/users?sort=bogus", h.alice_token).status == 400);
  r = h.call("GET", "/hub/api/users?name_filter=BO", h.alice_token);
  REQUIRE(r.status == 200);
  REQUIRE(hub::body(r).size() == 1);
  CHECK(hub::body(r)[0]["name"] == "bob");
}

TEST_CASE("bulk create is all-or-nothing with JupyterHub's statuses") {
  hub h;
  auto r = h.call("POST", "/hub/api/users", h.alice_token, "{not json");
  CHECK(r.status == 400);
  CHECK(hub::body(r)["message"] == "Invalid JSON in body of request");
  CHECK(h.call("POST", "/hub/api/users", h.alice_token, R"({"usernames": []})").status == 400);
  CHECK(h.call("POST", "/hub/api/users", h.alice_token, R"({"usernames": ["ok", "../x/y"]})").status == 400);
  CHECK(!h.model->find_user("ok"));
  r = h.call("POST", "/hub/api/users", h.alice_token, R"({"usernames": ["Carol", "dave", "bob"]})");
  REQUIRE(r.status == 201);
  CHECK(hub::body(r).size() == 2);
  CHECK(h.model->find_user("carol"));
  CHECK(h.call("POST", "/hub/api/users", h.alice_token, R"({"usernames": ["carol"]})").status == 409);
  CHECK(h.call("POST", "/hub/api/users", h.bob_token, R"({"usernames": ["eve"]})").status == 403);
}

TEST_CASE("single user endpoints") {
  hub h;
  CHECK(h.call("GET", "/hub/api/users/bob", h.bob_token).status == 200);
  CHECK(h.call("GET", "/hub/api/users/alice", h.bob_token).status == 404);
  CHECK(h.call("GET", "/hub/api/users/nobody", h.alice_token).status == 404);
  CHECK(h.call("GET", "/hub/api/users/..%2F..%2Fetc", h.alice_token).status == 404);
  CHECK(h.call("GET", "/hub/api/users/%C3%A9l%C3%A8ve", h.alice_token).status == 404);
  CHECK(h.call("POST", "/hub/api/users/erin", h.alice_token).status == 201);
  CHECK(h.call("POST", "/hub/api/users/erin", h.alice_token).status == 409);
  auto r = h.call("PATCH", "/hub/api/users/erin", h.alice_token, R"({"name": "frank"})");
  REQUIRE(r.status == 200);
  CHECK(hub::body(r)["name"] == "frank");
  CHECK(h.call("PATCH", "/hub/api/users/frank", h.alice_token, R"({"groups": []})").status == 400);
  CHECK(h.call("PATCH", "/hub/api/users/frank", h.alice_token, R"({"name": "bob"})").status == 400);
  CHECK(h.call("DELETE", "/hub/api/users/alice", h.alice_token).status == 400);
  CHECK(h.call("DELETE", "/hub/api/users/frank", h.bob_token).status == 403);
  CHECK(h.call("DELETE", "/hub/api/users/frank", h.alice_token).status == 204);
  CHECK(!h.model->find_user("frank"));
}

TEST_CASE("a token of a deleted user stops working") {
  hub h;
  REQUIRE(h.call("GET", "/hub/api/user", h.bob_token).status == 200);
  REQUIRE(h.call("DELETE", "/hub/api/users/bob", h.alice_token).status == 204);
  CHECK(h.call("GET", "/hub/api/user", h.bob_token).status == 403);
}

TEST_CASE("activity") {
  hub h;
  CHECK(h.call("POST", "/hub/api/users/bob/activity", h.bob_token, R"({"last_activity": "2024-01-02T03:04:05Z"})")
            .status == 200);
  CHECK(h.call("POST", "/hub/api/users/bob/activity", h.bob_token, R"({})").status == 400);
  CHECK(h.call("POST", "/hub/api/users/bob/activity", h.bob_token, R"({"last_activity": "3024-01-01T00:00:00Z"})")
            .status == 400);
  CHECK(h.call("POST", "/hub/api/users/bob/activity", h.bob_token, R"({"servers": {"nope": {"last_activity": "2024-01-01T00:00:00Z"}}})")
            .status == 400);
}

TEST_CASE("tokens API") {
  hub h;
  auto r = h.call("POST", "/hub/api/users/bob/tokens", h.bob_token, R"({"note": "mine", "expires_in": 3600})");
  REQUIRE(r.status == 201);
  auto t = hub::body(r);
  CHECK(t["token"].is_string());
  CHECK(t["note"] == "mine");
  CHECK(t["expires_at"].is_string());
  CHECK(h.call("GET", "/hub/api/user", t["token"].get<std::string>()).status == 200);
  std::string id = t["id"];
  r = h.call("GET", "/hub/api/users/bob/tokens/" + id, h.bob_token);
  REQUIRE(r.status == 200);
  CHECK(!hub::body(r).contains("token"));
  CHECK(h.call("GET", "/hub/api/users/alice/tokens/" + id, h.alice_token).status == 404);
  CHECK(h.call("GET", "/hub/api/users/bob/tokens/zz", h.bob_token).status == 404);
  r = h.call("GET", "/hub/api/users/bob/tokens", h.bob_token);
  REQUIRE(r.status == 200);
  CHECK(hub::body(r)["api_tokens"].size() == 2);
  // Strict check: bob does not hold admin:users.
  CHECK(h.call("POST", "/hub/api/users/bob/tokens", h.bob_token, R"({"scopes": ["admin:users"]})").status == 400);
  CHECK(h.call("POST", "/hub/api/users/bob/tokens", h.bob_token, R"({"scopes": ["no:such"]})").status == 400);
  CHECK(h.call("POST", "/hub/api/users/bob/tokens", h.bob_token, R"({"scopes": [], "roles": []})").status == 400);
  CHECK(h.call("POST", "/hub/api/users/bob/tokens", h.bob_token, R"({"expires_in": -5})").status == 400);
  CHECK(h.call("POST", "/hub/api/users/alice/tokens", h.bob_token, "{}").status == 403);
  CHECK(h.call("POST", "/hub/api/users/bob/tokens", {}, "{}").status == 403);
  r = h.call("POST", "/hub/api/users/bob/tokens", h.alice_token, "{}");
  REQUIRE(r.status == 201);
  CHECK(hub::body(r)["note"] == "Requested via api by user alice");
  CHECK(h.call("DELETE", "/hub/api/users/bob/tokens/" + id, h.bob_token).status == 204);
  CHECK(h.call("GET", "/hub/api/user", t["token"].get<std::string>()).status == 403);
}
