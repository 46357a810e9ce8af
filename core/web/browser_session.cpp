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

std::string login_cookie_name(const web_options& o) {
  return o.cookie_host_prefix ? "__Host-" + std::string(login_cookie_base) : std::string(login_cookie_base);
}

bool cookies_secure(const web_options& o, const http::request& req) {
  return req.is_tls || o.public_url.rfind("https://", 0) == 0 || o.cookie_host_prefix;
}

std::optional<browser_identity> identify_browser(const web_context& ctx, const http::request& req) {
  auto name = login_cookie_name(ctx.options);
  auto raw = req.cookie(name);
  if (!raw || raw->empty()) return std::nullopt;
  auto cookie_id = ctx.signer.verify(name, *raw, ctx.options.cookie_max_age);
  if (!cookie_id) return std::nullopt;
  auto user = ctx.model.find_user_by_cookie_id(*cookie_id);
  if (!user) return std::nullopt;
  browser_identity who{std::move(user), {}};
  if (auto sid = req.cookie(session_cookie_name)) {
    auto s = ctx.model.find_session(*sid);
    if (s && s->user_id == who.user->id) who.session_id = std::string(*sid);
  }
  return who;
}

std::string xsrf_id_for(const http::request& req, const std::optional<browser_identity>& who) {
  if (who) return http::session_xsrf_id(who->session_id, who->user->cookie_id);
  return http::anonymous_xsrf_id(req);
}

std::string set_login_cookies(const web_context& ctx, const http::request& req, http::response& r,
                              const model::user& user, std::string_view session_id) {
  const auto& o = ctx.options;
  auto name = login_cookie_name(o);
  auto login = base_cookie(ctx, req, login_cookie_path(o));
  login.max_age = o.cookie_max_age;
  r.add_header("Set-Cookie", http::set_cookie_header(name, ctx.signer.sign(name, user.cookie_id), login));
  auto session = base_cookie(ctx, req, o.base_url);
  r.add_header("Set-Cookie", http::set_cookie_header(session_cookie_name, session_id, session));
  // A new token bound to the new session: the anonymous one from the login form is useless now.
  auto token = ctx.signer.sign_urlsafe(http::xsrf_cookie_name, http::session_xsrf_id(session_id, user.cookie_id));
  r.add_header("Set-Cookie", http::xsrf_set_cookie(token, o.hub_prefix, true, cookies_secure(o, req)));
  return token;
}

void clear_login_cookies(const web_context& ctx, const http::request& req, http::response& r) {
  const auto& o = ctx.options;
  r.add_header("Set-Cookie", http::clear_cookie_header(login_cookie_name(o), base_cookie(ctx, req, login_cookie_path(o))));
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
