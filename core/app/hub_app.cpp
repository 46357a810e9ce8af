#include "core/app/hub_app.hpp"

#include "core/app/bootstrap.hpp"
#include "core/app/hook_events.hpp"
#include "core/app/internal_api.hpp"
#include "core/app/plugin_loading.hpp"
#include "core/api/api_context.hpp"
#include "core/api/routes.hpp"
#include "core/oauth/oauth_routes.hpp"
#include "core/session/session_identifier.hpp"
#include "core/web/login_pipeline.hpp"
#include "core/web/oauth_pages.hpp"
#include "core/web/page_routes.hpp"
#include "core/web/templates.hpp"
#include "core/web/web_context.hpp"
#include "core/http/io_pool.hpp"
#include "core/http/router.hpp"
#include "core/http/server.hpp"
#include "core/http/signed_value.hpp"
#include "core/model/hub_model.hpp"
#include "core/plugins/authenticator_adapter.hpp"
#include "core/plugins/hooks_adapter.hpp"
#include "core/plugins/plugin_host.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/rbac/rbac.hpp"
#include "core/store/cookie_secret.hpp"
#include "core/store/crypt_keeper.hpp"
#include "core/store/db_url.hpp"
#include "core/app/username_rule.hpp"
#include "core/store/sqlite_store.hpp"
// spawn layer
#include "core/http/client.hpp"
#include "core/plugins/spawner_adapter.hpp"
#include "core/proxy/chp_proxy.hpp"
#include "core/spawn/server_manager.hpp"
#include "core/store/crypto.hpp"
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
// services
#include "core/app/managed_services.hpp"
#include "core/app/service_env.hpp"
#include "core/oauth/clients.hpp"
#include <pwd.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <fstream>
#include <mutex>
#include <thread>

namespace hubd::core::app {
namespace {

using nlohmann::json;

std::string normalized_base_url(std::string base) {
  if (base.empty() || base.front() != '/') base.insert(base.begin(), '/');
  if (base.back() != '/') base.push_back('/');
  return base;
}

// Written whole (a temporary file renamed over it): a reader that finds the file finds every port.
void write_ports_file(const std::filesystem::path& file, const std::vector<unsigned short>& ports) {
  auto tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (auto port : ports) out << port << "\n";
    out.close();
    if (!out) throw std::runtime_error("cannot write the ports file " + file.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) throw std::runtime_error("cannot write the ports file " + file.string() + ": " + ec.message());
}

unsigned io_threads_from(const json& jh) {
  auto n = jh.at("io_threads").get<long long>();
  if (n > 0) return static_cast<unsigned>(n);
  return std::max(2u, std::thread::hardware_concurrency());
}

}  // namespace

struct spawn_layer;  // the spawn layer block below
struct services_layer;  // the services block below

struct hub_app::parts {
  // Declaration order is destruction order reversed: the server goes first, the model last.
  std::unique_ptr<model::hub_model> model;
  std::unique_ptr<plugins::plugin_host> plugin_host;
  std::unique_ptr<plugins::plugin_registry> registry;
  std::shared_ptr<plugins::authenticator_adapter> authenticator;
  std::vector<std::shared_ptr<plugins::hooks_adapter>> hooks;
  rbac::scope_table scopes;
  std::unique_ptr<http::cookie_signer> signer;
  // One identification and permission cache for the API, the pages and the OAuth provider.
  std::unique_ptr<session::session_identifier> sessions;
  std::unique_ptr<session::login_refresh> refresh;  // null: the authenticator has no refresh_user
  std::unique_ptr<api::api_context> api;
  std::unique_ptr<web::web_context> web;
  std::unique_ptr<oauth::oauth_context> oauth;
  std::unique_ptr<http::io_pool> io;
  std::unique_ptr<http::router> router;
  std::unique_ptr<internal_api> internal;
  std::unique_ptr<http::server> server;
  std::unique_ptr<boost::asio::signal_set> signals;
  std::shared_ptr<spawn_layer> spawn;  // destroyed first, stopped in stop()
  std::shared_ptr<services_layer> services;  // stopped in stop()

  std::mutex mutex;
  std::condition_variable cv;
  bool shutdown_requested = false;
  bool stopped = false;
  // POST /hub/api/shutdown's `proxy` and `servers` (unset: cleanup_proxy and cleanup_servers decide).
  std::optional<bool> shutdown_proxy, shutdown_servers;

