#include "config.hpp"

#include <functional>

namespace generic_oauth {
namespace {

using json = nlohmann::json;
constexpr const char* table = "[plugins.generic-oauth] ";

bool is_url(const std::string& s) { return s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0; }

struct reader {
  std::string error;

  bool fail(const std::string& key, const std::string& why) {
    error = table + key + ": " + why;
    return false;
  }
  bool string(const std::string& key, const json& v, std::string& out) {
    if (!v.is_string()) return fail(key, "must be a string");
    out = v.get<std::string>();
    return true;
  }
  bool url(const std::string& key, const json& v, std::string& out) {
    if (!string(key, v, out)) return false;
    if (!out.empty() && !is_url(out)) return fail(key, "must be an http:// or https:// URL, not '" + out + "'");
    return true;
  }
  bool boolean(const std::string& key, const json& v, bool& out) {
    if (!v.is_boolean()) return fail(key, "must be true or false");
    out = v.get<bool>();
    return true;
  }
  template <class C>
  bool strings(const std::string& key, const json& v, C& out) {
    if (!v.is_array()) return fail(key, "must be a list of strings");
    for (const auto& e : v) {
      if (!e.is_string()) return fail(key, "must be a list of strings");
      out.insert(out.end(), e.get<std::string>());
    }
    return true;
  }
  // Request parameters: strings, numbers and booleans become their text.
  bool params(const std::string& key, const json& v, std::map<std::string, std::string>& out) {
    if (!v.is_object()) return fail(key, "must be a table of name = value");
    for (const auto& [name, value] : v.items()) {
      if (value.is_string()) out[name] = value.get<std::string>();
      else if (value.is_boolean()) out[name] = value.get<bool>() ? "true" : "false";
      else if (value.is_number()) out[name] = value.dump();
      else return fail(key + "." + name, "must be a string, number or boolean");
    }
    return true;
  }
};

}  // namespace

parsed_settings parse_settings(const json& config) {
  parsed_settings out;
  if (!config.is_object() && !config.is_null()) {
    out.error = std::string(table) + "must be a table";
    return out;
  }
  settings s;
  reader r;
  std::optional<std::string> claim_groups_key;
  bool groups_key_set = false;
  using handler = std::function<bool(const std::string&, const json&)>;
  const std::map<std::string, handler> keys = {
      {"client_id", [&](auto& k, auto& v) { return r.string(k, v, s.client_id); }},
      {"client_secret", [&](auto& k, auto& v) { return r.string(k, v, s.client_secret); }},
      {"oauth_callback_url", [&](auto& k, auto& v) { return r.url(k, v, s.oauth_callback_url); }},
      {"authorize_url", [&](auto& k, auto& v) { return r.url(k, v, s.authorize_url); }},
      {"token_url", [&](auto& k, auto& v) { return r.url(k, v, s.token_url); }},
      {"userdata_url", [&](auto& k, auto& v) { return r.url(k, v, s.userdata_url); }},
      {"scope", [&](auto& k, auto& v) { return r.strings(k, v, s.scope); }},
      {"username_claim",
       [&](auto& k, auto& v) { return r.string(k, v, s.username_claim) && (!s.username_claim.empty() || r.fail(k, "must not be empty")); }},
      {"auth_state_groups_key",
       [&](auto& k, auto& v) {
         groups_key_set = true;
         return r.string(k, v, s.auth_state_groups_key) && (!s.auth_state_groups_key.empty() || r.fail(k, "must not be empty"));
       }},
      {"claim_groups_key",
       [&](auto& k, auto& v) {
         std::string c;
         if (!r.string(k, v, c)) return false;
         if (c.empty()) return r.fail(k, "must not be empty");
         claim_groups_key = c;
         return true;
       }},
      {"allowed_groups", [&](auto& k, auto& v) { return r.strings(k, v, s.allowed_groups); }},
      {"admin_groups", [&](auto& k, auto& v) { return r.strings(k, v, s.admin_groups); }},
      {"login_service", [&](auto& k, auto& v) { return r.string(k, v, s.login_service); }},
      {"logout_redirect_url", [&](auto& k, auto& v) { return r.url(k, v, s.logout_redirect_url); }},
      {"basic_auth", [&](auto& k, auto& v) { return r.boolean(k, v, s.basic_auth); }},
      {"token_params", [&](auto& k, auto& v) { return r.params(k, v, s.token_params); }},
      {"extra_authorize_params", [&](auto& k, auto& v) { return r.params(k, v, s.extra_authorize_params); }},
      {"validate_server_cert", [&](auto& k, auto& v) { return r.boolean(k, v, s.validate_server_cert); }},
      {"enable_pkce", [&](auto& k, auto& v) { return r.boolean(k, v, s.enable_pkce); }},
      {"issuer",
       [&](auto& k, auto& v) { return r.url(k, v, s.issuer); }},
  };
  if (config.is_object()) {
    for (const auto& [key, value] : config.items()) {
      auto it = keys.find(key);
      if (it == keys.end()) {
        std::string known;
        for (const auto& [name, fn] : keys) known += (known.empty() ? "" : ", ") + name;
        out.error = std::string(table) + "unknown config key '" + key + "' (known: " + known + ")";
        return out;
      }
      if (!it->second(key, value)) {
        out.error = r.error;
        return out;
      }
    }
  }
  // As oauthenticator: claim_groups_key is the older spelling of "<userinfo key>.<claim>".
  if (claim_groups_key && !groups_key_set) s.auth_state_groups_key = "oauth_user." + *claim_groups_key;
  if (s.client_id.empty()) {
    out.error = std::string(table) + "client_id: is required (the client id registered with the identity provider)";
    return out;
  }
  if (s.issuer.empty()) {
    for (const auto& [key, value] : {std::pair{"authorize_url", &s.authorize_url}, {"token_url", &s.token_url}, {"userdata_url", &s.userdata_url}}) {
      if (value->empty()) {
        out.error = std::string(table) + key + ": is required without issuer (or set issuer to discover it)";
        return out;
      }
    }
  }
  out.value = std::move(s);
  return out;
}

}  // namespace generic_oauth
