// Session identification against a real model on SQLite: the login cookie under both names, the
// XSRF rule for cookie requests, tokens, and the in-process plugin principal.
#include "core/http/router.hpp"
#include "core/http/xsrf.hpp"
#include "core/model/hub_model.hpp"
#include "core/rbac/roles.hpp"
#include "core/session/session_identifier.hpp"
#include "core/store/sqlite_store.hpp"
#include "tests/unit/store/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace hubd::core;

namespace {

struct hub {
  hubd::test::temp_dir dir;
  std::unique_ptr<model::hub_model> model;
  rbac::scope_table table;
  http::cookie_signer signer{"0123456789abcdef0123456789abcdef"};
  std::unique_ptr<session::session_identifier> sessions;

  explicit hub(bool host_prefix) {
    auto db = store::sqlite_store::open(dir / "hub.sqlite");
    REQUIRE(db);
    model = std::move(model::hub_model::open(std::move(db.value())).value());
    for (const auto& r : rbac::default_roles()) {
      model::new_role nr{r.name, r.description, r.scopes, "default"};
      REQUIRE(model->wait([&](auto done) { return model->create_role(nr, done); }));
    }
    REQUIRE(model->wait([&](auto done) { return model->create_user({"alice", false}, done); }));
    session::session_settings s;
    s.cookie_host_prefix = host_prefix;
    sessions = std::make_unique<session::session_identifier>(*model, table, signer, s);
  }

  void put_service(const std::string& name, store::principal_kind kind, std::string info = "{}") {
    model::service row;
    row.name = name;
    row.kind = kind;
    row.info = std::move(info);
    REQUIRE(model->wait([&](auto done) { return model->put_service(row, done); }));
    REQUIRE(model->wait([&](auto done) {
      return model->assign_role("admin", model::holder_ref{model::holder_kind::service, name}, "config", done);
    }));
  }

  std::string new_session(const std::string& user = "alice") {
    auto r = model->wait([&](auto done) { return model->create_session(user, done); });
    REQUIRE(r);
    return r.value()->id;
  }

  std::string login_cookie(const std::string& cookie_name, std::string session_id = {}) {
    if (session_id.empty()) session_id = new_session();
    return cookie_name + "=" +
           signer.sign(cookie_name, session::login_cookie_payload(model->find_user("alice")->cookie_id, session_id));
  }
};

http::request_ptr request(const std::string& method, http::header_list headers) {
  headers.emplace_back("Host", "hub.test");
  auto r = http::make_request(method, "/hub/api/user", {}, std::move(headers));
  REQUIRE(r);
  return r;
}

}  // namespace

TEST_CASE("with cookie_host_prefix_enabled the login cookie is read under its __Host- name, for pages and API alike") {
  hub h(true);
  CHECK(h.sessions->login_cookie_name() == "__Host-jupyterhub-hub-login");
  auto prefixed = request("GET", {{"Cookie", h.login_cookie("__Host-jupyterhub-hub-login")}});
  auto who = h.sessions->browser(*prefixed);
  REQUIRE(who);
  CHECK(who->user->name == "alice");
  auto p = h.sessions->identify(*prefixed);
  CHECK(p.kind == session::principal::kind_t::user);
  CHECK(p.name == "alice");
  CHECK(p.via_cookie);
  CHECK(prefixed->principal == "alice");
  // The unprefixed cookie is not the hub's in this mode.
  auto plain = request("GET", {{"Cookie", h.login_cookie("jupyterhub-hub-login")}});
  CHECK_FALSE(h.sessions->browser(*plain));
  CHECK_FALSE(h.sessions->identify(*plain).authenticated());
}

TEST_CASE("without the prefix the plain login cookie is the hub's and the __Host- one is not") {
  hub h(false);
  CHECK(h.sessions->identify(*request("GET", {{"Cookie", h.login_cookie("jupyterhub-hub-login")}})).name == "alice");
  CHECK_FALSE(h.sessions->identify(*request("GET", {{"Cookie", h.login_cookie("__Host-jupyterhub-hub-login")}}))
                  .authenticated());
}