  void request_shutdown() {
    {
      std::lock_guard lock(mutex);
      shutdown_requested = true;
    }
    cv.notify_all();
  }
};

hub_app::hub_app(config cfg, std::filesystem::path ports_file)
    : cfg_(std::move(cfg)), ports_file_(std::move(ports_file)), parts_(std::make_unique<parts>()) {}

hub_app::~hub_app() { stop(); }

void hub_app::start() {
  auto& p = *parts_;
  const json& jh = cfg_.section("JupyterHub");
  const json& auth = cfg_.section("Authenticator");

  // Secrets first: a missing key must stop start-up before anything is touched.
  auto keeper = store::crypt_keeper::from_env();
  if (!keeper) throw std::runtime_error("JUPYTERHUB_CRYPT_KEY: " + keeper.err().message);
  if (auth.at("enable_auth_state").get<bool>() && !keeper.value().enabled())
    throw config_error(cfg_.where("Authenticator.enable_auth_state") +
                       ": auth_state encryption needs JUPYTERHUB_CRYPT_KEY; generate a key with "
                       "`openssl rand -hex 32` and export JUPYTERHUB_CRYPT_KEY=<key>");
  auto secret_file = cfg_.resolve_path(jh.at("cookie_secret_file").get<std::string>());
  std::filesystem::create_directories(secret_file.parent_path());
  auto secret = store::load_cookie_secret(secret_file);
  if (!secret) throw std::runtime_error(secret.err().message);
  if (secret.value().group_accessible)
    spdlog::warn("cookie secret file {} is readable by its group; consider chmod 600",
                 jh.at("cookie_secret_file").get<std::string>());
  p.signer = std::make_unique<http::cookie_signer>(secret.value().secret);

  // Plugins: the configured authenticator (and spawner) must load; a broken unrelated file only warns.
  p.plugin_host = std::make_unique<plugins::plugin_host>(
      static_cast<unsigned>(std::max<long long>(1, jh.at("plugin_threads").get<long long>())));
  p.registry = std::make_unique<plugins::plugin_registry>(*p.plugin_host);
  // Every selected plugin must load (and no two files may register a selected name) before the
  // database is opened or created.
  auto loaded = load_configured_plugins(cfg_, *p.registry);
  for (const auto& w : loaded.warnings) spdlog::warn("plugins: {}", w);
  if (!loaded.errors.empty()) {
    std::string msg;
    for (const auto& e : loaded.errors) msg += (msg.empty() ? "" : "\n") + e;
    throw config_error(msg);
  }
  const json& plugin_tables = cfg_.section("plugins");
  auto section_of = [&](const std::string& name) { return plugin_tables.value(name, json::object()); };

  const std::string auth_name = jh.at("authenticator_class");
  if (auto info = p.registry->require(plugins::plugin_kind::authenticator, auth_name); !info)
    throw config_error(cfg_.where("JupyterHub.authenticator_class") + ": " + info.error());
  auto authenticator = p.registry->create_authenticator(auth_name, section_of(auth_name));
  if (!authenticator) throw config_error(cfg_.where("plugins." + auth_name) + ": " + authenticator.error());
  p.authenticator = authenticator.value();
  // The config's user names become the names logins get, through the same authenticator and rule
  // (JupyterHub applies normalize_username to them at start-up), before anything reads them.
  for_each_user_name(cfg_, [&](json& name, const std::string& key) {
    auto r = p.authenticator->normalize_username(name.get<std::string>());
    if (!r.ok())
      throw config_error(cfg_.where(key) + ": " + json(name.get<std::string>()).dump(-1, ' ', false, json::error_handler_t::replace) +
                         ": " + r.error + " (as the authenticator normalises it)");
    name = std::move(r.name);
  });

  for (const auto& [name, table] : plugin_tables.items()) {
    if (name == auth_name || !table.value("enabled", true)) continue;
    if (!p.registry->require(plugins::plugin_kind::hooks, name)) continue;  // settings of a non-hook plugin
    auto h = p.registry->create_hooks(name, table);
    if (!h) throw config_error(cfg_.where("plugins." + name) + ": " + h.error());
    p.hooks.push_back(h.value());
    spdlog::info("hook plugin {} enabled ({} hook points)", name, h.value()->hook_points().size());
  }

  // Scopes: the config's custom scopes, then those plugins registered while being created.
  std::vector<std::string> warnings;
  define_custom_scopes(cfg_, p.plugin_host->custom_scopes(), p.scopes, warnings);
  p.plugin_host->close_scope_registration();

  // The database: refuse a schema that needs `hubd upgrade-db` or is newer than this hubd.
  auto db_path = store::sqlite_path_from_url(jh.at("db_url").get<std::string>(), cfg_.base_dir());
  if (!db_path) throw config_error(cfg_.where("JupyterHub.db_url") + ": " + db_path.err().message);
  std::filesystem::create_directories(db_path.value().parent_path());
  auto db = store::sqlite_store::open(db_path.value());
  if (!db) throw std::runtime_error(db_path.value().string() + ": " + db.err().message);
  model::model_options mopts;
  mopts.keeper = keeper.value();
  auto m = model::hub_model::open(std::move(db.value()), std::move(mopts));
  if (!m) throw std::runtime_error(db_path.value().string() + ": " + m.err().message);
  p.model = std::move(m.value());
  spdlog::info("database {} loaded: {} users, {} groups, {} tokens", db_path.value().string(), p.model->user_count(),
               p.model->group_count(), p.model->token_count());

  const auto principals = plugin_principals(plugin_tables);
  auto report = apply_config(cfg_, p.scopes, *p.model, principals);
  for (const auto& w : warnings) spdlog::warn("config: {}", w);
  for (const auto& w : report.warnings) spdlog::warn("config: {}", w);
  load_managed_roles();
  check_existing_users(cfg_, *p.model, make_username_rule(cfg_, p.authenticator), *p.authenticator);

  // HTTP.
  p.io = std::make_unique<http::io_pool>(io_threads_from(jh));
  http::router_options ropts;
  ropts.base_url = normalized_base_url(jh.at("base_url"));
  p.router = std::make_unique<http::router>(ropts);
  http::server_options sopts;
  auto hub_ep = http::parse_bind_url(jh.at("hub_bind_url").get<std::string>());
  if (!hub_ep) throw config_error(cfg_.where("JupyterHub.hub_bind_url") + ": not an http:// or https:// URL");
  sopts.endpoints.push_back(*hub_ep);
  sopts.tls_cert_file = jh.at("ssl_cert");
  sopts.tls_key_file = jh.at("ssl_key");
  if (hub_ep->tls && (sopts.tls_cert_file.empty() || sopts.tls_key_file.empty()))
    throw config_error(cfg_.where("JupyterHub.hub_bind_url") + ": https needs JupyterHub.ssl_cert and ssl_key");
  sopts.max_header_bytes = jh.at("max_header_size").get<std::size_t>();
  sopts.max_body_bytes = jh.at("max_body_size").get<std::size_t>();
  sopts.request_timeout = std::chrono::milliseconds(static_cast<long long>(jh.at("request_timeout").get<double>() * 1000));
  sopts.max_connections = jh.at("max_connections").get<std::size_t>();
  p.server = std::make_unique<http::server>(*p.io, *p.router, sopts);
  try {
    p.server->start();
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot listen: ") + e.what());
  }
  // Listening comes before the wiring (nothing is served until the io pool starts) so that with
  // port 0 every URL derived from hub_bind_url (servers' and services' JUPYTERHUB_API_URL, the
  // proxy's hub route) names the port the system picked.
  if (hub_ep->port == 0)
    cfg_.values["JupyterHub"]["hub_bind_url"] = http::bind_url_of({hub_ep->host, p.server->ports().front(), hub_ep->tls});

  wire_api(ropts.base_url);
  wire_pages();
  wire_spawn();
  wire_services();

  // The internal API and change events for plugins, once the routes they reach exist.
  p.internal = std::make_unique<internal_api>(*p.router, *p.io, ropts.base_url, principals);
  p.plugin_host->set_api_handler([api = p.internal.get()](plugins::api_request req, plugins::api_responder respond) {
    api->handle(std::move(req), std::move(respond));
  });
  deliver_change_events(*p.model, p.hooks);

  p.signals = std::make_unique<boost::asio::signal_set>(p.io->context(), SIGINT, SIGTERM);
  p.signals->async_wait([&p](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", signo);
    p.request_shutdown();
  });
  p.io->start();
  start_spawn();
  start_services();
  // Last: the file says hubd is up, the proxy started (a previous one stopped) and servers adopted.
  if (!ports_file_.empty()) write_ports_file(ports_file_, this->ports());
  auto ports = p.server->ports();
  spdlog::info("hubd is serving at http://{}:{}{}", hub_ep->host.empty() ? "*" : hub_ep->host,
               ports.empty() ? 0 : ports.front(), ropts.base_url + "hub/");
}

// Authenticator.load_managed_roles() at start-up. Start-up runs on the main thread,
// so it may wait for the plugin op.
void hub_app::load_managed_roles() {
  auto& p = *parts_;
  const json& auth = cfg_.section("Authenticator");
  if (!auth.at("manage_roles").get<bool>()) return;
  const bool reset = auth.at("reset_managed_roles_on_startup").get<bool>();
  if (!p.authenticator->implements("load_managed_roles")) {
    if (reset)
      throw config_error(cfg_.where("Authenticator.reset_managed_roles_on_startup") +
                         ": needs an authenticator that implements load_managed_roles (" + p.authenticator->name() +
                         " does not)");
    return;
  }
  std::promise<plugins::op_result> result;
  auto answer = result.get_future();
  p.authenticator->load_managed_roles([&result](plugins::op_result r) { result.set_value(std::move(r)); });
  auto r = answer.get();
  if (!r.ok()) throw std::runtime_error("the authenticator's load_managed_roles failed: " + r.message);
  std::vector<std::string> warnings;
  apply_managed_roles(cfg_, p.scopes, *p.model, r.value, warnings);
  for (const auto& w : warnings) spdlog::warn("config: {}", w);
}

void hub_app::wire_api(const std::string& base_url) {
  auto& p = *parts_;
  const json& jh = cfg_.section("JupyterHub");
  session::session_settings sessions;
  sessions.cookie_host_prefix = jh.at("cookie_host_prefix_enabled").get<bool>();
  sessions.cookie_max_age = std::chrono::seconds(static_cast<std::int64_t>(jh.at("cookie_max_age_days").get<double>() * 86400));
  sessions.activity_resolution = std::chrono::seconds(jh.at("activity_resolution").get<std::int64_t>());
  const json& auth = cfg_.section("Authenticator");
  sessions.throttle.enabled = auth.at("login_throttle").get<bool>();
  sessions.throttle.failure_limit = static_cast<int>(auth.at("login_failure_limit").get<std::int64_t>());
  sessions.throttle.max_backoff = std::chrono::seconds(auth.at("login_max_backoff").get<std::int64_t>());
  p.sessions = std::make_unique<session::session_identifier>(*p.model, p.scopes, *p.signer, sessions);
  wire_refresh();
  p.api = std::make_unique<api::api_context>(*p.model, p.scopes, cfg_.values, *p.sessions);
  p.api->base_url = base_url;
  auto authenticator = p.authenticator;
  p.api->authenticator.normalize_username = [authenticator](std::string_view name) {
    return authenticator->normalize_username(name);
  };
  p.api->authenticator.validate_username = [rule = make_username_rule(cfg_, authenticator)](std::string_view name) {
    return !rule(name).has_value();
  };
  // The login page's whole pipeline (blocked, allowed, username rules, hooks), not the bare plugin op:
  // credentials become a user by one path only. p.web exists by the time a request arrives.
  p.api->authenticator.authenticate = [&p](const nlohmann::json& auth,
                                           std::function<void(std::optional<std::string>)> done) {
    web::run_login(*p.web, auth, [done = std::move(done)](web::login_result r) {
      done(r.ok && r.user ? std::optional<std::string>(r.user->name) : std::nullopt);
    }, web::login_session::none);
  };
  p.api->authenticator.class_name = authenticator->name();
  p.api->shutdown = [&p](bool proxy, bool servers) {
    {
      std::lock_guard lock(p.mutex);
      p.shutdown_proxy = proxy;
      p.shutdown_servers = servers;
    }
    p.request_shutdown();
  };
  api::register_api_routes(*p.router, *p.api);
}

// The credential lifecycle (Authenticator.auth_refresh_age, refresh_pre_spawn, refresh_pre_stop):
// only for an authenticator that implements refresh_user; without it a login never goes stale, as
// JupyterHub's default refresh_user (always true) has it.
void hub_app::wire_refresh() {
  auto& p = *parts_;
  auto authenticator = p.authenticator;
  if (!authenticator->implements("refresh_user")) return;
  const json& auth = cfg_.section("Authenticator");
  session::refresh_settings s;
  s.auth_refresh_age = std::chrono::seconds(auth.at("auth_refresh_age").get<std::int64_t>());
  s.refresh_pre_spawn = auth.at("refresh_pre_spawn").get<bool>();
  s.refresh_pre_stop = auth.at("refresh_pre_stop").get<bool>();
  s.enable_auth_state = auth.at("enable_auth_state").get<bool>();
  s.manage_groups = auth.at("manage_groups").get<bool>();
  for (const auto& n : auth.at("admin_users")) s.admin_users.insert(n.get<std::string>());
  auto call = [authenticator](json input, std::function<void(session::refresh_answer)> done) {
    authenticator->refresh_user(std::move(input), [done = std::move(done)](plugins::op_result r) {
      session::refresh_answer a;
      a.completed = r.ok();
      if (a.completed) a.value = std::move(r.value);
      else a.failure = std::string(plugins::to_string(r.status)) + ": " + r.message;
      done(std::move(a));
    });
  };
  auto* io = p.io.get();
  auto post = [io](std::function<void()> fn) { boost::asio::post(io->context(), std::move(fn)); };
  p.refresh = std::make_unique<session::login_refresh>(*p.model, std::move(s), std::move(call), std::move(post));
  p.sessions->set_refresher(p.refresh.get());
}

void hub_app::wire_pages() {
  auto& p = *parts_;
  auto options = web::web_options_from_config(cfg_.values);
  options.version = HUBD_VERSION;
  std::vector<std::filesystem::path> template_dirs;
  for (const auto& dir : cfg_.get("JupyterHub", "template_paths")) template_dirs.push_back(cfg_.resolve_path(dir.get<std::string>()));
  template_dirs.push_back(web::template_renderer::default_dir());
  p.web = std::unique_ptr<web::web_context>(new web::web_context{
      *p.model, p.scopes, *p.signer, *p.sessions, std::move(options),
      std::make_shared<web::template_renderer>(template_dirs), {}, {}, {}});

  auto authenticator = p.authenticator;
  auto& port = p.web->authenticator;
  port.name = authenticator->name();
  port.authenticate = [authenticator](nlohmann::json data, plugins::op_callback done) {
    authenticator->authenticate(std::move(data), std::move(done));
  };
  port.normalize_username = [authenticator](std::string_view n) { return authenticator->normalize_username(n); };
  port.validate_username = make_username_rule(cfg_, authenticator);
  // A redirect-based authenticator's login URL (its login_url op) drives auto_login and the button.
  if (authenticator->implements("login_url")) port.login_url = authenticator->login_url(p.web->options.hub_prefix);
  // JupyterHub's Authenticator.login_service, the name on that button: the authenticator's own
  // table holds it (oauthenticator's trait name), as the plugin's other settings.
  if (const auto& table = cfg_.section("plugins").value(port.name, json::object());
      table.is_object() && table.contains("login_service") && table["login_service"].is_string())
    port.login_service = table["login_service"].get<std::string>();
  if (authenticator->implements("logout_url")) {
    auto url = authenticator->logout_url(p.web->options.hub_prefix);
    if (url != p.web->options.hub_prefix + "logout") port.logout_redirect = url;
  }
  if (authenticator->implements("check_blocked"))
    port.check_blocked = [authenticator](nlohmann::json in, plugins::op_callback done) {
      authenticator->check_blocked(std::move(in), std::move(done));
    };
  if (authenticator->implements("check_allowed"))
    port.check_allowed = [authenticator](nlohmann::json in, plugins::op_callback done) {
      authenticator->check_allowed(std::move(in), std::move(done));
    };
  if (authenticator->implements("is_admin"))
    port.is_admin = [authenticator](nlohmann::json in, plugins::op_callback done) {
      authenticator->is_admin(std::move(in), std::move(done));
    };
  port.routes = authenticator->routes();
  if (authenticator->implements("handle_request"))
    port.handle_request = [authenticator](nlohmann::json req, plugins::op_callback done) {
      authenticator->handle_request(std::move(req), std::move(done));
    };
  if (authenticator->implements("logout"))
    port.logout = [authenticator](nlohmann::json in, plugins::op_callback done) {
      authenticator->logout(std::move(in), std::move(done));
    };
  // post_auth hooks in the order the config lists their tables.
  for (const auto& hook : p.hooks)
    if (hook->subscribes("post_auth"))
      p.web->post_auth_hooks.push_back([hook](nlohmann::json model, plugins::op_callback done) {
        // The input shape of plugin_api/hubd/hooks.h; the result is a patch of the auth model.
        hook->call("post_auth", {{"auth_model", std::move(model)}, {"handler", json::object()}}, std::move(done));
      });
  p.oauth = std::unique_ptr<oauth::oauth_context>(new oauth::oauth_context{
      *p.model, p.scopes, *p.signer, *p.sessions, web::oauth_settings_of(*p.web), web::oauth_pages(*p.web)});
  for (const auto& s : p.model->list_services())
    if (s->oauth_no_confirm && s->oauth_client_id) p.oauth->settings.no_confirm.insert(*s->oauth_client_id);

  web::register_page_routes(*p.router, *p.web);
  oauth::register_oauth_routes(*p.router, *p.oauth);
}

void hub_app::wait_for_shutdown() {
  auto& p = *parts_;
  std::unique_lock lock(p.mutex);
  p.cv.wait(lock, [&] { return p.shutdown_requested; });
}

void hub_app::stop() {
  auto& p = *parts_;
  {
    std::lock_guard lock(p.mutex);
    if (p.stopped) return;
    p.stopped = true;
  }
  if (p.server) p.server->stop();
  if (p.signals) p.signals->cancel();
  stop_spawn();
  stop_services();
  if (p.plugin_host) p.plugin_host->shutdown();
  if (p.io) {
    p.io->stop();
    p.io->join();
  }
  if (p.model) {
    if (auto s = p.model->flush(); !s) spdlog::error("database flush at shutdown failed: {}", s.err().message);
  }
}

std::vector<unsigned short> hub_app::ports() const {
  std::vector<unsigned short> out;
  if (parts_->server)
    for (auto port : parts_->server->ports()) out.push_back(port);
  return out;
}

// ==== spawn layer ==============================================================================
// The spawner plugin, the proxy and the server lifecycle (core/spawn/server_manager), wired into the
// API and page slots. Everything for it lives between these two rules.

struct spawn_layer {
  std::unique_ptr<session::model_membership> membership;
  std::unique_ptr<http::client> client;
  std::unique_ptr<proxy::chp_proxy> chp;  // null: no proxy (proxy_class = "none")
  std::unique_ptr<spawn::server_manager> manager;
  std::unique_ptr<boost::asio::steady_timer> route_timer;
  std::chrono::milliseconds route_interval{300'000};
  std::unique_ptr<boost::asio::steady_timer> activity_timer;
  std::chrono::milliseconds activity_interval{300'000};  // JupyterHub.last_activity_interval (0: never)
  bool cleanup_proxy = true;
  std::mutex mutex;
  bool stopped = false;

  // check_routes (JupyterHub's periodic route check): restart a CHP hubd started that died, then
  // re-add missing routes and drop stale ones.
  void arm_route_check(std::weak_ptr<spawn_layer> weak) {
    std::lock_guard lk(mutex);
    if (stopped || !chp || !route_timer || route_interval.count() <= 0) return;
    route_timer->expires_after(route_interval);
    route_timer->async_wait([weak](const boost::system::error_code& ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self) return;
      self->check_routes(weak);
    });
  }

  void arm_activity(std::weak_ptr<spawn_layer> weak) {
    std::lock_guard lk(mutex);
    if (stopped || !chp || !activity_timer || activity_interval.count() <= 0) return;
    activity_timer->expires_after(activity_interval);
    activity_timer->async_wait([weak](const boost::system::error_code& ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self) return;
      self->manager->update_activity([weak](std::string err) {
        if (!err.empty()) spdlog::warn("proxy: reading route activity failed: {}", err);
        if (auto s = weak.lock()) s->arm_activity(weak);
      });
    });
  }

