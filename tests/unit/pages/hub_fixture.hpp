#pragma once
// An in-process hub for page and OAuth tests: a real model on SQLite in a temp folder, the
// default roles, a router with the page and OAuth routes, the shipped dummy authenticator loaded
// and driven through the real plugin adapter (it completes on the plugin pool, as in hubd), and a
// small browser with a cookie jar.
#include "core/http/router.hpp"
#include "core/http/url_codec.hpp"
#include "core/http/signed_value.hpp"
#include "core/model/hub_model.hpp"
#include "core/plugins/authenticator_adapter.hpp"
#include "core/plugins/install_layout.hpp"
#include "core/plugins/plugin_host.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/oauth/oauth_routes.hpp"
#include "core/rbac/roles.hpp"
#include "core/rbac/scope_table.hpp"
#include "core/store/sqlite_store.hpp"
#include "core/session/session_identifier.hpp"
#include "core/web/oauth_pages.hpp"
#include "core/web/page_routes.hpp"
#include "core/web/templates.hpp"
#include "core/web/web_context.hpp"
#include "tests/unit/store/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <regex>
#include <thread>

namespace hubd::test {

namespace web = hubd::core::web;
namespace http = hubd::core::http;
namespace model = hubd::core::model;
namespace rbac = hubd::core::rbac;
namespace plugins = hubd::core::plugins;

inline model::completion ignore() {
  return [](const model::status&) {};
}

template <class R>
void require_ok(const R& r) {
  INFO((r ? std::string() : r.err().message));
  REQUIRE(r);
}

// Completes on a fresh thread, like a plugin completion.
inline void complete_later(plugins::op_callback done, plugins::op_result r) {
  std::thread([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); }).detach();
}

struct hub_fixture {
  temp_dir dir;
  plugins::plugin_host plugin_host{2};
  plugins::plugin_registry registry{plugin_host};
  std::shared_ptr<plugins::authenticator_adapter> authenticator;
  std::unique_ptr<model::hub_model> model_owner;
  rbac::scope_table table;
  http::cookie_signer signer{"0123456789abcdef0123456789abcdef"};
  std::unique_ptr<core::session::session_identifier> sessions;
  std::unique_ptr<web::web_context> ctx;
  std::unique_ptr<core::oauth::oauth_context> oauth;
  std::unique_ptr<http::router> router;

  explicit hub_fixture(nlohmann::json config = nlohmann::json::object(),
                       std::function<void(web::web_context&)> adjust = {}) {
    auto db = core::store::sqlite_store::open(dir / "hub.sqlite");
    REQUIRE(db);
    auto m = model::hub_model::open(std::move(db.value()));
    REQUIRE(m);
    model_owner = std::move(m.value());
    for (const auto& r : rbac::default_roles()) {
      model::new_role nr{r.name, r.description, r.scopes, "default", false};
      require_ok(model_owner->wait([&](auto done) { return model_owner->create_role(nr, done); }));
    }
    if (!config.contains("JupyterHub")) config["JupyterHub"] = nlohmann::json::object();
    if (!config["JupyterHub"].contains("redirect_to_server")) config["JupyterHub"]["redirect_to_server"] = false;
    auto options = web::web_options_from_config(config);
    core::session::session_settings session_settings;
    session_settings.cookie_host_prefix = options.cookie_host_prefix;
    session_settings.cookie_max_age = options.cookie_max_age;
    sessions = std::make_unique<core::session::session_identifier>(*model_owner, table, signer, session_settings);
    ctx.reset(new web::web_context{*model_owner, table, signer, *sessions, std::move(options), nullptr, {}, {}, {}});
    ctx->options.version = "0.1.0";
    ctx->templates = std::make_shared<web::template_renderer>(
        std::vector<std::filesystem::path>{web::template_renderer::default_dir()});
    // The dummy authenticator, as `[plugins.dummy] password = "pw"`: any name, password "pw".
    REQUIRE(registry.load_file(plugins::shipped_plugin_dir() / "dummy_authenticator.so"));
    auto created = registry.create_authenticator("dummy", {{"password", "pw"}});
    INFO((created ? std::string() : created.error()));
    REQUIRE(created);
    authenticator = created.value();
    ctx->authenticator.name = authenticator->name();
    ctx->authenticator.authenticate = [a = authenticator](nlohmann::json data, plugins::op_callback done) {
      a->authenticate(std::move(data), std::move(done));
    };
    ctx->authenticator.normalize_username = [a = authenticator](std::string_view n) { return a->normalize_username(n); };
    if (adjust) adjust(*ctx);
    http::router_options ro;
    ro.base_url = ctx->options.base_url;
    ro.version = "0.1.0";
    router = std::make_unique<http::router>(ro);
    web::register_page_routes(*router, *ctx);
    oauth.reset(new core::oauth::oauth_context{*model_owner, table, signer, *sessions, web::oauth_settings_of(*ctx),
                                               web::oauth_pages(*ctx)});
    core::oauth::register_oauth_routes(*router, *oauth);
  }

