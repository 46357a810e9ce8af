#pragma once
// The OAuth 2.0 / OpenID Connect login and credential lifecycle of GenericOAuthenticator, in hubd's
// terms: oauth_login and oauth_callback are the plugin's routes (handle_request), refresh_user
// renews the tokens, logout revokes the refresh token. Each call answers with an ABI status and a
// JSON result; the ABI layer (generic_oauth.cpp) only completes the op with it.
#include "config.hpp"
#include "provider.hpp"
#include "state_cookie.hpp"

#include <hubd/abi.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace generic_oauth {

struct answer {
  hubd_status status = HUBD_OK;
  std::string json;  // the result, or for HUBD_FAILED {"status_code", "message"}
};

class oauth_authenticator {
public:
  oauth_authenticator(settings s, log_fn log);

  // handle_request: input {"method", "path", "query", "headers", "body", "cookies"}.
  answer handle_request(const nlohmann::json& request);
  // refresh_user: input {"user": {...}, "auth_state": {...}|null}; true, false, a partial model, or
  // a failure (transient: the hub keeps the login and asks again later).
  answer refresh_user(const nlohmann::json& input);
  // logout: input {"user", "auth_state"}; revokes the refresh token (RFC 7009) when the provider
  // has a revocation endpoint. Its result is ignored by the hub.
  answer logout(const nlohmann::json& input);
  // check_allowed: input {"name", "auth_model"}. As oauthenticator: members of allowed_groups and
  // admins (admin_groups) are admitted (true); anyone else is refused with a message (HUBD_DENIED),
  // which leaves the hub's allow_all, allowed_users, admin_users and allow_existing_users to admit
  // them; with allowed_groups empty only those do.
  answer check_allowed(const nlohmann::json& input) const;

  const settings& config() const { return settings_; }

  // Exposed for tests: a `next` that is a local path, or "" (never an open redirect).
  static std::string local_next(std::string_view next);
  // The groups at auth_state_groups_key (a dotted path into auth_state), sorted and unique.
  std::vector<std::string> groups_of(const nlohmann::json& auth_state) const;

private:
  answer login(const nlohmann::json& request);
  answer callback(const nlohmann::json& request);

  // Adds groups (and admin, when admin_groups is set) to model from its auth_state.
  void apply_groups(nlohmann::json& model) const;

  struct user_slot {
    std::mutex mutex;              // one refresh per user at a time
    std::string spent_rt;          // the refresh token the last rotation used up
    nlohmann::json latest;         // the auth_state that rotation produced
  };
  std::shared_ptr<user_slot> slot_of(const std::string& user);

  settings settings_;
  log_fn log_;
  provider provider_;
  state_sealer sealer_;
  std::mutex slots_mutex_;
  std::unordered_map<std::string, std::shared_ptr<user_slot>> slots_;
};

}  // namespace generic_oauth