  void check_routes(std::weak_ptr<spawn_layer> weak) {
    auto sync = [weak] {
      auto self = weak.lock();
      if (!self) return;
      self->manager->check_routes([weak](std::string err) {
        if (!err.empty()) spdlog::error("proxy: checking routes failed: {}", err);
        if (auto s = weak.lock()) s->arm_route_check(weak);
      });
    };
    if (chp->options().should_start && !chp->process_running()) {
      spdlog::warn("proxy-restarting: configurable-http-proxy is not running; starting it again");
      chp->start([sync, weak](std::string err) {
        if (!err.empty()) {
          spdlog::error("proxy: restarting configurable-http-proxy failed: {}", err);
          if (auto s = weak.lock()) s->arm_route_check(weak);
          return;
        }
        sync();
      });
      return;
    }
    sync();
  }
};

namespace {

// The answer of the spawn layer as the REST API writes it.
http::response spawn_response(const spawn::spawn_answer& a) {
  if (a.status == 201 || a.status == 202 || a.status == 204) return http::empty_response(a.status);
  auto r = http::error_response(a.status, a.message);
  if (a.retry_after > 0) r.set_header("Retry-After", std::to_string(a.retry_after));
  return r;
}

std::string proxy_auth_token(const json& chp) {
  std::string token = chp.value("auth_token", "");
  if (token.empty())
    if (const char* env = std::getenv("CONFIGPROXY_AUTH_TOKEN")) token = env;
  return token;
}

}  // namespace

void hub_app::wire_spawn() {
  auto& p = *parts_;
  const json& jh = cfg_.section("JupyterHub");
  auto settings = spawn::spawn_settings_from_config(cfg_.values);
  if (auto info = p.registry->require(plugins::plugin_kind::spawner, settings.spawner_class); !info)
    throw config_error(cfg_.where("JupyterHub.spawner_class") + ": " + info.error());

  auto layer = std::make_shared<spawn_layer>();
  layer->membership = std::make_unique<session::model_membership>(*p.model);
  layer->client = std::make_unique<http::client>(*p.io);
  layer->cleanup_proxy = jh.value("cleanup_proxy", true);

  const std::string proxy_class = jh.at("proxy_class").get<std::string>();
  proxy::route hub_route;
  if (proxy_class == "configurable-http-proxy") {
    const json& c = cfg_.section("ConfigurableHTTPProxy");
    proxy::chp_options o;
    o.api_url = c.value("api_url", o.api_url);
    o.should_start = c.value("should_start", true);
    o.auth_token = proxy_auth_token(c);
    if (o.auth_token.empty()) {
      if (!o.should_start)
        throw config_error(cfg_.where("ConfigurableHTTPProxy.auth_token") +
                           ": an external proxy needs its token (auth_token or $CONFIGPROXY_AUTH_TOKEN)");
      o.auth_token = store::generate_token();  // only hubd and the CHP it starts need to know it
    }
    if (c.contains("command") && c["command"].is_array() && !c["command"].empty())
      o.command = c["command"].get<std::vector<std::string>>();
    o.public_url = jh.value("bind_url", o.public_url);
    o.debug = c.value("debug", false);
    if (auto pid_file = c.value("pid_file", std::string()); !pid_file.empty() && o.should_start)
      o.pid_file = cfg_.resolve_path(pid_file).string();
    std::string hub_url = spawn::url_origin(settings.hub_api_url);
    o.error_target = hub_url + settings.base_url + "hub/error";
    layer->route_interval =
        std::chrono::milliseconds(static_cast<long long>(c.value("check_routes_interval", 300.0) * 1000));
    layer->route_timer = std::make_unique<boost::asio::steady_timer>(p.io->context());
    layer->activity_interval = std::chrono::seconds(jh.at("last_activity_interval").get<long long>());
    layer->activity_timer = std::make_unique<boost::asio::steady_timer>(p.io->context());
    layer->chp = std::make_unique<proxy::chp_proxy>(*p.io, *layer->client, std::move(o));
    hub_route = proxy::route{settings.base_url, hub_url, proxy::hub_route_data()};
  } else if (proxy_class != "none") {
    throw config_error(cfg_.where("JupyterHub.proxy_class") + ": unknown proxy \"" + proxy_class +
                       "\" (configurable-http-proxy or none)");
  }

  spawn::server_manager_deps deps{*p.model, p.scopes, *layer->membership, *p.registry, *p.io, *layer->client,
                                  layer->chp.get(), p.hooks, hub_route, {}, {}};
  if (auto authenticator = p.authenticator; authenticator->implements("pre_spawn_start"))
    deps.authenticator_pre_spawn = [authenticator](json input, std::function<void(bool, int, std::string, json)> done) {
      authenticator->pre_spawn_start(std::move(input), [done](plugins::op_result r) {
        done(r.ok(), r.http_status(), r.user_message(), r.value);
      });
    };
  if (auto authenticator = p.authenticator; authenticator->implements("post_spawn_stop"))
    deps.authenticator_post_stop = [authenticator](json input) {
      authenticator->post_spawn_stop(std::move(input), [](plugins::op_result r) {
        if (!r.ok()) spdlog::warn("spawn: the authenticator's post_spawn_stop failed: {}", r.user_message());
      });
    };
  layer->manager = std::make_unique<spawn::server_manager>(std::move(deps), settings);
  // Before the hub listens: only the servers recorded now are the adoption pass's business.
  layer->manager->claim_recorded();
  p.spawn = layer;

  // The REST API's slots.
  auto* manager = layer->manager.get();
  auto& slot = p.api->spawn;
  slot.class_name = settings.spawner_class;
  slot.start = [manager](const std::string& user, const std::string& server, const json& options,
                         api::spawn_slot::answer done) {
    manager->start(user, server, options, [done](spawn::spawn_answer a) { done(spawn_response(a)); });
  };
  slot.stop = [manager](const std::string& user, const std::string& server, api::spawn_slot::answer done) {
    manager->stop(user, server, false, [done](spawn::spawn_answer a) { done(spawn_response(a)); });
  };
  slot.remove = [manager](const std::string& user, const std::string& server, api::spawn_slot::answer done) {
    manager->stop(user, server, true, [done](spawn::spawn_answer a) { done(spawn_response(a)); });
  };
  slot.progress = [manager](const std::string& user, const std::string& server, api::spawn_slot::answer done) {
    manager->progress(user, server, [done](int status, std::string body, std::shared_ptr<http::body_stream> stream) {
      if (status != 200) return done(http::error_response(status, body));
      http::response r;
      r.status = 200;
      r.body = std::move(body);
      r.stream = std::move(stream);
      r.set_header("Content-Type", "text/event-stream");
      r.set_header("Cache-Control", "no-cache");
      done(std::move(r));
    });
  };
  if (auto* chp = layer->chp.get()) {
    std::weak_ptr<spawn_layer> weak = layer;
    p.api->proxy.get_routes = [chp](std::function<void(std::optional<json>)> done) {
      chp->get_all_routes([done](proxy::route_table routes, std::string err) {
        if (!err.empty()) return done(std::nullopt);
        json out = json::object();
        for (const auto& [spec, r] : routes) {
          json data = r.data;
          out[spec] = {{"routespec", spec}, {"target", r.target}, {"data", data}};
        }
        done(out);
      });
    };
    p.api->proxy.resync = [manager](std::function<void(bool)> done) {
      manager->check_routes([done](std::string err) { done(err.empty()); });
    };
    p.api->proxy.reconfigure = [chp, manager](const json& patch, std::function<void(bool)> done) {
      chp->reconfigure(patch.value("api_url", std::string()), patch.value("auth_token", std::string()));
      manager->check_routes([done](std::string err) { done(err.empty()); });
    };
  }

  // The pages' port.
  auto& port = p.web->spawn;
  port.start = [manager](std::string user, std::string server, json options,
                         std::function<void(int, std::string)> done) {
    // Like JupyterHub's spawn page: a second at most, then the pending page shows the progress.
    manager->start(user, server, options, [done](spawn::spawn_answer a) { done(a.status, a.message); },
                   std::chrono::seconds(1));
  };
  port.stop_all = [manager](std::string user, std::function<void()> done) { manager->stop_all(user, std::move(done)); };
  port.last_failure = [manager](std::string user, std::string server) { return manager->last_failure(user, server); };
  // Spawner.options_form: the HTML the spawn page shows before starting (JupyterHub's string form).
  if (auto form = cfg_.get("Spawner", "options_form").get<std::string>(); !form.empty())
    port.options_form = [form](const std::string&, const std::string&) { return form; };
}

void hub_app::start_spawn() {
  auto& p = *parts_;
  auto layer = p.spawn;
  if (!layer) return;
  if (layer->chp) {
    // Like JupyterHub: the proxy must answer before the hub says it is up.
    auto result = std::make_shared<std::promise<std::string>>();
    auto answer = result->get_future();
    layer->chp->start([result](std::string err) { result->set_value(std::move(err)); });
    if (answer.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
      throw std::runtime_error("the proxy did not start within 30 s");
    if (auto err = answer.get(); !err.empty()) throw std::runtime_error("proxy: " + err);
  }
  layer->manager->resume();
  if (layer->chp) layer->check_routes(layer);  // adds the hub route now, then every check_routes_interval
  if (layer->chp) layer->arm_activity(layer);
}

void hub_app::stop_spawn() {
  auto& p = *parts_;
  auto layer = p.spawn;
  if (!layer) return;
  {
    std::lock_guard lk(layer->mutex);
    if (layer->stopped) return;
    layer->stopped = true;
    if (layer->route_timer) layer->route_timer->cancel();
    if (layer->activity_timer) layer->activity_timer->cancel();
  }
  std::optional<bool> servers, proxy;
  {
    std::lock_guard lock(p.mutex);
    servers = p.shutdown_servers;
    proxy = p.shutdown_proxy;
  }
  if (servers) layer->manager->shutdown(*servers);
  else layer->manager->shutdown();
  if (layer->chp && proxy.value_or(layer->cleanup_proxy)) layer->chp->stop();
}

// ==== end of the spawn layer ===================================================================

// ==== services =================================================================================
// Config services' OAuth clients (secret: the api_token) and the managed service processes
// (core/app/managed_services), wired into the API's slot. Everything for it lives between these two rules.

struct services_layer {
  std::shared_ptr<managed_services> manager;  // null: no managed service
};

namespace {

bool has_value(const json& s, const char* key) { return s.contains(key) && !s[key].is_null(); }

std::string current_user_name() {
  if (const passwd* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return {};
}

}  // namespace

void hub_app::wire_services() {
  auto& p = *parts_;
  const json& jh = cfg_.section("JupyterHub");
  const std::string base_url = normalized_base_url(jh.at("base_url"));
  const std::string hub_api_url = spawn::spawn_settings_from_config(cfg_.values).hub_api_url;
  const auto parent_env = current_environment();
  std::vector<managed_service_spec> specs;

  const json& services = jh.at("services");
  for (std::size_t i = 0; i < services.size(); ++i) {
    const json& s = services[i];
    const std::string key = "JupyterHub.services[" + std::to_string(i) + "]";
    const std::string name = s.at("name");
    auto row = p.model->find_service(name);  // apply_config saved every config service
    if (!row) throw std::runtime_error("service " + name + " is missing from the database after start-up");
    std::vector<std::string> command;
    if (has_value(s, "command")) command = s["command"].get<std::vector<std::string>>();
    for (const auto& arg : command)
      if (arg.find('\0') != std::string::npos) throw config_error(cfg_.where(key + ".command") + ": contains a NUL byte");
    const bool managed = !command.empty();  // JupyterHub: an empty command means external

    std::optional<std::string> secret;
    if (has_value(s, "api_token")) secret = s["api_token"].get<std::string>();
    if (managed && !secret) {
      // Like JupyterHub: a managed service without api_token gets a new one at every start. The one
      // of the previous run goes, so a stopped hub leaves at most one such token per service.
      for (const auto& t : p.model->tokens_of(model::holder_kind::service, name))
        if (t->note == "generated at startup")
          if (auto r = p.model->wait([&](auto done) { return p.model->delete_token(t->id, done); }); !r)
            throw std::runtime_error("removing the old token of service " + name + ": " + r.err().message);
      model::new_token nt{model::holder_kind::service, name, {"inherit"}};
      nt.note = "generated at startup";
      auto created = p.model->wait([&](auto done) { return p.model->create_token(nt, done); });
      if (!created) throw std::runtime_error("creating the token of service " + name + ": " + created.err().message);
      secret = created.value().secret;
    }

    const std::string client_id = oauth::service_client_id(*row);
    if (oauth::service_wants_client(*row)) {
      auto r = p.model->wait([&](auto done) { return oauth::register_service_client(*p.model, base_url, *row, secret, done); });
      if (!r) throw std::runtime_error("registering the OAuth client of service " + name + ": " + r.err().message);
      spdlog::info("service {}: OAuth client {} with redirect URI {}{}", name, client_id,
                   oauth::service_redirect_uri(base_url, *row), secret ? "" : " (no api_token: it cannot complete OAuth)");
    } else if (p.model->find_oauth_client(client_id)) {
      if (auto r = p.model->wait([&](auto done) { return p.model->delete_oauth_client(client_id, done); }); !r)
        throw std::runtime_error("removing the unused OAuth client of service " + name + ": " + r.err().message);
    }
    if (!managed) continue;

    std::string user = has_value(s, "user") ? s["user"].get<std::string>() : "";
    // Running as another system user needs root and setuid; hubd does not switch users, so it
    // refuses rather than run the service with the wrong identity.
    if (!user.empty() && user != current_user_name())
      throw config_error(cfg_.where(key + ".user") + ": hubd runs managed services as its own user (" +
                         current_user_name() + "); running one as '" + user +
                         "' is not supported: leave `user` out or set it to '" + current_user_name() + "'");
    service_env_input in;
    in.name = name;
    in.url = row->url;
    in.api_token = *secret;
    in.client_id = client_id;
    in.base_url = base_url;
    in.hub_api_url = hub_api_url;
    in.public_url = jh.value("public_url", "");
    in.allowed_scopes = row->oauth_allowed_scopes;
    in.user = user;
    in.admin_access = jh.value("admin_access", false);
    in.cookie_host_prefix_enabled = jh.value("cookie_host_prefix_enabled", false);
    if (jh.contains("cookie_options") && jh["cookie_options"].is_object()) in.cookie_options = jh["cookie_options"];
    if (has_value(s, "environment"))
      for (const auto& [k, v] : s["environment"].items())
        in.environment[k] = v.is_string() ? v.get<std::string>() : v.dump();
    in.parent_env = parent_env;
    managed_service_spec spec;
    spec.name = name;
    spec.command = std::move(command);
    spec.env = service_environment(in);
    if (has_value(s, "cwd") && !s["cwd"].get<std::string>().empty()) {
      spec.cwd = cfg_.resolve_path(s["cwd"].get<std::string>()).string();
      if (!std::filesystem::is_directory(spec.cwd))
        throw config_error(cfg_.where(key + ".cwd") + ": " + spec.cwd + " is not a folder");
    }
    specs.push_back(std::move(spec));
  }

  auto layer = std::make_shared<services_layer>();
  if (!specs.empty()) {
    layer->manager = std::make_shared<managed_services>(std::move(specs));
    p.api->managed_services.status = [manager = layer->manager](std::string_view name)
        -> std::optional<api::managed_service_slot::info> {
      auto st = manager->status_of(name);
      if (!st) return std::nullopt;
      return api::managed_service_slot::info{st->command, st->pid};
    };
  }
  p.services = layer;
}

void hub_app::start_services() {
  auto& p = *parts_;
  if (p.services && p.services->manager) p.services->manager->start();
}

void hub_app::stop_services() {
  auto& p = *parts_;
  if (p.services && p.services->manager) p.services->manager->stop();
}

// ==== end of the services block ================================================================

}  // namespace hubd::core::app
