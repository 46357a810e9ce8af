// Authentication of API requests: token, then the login cookie.
#include "core/api/principal.hpp"
#include "core/http/authorization.hpp"
#include "core/http/xsrf.hpp"
#include "core/model/timestamp.hpp"

#include <spdlog/spdlog.h>

namespace hubd::core::api {

namespace {

const rbac::scope_set& empty_set() {
  static const rbac::scope_set s;
  return s;
}

std::chrono::seconds activity_resolution(const api_context& ctx) {
  return std::chrono::seconds(std::max<std::int64_t>(0, ctx.hub_int("activity_resolution", 30)));
}

bool stale(const model::opt_time& last, model::time_point now, std::chrono::seconds resolution) {
  return !last || now - *last >= resolution;
}

// As JupyterHub does: at most once per activity_resolution; a server's own token does not make its
// owner look active (it reports activity separately).
void record_token_activity(const api_context& ctx, const model::token& t, const model::user* owner) {
  auto now = model::now();
  auto res = activity_resolution(ctx);
  if (stale(t.last_activity, now, res)) ctx.model.touch_token(t.id, now);
  if (owner && stale(owner->last_activity, now, res) && t.note.rfind("Server at ", 0) != 0)
    ctx.model.touch_user(owner->name, now);
}

bool from_token(const api_context& ctx, http::request& req, principal& p) {
  auto header = req.header("Authorization");
  if (!header) return false;
  auto secret = http::parse_authorization_token(*header);
  if (!secret) return false;
  auto tok = ctx.model.find_token(*secret);
  if (!tok) return false;
  resolved_ptr scopes = ctx.permissions->token_scopes(*tok);
  if (!scopes) return false;  // the owner is gone
  if (tok->user_id) {
    auto u = ctx.model.find_user(*tok->user_id);
    if (!u) return false;
    p.kind = principal::kind_t::user;
    p.name = u->name;
    p.ref = rbac::principal_ref::user(u->name);
    p.user = u;
  } else if (tok->service_id) {
    for (const auto& s : ctx.model.list_services()) {
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
  record_token_activity(ctx, *tok, p.user.get());
  return true;
}

void from_cookie(const api_context& ctx, http::request& req, principal& p) {
  auto cookie = req.cookie(login_cookie_name);
  if (!cookie) return;
  double days = ctx.hub_number("cookie_max_age_days", 14);
  auto max_age = std::chrono::seconds(static_cast<std::int64_t>(days * 86400));
  auto cookie_id = ctx.signer.verify(login_cookie_name, *cookie, max_age);
  if (!cookie_id) return;
  auto u = ctx.model.find_user_by_cookie_id(*cookie_id);
  if (!u) return;
  // A cross-site form can POST without a preflight: such a request must not carry the user.
  if (!http::cookie_auth_allowed_for_content_type(req)) return;
  if (http::xsrf_check_needed(req)) {
    auto session = req.cookie(session_cookie_name);
    auto err = http::check_xsrf(req, ctx.signer,
                                http::session_xsrf_id(session ? *session : std::string_view{}, *cookie_id));
    if (err) {
      p.xsrf_error = *err;
      return;
    }
  }
  auto scopes = ctx.permissions->user_scopes(u->name);
  if (!scopes) return;
  p.kind = principal::kind_t::user;
  p.name = u->name;
  p.ref = rbac::principal_ref::user(u->name);
  p.user = u;
  p.via_cookie = true;
  p.scopes = std::move(scopes);
  auto now = model::now();
  if (stale(u->last_activity, now, activity_resolution(ctx))) ctx.model.touch_user(u->name, now);
}

}  // namespace

const rbac::scope_set& principal::held() const { return scopes ? scopes->scopes : empty_set(); }
const rbac::scope_set& principal::identity() const { return scopes ? scopes->identity : empty_set(); }

principal authenticate(const api_context& ctx, http::request& req) {
  principal p;
  try {
    if (!from_token(ctx, req, p)) {
      p = principal{};
      from_cookie(ctx, req, p);
    }
  } catch (const std::exception& e) {
    // Never let a lookup failure escape as a crash: the request is simply unauthenticated.
    spdlog::error("api: authentication failed unexpectedly: {}", e.what());
    p = principal{};
  }
  if (p.authenticated()) req.principal = p.name;
  return p;
}

}  // namespace hubd::core::api
