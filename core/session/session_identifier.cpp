#include "core/session/session_identifier.hpp"

#include "core/http/authorization.hpp"
#include "core/http/xsrf.hpp"
#include "core/model/timestamp.hpp"

#include <spdlog/spdlog.h>

namespace hubd::core::session {

namespace {

const rbac::scope_set& empty_set() {
  static const rbac::scope_set s;
  return s;
}

bool stale(const model::opt_time& last, model::time_point now, std::chrono::seconds resolution) {
  return !last || now - *last >= resolution;
}

}  // namespace

const rbac::scope_set& principal::held() const { return scopes ? scopes->scopes : empty_set(); }
const rbac::scope_set& principal::identity() const { return scopes ? scopes->identity : empty_set(); }

std::string login_cookie_name(const session_settings& s) {
  return s.cookie_host_prefix ? "__Host-" + std::string(login_cookie_base) : std::string(login_cookie_base);
}

std::string xsrf_id_for(const http::request& req, const std::optional<browser_identity>& who) {
  if (who) return http::session_xsrf_id(who->session_id, who->user->cookie_id);
  return http::anonymous_xsrf_id(req);
}

session_identifier::session_identifier(model::hub_model& model, const rbac::scope_table& table,
                                       const http::cookie_signer& signer, session_settings settings)
    : model_(model), signer_(signer), settings_(settings), throttle_(settings.throttle), permissions_(model, table) {}

std::string login_cookie_payload(std::string_view cookie_id, std::string_view session_id) {
  std::string out(cookie_id);
  out += ':';
  out += session_id;
  return out;
}

std::optional<browser_identity> session_identifier::identity_of_cookie(std::string_view cookie_name,
                                                                       std::string_view value) const {
  if (value.empty()) return std::nullopt;
  auto payload = signer_.verify(cookie_name, value, settings_.cookie_max_age);
  if (!payload) return std::nullopt;
  // Cookies signed before sessions were part of them have no ':' and name no session: not valid.
  auto colon = payload->find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto user = model_.find_user_by_cookie_id(std::string_view(*payload).substr(0, colon));
  if (!user) return std::nullopt;
  auto sid = payload->substr(colon + 1);
  auto s = model_.find_session(sid);
  if (!s || s->user_id != user->id) return std::nullopt;
  return browser_identity{std::move(user), std::move(sid)};
}

model::user_ptr session_identifier::user_of_cookie(std::string_view cookie_name, std::string_view value) const {
  auto who = identity_of_cookie(cookie_name, value);
  return who ? who->user : nullptr;
}

std::optional<browser_identity> session_identifier::browser(const http::request& req) const {
  auto name = login_cookie_name();
  auto raw = req.cookie(name);
  if (!raw) return std::nullopt;
  return identity_of_cookie(name, *raw);
}

// A server's own token does not make its owner look active (it reports activity separately).
void session_identifier::record_token_activity(const model::token& t, const model::user* owner) const {
  auto now = model::now();
  auto res = settings_.activity_resolution;
  if (stale(t.last_activity, now, res)) model_.touch_token(t.id, now);
  if (owner && stale(owner->last_activity, now, res) && t.note.rfind("Server at ", 0) != 0)
    model_.touch_user(owner->name, now);
}

bool session_identifier::from_plugin(const http::request& req, principal& p) const {
  if (!req.plugin_principal) return false;
  auto s = model_.find_service(*req.plugin_principal);
  if (!s || s->kind != store::principal_kind::plugin) return false;
  auto scopes = permissions_.service_scopes(s->name);
  if (!scopes) return false;
  p.kind = principal::kind_t::service;
  p.name = s->name;
  p.ref = rbac::principal_ref::service(p.name);
  p.service = std::move(s);
  p.plugin = true;
  p.scopes = std::move(scopes);
  return true;
}

bool session_identifier::from_token(const http::request& req, principal& p) const {
  auto header = req.header("Authorization");
  if (!header) return false;
  auto secret = http::parse_authorization_token(*header);
  if (!secret) return false;
  auto tok = model_.find_token(*secret);
  if (!tok) return false;
  resolved_ptr scopes = permissions_.token_scopes(*tok);
  if (!scopes) return false;  // the owner is gone
  if (tok->user_id) {
    auto u = model_.find_user(*tok->user_id);
    if (!u) return false;
    p.kind = principal::kind_t::user;
    p.name = u->name;
    p.ref = rbac::principal_ref::user(u->name);
    p.user = u;
  } else if (tok->service_id) {
    for (const auto& s : model_.list_services()) {
      if (s->id == *tok->service_id) {
        p.service = s;
        break;
      }
    }
    if (!p.service) return false;
    p.kind = principal::kind_t::service;
    p.name = p.service->name;
    p.ref = rbac::principal_ref::service(p.name);
  } else {
    return false;
  }
  p.token = tok;
  p.session_id = tok->session_id;
  p.scopes = std::move(scopes);
  record_token_activity(*tok, p.user.get());
  return true;
}

void session_identifier::from_cookie(const http::request& req, principal& p) const {
  auto who = browser(req);
  if (!who) return;
  // A cross-site form can POST without a preflight: such a request must not carry the user.
  if (!http::cookie_auth_allowed_for_content_type(req)) return;
  if (http::xsrf_check_needed(req)) {
    if (auto err = http::check_xsrf(req, signer_, xsrf_id_for(req, who))) {
      p.xsrf_error = *err;
      return;
    }
  }
  auto scopes = permissions_.user_scopes(who->user->name);
  if (!scopes) return;
  const auto& u = who->user;
  p.kind = principal::kind_t::user;
  p.name = u->name;
  p.ref = rbac::principal_ref::user(u->name);
  p.user = u;
  p.via_cookie = true;
  p.scopes = std::move(scopes);
  auto now = model::now();
  if (stale(u->last_activity, now, settings_.activity_resolution)) model_.touch_user(u->name, now);
}

principal session_identifier::identify(http::request& req) const {
  principal p;
  try {
    // An in-process call is its plugin's, whatever headers it carries.
    if (req.plugin_principal) {
      from_plugin(req, p);
    } else if (!from_token(req, p)) {
      p = principal{};
      from_cookie(req, p);
    }
  } catch (const std::exception& e) {
    // Never let a lookup failure escape as a crash: the request is simply unauthenticated.
    spdlog::error("api: authentication failed unexpectedly: {}", e.what());
    p = principal{};
  }
  if (p.authenticated()) req.principal = p.name;
  return p;
}

}  // namespace hubd::core::session
