#include "core/app/hub_app.hpp"

#include "core/app/bootstrap.hpp"
#include "core/app/hook_events.hpp"
#include "core/app/internal_api.hpp"
#include "core/api/api_context.hpp"
#include "core/api/routes.hpp"
#include "core/oauth/oauth_routes.hpp"
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
#include "core/store/sqlite_store.hpp"

#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <future>
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

unsigned io_threads_from(const json& jh) {
  auto n = jh.at("io_threads").get<long long>();
  if (n > 0) return static_cast<unsigned>(n);
  return std::max(2u, std::thread::hardware_concurrency());
}

}  // namespace

struct hub_app::parts {
  // Declaration order is destruction order reversed: the server goes first, the model last.
  std::unique_ptr<model::hub_model> model;
  std::unique_ptr<plugins::plugin_host> plugin_host;
  std::unique_ptr<plugins::plugin_registry> registry;
  std::shared_ptr<plugins::authenticator_adapter> authenticator;
  std::vector<std::shared_ptr<plugins::hooks_adapter>> hooks;
  rbac::scope_table scopes;
  std::unique_ptr<http::cookie_signer> signer;
  std::unique_ptr<api::api_context> api;
  std::unique_ptr<web::web_context> web;
  std::unique_ptr<http::io_pool> io;
  std::unique_ptr<http::router> router;
  std::unique_ptr<internal_api> internal;
  std::unique_ptr<http::server> server;
  std::unique_ptr<boost::asio::signal_set> signals;

  std::mutex mutex;
  std::condition_variable cv;
  bool shutdown_requested = false;
  bool stopped = false;

  void request_shutdown() {
    {
      std::lock_guard lock(mutex);
      shutdown_requested = true;
    }
    cv.notify_all();
  }
};

hub_app::hub_app(config cfg) : cfg_(std::move(cfg)), parts_(std::make_unique<parts>()) {}

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
  p.registry->scan(cfg_.plugin_folders());
  const json& plugin_tables = cfg_.section("plugins");
  auto section_of = [&](const std::string& name) { return plugin_tables.value(name, json::object()); };

  const std::string auth_name = jh.at("authenticator_class");
  if (auto info = p.registry->require(plugins::plugin_kind::authenticator, auth_name); !info)
    throw config_error(cfg_.where("JupyterHub.authenticator_class") + ": " + info.error());
  auto authenticator = p.registry->create_authenticator(auth_name, section_of(auth_name));
  if (!authenticator) throw config_error(cfg_.where("plugins." + auth_name) + ": " + authenticator.error());
  p.authenticator = authenticator.value();

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

  // HTTP.
  p.io = std::make_unique<http::io_pool>(io_threads_from(jh));
  http::router_options ropts;
  ropts.base_url = normalized_base_url(jh.at("base_url"));
  ropts.version = HUBD_VERSION;
  p.router = std::make_unique<http::router>(ropts);
  wire_api(ropts.base_url);
  wire_pages();

  // The internal API and change events for plugins, once the routes they reach exist.
  p.internal = std::make_unique<internal_api>(*p.router, *p.io, ropts.base_url);
  p.internal->issue_tokens(*p.model, principals);
  p.plugin_host->set_api_handler([api = p.internal.get()](plugins::api_request req, plugins::api_responder respond) {
    api->handle(std::move(req), std::move(respond));
  });
  deliver_change_events(*p.model, p.hooks);

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

  p.signals = std::make_unique<boost::asio::signal_set>(p.io->context(), SIGINT, SIGTERM);
  p.signals->async_wait([&p](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", signo);
    p.request_shutdown();
  });
  p.io->start();
  auto ports = p.server->ports();
  spdlog::info("hubd is serving at http://{}:{}{}", hub_ep->host.empty() ? "*" : hub_ep->host,
               ports.empty() ? 0 : ports.front(), ropts.base_url + "hub/");
}

// Authenticator.load_managed_roles() at start-up (rbac.md §12). Start-up runs on the main thread,
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
  p.api = std::make_unique<api::api_context>(*p.model, p.scopes, cfg_.values, *p.signer);
  p.api->base_url = base_url;
  auto authenticator = p.authenticator;
  p.api->authenticator.normalize_username = [authenticator](std::string_view name) {
    return authenticator->normalize_username(name);
  };
  p.api->authenticator.validate_username = [authenticator](std::string_view name) {
    return !authenticator->validate_username(name).has_value();
  };
  p.api->authenticator.authenticate = [authenticator](const nlohmann::json& auth,
                                                      std::function<void(std::optional<std::string>)> done) {
    authenticator->authenticate(auth, [done = std::move(done)](plugins::op_result r) {
      if (r.ok() && r.value.is_object() && r.value.contains("name") && r.value["name"].is_string())
        done(r.value["name"].get<std::string>());
      else
        done(std::nullopt);
    });
  };
  p.api->authenticator.class_name = authenticator->name();
  p.api->shutdown = [&p](bool, bool) { p.request_shutdown(); };
  api::register_api_routes(*p.router, *p.api);
}

void hub_app::wire_pages() {
  auto& p = *parts_;
  auto options = web::web_options_from_config(cfg_.values);
  options.version = HUBD_VERSION;
  std::vector<std::filesystem::path> template_dirs;
  for (const auto& dir : cfg_.get("JupyterHub", "template_paths")) template_dirs.push_back(cfg_.resolve_path(dir.get<std::string>()));
  template_dirs.push_back(web::template_renderer::default_dir());
  p.web = std::unique_ptr<web::web_context>(new web::web_context{
      *p.model, p.scopes, *p.signer, std::move(options),
      std::make_shared<web::template_renderer>(template_dirs), {}, {}, {}, {}});

  auto authenticator = p.authenticator;
  auto& port = p.web->authenticator;
  port.name = authenticator->name();
  port.authenticate = [authenticator](nlohmann::json data, plugins::op_callback done) {
    authenticator->authenticate(std::move(data), std::move(done));
  };
  port.normalize_username = [authenticator](std::string_view n) { return authenticator->normalize_username(n); };
  port.validate_username = [authenticator](std::string_view n) { return authenticator->validate_username(n); };
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
  // post_auth hooks in the order the config lists their tables.
  for (const auto& hook : p.hooks)
    if (hook->subscribes("post_auth"))
      p.web->post_auth_hooks.push_back([hook](nlohmann::json model, plugins::op_callback done) {
        // The input shape of plugin_api/hubd/hooks.h; the result is a patch of the auth model.
        hook->call("post_auth", {{"auth_model", std::move(model)}, {"handler", json::object()}}, std::move(done));
      });
  for (const auto& s : p.model->list_services())
    if (s->oauth_no_confirm && s->oauth_client_id) p.web->oauth_no_confirm.insert(*s->oauth_client_id);

  web::register_page_routes(*p.router, *p.web);
  oauth::register_oauth_routes(*p.router, *p.web);
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

}  // namespace hubd::core::app
