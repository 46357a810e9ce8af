#include "core/web/page_support.hpp"

#include "core/http/next_url.hpp"
#include "core/http/url_codec.hpp"
#include "core/web/templates.hpp"

#include <spdlog/spdlog.h>

namespace hubd::core::web {

bool wants_json(const web_context& ctx, const http::request& req) {
  std::string_view path = req.path;
  auto api = ctx.options.hub_prefix + "api";
  if (path.substr(0, api.size()) == api && (path.size() == api.size() || path[api.size()] == '/')) return true;
  auto accept = req.header("accept").value_or("");
  return accept.find("application/json") != std::string_view::npos && accept.find("text/html") == std::string_view::npos;
}

nlohmann::json common_page_data(const web_context& ctx, const std::optional<browser_identity>& who,
                                std::string_view xsrf_token) {
  const auto& o = ctx.options;
  nlohmann::json d{{"base_url", o.base_url},
                   {"static_url", o.hub_prefix + "static/"},
                   {"version_hash", o.version},
                   {"hubd_version", o.version},
                   {"xsrf_token", xsrf_token},
                   {"login_url", o.hub_prefix + "login"},
                   {"logout_url", o.hub_prefix + "logout"}};
  if (who) {
    d["user"] = {{"name", who->user->name}};
    d["admin_access"] = ctx.sessions.permissions().held_by_user(who->user->name)->scopes.has_all(rbac::id(rbac::builtin::admin_ui));
    auto services = nlohmann::json::array();
    for (const auto& s : ctx.model.list_services())
      if (s->display && s->url) services.push_back({{"name", s->name}, {"url", o.base_url + "services/" + s->name + "/"}});
    d["services"] = std::move(services);
  }
  return d;
}

http::response render_page(const web_context& ctx, const http::request& req, const std::optional<browser_identity>& who,
                           const std::string& page, nlohmann::json data, int status) {
  http::response r;
  auto token = page_xsrf_token(ctx, req, who, r);
  auto d = common_page_data(ctx, who, token);
  d.update(data);
  std::optional<std::string> html;
  if (ctx.templates) html = ctx.templates->render(page, d);
  if (!html) {
    spdlog::error("pages: template {} could not be rendered", page);
    html = "<!DOCTYPE html><title>hubd</title><p>" + std::to_string(status) + "</p>";
  }
  r.status = status;
  r.set_header("Content-Type", "text/html; charset=UTF-8");
  r.set_header("Cache-Control", "no-store");
  r.body = std::move(*html);
  return r;
}

http::response error_page(const web_context& ctx, const http::request& req, int status, std::string_view message,
                          nlohmann::json extra) {
  if (wants_json(ctx, req)) return http::error_response(status, message);
  auto who = ctx.sessions.browser(req);
  nlohmann::json d{{"page_title", std::to_string(status) + " " + std::string(http::reason_phrase(status)) + " - hubd"},
                   {"status_code", std::to_string(status)},
                   {"status_message", std::string(http::reason_phrase(status))},
                   {"message", std::string(message)}};
  d.update(extra);
  return render_page(ctx, req, who, "error", std::move(d), status);
}

http::response login_redirect(const web_context& ctx, const http::request& req) {
  return http::redirect_response(ctx.options.hub_prefix + "login?next=" + http::percent_encode(req.target));
}

std::string safe_next(const web_context& ctx, const http::request& req, std::string_view next) {
  if (next.empty()) return {};
  return http::validate_next_url(next, ctx.options.base_url, req.host(),
                                 (req.is_tls || ctx.options.public_url.rfind("https://", 0) == 0) ? "https" : "http");
}

std::string server_url(const web_context& ctx, std::string_view user, std::string_view server) {
  std::string url = ctx.options.base_url + "user/" + http::percent_encode(user) + "/";
  if (!server.empty()) url += http::percent_encode(server) + "/";
  return url;
}

std::string default_next(const web_context& ctx, const model::user& user) {
  const auto& o = ctx.options;
  if (!o.default_url.empty()) return o.default_url;
  if (!o.redirect_to_server) return o.hub_prefix + "home";
  auto s = ctx.model.find_server(user.name, "");
  if (s && s->started && !s->pending) return server_url(ctx, user.name, "");
  return o.hub_prefix + "spawn";
}

}  // namespace hubd::core::web
