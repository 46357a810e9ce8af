#pragma once
// The environment contract of single-user servers (what jupyterhub-singleuser reads) and the names derived
// from a (user, server) pair: URL prefixes, OAuth client ids, access scopes, server-token scopes.
// Pure functions of their inputs: no clock, no process environment, no I/O.
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::spawn {

using env_map = std::map<std::string, std::string>;

// JupyterHub's url_escape_path: percent-encode everything but unreserved characters, '@' and '~'.
std::string escape_path(std::string_view s);
// Python's urllib.parse.quote(s) (safe='/'): used for OAuth client ids, which become cookie names.
std::string quote(std::string_view s);

// "/user/alice/" or "/user/alice/gpu/" under base_url (which ends in '/').
std::string server_prefix(std::string_view base_url, std::string_view user, std::string_view server);
// "jupyterhub-user-alice" or "jupyterhub-user-alice-gpu" (model::server_client_id: '-' in a name is %2D).
std::string oauth_client_id(std::string_view user, std::string_view server);
// The registered redirect URI: <prefix>oauth_callback.
std::string oauth_callback_url(std::string_view base_url, std::string_view user, std::string_view server);
// The client's narrow access scope: access:servers!server=U/S.
std::string access_scope(std::string_view user, std::string_view server);
// The env's list: ["access:servers!server=U/S", "access:servers!user=U"].
std::vector<std::string> env_access_scopes(std::string_view user, std::string_view server);

// The scopes requested for a server token before they are resolved against what the
// user holds: the configured ones, else the server role's; a bare trailing "!server" bound to U/S;
// users:activity!user added unless some activity scope or inherit is present (added_activity says so).
struct token_request {
  std::vector<std::string> scopes;  // sorted, unique
  bool added_activity = false;
};
token_request server_token_request(const std::vector<std::string>& configured,
                                   const std::vector<std::string>& server_role_scopes, std::string_view user,
                                   std::string_view server);

// Spawner.notebook_dir / default_url formatting: {username}, {servername}, {unescaped_username},
// {unescaped_servername}, {base_url}.
std::string format_spawner_string(std::string_view tmpl, std::string_view user, std::string_view server,
                                  std::string_view base_url);

// JSON text as Python's json.dumps writes it (", " and ": " separators, ASCII only): the clients
// parse it either way, this keeps the bytes identical to JupyterHub's.
std::string python_json(const nlohmann::json& v);

struct env_inputs {
  std::string user;
  std::string server_name;  // "" for the default server
  std::string api_token;    // the server token (also the OAuth client secret)
  std::string client_id;    // oauth_client_id(user, server)
  std::string hub_api_url;  // as reachable from the server: connect URL + hub prefix + "api"
  std::string base_url = "/";
  std::string public_host;     // scheme://host[:port] of public_url or subdomain_host, else ""
  std::string public_url;      // this server's public URL, or ""
  std::string public_hub_url;  // the hub's public URL including hub/, or ""
  std::string ip = "127.0.0.1";
  int port = 0;
  std::vector<std::string> access_scopes;          // env_access_scopes(user, server)
  std::vector<std::string> client_allowed_scopes;  // Spawner.oauth_client_allowed_scopes (resolved)
  nlohmann::json cookie_options = nlohmann::json::object();
  bool cookie_host_prefix_enabled = false;
  bool admin_access = false;
  std::string notebook_dir;  // unformatted Spawner.notebook_dir
  std::string default_url;   // unformatted Spawner.default_url
  bool debug = false;
  bool disable_user_config = false;
  std::string mem_limit, mem_guarantee;
  double cpu_limit = 0, cpu_guarantee = 0;
  std::vector<std::string> env_keep;
  env_map hub_environ;  // hubd's own environment; only the env_keep names are read
  env_map environment;  // Spawner.environment, applied last
};

// Every variable JupyterHub's spawner sets for a user server.
env_map build_env(const env_inputs& in);

}  // namespace hubd::core::spawn
