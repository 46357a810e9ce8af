#include "authenticator.hpp"

#include "encoding.hpp"

#include <hubd/sdk.hpp>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <chrono>
#include <set>

namespace generic_oauth {
namespace {

using json = nlohmann::json;

constexpr const char* refused_message =
    "Sorry, you are not currently authorized to use this hub. Please contact the hub administrator.";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

answer fail(int status, const std::string& message) { return {HUBD_FAILED, hubd::sdk::error_json(status, message)}; }
answer ok(const json& value) { return {HUBD_OK, value.dump()}; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string header_of(const json& request, std::string_view name) {
  auto h = request.find("headers");
  if (h == request.end() || !h->is_object()) return {};
  for (const auto& [k, v] : h->items())
    if (lower(k) == name && v.is_string()) return v.get<std::string>();
  return {};
}

std::string string_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "/hub/oauth_login" -> "/hub/": the hub's prefix, where the state cookie lives.
std::string folder_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "/" : path.substr(0, slash + 1);
}

// The message of a provider's error answer for the page: its error_description or error, short.
std::string provider_error(const http_response& r) {
  json body = json::parse(r.body, nullptr, false);
  std::string what = body.is_object() ? string_at(body, "error_description") : "";
  if (what.empty() && body.is_object()) what = string_at(body, "error");
  if (what.size() > 200) what = what.substr(0, 200) + "...";
  return what;
}

// The token response's scope in oauthenticator's shape: a list, from a space- or comma-separated
// string (GitHub uses commas).
json scope_list(const json& token) {
  auto it = token.find("scope");
  if (it == token.end()) return json::array();
  if (it->is_array()) return *it;
  if (!it->is_string()) return json::array();
  std::string s = it->get<std::string>();
  char sep = s.find(' ') != std::string::npos ? ' ' : ',';
  json out = json::array();
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(sep, start);
    auto part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty()) out.push_back(part);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::optional<std::int64_t> expires_in_of(const json& token) {
  auto it = token.find("expires_in");
  if (it == token.end()) return std::nullopt;
  if (it->is_number()) return clamp_seconds(*it);
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

json expires_at_of(const json& token, std::int64_t now) {
  auto in = expires_in_of(token);
  return in ? json(now + *in) : json(nullptr);
}

std::string username_of(const json& userinfo, const std::string& claim) {
  auto it = userinfo.find(claim);
  if (it == userinfo.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();  // GitHub's numeric ids
  return {};
}

}  // namespace

oauth_authenticator::oauth_authenticator(settings s, log_fn log)
    : settings_(std::move(s)), log_(std::move(log)), provider_(settings_, log_) {}

std::string oauth_authenticator::local_next(std::string_view next) {
  // Only a path on this site: "/..." but not "//host" or "/\host" (browsers read both as another
  // host), and nothing a browser might treat as a line break or a scheme.
  if (next.empty() || next.front() != '/' || next.size() > 2048) return {};
  if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return {};
  for (unsigned char c : next)
    if (c < 0x20 || c == 0x7f || c == '\\') return {};
  return std::string(next);
}

std::vector<std::string> oauth_authenticator::groups_of(const json& auth_state) const {
  const json* at = &auth_state;
  std::string_view path = settings_.auth_state_groups_key;
  while (at && !path.empty()) {
    auto dot = path.find('.');
    std::string key(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (!at->is_object() || !at->contains(key)) {
      at = nullptr;
      break;
    }
    at = &(*at)[key];
  }
  std::set<std::string> groups;
  if (!at || !at->is_array()) {
    log_(HUBD_LOG_ERROR, "oauth: auth_state has no list at auth_state_groups_key '" + settings_.auth_state_groups_key +
                             "'; the user is in no group");
    return {};
  }
  for (const auto& g : *at)
    if (g.is_string()) groups.insert(g.get<std::string>());
  return {groups.begin(), groups.end()};
}

void oauth_authenticator::apply_groups(json& model) const {
  auto groups = groups_of(model["auth_state"]);
  model["groups"] = groups;
  bool admin = false;
  for (const auto& g : groups) admin = admin || settings_.admin_groups.count(g) > 0;
  // As oauthenticator: admin_groups decides admin only when it is set; otherwise the hub keeps it.
  if (!settings_.admin_groups.empty()) model["admin"] = admin;
}

answer oauth_authenticator::check_allowed(const json& input) const {
  const json& model = input.value("auth_model", json::object());
  std::string name = string_at(input, "name");
  if (model.is_object() && model.value("admin", json()) == json(true)) return ok(true);
  if (model.is_object() && model.contains("groups") && model["groups"].is_array())
    for (const auto& g : model["groups"])
      if (g.is_string() && settings_.allowed_groups.count(g.get<std::string>())) return ok(true);
  if (!settings_.allowed_groups.empty())
    log_(HUBD_LOG_INFO, "oauth: login of " + name.substr(0, 64) + " refused: in none of allowed_groups "
                        "(unless the hub's allowed_users, admin_users or allow_all admit it)");
  return {HUBD_DENIED, json{{"message", refused_message}}.dump()};
}

std::shared_ptr<oauth_authenticator::user_slot> oauth_authenticator::slot_of(const std::string& user) {
  std::lock_guard lock(slots_mutex_);
  auto& s = slots_[user];
  if (!s) s = std::make_shared<user_slot>();
  return s;
}

answer oauth_authenticator::handle_request(const json& request) {
  std::string path = string_at(request, "path");
  std::string route = path.substr(path.rfind('/') + 1);
  if (route == "oauth_login") return login(request);
  if (route == "oauth_callback") return callback(request);
  return fail(404, "No such page");
}

namespace {

std::string callback_url(const settings& s, const json& request) {
  if (!s.oauth_callback_url.empty()) return s.oauth_callback_url;
  // As oauthenticator without oauth_callback_url: guessed from the request that reached the hub.
  std::string proto = header_of(request, "x-forwarded-proto");
  proto = proto.substr(0, proto.find(','));
  if (proto != "https") proto = "http";
  std::string host = header_of(request, "host");
  return proto + "://" + host + folder_of(string_at(request, "path")) + "oauth_callback";
}

}  // namespace

answer oauth_authenticator::login(const json& request) {
  budget b;
  std::string why;
  auto ep = provider_.get_endpoints(b, why);
  if (!ep) {
    log_(HUBD_LOG_ERROR, "oauth: login cannot start: " + why);
    return fail(503, "The identity provider cannot be reached right now; please try again later.");
  }
  auto query = parse_query(string_at(request, "query"));
  login_state st;
  st.state_id = random_token(24);
  st.nonce = random_token(24);
  st.next = local_next(query.count("next") ? query["next"] : "");
  st.redirect_uri = callback_url(settings_, request);
  st.issued_at = unix_now();

  std::map<std::string, std::string> params = settings_.extra_authorize_params;
  params["response_type"] = "code";
  params["client_id"] = settings_.client_id;
  params["redirect_uri"] = st.redirect_uri;
  std::string scope;
  for (const auto& s : settings_.scope) scope += (scope.empty() ? "" : " ") + s;
  if (!scope.empty()) params["scope"] = scope;
  params["state"] = st.state_id;
  params["nonce"] = st.nonce;
  if (settings_.enable_pkce) {
    st.code_verifier = random_token(32);  // 43 characters, RFC 7636 4.1
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(st.code_verifier.data()), st.code_verifier.size(), digest);
    params["code_challenge"] = base64url_encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
    params["code_challenge_method"] = "S256";
  }
  std::string url = ep->authorize + (ep->authorize.find('?') == std::string::npos ? "?" : "&") + form_encode(params);
  bool secure = st.redirect_uri.rfind("https://", 0) == 0;
  json out{{"status", 302},
           {"redirect", url},
           {"headers", {{"Set-Cookie", state_cookie_header(sealer_.seal(st), folder_of(string_at(request, "path")), secure)},
                        {"Cache-Control", "no-store"}}}};
  return ok(out);
}

answer oauth_authenticator::callback(const json& request) {
  auto query = parse_query(string_at(request, "query"));
  if (query.count("error")) {
    std::string what = query.count("error_description") ? query["error_description"] : query["error"];
    if (what.size() > 200) what = what.substr(0, 200) + "...";
    log_(HUBD_LOG_WARNING, "oauth: the identity provider sent back an error: " + query["error"].substr(0, 100));
    return fail(400, "OAuth error: " + what);
  }
  if (query["code"].empty()) return fail(400, "OAuth callback made without a code");
  std::string cookie;
  if (auto c = request.find("cookies"); c != request.end() && c->is_object()) cookie = string_at(*c, state_cookie_name.data());
  if (cookie.empty()) return fail(400, "OAuth state missing from cookies: start the login again");
  auto st = sealer_.open(cookie);
  if (!st) {
    log_(HUBD_LOG_WARNING, "oauth: refused a callback whose state cookie does not open (changed, or from another hub process)");
    return fail(400, "OAuth state cookie is not valid: start the login again");
  }
  if (unix_now() - st->issued_at > state_cookie_max_age) return fail(400, "The login took too long: start it again");
  const std::string& url_state = query["state"];
  if (url_state.empty()) return fail(400, "OAuth state missing from URL");
  if (url_state.size() != st->state_id.size() || CRYPTO_memcmp(url_state.data(), st->state_id.data(), url_state.size()) != 0) {
    log_(HUBD_LOG_WARNING, "oauth: refused a callback whose state does not match the browser's state cookie");
    return fail(400, "OAuth state mismatch");
  }
  budget b;
  std::string why;
  auto ep = provider_.get_endpoints(b, why);
  if (!ep) {
    log_(HUBD_LOG_ERROR, "oauth: login cannot finish: " + why);
    return fail(503, "The identity provider cannot be reached right now; please try again later.");
  }
  // RFC 9207: a provider that names itself in the callback must be the one we sent the person to.
  if (query.count("iss") && !ep->issuer.empty() && query["iss"] != ep->issuer) {
    log_(HUBD_LOG_WARNING, "oauth: refused a callback from issuer '" + query["iss"].substr(0, 200) + "'");
    return fail(400, "OAuth callback from an unexpected issuer");
  }
  std::map<std::string, std::string> fields = settings_.token_params;
  fields["grant_type"] = "authorization_code";
  fields["code"] = query["code"];
  fields["redirect_uri"] = st->redirect_uri;
  if (!st->code_verifier.empty()) fields["code_verifier"] = st->code_verifier;
  auto tr = provider_.token_request(ep->token, fields, b);
  const auto& r = tr.response;
  if (!r.error.empty()) {
    log_(HUBD_LOG_ERROR, "oauth: the token endpoint " + ep->token + " did not answer: " + r.error);
    return fail(503, "The identity provider did not answer; please try again later.");
  }
  if (!r.ok()) {
    log_(HUBD_LOG_ERROR, "oauth: the token endpoint refused the code: " + describe_answer(r));
    if (r.status >= 500) return fail(502, "The identity provider failed to complete the login; please try again later.");
    std::string what = provider_error(r);
    return fail(403, "Login failed: the identity provider refused the login (HTTP " + std::to_string(r.status) +
                         (what.empty() ? "" : ": " + what) +
                         "). Start the login again; if this persists, the hub's client settings may be wrong.");
  }
  json token = json::parse(r.body, nullptr, false);
  if (!token.is_object() || !token.contains("access_token") || !token["access_token"].is_string()) {
    log_(HUBD_LOG_ERROR, "oauth: the token endpoint answered " + std::to_string(r.status) + " without an access_token");
    return fail(502, "The identity provider answered the login with something that is not a token.");
  }
  std::int64_t now = unix_now();

  // The id_token: verified whenever the provider is an OpenID provider we know the keys of.
  json id_claims;
  std::string id_token = string_at(token, "id_token");
  bool openid = std::find(settings_.scope.begin(), settings_.scope.end(), "openid") != settings_.scope.end();
  if (!settings_.issuer.empty()) {
    if (id_token.empty() && openid) {
      log_(HUBD_LOG_ERROR, "oauth: the token endpoint answered an openid login without an id_token");
      return fail(502, "The identity provider returned no id_token.");
    }
    if (!id_token.empty()) {
      auto v = provider_.verify_id_token(ep->jwks, id_token, st->nonce, b);
      if (!v.ok()) {
        log_(HUBD_LOG_WARNING, "oauth: refused an id_token: " + v.message);
        return fail(403, "Login failed: the identity provider's id_token is not valid (" + v.message + ").");
      }
      id_claims = std::move(v.claims);
    }
  }

  // Glewlwyd drops scopes the person did not grant without a word: say so in the log.
  json granted = scope_list(token);
  if (token.contains("scope")) {
    std::string missing;
    for (const auto& s : settings_.scope)
      if (std::find(granted.begin(), granted.end(), s) == granted.end()) missing += (missing.empty() ? "" : " ") + s;
    if (!missing.empty()) log_(HUBD_LOG_WARNING, "oauth: the provider did not grant the scopes: " + missing);
  }

  json userinfo;
  if (!ep->userinfo.empty()) {
    auto ur = provider_.userinfo_request(ep->userinfo, token["access_token"].get<std::string>(), string_at(token, "token_type"), b);
    if (!ur.response.ok()) {
      log_(HUBD_LOG_ERROR, "oauth: the userinfo endpoint failed: " + describe_answer(ur.response));
      return fail(502, "The identity provider did not give the user's information; please try again later.");
    }
    userinfo = json::parse(ur.response.body, nullptr, false);
    if (!userinfo.is_object()) {
      log_(HUBD_LOG_ERROR, "oauth: the userinfo endpoint did not answer a JSON object");
      return fail(502, "The identity provider did not give the user's information.");
    }
    // OpenID Connect Core 5.3.2: userinfo's sub must be the id_token's.
    if (id_claims.is_object() && userinfo.contains("sub") && userinfo["sub"] != id_claims.value("sub", json())) {
      log_(HUBD_LOG_WARNING, "oauth: refused a login whose userinfo sub differs from the id_token's");
      return fail(403, "Login failed: the identity provider's answers disagree about who you are.");
    }
  } else if (id_claims.is_object()) {
    userinfo = id_claims;
  } else {
    return fail(500, "Login failed: the hub knows no userinfo endpoint (set userdata_url).");
  }

  std::string name = username_of(userinfo, settings_.username_claim);
  if (name.empty()) {
    log_(HUBD_LOG_ERROR, "oauth: no '" + settings_.username_claim + "' in the user's information (username_claim); "
                         "the hub may need to request more scopes");
    return fail(500, "Login failed: the identity provider did not tell the user name ('" + settings_.username_claim +
                         "'). Ask the hub's administrator.");
  }
  if (!token.contains("refresh_token")) token["refresh_token"] = nullptr;
  json auth_state{{"access_token", token["access_token"]},
                  {"refresh_token", token["refresh_token"]},
                  {"id_token", id_token.empty() ? json(nullptr) : json(id_token)},
                  {"expires_at", expires_at_of(token, now)},
                  {"scope", granted},
                  {"token_response", token},
                  {"oauth_user", userinfo},
                  {"userinfo", userinfo}};
  json model{{"name", name}, {"auth_state", std::move(auth_state)}};
  apply_groups(model);
  {
    // A fresh login starts a fresh token chain for this user.
    auto slot = slot_of(name);
    std::lock_guard lock(slot->mutex);
    slot->spent_rt.clear();
    slot->latest = nullptr;
  }
  log_(HUBD_LOG_INFO, "oauth: " + name.substr(0, 64) + " logged in through the identity provider");
  bool secure = st->redirect_uri.rfind("https://", 0) == 0;
  json out{{"auth_model", std::move(model)},
           {"next", st->next},
           {"headers", {{"Set-Cookie", clear_state_cookie_header(folder_of(string_at(request, "path")), secure)}}}};
  return ok(out);
}

answer oauth_authenticator::refresh_user(const json& input) {
  const json& user = input.value("user", json::object());
  std::string name = user.is_object() ? string_at(user, "name") : "";
  auto it = input.find("auth_state");
  // Without auth_state (enable_auth_state off) there is nothing to renew; the login stands.
  if (it == input.end() || !it->is_object() || name.empty()) return ok(true);
  json current = *it;

  auto slot = slot_of(name);
  std::lock_guard lock(slot->mutex);
  bool substituted = false;
  // A second call with a refresh token this plugin already spent (the hub had not stored the
  // rotated one yet): continue from the newer state instead of replaying the old token, which
  // would trip the provider's replay detection and end the session.
  if (!slot->spent_rt.empty() && string_at(current, "refresh_token") == slot->spent_rt && slot->latest.is_object()) {
    current = slot->latest;
    substituted = true;
  }
  std::int64_t now = unix_now();
  const json& token_response = current.value("token_response", json::object());
  auto lifetime = token_response.is_object() ? expires_in_of(token_response) : std::nullopt;
  std::int64_t margin = std::min<std::int64_t>(30, lifetime ? *lifetime / 2 : 30);
  auto expires = current.find("expires_at");
  bool known_expiry = expires != current.end() && expires->is_number();
  // The common case, answered without a request (nor discovery, were the provider down).
  if (known_expiry && now < clamp_seconds(*expires) - margin)
    return substituted ? ok(json{{"auth_state", current}}) : ok(true);

  budget b;
  std::string why;
  auto ep = provider_.get_endpoints(b, why);
  if (!ep) {
    log_(HUBD_LOG_WARNING, "oauth: refreshing " + name + " must wait: " + why);
    return fail(503, "The identity provider cannot be reached right now.");
  }

  if (!known_expiry && !ep->userinfo.empty()) {
    // No lifetime given: ask the provider whether the access token still works (oauthenticator's way).
    auto ur = provider_.userinfo_request(ep->userinfo, string_at(current, "access_token"),
                                         token_response.is_object() ? string_at(token_response, "token_type") : "", b);
    if (ur.transient()) {
      log_(HUBD_LOG_WARNING, "oauth: refreshing " + name + " must wait: userinfo: " + describe_answer(ur.response));
      return fail(503, "The identity provider cannot be reached right now.");
    }
    if (ur.response.ok()) {
      json userinfo = json::parse(ur.response.body, nullptr, false);
      if (userinfo.is_object()) {
        current["oauth_user"] = userinfo;
        current["userinfo"] = userinfo;
        json model{{"auth_state", current}};
        apply_groups(model);
        return ok(model);
      }
    }
    // A 4xx: the access token is no good; renew it below.
  } else if (!known_expiry) {
    return substituted ? ok(json{{"auth_state", current}}) : ok(true);
  }

  std::string rt = string_at(current, "refresh_token");
  if (rt.empty()) {
    log_(HUBD_LOG_INFO, "oauth: the access token of " + name + " expired and there is no refresh token: login ended");
    return ok(false);
  }
  auto tr = provider_.token_request(ep->token, {{"grant_type", "refresh_token"}, {"refresh_token", rt}}, b);
  const auto& r = tr.response;
  if (r.error.empty() && (r.status == 400 || r.status == 401 || r.status == 403)) {
    // Glewlwyd answers a dead refresh token, and a wrong client secret alike, with a bare 400: the
    // status and body are logged so an operator can tell a misconfiguration from expiry.
    log_(HUBD_LOG_WARNING, "oauth: the provider refused to refresh the tokens of " + name + " (" + describe_answer(r) +
                               "): login ended");
    slot->spent_rt.clear();
    slot->latest = nullptr;
    return ok(false);
  }
  if (!r.ok()) {
    log_(HUBD_LOG_WARNING, "oauth: refreshing " + name + " must wait: " + describe_answer(r));
    return fail(503, "The identity provider could not renew the login right now.");
  }
  json token = json::parse(r.body, nullptr, false);
  if (!token.is_object() || !token.contains("access_token") || !token["access_token"].is_string()) {
    log_(HUBD_LOG_WARNING, "oauth: refreshing " + name + " must wait: the token endpoint answered without an access_token");
    return fail(502, "The identity provider answered the refresh with something that is not a token.");
  }
  std::string new_rt = string_at(token, "refresh_token");
  if (new_rt.empty()) new_rt = rt;  // most providers keep the refresh token unless they rotate it
  token["refresh_token"] = new_rt;

  json next = current;
  next["access_token"] = token["access_token"];
  next["refresh_token"] = new_rt;
  next["expires_at"] = expires_at_of(token, now);
  if (token.contains("scope")) next["scope"] = scope_list(token);
  next["token_response"] = token;
  // Kept before anything else can fail: the old refresh token may already be dead at the provider.
  if (new_rt != rt) slot->spent_rt = rt;
  slot->latest = next;

  // A refresh answer need not carry an id_token (Glewlwyd's does not); one that does is checked
  // as at login, without a nonce, and replaces the old one only when it is valid.
  if (std::string id_token = string_at(token, "id_token"); !id_token.empty() && !settings_.issuer.empty()) {
    auto v = provider_.verify_id_token(ep->jwks, id_token, std::nullopt, b);
    if (v.ok()) next["id_token"] = id_token;
    else log_(HUBD_LOG_WARNING, "oauth: kept the previous id_token of " + name + ": the refreshed one is not valid: " + v.message);
  }
  json model{{"auth_state", next}};
  if (!ep->userinfo.empty()) {
    auto ur = provider_.userinfo_request(ep->userinfo, token["access_token"].get<std::string>(), string_at(token, "token_type"), b);
    json userinfo = ur.response.ok() ? json::parse(ur.response.body, nullptr, false) : json();
    if (userinfo.is_object()) {
      next["oauth_user"] = userinfo;
      next["userinfo"] = userinfo;
      model["auth_state"] = next;
      apply_groups(model);
    } else {
      log_(HUBD_LOG_WARNING, "oauth: kept the previous user information of " + name + ": userinfo: " + describe_answer(ur.response));
    }
  }
  slot->latest = next;
  log_(HUBD_LOG_INFO, "oauth: refreshed the tokens of " + name + (new_rt != rt ? " (the refresh token rotated)" : ""));
  return ok(model);
}

answer oauth_authenticator::logout(const json& input) {
  const json& user = input.value("user", json::object());
  std::string name = user.is_object() ? string_at(user, "name") : "";
  auto it = input.find("auth_state");
  if (it == input.end() || !it->is_object()) return ok(json::object());
  std::string rt = string_at(*it, "refresh_token");
  std::shared_ptr<user_slot> slot;
  if (!name.empty()) {
    slot = slot_of(name);
    std::lock_guard lock(slot->mutex);
    if (!slot->spent_rt.empty() && rt == slot->spent_rt && slot->latest.is_object()) rt = string_at(slot->latest, "refresh_token");
    slot->spent_rt.clear();
    slot->latest = nullptr;
  }
  if (rt.empty()) return ok(json::object());
  budget b(std::chrono::milliseconds(5000));
  std::string why;
  auto ep = provider_.get_endpoints(b, why);
  if (!ep || ep->revocation.empty()) return ok(json::object());
  auto r = provider_.token_request(ep->revocation, {{"token", rt}, {"token_type_hint", "refresh_token"}}, b).response;
  if (r.ok()) log_(HUBD_LOG_INFO, "oauth: revoked the refresh token of " + name + " at logout");
  else log_(HUBD_LOG_WARNING, "oauth: revoking the refresh token of " + name + " at logout failed: " + describe_answer(r));
  return ok(json::object());
}

}  // namespace generic_oauth
