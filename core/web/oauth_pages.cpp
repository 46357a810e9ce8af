#include "core/web/oauth_pages.hpp"

#include "core/web/page_support.hpp"

namespace hubd::core::web {

oauth::page_port oauth_pages(const web_context& ctx) {
  oauth::page_port p;
  p.render = [&ctx](const http::request& req, const browser_identity& who, const std::string& page, nlohmann::json d) {
    return render_page(ctx, req, who, page, std::move(d));
  };
  p.error = [&ctx](const http::request& req, int status, std::string_view message) {
    return error_page(ctx, req, status, message);
  };
  p.login_redirect = [&ctx](const http::request& req) { return login_redirect(ctx, req); };
  return p;
}

oauth::oauth_settings oauth_settings_of(const web_context& ctx) {
  oauth::oauth_settings s;
  s.require_pkce = ctx.options.oauth_require_pkce;
  s.token_expires_in = ctx.options.oauth_token_expires_in;
  if (ctx.options.auto_login_oauth2_authorize) s.auto_login_url = ctx.authenticator.login_url;
  return s;
}

}  // namespace hubd::core::web