TEST_CASE("a cookie request that changes state needs the XSRF token bound to the browser's session") {
  hub h(true);
  auto sess = h.model->wait([&](auto done) { return h.model->create_session("alice", done); });
  REQUIRE(sess);
  auto cookie = h.login_cookie("__Host-jupyterhub-hub-login", sess.value()->id);
  cookie += "; jupyterhub-session-id=" + sess.value()->id;
  auto bare = request("POST", {{"Cookie", cookie}, {"Content-Type", "application/json"}});
  auto refused = h.sessions->identify(*bare);
  CHECK_FALSE(refused.authenticated());
  CHECK(refused.xsrf_error);
  auto who = h.sessions->browser(*bare);
  REQUIRE(who);
  CHECK(who->session_id == sess.value()->id);
  auto token = h.signer.sign_urlsafe(http::xsrf_cookie_name, session::xsrf_id_for(*bare, who));
  auto ok = request("POST", {{"Cookie", cookie + "; _xsrf=" + token}, {"X-XSRFToken", token},
                             {"Content-Type", "application/json"}});
  auto p = h.sessions->identify(*ok);
  CHECK(p.name == "alice");
  CHECK_FALSE(p.xsrf_error);
}

TEST_CASE("the plugin principal comes only from the request field, and only for a row of kind plugin") {
  hub h(false);
  h.put_service("probe", store::principal_kind::plugin);
  h.put_service("borrower", store::principal_kind::service, R"({"hubd_plugin": true})");

  auto internal = request("GET", {});
  internal->plugin_principal = "probe";
  auto p = h.sessions->identify(*internal);
  CHECK(p.kind == session::principal::kind_t::service);
  CHECK(p.name == "probe");
  CHECK(p.plugin);
  CHECK_FALSE(p.token);
  CHECK(p.held().has_all(rbac::id(rbac::builtin::admin_users)));

  // A service flagged in its info is no plugin, by the field or by its token.
  auto claimed = request("GET", {});
  claimed->plugin_principal = "borrower";
  CHECK_FALSE(h.sessions->identify(*claimed).authenticated());
  model::new_token nt(model::holder_kind::service, "borrower", {"inherit"});
  auto tok = h.model->wait([&](auto done) { return h.model->create_token(nt, done); });
  REQUIRE(tok);
  auto by_token = h.sessions->identify(*request("GET", {{"Authorization", "token " + tok.value().secret}}));
  CHECK(by_token.name == "borrower");
  CHECK_FALSE(by_token.plugin);

  // An in-process call is its plugin's whatever credentials it carries.
  auto mixed = request("GET", {{"Authorization", "token " + tok.value().secret}});
  mixed->plugin_principal = "probe";
  CHECK(h.sessions->identify(*mixed).name == "probe");
}

TEST_CASE("a login cookie lives only as long as its browser session: a copy is dead after that browser logs out") {
  hub h(false);
  auto sid = h.new_session();
  auto cookie = h.login_cookie("jupyterhub-hub-login", sid);
  auto who = h.sessions->browser(*request("GET", {{"Cookie", cookie}}));
  REQUIRE(who);
  CHECK(who->user->name == "alice");
  CHECK(who->session_id == sid);
  CHECK(h.sessions->user_of_cookie("jupyterhub-hub-login", cookie.substr(cookie.find('=') + 1)));

  // Another browser of alice's keeps its own session.
  auto other = h.login_cookie("jupyterhub-hub-login");

  REQUIRE(h.model->wait([&](auto done) { return h.model->delete_session(sid, done); }));  // logout
  CHECK_FALSE(h.sessions->browser(*request("GET", {{"Cookie", cookie}})));
  CHECK_FALSE(h.sessions->identify(*request("GET", {{"Cookie", cookie}})).authenticated());
  CHECK_FALSE(h.sessions->user_of_cookie("jupyterhub-hub-login", cookie.substr(cookie.find('=') + 1)));
  CHECK(h.sessions->browser(*request("GET", {{"Cookie", other}})));
}

TEST_CASE("a login cookie naming no session, or another user's session, names nobody") {
  hub h(false);
  const std::string name = "jupyterhub-hub-login";
  auto bare = name + "=" + h.signer.sign(name, h.model->find_user("alice")->cookie_id);  // the old form
  CHECK_FALSE(h.sessions->browser(*request("GET", {{"Cookie", bare}})));
  auto unknown = name + "=" + h.signer.sign(name, session::login_cookie_payload(h.model->find_user("alice")->cookie_id, "nosuch"));
  CHECK_FALSE(h.sessions->browser(*request("GET", {{"Cookie", unknown}})));

  REQUIRE(h.model->wait([&](auto done) { return h.model->create_user({"bob", false}, done); }));
  auto bobs = h.new_session("bob");
  auto borrowed = name + "=" + h.signer.sign(name, session::login_cookie_payload(h.model->find_user("alice")->cookie_id, bobs));
  CHECK_FALSE(h.sessions->browser(*request("GET", {{"Cookie", borrowed}})));
}