  ~hub_fixture() {
    router.reset();
    if (model_owner) model_owner->flush();
  }

  model::hub_model& m() { return *model_owner; }

  model::user_ptr make_user(const std::string& name, bool admin = false) {
    auto r = m().wait([&](auto done) { return m().create_user({name, admin}, done); });
    require_ok(r);
    return r.value();
  }
};

// A browser: a cookie jar (name → value, paths ignored) and the headers a browser sends.
struct browser {
  explicit browser(hub_fixture& h) : hub(h) {}
  hub_fixture& hub;
  std::map<std::string, std::string> jar;
  std::string user_agent = "test-browser/1.0";

  http::response send(const std::string& method, const std::string& target, std::string body = {},
                      http::header_list extra = {}) {
    http::header_list h{{"Host", "hub.test"}, {"User-Agent", user_agent}};
    std::string cookie;
    for (const auto& [k, v] : jar) cookie += (cookie.empty() ? "" : "; ") + k + "=" + v;
    if (!cookie.empty()) h.emplace_back("Cookie", cookie);
    if (!body.empty() || method == "POST") h.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    for (auto& e : extra) h.push_back(std::move(e));
    auto req = http::make_request(method, target, std::move(body), std::move(h));
    REQUIRE(req);
    req->remote_addr = "127.0.0.1";
    std::promise<http::response> p;
    auto f = p.get_future();
    hub.router->dispatch(req, [&p](http::response&& r) { p.set_value(std::move(r)); });
    REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    auto r = f.get();
    for (const auto& [k, v] : r.headers) {
      if (!http::iequals(k, "set-cookie")) continue;
      auto eq = v.find('=');
      auto semi = v.find(';');
      auto name = v.substr(0, eq);
      auto value = v.substr(eq + 1, semi == std::string::npos ? std::string::npos : semi - eq - 1);
      if (v.find("Max-Age=0") != std::string::npos || value.empty()) jar.erase(name);
      else jar[name] = value;
    }
    return r;
  }

  std::string xsrf_from_page(const http::response& r) {
    std::smatch m;
    std::regex re("name=\"_xsrf\" value=\"([^\"]+)\"");
    if (std::regex_search(r.body, m, re)) return m[1];
    std::regex meta("name=\"xsrf-token\" content=\"([^\"]+)\"");
    REQUIRE(std::regex_search(r.body, m, meta));
    return m[1];
  }

  // GET the form, POST credentials with the form's XSRF token.
  http::response login(const std::string& name, const std::string& password = "pw", const std::string& next = "") {
    auto form = send("GET", "/hub/login");
    REQUIRE(form.status == 200);
    auto xsrf = xsrf_from_page(form);
    std::string body = "_xsrf=" + http_encode(xsrf) + "&username=" + http_encode(name) + "&password=" + http_encode(password);
    if (!next.empty()) body += "&next=" + http_encode(next);
    return send("POST", "/hub/login", body);
  }

  static std::string http_encode(const std::string& s) { return http::percent_encode(s); }
};

}  // namespace hubd::test
