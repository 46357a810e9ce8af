// The one declaration of every config key hubd reads, with its default and a line of doc.
// Names and defaults follow JupyterHub's traitlets; hubd-only keys say so in their doc.
#include "core/app/config.hpp"

namespace hubd::core::app {
namespace {

using nlohmann::json;
using k = value_kind;

config_key later(config_key key) {
  key.not_supported_yet = true;
  return key;
}

std::vector<config_key> role_fields() {
  return {
      {"name", k::string, nullptr, "role name: 3-255 lowercase characters"},
      {"description", k::string, nullptr, "shown to people"},
      {"scopes", k::string_list, nullptr, "the role's scopes"},
      {"users", k::string_list, nullptr, "users holding the role (exactly this list)"},
      {"groups", k::string_list, nullptr, "groups holding the role (exactly this list)"},
      {"services", k::string_list, nullptr, "services holding the role (exactly this list)"},
  };
}

std::vector<config_key> service_fields() {
  return {
      {"name", k::string, nullptr, "service name"},
      {"url", k::string, nullptr, "where the proxy sends /services/NAME/"},
      {"api_token", k::string, nullptr, "the service's API token (also its OAuth client secret)"},
      {"command", k::string_list, nullptr, "makes it a managed service: hubd starts it with this command"},
      {"cwd", k::string, nullptr, "working folder of a managed service"},
      {"environment", k::string_map, json::object(), "extra environment of a managed service"},
      {"user", k::string, nullptr, "system user a managed service runs as (only hubd's own: hubd does not switch users)"},
      {"admin", k::boolean, false, "deprecated: grant the admin role when first created"},
      {"oauth_client_id", k::string, nullptr, "OAuth client id (must start with service-)"},
      {"oauth_redirect_uri", k::string, nullptr, "OAuth redirect URI (default <prefix>oauth_callback)"},
      {"oauth_client_allowed_scopes", k::string_list, json::array(), "scopes the service may request"},
      {"oauth_roles", k::string_list, nullptr, "deprecated since JupyterHub 3.0, refused: use oauth_client_allowed_scopes"},
      {"oauth_no_confirm", k::boolean, false, "skip the OAuth confirmation page"},
      {"display", k::boolean, true, "list it on the home page"},
      {"info", k::table, json::object(), "free information shown in the service model"},
  };
}

std::vector<config_section> make_schema() {
  return {
      {"JupyterHub",
       "The hub itself.",
       {
           {"bind_url", k::string, "http://:8000", "public URL the hub (or its proxy) listens on"},
           {"hub_bind_url", k::string, "http://127.0.0.1:8081", "where hubd's own HTTP server listens"},
           {"hub_connect_url", k::string, "", "the hub's URL as seen from spawned servers (default: hub_bind_url)"},
           {"base_url", k::string, "/", "URL prefix of everything hubd serves"},
           {"public_url", k::string, "", "the public URL people use, if known"},
           {"db_url", k::string, "sqlite:///jupyterhub.sqlite", "database: sqlite:///path (relative to the config file)"},
           {"data_dir", k::string, ".",
            "hubd: folder (relative to the config file) that relative db_url, cookie_secret_file and pid_file paths resolve against"},
           {"cookie_secret_file", k::string, "jupyterhub_cookie_secret", "file holding the cookie secret (mode 0600)"},
           {"cookie_max_age_days", k::number, 14, "login cookie lifetime"},
           {"cookie_host_prefix_enabled", k::boolean, false, "use __Host- cookie names"},
           {"plugins_dir", k::string, "plugins", "hubd: folder of plugin .so files (relative to the config file), scanned after <bin>/../lib/hubd/plugins"},
           {"plugin_paths", k::string_list, json::array(), "hubd: more folders or .so files to scan"},
           {"authenticator_class", k::string, "dummy", "registered name of the authenticator plugin"},
           {"spawner_class", k::string, "local", "registered name of the spawner plugin"},
           {"proxy_class", k::string, "configurable-http-proxy",
            "configurable-http-proxy (as JupyterHub: hubd starts or uses CHP, see [ConfigurableHTTPProxy]) or none "
            "(hubd: people reach hubd at hub_bind_url directly and servers are not routed)"},
           {"load_roles", k::array_of_tables, json::array(), "roles defined at start-up", role_fields()},
           {"load_groups", k::table, json::object(), "groups created at start-up: NAME = {users = [...], properties = {...}}"},
           {"custom_scopes", k::table, json::object(), "custom scopes: \"custom:NAME\" = {description = ..., subscopes = [...]}"},
           {"services", k::array_of_tables, json::array(), "services", service_fields()},
           {"extra_user_scopes", k::string_list, json::array(), "scopes added to the default user role"},
           {"api_page_default_limit", k::integer, 50, "default page size with the pagination envelope"},
           {"api_page_max_limit", k::integer, 200, "largest page size"},
           {"allow_named_servers", k::boolean, false, "allow users to have named servers"},
           {"named_server_limit_per_user", k::integer, 0, "named servers per user (0: no limit)"},
           {"concurrent_spawn_limit", k::integer, 100, "spawns pending at once (0: no limit)"},
           {"active_server_limit", k::integer, 0, "servers running or pending at once (0: no limit)"},
           {"token_expires_in_max_seconds", k::integer, 0, "longest token lifetime (0: no limit)"},
           {"oauth_token_expires_in", k::integer, 0, "OAuth token lifetime in seconds (0: cookie_max_age_days)"},
           {"oauth_require_pkce", k::boolean, false, "refuse OAuth authorization without PKCE"},
           {"default_url", k::string, "", "where /hub/ sends logged-in users"},
           {"redirect_to_server", k::boolean, true, "send people to their server after login"},
           {"shutdown_on_logout", k::boolean, false, "stop a user's servers when they log out"},
           {"cleanup_servers", k::boolean, true, "stop servers when hubd shuts down"},
           {"cleanup_proxy", k::boolean, true, "stop the proxy hubd started when hubd shuts down"},
           {"admin_access", k::boolean, false, "deprecated: admins may access users' servers"},
           later({"authenticate_prometheus", k::boolean, true, "require read:metrics for /metrics"}),
           {"activity_resolution", k::integer, 30, "seconds between activity updates of one token"},
           {"last_activity_interval", k::integer, 300, "seconds between copying proxy activity onto users and servers (0: never)"},
           {"slow_spawn_timeout", k::number, 10, "seconds an API spawn request waits before answering 202"},
           {"slow_stop_timeout", k::number, 10, "seconds an API stop request waits before answering 202"},
           {"user_redirect_limit", k::integer, 4, "redirects of /hub/user/... to a running server before an error page (loop guard)"},
           {"trust_user_provided_tokens", k::boolean, false,
            "configured tokens are known to be random: allow them from 8 characters (false: at least 16)"},
           {"ssl_cert", k::string, "", "TLS certificate (PEM) for hubd's listener"},
           {"ssl_key", k::string, "", "TLS key (PEM) for hubd's listener"},
           {"log_level", k::string, "INFO", "DEBUG, INFO, WARNING, ERROR or CRITICAL"},
           {"template_paths", k::string_list, json::array(), "folders searched for page templates first"},
           {"io_threads", k::integer, 0, "hubd: HTTP threads (0: number of cores)"},
           {"plugin_threads", k::integer, 4, "hubd: size of the plugin pool"},
           {"max_body_size", k::integer, 10485760, "hubd: largest request body in bytes (413 beyond)"},
           {"max_header_size", k::integer, 65536, "hubd: largest request header in bytes (431 beyond)"},
           {"request_timeout", k::number, 30, "hubd: seconds a client may take to send a request"},
           {"max_connections", k::integer, 10000, "hubd: open connections at once (503 beyond)"},
       }},
      {"Authenticator",
       "Who may log in. The authenticator plugin itself is named by JupyterHub.authenticator_class.",
       {
           {"admin_users", k::string_list, json::array(), "users granted the admin role"},
           {"allowed_users", k::string_list, json::array(), "users allowed to log in (empty: decided by the authenticator)"},
           {"blocked_users", k::string_list, json::array(), "users never allowed to log in"},
           {"allow_all", k::boolean, false, "allow every user the authenticator accepts"},
           {"allow_existing_users", k::boolean, false, "allow users already in the database"},
           {"enable_auth_state", k::boolean, false, "store auth_state encrypted (needs JUPYTERHUB_CRYPT_KEY)"},
           {"manage_groups", k::boolean, false, "the authenticator's groups set memberships at login"},
           {"manage_roles", k::boolean, false, "the authenticator's roles set role assignments at login"},
           {"keep_default_roles", k::boolean, false, "hubd: keep the user (and admin) role whatever managed roles say"},
           {"reset_managed_roles_on_startup", k::boolean, false, "delete managed roles not loaded at start-up"},
           {"auto_login", k::boolean, false, "skip the login page, go to the authenticator's login URL"},
           {"auto_login_oauth2_authorize", k::boolean, false, "auto_login for OAuth authorize requests"},
           {"delete_invalid_users", k::boolean, false, "delete users the authenticator no longer accepts"},
           {"username_pattern", k::string, "", "regular expression usernames must match from their start (as Python's re.match)"},
           {"username_map", k::string_map, json::object(), "map of login names to hub usernames"},
           {"refresh_pre_spawn", k::boolean, false, "refresh the user's auth (refresh_user) before every spawn; an expired login refuses the spawn"},
           {"refresh_pre_stop", k::boolean, false, "refresh the user's auth before every stop; an expired login refuses the user's own stop (admins and services stop anyway)"},
           {"auth_refresh_age", k::integer, 300,
            "seconds after a login or refresh before a request refreshes the user's auth (refresh_user) again (0: never by age)"},
           {"login_throttle", k::boolean, true,
            "hubd: slow down failed logins (login page and token API): after login_failure_limit failures, a wait doubling from 1 s"},
           {"login_failure_limit", k::integer, 5,
            "hubd: failed logins of one name from one address before the wait starts (10x per address, 40x per name)"},
           {"login_max_backoff", k::integer, 120, "hubd: longest wait in seconds a throttled login is asked for"},
       }},
      {"Spawner",
       "How single-user servers are started. The spawner plugin is named by JupyterHub.spawner_class.",
       {
           {"cmd", k::string_list, json::array({"jupyterhub-singleuser"}), "command of the single-user server"},
           {"args", k::string_list, json::array(), "extra arguments"},
           {"environment", k::string_map, json::object(), "extra environment (applied last)"},
           {"env_keep", k::string_list,
            json::array({"JUPYTERHUB_SINGLEUSER_APP", "PATH", "PYTHONPATH", "CONDA_ROOT", "CONDA_DEFAULT_ENV",
                         "VIRTUAL_ENV", "LANG", "LC_ALL", "LD_LIBRARY_PATH"}),
            "variables copied from hubd's environment"},
           {"default_url", k::string, "", "the server's default URL (JUPYTERHUB_DEFAULT_URL)"},
           {"notebook_dir", k::string, "", "the server's root folder (JUPYTERHUB_ROOT_DIR)"},
           {"ip", k::string, "127.0.0.1", "address the server binds"},
           {"port", k::integer, 0, "port the server binds (0: a free one)"},
           {"start_timeout", k::number, 60, "seconds start may take"},
           {"http_timeout", k::number, 30, "seconds until the started server must answer"},
           {"poll_interval", k::number, 30, "seconds between polls"},
           {"oauth_client_allowed_scopes", k::string_list, json::array(), "scopes the server's OAuth client may request"},
           {"server_token_scopes", k::string_list, json::array(), "scopes of $JUPYTERHUB_API_TOKEN (default: the server role)"},
           {"debug", k::boolean, false, "JUPYTERHUB_DEBUG=1"},
           {"disable_user_config", k::boolean, false, "JUPYTERHUB_DISABLE_USER_CONFIG=1"},
           {"mem_limit", k::string, "", "MEM_LIMIT"},
           {"mem_guarantee", k::string, "", "MEM_GUARANTEE"},
           {"cpu_limit", k::number, 0, "CPU_LIMIT (0: unset)"},
           {"cpu_guarantee", k::number, 0, "CPU_GUARANTEE (0: unset)"},
           {"options_form", k::string, "", "HTML of the spawn options form"},
       }},
      {"ConfigurableHTTPProxy",
       "The configurable-http-proxy that routes people to the hub and their servers.",
       {
           {"api_url", k::string, "http://127.0.0.1:8001", "the proxy's REST API"},
           {"auth_token", k::string, "", "the proxy's API token (default: $CONFIGPROXY_AUTH_TOKEN or generated)"},
           {"should_start", k::boolean, true, "start the proxy (false: use an external one)"},
           {"command", k::string_list, json::array({"configurable-http-proxy"}), "how to start it"},
           {"check_routes_interval", k::number, 300, "seconds between route checks"},
           {"debug", k::boolean, false, "start it with --log-level debug"},
           {"pid_file", k::string, "jupyterhub-proxy.pid", "pid of the CHP hubd starts (a killed hubd's CHP is stopped at the next start)"},
       }},
  };
}

}  // namespace

const std::vector<config_section>& config_schema() {
  static const std::vector<config_section> schema = make_schema();
  return schema;
}

const std::vector<config_key>& plugin_host_keys() {
  static const std::vector<config_key> keys = {
      {"timeout", k::number, 10, "seconds a hook of this plugin may take"},
      {"roles", k::string_list, json::array(), "roles of the plugin's principal for the internal API"},
      {"enabled", k::boolean, true, "set false to keep the table but not run the hook"},
  };
  return keys;
}

}  // namespace hubd::core::app
