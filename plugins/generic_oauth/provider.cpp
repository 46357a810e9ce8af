#include "provider.hpp"

#include "encoding.hpp"

#include <hubd/abi.h>

#include <algorithm>

namespace generic_oauth {
namespace {

using json = nlohmann::json;
using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::chrono::seconds kid_retry{60};
constexpr std::chrono::seconds refetch_window{60};
constexpr std::size_t refetches_per_window = 6;

std::string string_of(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

milliseconds budget::remaining() const {
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(end_ - clock::now()));
}

std::string describe_answer(const http_response& r) {
  if (!r.error.empty()) return r.error;
  std::string body;
  for (unsigned char c : r.body.substr(0, 300)) {
    if (c < 0x20 || c == 0x7f) body += ' ';
    else body += static_cast<char>(c);
  }
  if (r.body.size() > 300) body += "...";
  return "HTTP " + std::to_string(r.status) + (body.empty() ? " (empty body)" : ": " + body);
}

provider::provider(const settings& s, log_fn log) : settings_(s), log_(std::move(log)) {
  if (settings_.issuer.empty()) {
    discovered_ = endpoints{settings_.authorize_url, settings_.token_url, settings_.userdata_url, "", "", ""};
  }
}

fetch_result provider::fetch(http_request req, const budget& b) {
  fetch_result out;
  auto left = b.remaining();
  if (left.count() <= 0) {
    out.response.error = "the time for this request to the identity provider ran out";
    return out;
  }
  req.verify_tls = settings_.validate_server_cert;
  req.total_timeout = std::min(req.total_timeout, left);
  req.connect_timeout = std::min(req.connect_timeout, left);
  out.response = http_fetch(req);
  return out;
}

std::optional<endpoints> provider::get_endpoints(const budget& b, std::string& why) {
  {
    std::lock_guard lock(mutex_);
    if (discovered_) return discovered_;
  }
  // Discovery 4.1: any trailing slash of the issuer goes before the well-known path is appended.
  auto unslashed = [](std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
  };
  std::string url = unslashed(settings_.issuer) + "/.well-known/openid-configuration";
  http_request req;
  req.url = url;
  req.headers = {"Accept: application/json"};
  auto r = fetch(req, b).response;
  if (!r.ok()) {
    why = "discovery at " + url + " failed: " + describe_answer(r);
    return std::nullopt;
  }
  json doc = json::parse(r.body, nullptr, false);
  if (!doc.is_object()) {
    why = "discovery at " + url + " did not answer a JSON object";
    return std::nullopt;
  }
  // Discovery 4.3: the document's issuer must be the one we asked (a trailing slash typed or left
  // out in the config aside); from then on, the document's spelling is what iss must equal.
  if (string_of(doc, "issuer").empty() || unslashed(string_of(doc, "issuer")) != unslashed(settings_.issuer)) {
    why = "discovery at " + url + " names the issuer '" + string_of(doc, "issuer").substr(0, 200) + "', not '" +
          settings_.issuer + "'";
    return std::nullopt;
  }
  endpoints e;
  e.authorize = settings_.authorize_url.empty() ? string_of(doc, "authorization_endpoint") : settings_.authorize_url;
  e.token = settings_.token_url.empty() ? string_of(doc, "token_endpoint") : settings_.token_url;
  e.userinfo = settings_.userdata_url.empty() ? string_of(doc, "userinfo_endpoint") : settings_.userdata_url;
  e.jwks = string_of(doc, "jwks_uri");
  e.revocation = string_of(doc, "revocation_endpoint");
  e.issuer = string_of(doc, "issuer");
  if (e.authorize.empty() || e.token.empty() || e.jwks.empty()) {
    why = "discovery at " + url + " lacks authorization_endpoint, token_endpoint or jwks_uri";
    return std::nullopt;
  }
  std::lock_guard lock(mutex_);
  if (!discovered_) {
    discovered_ = e;
    log_(HUBD_LOG_INFO, "oauth: discovered the endpoints of " + settings_.issuer);
  }
  return discovered_;
}

std::shared_ptr<const key_set> provider::fetch_jwks(const std::string& uri, const budget& b, std::string& why) {
  http_request req;
  req.url = uri;
  req.headers = {"Accept: application/json"};
  auto r = fetch(req, b).response;
  if (!r.ok()) {
    why = "fetching the JWKS at " + uri + " failed: " + describe_answer(r);
    return nullptr;
  }
  json doc = json::parse(r.body, nullptr, false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    why = "the JWKS at " + uri + " is not a JSON key set";
    return nullptr;
  }
  return std::make_shared<const key_set>(doc);
}

id_token_result provider::verify_id_token(const std::string& jwks_uri, const std::string& token,
                                          const std::optional<std::string>& nonce, const budget& b) {
  id_token_expectations expect{settings_.issuer, settings_.client_id, nonce, unix_now(), 10};
  {
    std::lock_guard lock(mutex_);
    if (discovered_ && !discovered_->issuer.empty()) expect.issuer = discovered_->issuer;
  }
  std::shared_ptr<const key_set> keys;
  {
    std::lock_guard lock(mutex_);
    keys = jwks_;
  }
  if (!keys) {
    std::string why;
    keys = fetch_jwks(jwks_uri, b, why);
    if (!keys) return id_token_result{jws_error::unknown_kid, why, {}};
    std::lock_guard lock(mutex_);
    jwks_ = keys;
  }
  auto r = generic_oauth::verify_id_token(token, *keys, expect);
  if (r.error != jws_error::unknown_kid) return r;

  // An unknown kid usually means the provider rotated its keys: fetch the set again, within limits,
  // so a stream of tokens with made-up kids cannot turn the hub into a JWKS hammer.
  auto header = base64url_decode(token.substr(0, token.find('.')));
  json h = header ? json::parse(*header, nullptr, false) : json();
  std::string kid = h.is_object() ? h.value("kid", "") : "";
  auto now = clock::now();
  {
    std::lock_guard lock(mutex_);
    while (!refetches_.empty() && now - refetches_.front() > refetch_window) refetches_.pop_front();
    auto missed = missed_kids_.find(kid);
    if ((missed != missed_kids_.end() && now - missed->second < kid_retry) || refetches_.size() >= refetches_per_window) {
      r.message += " (the JWKS was fetched again recently)";
      return r;
    }
    refetches_.push_back(now);
    missed_kids_[kid] = now;
    if (missed_kids_.size() > 64) missed_kids_.clear();
  }
  std::string why;
  auto fetched = fetch_jwks(jwks_uri, b, why);
  if (!fetched) return id_token_result{jws_error::unknown_kid, why, {}};
  log_(HUBD_LOG_INFO, "oauth: fetched the provider's JWKS again (an id_token named a key it did not have)");
  {
    std::lock_guard lock(mutex_);
    jwks_ = fetched;
  }
  expect.now = unix_now();
  return generic_oauth::verify_id_token(token, *fetched, expect);
}

fetch_result provider::token_request(const std::string& url, std::map<std::string, std::string> fields, const budget& b) {
  http_request req;
  req.method = "POST";
  req.url = url;
  req.headers = {"Accept: application/json", "Content-Type: application/x-www-form-urlencoded; charset=utf-8"};
  if (settings_.basic_auth) {
    // RFC 6749 2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
    req.headers.push_back("Authorization: Basic " + base64_encode(percent_encode(settings_.client_id) + ":" +
                                                                  percent_encode(settings_.client_secret)));
  } else {
    fields["client_id"] = settings_.client_id;
    fields["client_secret"] = settings_.client_secret;
  }
  req.body = form_encode(fields);
  return fetch(std::move(req), b);
}

fetch_result provider::userinfo_request(const std::string& url, const std::string& access_token,
                                        const std::string& token_type, const budget& b) {
  std::string scheme = "Bearer";
  std::string lower = token_type;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!token_type.empty() && lower != "bearer") scheme = token_type;
  http_request req;
  req.url = url;
  req.headers = {"Accept: application/json", "Authorization: " + scheme + " " + access_token};
  return fetch(std::move(req), b);
}

}  // namespace generic_oauth
