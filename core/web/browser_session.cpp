#include "core/web/browser_session.hpp"

#include "core/http/cookies.hpp"
#include "core/http/xsrf.hpp"

namespace hubd::core::web {
namespace {

http::cookie_options base_cookie(const web_context& ctx, const http::request& req, std::string path) {
  http::cookie_options c;
  c.path = std::move(path);
  c.http_only = true;
  c.secure = cookies_secure(ctx.options, req);
  c.same_site = "Lax";
  return c;
}

std::string login_cookie_path(const web_options& o) { return o.cookie_host_prefix ? "/" : o.hub_prefix; }

}  // namespace

bool cookies_secure(const web_options& o, const http::request& req) {
  return req.is_tls || o.public_url.rfind("https://", 0) == 0 || o.cookie_host_prefix;
}

std::string set_login_cookies(const web_context& ctx, const http::request& req, http::response& r,
                              const model::user& user, std::string_view session_id) {
  const auto& o = ctx.options;
  auto name = ctx.sessions.login_cookie_name();
  auto login = base_cookie(ctx, req, login_cookie_path(o));
  login.max_age = o.cookie_max_age;
  r.add_header("Set-Cookie",
               http::set_cookie_header(name, ctx.signer.sign(name, session::login_cookie_payload(user.cookie_id, session_id)), login));
  auto session = base_cookie(ctx, req, o.base_url);
  r.add_header("Set-Cookie", http::set_cookie_header(session_cookie_name, session_id, session));
  // A new token bound to the new session: the anonymous one from the login form is useless now.
  auto token = ctx.signer.sign_urlsafe(http::xsrf_cookie_name, http::session_xsrf_id(session_id, user.cookie_id));
  r.add_header("Set-Cookie", http::xsrf_set_cookie(token, o.hub_prefix, true, cookies_secure(o, req)));
  return token;
}

void clear_login_cookies(const web_context& ctx, const http::request& req, http::response& r) {
  const auto& o = ctx.options;
  r.add_header("Set-Cookie", http::clear_cookie_header(ctx.sessions.login_cookie_name(), base_cookie(ctx, req, login_cookie_path(o))));
  r.add_header("Set-Cookie", http::clear_cookie_header(session_cookie_name, base_cookie(ctx, req, o.base_url)));
  r.add_header("Set-Cookie", http::clear_cookie_header(services_cookie_name, base_cookie(ctx, req, o.base_url + "services")));
  r.add_header("Set-Cookie", http::clear_cookie_header(http::xsrf_cookie_name, base_cookie(ctx, req, o.hub_prefix)));
}

std::string page_xsrf_token(const web_context& ctx, const http::request& req,
                            const std::optional<browser_identity>& who, http::response& r) {
  auto t = http::xsrf_token_for(req, ctx.signer, xsrf_id_for(req, who));
  if (t.set_cookie)
    r.add_header("Set-Cookie", http::xsrf_set_cookie(t.token, ctx.options.hub_prefix, who.has_value(),
                                                     cookies_secure(ctx.options, req)));
  return t.token;
}

}  // namespace hubd::core::web
