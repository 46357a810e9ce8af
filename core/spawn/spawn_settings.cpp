#include "core/spawn/spawn_settings.hpp"

namespace hubd::core::spawn {

namespace {

using nlohmann::json;

const json& section(const json& config, const char* name) {
  static const json empty = json::object();
  if (!config.is_object()) return empty;
  auto it = config.find(name);
  return it != config.end() && it->is_object() ? *it : empty;
}

std::vector<std::string> strings(const json& s, const char* key, std::vector<std::string> fallback = {}) {
  auto it = s.find(key);
  if (it == s.end() || !it->is_array()) return fallback;
  std::vector<std::string> out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::string str(const json& s, const char* key, std::string fallback = {}) {
  auto it = s.find(key);
  return it != s.end() && it->is_string() ? it->get<std::string>() : fallback;
}

double number(const json& s, const char* key, double fallback) {
  auto it = s.find(key);
  return it != s.end() && it->is_number() ? it->get<double>() : fallback;
}

bool boolean(const json& s, const char* key, bool fallback) {
  auto it = s.find(key);
  return it != s.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::chrono::milliseconds seconds(const json& s, const char* key, double fallback) {
  return std::chrono::milliseconds(static_cast<long long>(number(s, key, fallback) * 1000));
}

std::string normalized_base(std::string b) {
  if (b.empty() || b.front() != '/') b.insert(b.begin(), '/');
  if (b.back() != '/') b.push_back('/');
  return b;
}

}  // namespace

std::string url_origin(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  auto path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

std::string hub_api_url_of(const std::string& url, const std::string& base_url) {
  std::string origin = url_origin(url);
  if (origin.empty()) origin = "http://127.0.0.1:8081";
  auto scheme_end = origin.find("://") + 3;
  std::string scheme = origin.substr(0, scheme_end);
  std::string hostport = origin.substr(scheme_end);
  // An all-interfaces bind address is not something a server can connect to: use loopback.
  if (hostport.empty() || hostport.front() == ':') hostport = "127.0.0.1" + hostport;
  else if (hostport.rfind("0.0.0.0", 0) == 0) hostport = "127.0.0.1" + hostport.substr(7);
  else if (hostport.rfind("[::]", 0) == 0) hostport = "[::1]" + hostport.substr(4);
  return scheme + hostport + normalized_base(base_url) + "hub/api";
}

spawn_settings spawn_settings_from_config(const json& config) {
  const json& jh = section(config, "JupyterHub");
  const json& sp = section(config, "Spawner");
  spawn_settings s;
  s.limits.allow_named_servers = boolean(jh, "allow_named_servers", false);
  s.limits.named_server_limit_per_user = static_cast<int>(number(jh, "named_server_limit_per_user", 0));
  s.limits.concurrent_spawn_limit = static_cast<int>(number(jh, "concurrent_spawn_limit", 100));
  s.limits.active_server_limit = static_cast<int>(number(jh, "active_server_limit", 0));
  s.spawner_class = str(jh, "spawner_class", "local");
  const json& plugins = section(config, "plugins");
  if (auto it = plugins.find(s.spawner_class); it != plugins.end() && it->is_object()) s.spawner_section = *it;

  s.base_url = normalized_base(str(jh, "base_url", "/"));
  std::string connect = str(jh, "hub_connect_url");
  s.hub_api_url = hub_api_url_of(connect.empty() ? str(jh, "hub_bind_url", "http://127.0.0.1:8081") : connect, s.base_url);
  s.public_host = url_origin(str(jh, "public_url"));

  s.cmd = strings(sp, "cmd", {"jupyterhub-singleuser"});
  if (s.cmd.empty()) s.cmd = {"jupyterhub-singleuser"};
  s.args = strings(sp, "args");
  if (auto it = sp.find("environment"); it != sp.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      if (v.is_string()) s.environment[k] = v.get<std::string>();
  s.env_keep = strings(sp, "env_keep");
  s.default_url = str(sp, "default_url");
  s.notebook_dir = str(sp, "notebook_dir");
  s.ip = str(sp, "ip", "127.0.0.1");
  s.port = static_cast<int>(number(sp, "port", 0));
  s.oauth_client_allowed_scopes = strings(sp, "oauth_client_allowed_scopes");
  s.server_token_scopes = strings(sp, "server_token_scopes");
  s.debug = boolean(sp, "debug", false);
  s.disable_user_config = boolean(sp, "disable_user_config", false);
  s.admin_access = boolean(jh, "admin_access", false);
  s.cookie_host_prefix_enabled = boolean(jh, "cookie_host_prefix_enabled", false);
  if (auto a = config.find("Authenticator"); a != config.end() && a->is_object())
    s.enable_auth_state = boolean(*a, "enable_auth_state", false);
  s.mem_limit = str(sp, "mem_limit");
  s.mem_guarantee = str(sp, "mem_guarantee");
  s.cpu_limit = number(sp, "cpu_limit", 0);
  s.cpu_guarantee = number(sp, "cpu_guarantee", 0);

  s.start_timeout = seconds(sp, "start_timeout", 60);
  s.http_timeout = seconds(sp, "http_timeout", 30);
  s.poll_interval = seconds(sp, "poll_interval", 30);
  s.slow_spawn_timeout = seconds(jh, "slow_spawn_timeout", 10);
  s.slow_stop_timeout = seconds(jh, "slow_stop_timeout", 10);
  s.cleanup_servers = boolean(jh, "cleanup_servers", true);
  return s;
}

}  // namespace hubd::core::spawn
