#include "core/oauth/oauth_routes.hpp"

#include "core/http/authorization.hpp"
#include "core/http/form.hpp"
#include "core/http/url_codec.hpp"
#include "core/http/xsrf.hpp"
#include "core/model/timestamp.hpp"
#include "core/oauth/authorize.hpp"
#include "core/oauth/clients.hpp"
#include "core/oauth/commit_gate.hpp"
#include "core/oauth/pkce.hpp"
#include "core/rbac/access.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace hubd::core::oauth {
namespace {

using http::request_ptr;
using http::responder;

// RFC 6749 §5.2 error body.
http::response oauth_error(int status, std::string_view error, std::string_view description = {}) {
  nlohmann::json body{{"error", error}};
  if (!description.empty()) body["error_description"] = description;
  auto r = http::json_response(status, body);
  r.set_header("Cache-Control", "no-store");
  r.set_header("Pragma", "no-cache");
  return r;
}

std::string with_query(std::string uri, const std::vector<std::pair<std::string, std::string>>& args) {
  for (const auto& [k, v] : args) {
    uri += uri.find('?') == std::string::npos ? '?' : '&';
    uri += k + "=" + http::percent_encode(v);
  }
  return uri;
}

// Everything the GET and the POST both validate.
struct authorize_request {
  model::oauth_client_ptr client;
  rbac::oauth_client_ref client_ref;
  std::string redirect_uri;
  std::optional<std::string> state;
  std::optional<std::string> challenge, challenge_method;
  session::browser_identity who;
  scope_decision scopes;
};

// Answers and returns nullopt when the request must stop here.
std::optional<authorize_request> validate(oauth_context& ctx, const request_ptr& req, responder& res) {
  auto who = ctx.sessions.browser(*req);
  if (!who) {
    if (!ctx.settings.auto_login_url.empty()) {
      res(http::redirect_response(with_query(ctx.settings.auto_login_url, {{"next", req->target}})));
      return std::nullopt;
    }
    res(ctx.pages.login_redirect(*req));
    return std::nullopt;
  }
  authorize_request a;
  a.who = *who;
  auto client_id = std::string(req->query_arg("client_id").value_or(""));
  a.client = client_id.empty() ? nullptr : ctx.model.find_oauth_client(client_id);
  if (!a.client || !a.client->secret_digest) {
    spdlog::warn("oauth: authorize for unknown client {}", client_id);
    res(ctx.pages.error(*req, 400, "Invalid client_id: " + client_id));
    return std::nullopt;
  }
  a.redirect_uri = std::string(req->query_arg("redirect_uri").value_or(a.client->redirect_uri));
  if (a.redirect_uri != a.client->redirect_uri) {
    spdlog::warn("oauth: redirect_uri mismatch for client {}", client_id);
    res(ctx.pages.error(*req, 400, "Mismatching redirect URI"));
    return std::nullopt;
  }
  if (auto s = req->query_arg("state")) a.state = std::string(*s);
  auto redirect_error = [&](std::string_view error, std::string_view description) {
    std::vector<std::pair<std::string, std::string>> args{{"error", std::string(error)},
                                                          {"error_description", std::string(description)}};
    if (a.state) args.emplace_back("state", *a.state);
    res(http::redirect_response(with_query(a.redirect_uri, args)));
  };
  if (req->query_arg("response_type").value_or("") != "code") {
    redirect_error("unsupported_response_type", "Only response_type=code is supported");
    return std::nullopt;
  }
  if (auto c = req->query_arg("code_challenge")) {
    a.challenge = std::string(*c);
    a.challenge_method = std::string(req->query_arg("code_challenge_method").value_or("plain"));
    if (!valid_challenge_method(*a.challenge_method) || !valid_pkce_string(*a.challenge)) {
      redirect_error("invalid_request", "Invalid code_challenge or code_challenge_method");
      return std::nullopt;
    }
  } else if (ctx.settings.require_pkce) {
    redirect_error("invalid_request", "Code challenge required.");
    return std::nullopt;
  }
  a.client_ref = client_ref_of(ctx.model, a.client->identifier);
  const auto* mm = &ctx.sessions.permissions().membership();
  auto user = who->user->name;
  a.scopes = decide_scopes(ctx.scopes, ctx.model, *a.client, a.client_ref, user, req->query_arg("scope").value_or(""),
                           ctx.model.user_role_scopes(user), mm);
  if (a.scopes.error) {
    spdlog::warn("oauth: {} for client {}: {}", *a.scopes.error, client_id, a.scopes.error_description);
    redirect_error(*a.scopes.error, a.scopes.error_description);
    return std::nullopt;
  }
  // The user must be able to use the client at all (its access scope, shares included).
  auto resolved = ctx.sessions.permissions().held_by_user(user);
  const auto& held = resolved->scopes;
  bool access = true;
  if (a.client_ref.kind == rbac::oauth_client_ref::kind_t::server)
    access = rbac::has_scope(held, rbac::id(rbac::builtin::access_servers),
                             rbac::resource_ref::server(a.client_ref.user, a.client_ref.name), mm);
  else if (a.client_ref.kind == rbac::oauth_client_ref::kind_t::service)
    access = rbac::has_scope(held, rbac::id(rbac::builtin::access_services), rbac::resource_ref::service(a.client_ref.name), mm);
  if (!access) {
    spdlog::warn("oauth: user {} may not access client {}", user, client_id);
    res(ctx.pages.error(*req, 403, "You do not have permission to access " + a.client->description));
    return std::nullopt;
  }
  if (!a.scopes.not_held.empty())
    spdlog::info("oauth: not granting scopes the user {} does not hold to {}: {}", user, client_id,
                 nlohmann::json(a.scopes.not_held).dump());
  return a;
}

// No consent page for: own servers, no-confirm services, or already authorized for everything.
bool skip_confirm(const oauth_context& ctx, const authorize_request& a) {
  if (a.client_ref.kind == rbac::oauth_client_ref::kind_t::server && a.client_ref.user == a.who.user->name) return true;
  if (ctx.settings.no_confirm.count(a.client->identifier)) return true;
  for (const auto& s : ctx.model.list_services())
    if (s->oauth_no_confirm && service_client_id(*s) == a.client->identifier) return true;
  std::set<std::string> authorized;
  for (const auto& t : ctx.model.tokens_of(model::holder_kind::user, a.who.user->name))
    if (t->client_id == a.client->identifier) authorized.insert(t->scopes.begin(), t->scopes.end());
  if (authorized.empty()) return false;
  return std::all_of(a.scopes.granted.begin(), a.scopes.granted.end(), [&](const std::string& s) { return authorized.count(s) > 0; });
}

void issue_code(oauth_context& ctx, const request_ptr& req, responder res, const authorize_request& a,
                std::vector<std::string> scopes) {
  model::new_oauth_code c;
  c.client_id = a.client->identifier;
  c.user = a.who.user->name;
  c.scopes = std::move(scopes);
  c.redirect_uri = a.redirect_uri;
  if (!a.who.session_id.empty()) c.session_id = a.who.session_id;
  c.code_challenge = a.challenge;
  c.code_challenge_method = a.challenge_method;
  auto gate = std::make_shared<commit_gate>(res, [&ctx, req](const model::error&) {
    return ctx.pages.error(*req, 500, "Could not issue an authorization code");
  });
  auto r = ctx.model.create_oauth_code(c, gate->completion());
  if (!r) return void(res(ctx.pages.error(*req, 500, "Could not issue an authorization code: " + r.err().message)));
  std::vector<std::pair<std::string, std::string>> args{{"code", r->secret}};
  if (a.state) args.emplace_back("state", *a.state);
  gate->ready(http::redirect_response(with_query(a.redirect_uri, args)));
  spdlog::info("oauth: issued a code to client {} for user {}", a.client->identifier, a.who.user->name);
}

void authorize_get(oauth_context& ctx, const request_ptr& req, responder res) {
  auto a = validate(ctx, req, res);
  if (!a) return;
  if (skip_confirm(ctx, *a)) return issue_code(ctx, req, std::move(res), *a, a->scopes.granted);
  auto lines = confirm_lines(ctx.scopes, a->scopes.granted, a->client_ref, a->who.user->name);
  bool identify_only = lines.size() == 1 && lines[0]["scope"] == "(no_scope)";
  nlohmann::json d{{"page_title", "Authorize - hubd"},
                   {"authorize_url", req->target},
                   {"oauth_client", {{"description", a->client->description}, {"redirect_uri", a->client->redirect_uri}}},
                   {"allowed_scopes", a->scopes.granted},
                   {"scope_descriptions", lines},
                   {"identify_only", identify_only}};
  res(ctx.pages.render(*req, a->who, "oauth", std::move(d)));
}

void authorize_post(oauth_context& ctx, const request_ptr& req, responder res) {
  auto form = http::parse_form(req->body);
  if (!form) return void(res(ctx.pages.error(*req, 400, "Malformed form body")));
  auto who = ctx.sessions.browser(*req);
  if (who) {
    if (auto bad = http::check_xsrf(*req, ctx.signer, session::xsrf_id_for(*req, who), &*form)) {
      spdlog::warn("oauth: authorize POST without a valid XSRF token from {}", req->remote_addr);
      return void(res(ctx.pages.error(*req, 403, *bad)));
    }
  }
  auto a = validate(ctx, req, res);
  if (!a) return;
  // Only what the GET would have offered can be granted, whatever the form says.
  std::vector<std::string> scopes;
  for (auto [it, end] = form->equal_range("scopes"); it != end; ++it) {
    const auto& s = it->second;
    if (std::find(a->scopes.granted.begin(), a->scopes.granted.end(), s) != a->scopes.granted.end()) {
      if (std::find(scopes.begin(), scopes.end(), s) == scopes.end()) scopes.push_back(s);
    } else {
      spdlog::warn("oauth: ignoring posted scope {} that was not offered to user {}", s, a->who.user->name);
    }
  }
  if (scopes.empty()) scopes = rbac::raw_identify_scopes();
  issue_code(ctx, req, std::move(res), *a, std::move(scopes));
}

std::optional<std::pair<std::string, std::string>> basic_credentials(const http::request& req) {
  auto h = req.header("authorization");
  if (!h || h->size() < 6 || !http::iequals(h->substr(0, 6), "basic ")) return std::nullopt;
  auto decoded = http::base64_decode(h->substr(6));
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string id, secret;
  if (!http::percent_decode(decoded->substr(0, colon), id, true) || !http::percent_decode(decoded->substr(colon + 1), secret, true))
    return std::nullopt;
  return std::pair{id, secret};
}

void token(oauth_context& ctx, const request_ptr& req, responder res) {
  std::optional<http::query_map> form;
  if (http::is_form_content_type(*req)) form = http::parse_form(req->body);
  if (!form) return void(res(oauth_error(400, "invalid_request", "Expected an application/x-www-form-urlencoded body")));
  auto arg = [&](std::string_view k) {
    auto it = form->find(k);
    return it == form->end() ? std::string() : it->second;
  };
  if (arg("grant_type") != "authorization_code")
    return void(res(oauth_error(400, "unsupported_grant_type", "Only authorization_code is supported")));
  std::string client_id = arg("client_id"), secret = arg("client_secret");
  // Clients such as HubOAuth also send `Authorization: token <api token>`: that is not client
  // authentication and is ignored. HTTP Basic is the RFC's other way.
  if (secret.empty())
    if (auto basic = basic_credentials(*req)) {
      if (client_id.empty()) client_id = basic->first;
      if (basic->first == client_id) secret = basic->second;
    }
  if (client_id.empty() || secret.empty() || !ctx.model.check_oauth_client_secret(client_id, secret)) {
    spdlog::warn("oauth: token request with bad client credentials for {}", client_id);
    return void(res(oauth_error(401, "invalid_client", "Client authentication failed")));
  }
  auto code_secret = arg("code");
  if (code_secret.empty()) return void(res(oauth_error(400, "invalid_request", "Missing code")));
  auto code = ctx.model.consume_oauth_code(code_secret, client_id, [](const model::status&) {});
  if (!code) {
    spdlog::warn("oauth: unknown, expired or reused code for client {}", client_id);
    return void(res(oauth_error(400, "invalid_grant", "Invalid code")));
  }
  auto client = ctx.model.find_oauth_client(client_id);
  auto redirect_uri = arg("redirect_uri");
  if (!client || redirect_uri != code->redirect_uri || redirect_uri != client->redirect_uri)
    return void(res(oauth_error(400, "invalid_grant", "Mismatching redirect URI")));
  if (code->code_challenge) {
    auto verifier = arg("code_verifier");
    if (verifier.empty()) return void(res(oauth_error(400, "invalid_grant", "Code verifier required")));
    if (!verify_pkce(code->code_challenge_method.value_or("plain"), *code->code_challenge, verifier))
      return void(res(oauth_error(400, "invalid_grant", "Code verifier does not match the challenge")));
  } else if (ctx.settings.require_pkce) {
    return void(res(oauth_error(400, "invalid_grant", "Code challenge required")));
  }
  auto user = ctx.model.find_user(code->user_id);
  if (!user) return void(res(oauth_error(400, "invalid_grant", "The user of this code no longer exists")));
  model::new_token t;
  t.owner_kind = model::holder_kind::user;
  t.owner = user->name;
  t.scopes = code->scopes;
  t.expires_at = model::now() + std::chrono::duration_cast<std::chrono::microseconds>(ctx.settings.token_expires_in);
  t.note = "OAuth token for " + client_id;
  t.session_id = code->session_id;
  t.client_id = client_id;
  auto gate = std::make_shared<commit_gate>(res, [](const model::error&) {
    return oauth_error(500, "server_error", "Could not store the token");
  });
  auto created = ctx.model.create_token(t, gate->completion());
  if (!created) return void(res(oauth_error(500, "server_error", "Could not create the token")));
  std::string scope;
  for (const auto& s : code->scopes) scope += (scope.empty() ? "" : " ") + s;
  auto r = http::json_response(200, {{"access_token", created->secret},
                                     {"token_type", "Bearer"},
                                     {"expires_in", ctx.settings.token_expires_in.count()},
                                     {"scope", scope}});
  r.set_header("Cache-Control", "no-store");
  r.set_header("Pragma", "no-cache");
  gate->ready(std::move(r));
  spdlog::info("oauth: issued an access token to client {} for user {}", client_id, user->name);
}

// A browser whose login is due for a refresh (auth_refresh_age) is refreshed before it may authorize
// a client. A login that is over has lost its sessions by then, so the handler finds no browser and
// sends it to log in again.
http::handler refreshed(oauth_context& ctx, void (*handler)(oauth_context&, const request_ptr&, responder)) {
  return [&ctx, handler](const request_ptr& req, responder res) {
    if (auto who = ctx.sessions.browser(*req); who && ctx.sessions.refresh_due(*who->user))
      return ctx.sessions.refresher()->refresh(who->user->name, [&ctx, handler, req, res](session::refresh_verdict) {
        handler(ctx, req, res);
      });
    handler(ctx, req, std::move(res));
  };
}

}  // namespace

void register_oauth_routes(http::router& router, oauth_context& ctx) {
  router.add("GET", "/hub/api/oauth2/authorize", refreshed(ctx, authorize_get));
  router.add("POST", "/hub/api/oauth2/authorize", refreshed(ctx, authorize_post));
  router.add("POST", "/hub/api/oauth2/token", [&ctx](const request_ptr& req, responder res) { token(ctx, req, std::move(res)); });
}

}  // namespace hubd::core::oauth
