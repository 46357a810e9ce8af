#pragma once
// The identity provider as the plugin sees it: its endpoints (configured, or discovered from
// {issuer}/.well-known/openid-configuration), its JWKS, and the HTTP calls made to it. Discovery is
// lazy: a provider that is down when hubd starts does not stop the hub; every login retries until
// one discovery succeeds, which is then kept for the life of the process.
#include "config.hpp"
#include "http_client.hpp"
#include "jose.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace generic_oauth {

using log_fn = std::function<void(int level, const std::string& message)>;

// The time one operation may spend on the provider, shared by its requests (hubd's op timeout is
// 10 s by default; the plugin answers before it with a clear message).
class budget {
public:
  explicit budget(std::chrono::milliseconds total = std::chrono::milliseconds(9000))
      : end_(std::chrono::steady_clock::now() + total) {}
  std::chrono::milliseconds remaining() const;
  bool exhausted() const { return remaining().count() <= 0; }

private:
  std::chrono::steady_clock::time_point end_;
};

struct endpoints {
  std::string authorize, token, userinfo, jwks, revocation;
  std::string issuer;  // as the discovery document spells it: what iss must equal
};

struct fetch_result {
  http_response response;
  bool transient() const {  // no answer, or the provider's own trouble: try again later
    return !response.error.empty() || response.status >= 500 || response.status == 429 || response.status == 0;
  }
};

class provider {
public:
  provider(const settings& s, log_fn log);

  // The endpoints, discovering them when needed; nullopt with why when discovery failed.
  std::optional<endpoints> get_endpoints(const budget& b, std::string& why);

  // Verifies an id_token: signature against the JWKS (fetched once, refetched when a kid is
  // unknown: at most once per kid a minute, and six times a minute in all), then the claims.
  id_token_result verify_id_token(const std::string& jwks_uri, const std::string& token,
                                  const std::optional<std::string>& nonce, const budget& b);

  // POST to the token endpoint with the client's credentials (Basic or in the form, as basic_auth).
  fetch_result token_request(const std::string& url, std::map<std::string, std::string> fields, const budget& b);
  // GET the userinfo endpoint with the access token.
  fetch_result userinfo_request(const std::string& url, const std::string& access_token,
                                const std::string& token_type, const budget& b);
  fetch_result fetch(http_request req, const budget& b);

  const settings& config() const { return settings_; }

private:
  std::shared_ptr<const key_set> fetch_jwks(const std::string& uri, const budget& b, std::string& why);

  const settings& settings_;
  log_fn log_;
  std::mutex mutex_;
  std::optional<endpoints> discovered_;
  std::shared_ptr<const key_set> jwks_;  // null until first fetched; replaced whole on a refetch
  std::map<std::string, std::chrono::steady_clock::time_point> missed_kids_;
  std::deque<std::chrono::steady_clock::time_point> refetches_;
};

// A provider's error answer for the log: status and at most 300 characters of the body, control
// characters escaped. Only error answers are logged this way; they carry no tokens.
std::string describe_answer(const http_response& r);

}  // namespace generic_oauth
