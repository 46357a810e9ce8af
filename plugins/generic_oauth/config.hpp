#pragma once
// [plugins.generic-oauth]: GenericOAuthenticator's trait names and defaults (oauthenticator 17), plus
// `issuer` for OpenID Connect discovery. Every key is checked at create; an unknown one is refused
// by name.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace generic_oauth {

struct settings {
  std::string client_id;
  std::string client_secret;
  std::string oauth_callback_url;  // empty: guessed from the request (Host, X-Forwarded-Proto)
  std::string authorize_url;       // empty: from discovery
  std::string token_url;
  std::string userdata_url;
  std::vector<std::string> scope;
  std::string username_claim = "username";
  std::string auth_state_groups_key = "oauth_user.groups";  // dotted path into auth_state
  std::set<std::string> allowed_groups;
  std::set<std::string> admin_groups;
  std::string login_service;  // checked here; the hub reads it from the table for the login button
  std::string logout_redirect_url;
  bool basic_auth = false;
  std::map<std::string, std::string> token_params;
  std::map<std::string, std::string> extra_authorize_params;
  bool validate_server_cert = true;
  bool enable_pkce = true;
  std::string issuer;  // empty: no discovery, no id_token verification
};

// The settings, or the message naming the bad key ("[plugins.generic-oauth] KEY: ...").
struct parsed_settings {
  std::optional<settings> value;
  std::string error;
};
parsed_settings parse_settings(const nlohmann::json& config);

}  // namespace generic_oauth
