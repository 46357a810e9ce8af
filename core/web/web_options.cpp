#include "core/plugins/install_layout.hpp"
#include "core/web/templates.hpp"
#include "core/web/web_context.hpp"

namespace hubd::core::web {
namespace {

const nlohmann::json& section(const nlohmann::json& config, const char* name) {
  static const nlohmann::json empty = nlohmann::json::object();
  auto it = config.find(name);
  return it != config.end() && it->is_object() ? *it : empty;
}

template <class T>
T get_or(const nlohmann::json& sec, const char* key, T fallback) {
  auto it = sec.find(key);
  if (it == sec.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return fallback;  // the config loader already rejected wrong types
  }
}

std::set<std::string, std::less<>> name_set(const nlohmann::json& sec, const char* key) {
  std::set<std::string, std::less<>> out;
  auto it = sec.find(key);
  if (it == sec.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.insert(v.get<std::string>());
  return out;
}

}  // namespace

web_options web_options_from_config(const nlohmann::json& config) {
  const auto& hub = section(config, "JupyterHub");
  const auto& auth = section(config, "Authenticator");
  web_options o;
  o.base_url = get_or<std::string>(hub, "base_url", "/");
  if (o.base_url.empty() || o.base_url.front() != '/') o.base_url = "/" + o.base_url;
  if (o.base_url.back() != '/') o.base_url.push_back('/');
  o.hub_prefix = o.base_url + "hub/";
  o.public_url = get_or<std::string>(hub, "public_url", "");
  o.cookie_max_age = std::chrono::seconds(static_cast<std::int64_t>(get_or<double>(hub, "cookie_max_age_days", 14) * 86400));
  o.cookie_host_prefix = get_or<bool>(hub, "cookie_host_prefix_enabled", false);
  o.default_url = get_or<std::string>(hub, "default_url", "");
  o.redirect_to_server = get_or<bool>(hub, "redirect_to_server", true);
  o.shutdown_on_logout = get_or<bool>(hub, "shutdown_on_logout", false);
  o.allow_named_servers = get_or<bool>(hub, "allow_named_servers", false);
  o.named_server_limit = get_or<std::int64_t>(hub, "named_server_limit_per_user", 0);
  o.user_redirect_limit = get_or<std::int64_t>(hub, "user_redirect_limit", 4);
  o.token_expires_in_max_seconds = get_or<std::int64_t>(hub, "token_expires_in_max_seconds", 0);
  o.oauth_require_pkce = get_or<bool>(hub, "oauth_require_pkce", false);
  auto oauth_expiry = get_or<std::int64_t>(hub, "oauth_token_expires_in", 0);
  o.oauth_token_expires_in = oauth_expiry > 0 ? std::chrono::seconds(oauth_expiry) : o.cookie_max_age;
  o.auto_login = get_or<bool>(auth, "auto_login", false);
  o.auto_login_oauth2_authorize = get_or<bool>(auth, "auto_login_oauth2_authorize", false);
  o.allowed_users = name_set(auth, "allowed_users");
  o.blocked_users = name_set(auth, "blocked_users");
  o.admin_users = name_set(auth, "admin_users");
  o.allow_all = get_or<bool>(auth, "allow_all", false);
  o.allow_existing_users = get_or<bool>(auth, "allow_existing_users", false);
  o.enable_auth_state = get_or<bool>(auth, "enable_auth_state", false);
  o.manage_groups = get_or<bool>(auth, "manage_groups", false);
  o.manage_roles = get_or<bool>(auth, "manage_roles", false);
  o.keep_default_roles = get_or<bool>(auth, "keep_default_roles", false);
  if (auto it = auth.find("username_map"); it != auth.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      if (v.is_string()) o.username_map.emplace(k, v.get<std::string>());
  o.static_dir = plugins::shipped_data_dir() / "static";
  o.logo_file = o.static_dir / "img" / "logo.svg";
  return o;
}

}  // namespace hubd::core::web
