#include "core/spawn/env_contract.hpp"

#include "core/http/url_codec.hpp"
#include "core/model/oauth_client_id.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace hubd::core::spawn {

namespace {


std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

// Python's str() of a float for the CPU env vars: "1.0", "0.5".
std::string python_number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Shortest form that round-trips, like Python's repr.
  for (int prec = 1; prec <= 17; ++prec) {
    char t[32];
    std::snprintf(t, sizeof t, "%.*g", prec, v);
    if (std::strtod(t, nullptr) == v) return t;
  }
  return buf;
}

void python_json_into(const nlohmann::json& v, std::string& out) {
  if (v.is_object()) {
    out += '{';
    bool first = true;
    for (auto& [k, x] : v.items()) {
      if (!first) out += ", ";
      first = false;
      python_json_into(nlohmann::json(k), out);
      out += ": ";
      python_json_into(x, out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    bool first = true;
    for (auto& x : v) {
      if (!first) out += ", ";
      first = false;
      python_json_into(x, out);
    }
    out += ']';
  } else {
    out += v.dump(-1, ' ', true);
  }
}

}  // namespace

std::string escape_path(std::string_view s) { return http::url_escape_path(s); }
std::string quote(std::string_view s) { return http::percent_encode(s, "/"); }

std::string server_prefix(std::string_view base_url, std::string_view user, std::string_view server) {
  std::string out(base_url);
  if (out.empty() || out.back() != '/') out += '/';
  out += "user/" + escape_path(user) + "/";
  if (!server.empty()) out += escape_path(server) + "/";
  return out;
}

std::string oauth_client_id(std::string_view user, std::string_view server) {
  return model::server_client_id(user, server);
}

std::string oauth_callback_url(std::string_view base_url, std::string_view user, std::string_view server) {
  return server_prefix(base_url, user, server) + "oauth_callback";
}

std::string access_scope(std::string_view user, std::string_view server) {
  return "access:servers!server=" + std::string(user) + "/" + std::string(server);
}

std::vector<std::string> env_access_scopes(std::string_view user, std::string_view server) {
  return {access_scope(user, server), "access:servers!user=" + std::string(user)};
}

token_request server_token_request(const std::vector<std::string>& configured,
                                   const std::vector<std::string>& server_role_scopes, std::string_view user,
                                   std::string_view server) {
  const auto& base = configured.empty() ? server_role_scopes : configured;
  std::set<std::string> scopes;
  const std::string bound = "=" + std::string(user) + "/" + std::string(server);
  for (const auto& s : base) {
    if (s.size() >= 7 && s.compare(s.size() - 7, 7, "!server") == 0) scopes.insert(s + bound);
    else scopes.insert(s);
  }
  token_request r;
  if (!scopes.count("users:activity!user") && !scopes.count("users:activity") && !scopes.count("inherit")) {
    scopes.insert("users:activity!user");
    r.added_activity = true;
  }
  r.scopes.assign(scopes.begin(), scopes.end());
  return r;
}

std::string format_spawner_string(std::string_view tmpl, std::string_view user, std::string_view server,
                                  std::string_view base_url) {
  std::string s(tmpl);
  s = replace_all(s, "{unescaped_username}", user);
  s = replace_all(s, "{unescaped_servername}", server);
  s = replace_all(s, "{username}", escape_path(user));
  s = replace_all(s, "{servername}", escape_path(server));
  s = replace_all(s, "{base_url}", base_url);
  return s;
}

std::string python_json(const nlohmann::json& v) {
  std::string out;
  python_json_into(v, out);
  return out;
}

env_map build_env(const env_inputs& in) {
  env_map env;
  for (const auto& key : in.env_keep) {
    if (auto it = in.hub_environ.find(key); it != in.hub_environ.end()) env[key] = it->second;
  }
  env["JUPYTERHUB_API_TOKEN"] = in.api_token;
  env["JPY_API_TOKEN"] = in.api_token;
  if (in.admin_access) env["JUPYTERHUB_ADMIN_ACCESS"] = "1";
  env["JUPYTERHUB_CLIENT_ID"] = in.client_id;
  if (in.cookie_options.is_object() && !in.cookie_options.empty())
    env["JUPYTERHUB_COOKIE_OPTIONS"] = python_json(in.cookie_options);
  env["JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"] = in.cookie_host_prefix_enabled ? "1" : "0";
  env["JUPYTERHUB_HOST"] = in.public_host;
  env["JUPYTERHUB_OAUTH_CALLBACK_URL"] = oauth_callback_url(in.base_url, in.user, in.server_name);
  const std::string access = python_json(nlohmann::json(in.access_scopes));
  env["JUPYTERHUB_OAUTH_SCOPES"] = access;
  env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"] = access;
  env["JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES"] = python_json(nlohmann::json(in.client_allowed_scopes));
  env["JUPYTERHUB_USER"] = in.user;
  env["JUPYTERHUB_SERVER_NAME"] = in.server_name;
  env["JUPYTERHUB_API_URL"] = in.hub_api_url;
  std::string api = in.hub_api_url;
  if (!api.empty() && api.back() == '/') api.pop_back();
  env["JUPYTERHUB_ACTIVITY_URL"] = api + "/users/" + escape_path(in.user) + "/activity";
  // The hub prefix minus "hub/": base_url itself.
  env["JUPYTERHUB_BASE_URL"] = in.base_url;
  const std::string prefix = server_prefix(in.base_url, in.user, in.server_name);
  env["JUPYTERHUB_SERVICE_PREFIX"] = prefix;
  std::string host = in.ip.find(':') != std::string::npos ? "[" + in.ip + "]" : in.ip;
  env["JUPYTERHUB_SERVICE_URL"] = "http://" + host + ":" + std::to_string(in.port) + prefix;
  env["JUPYTERHUB_PUBLIC_URL"] = in.public_url;
  env["JUPYTERHUB_PUBLIC_HUB_URL"] = in.public_hub_url;
  if (!in.mem_limit.empty()) env["MEM_LIMIT"] = in.mem_limit;
  if (!in.mem_guarantee.empty()) env["MEM_GUARANTEE"] = in.mem_guarantee;
  if (in.cpu_limit != 0) env["CPU_LIMIT"] = python_number(in.cpu_limit);
  if (in.cpu_guarantee != 0) env["CPU_GUARANTEE"] = python_number(in.cpu_guarantee);
  if (!in.notebook_dir.empty())
    env["JUPYTERHUB_ROOT_DIR"] = format_spawner_string(in.notebook_dir, in.user, in.server_name, in.base_url);
  if (!in.default_url.empty())
    env["JUPYTERHUB_DEFAULT_URL"] = format_spawner_string(in.default_url, in.user, in.server_name, in.base_url);
  if (in.debug) env["JUPYTERHUB_DEBUG"] = "1";
  if (in.disable_user_config) env["JUPYTERHUB_DISABLE_USER_CONFIG"] = "1";
  for (const auto& [k, v] : in.environment) env[k] = v;
  return env;
}

}  // namespace hubd::core::spawn
