// /hub/api/ (version), /info, /health, /shutdown and the deprecated /authorizations endpoints.
#include "core/api/render.hpp"
#include "core/api/routes.hpp"
#include "core/api/support.hpp"

#include <spdlog/spdlog.h>

namespace hubd::core::api {

namespace {

using rbac::builtin;

void get_root(api_context& ctx, const http::request_ptr&, const principal&, http::responder res) {
  auto r = http::json_response(200, {{"version", ctx.version}, {"hubd_version", HUBD_VERSION}});
  r.set_header("Access-Control-Allow-Origin", "*");
  res(std::move(r));
}

void get_info(api_context& ctx, const http::request_ptr&, const principal& who, http::responder res) {
  if (auto e = guard(ctx, who, {builtin::read_hub}, rbac::resource_ref::none())) return void(res(std::move(*e)));
  nlohmann::json body = {
      {"version", ctx.version},
      {"hubd_version", HUBD_VERSION},
      {"python", std::string("hubd ") + HUBD_VERSION + " (C++)"},
      {"sys_executable", ""},
      {"spawner", {{"class", ctx.spawn.class_name}, {"version", ctx.spawn.version}}},
      {"authenticator", {{"class", ctx.authenticator.class_name}, {"version", ctx.authenticator.version}}},
  };
  res(http::json_response(200, body));
}

void get_health(api_context&, const http::request_ptr&, const principal&, http::responder res) {
  res(http::empty_response(200));
}

void post_shutdown(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = guard(ctx, who, {builtin::shutdown}, rbac::resource_ref::none())) return void(res(std::move(*e)));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return void(res(std::move(*e)));
  if (!body.is_null() && !body.is_object()) return void(res(http::error_response(400, "Request body must be a JSON object")));
  bool stop_proxy = ctx.hub_bool("cleanup_proxy", true);
  bool stop_servers = ctx.hub_bool("cleanup_servers", true);
  for (auto [key, target] : {std::pair{"proxy", &stop_proxy}, std::pair{"servers", &stop_servers}}) {
    if (!body.is_object() || !body.contains(key)) continue;
    const auto& v = body[key];
    if (!v.is_boolean()) {
      return void(res(http::error_response(400, std::string(key) + " must be true or false, got " + v.dump())));
    }
    *target = v.get<bool>();
  }
  spdlog::info("api: shutdown requested by {} (proxy: {}, servers: {})", who.name, stop_proxy, stop_servers);
  res(http::json_response(202, {{"message", "Shutting down Hub"}}));
  if (ctx.shutdown) ctx.shutdown(stop_proxy, stop_servers);
}

// The owner of any token, for the deprecated lookups: rendered with the caller's scopes plus the
// owner's identify scopes, so old clients always get name and kind.
nlohmann::json owner_model(api_context& ctx, const principal& who, const model::token& t) {
  if (t.user_id) {
    auto u = ctx.model.find_user(*t.user_id);
    if (!u) return nullptr;
    auto view = rbac::identity_render_scopes(ctx.scopes, who.held(), rbac::principal_ref::user(u->name));
    return render_user(ctx, *u, view);
  }
  if (t.service_id) {
    for (const auto& s : ctx.model.list_services()) {
      if (s->id != *t.service_id) continue;
      auto view = rbac::identity_render_scopes(ctx.scopes, who.held(), rbac::principal_ref::service(s->name));
      return render_service(ctx, *s, view);
    }
  }
  return nullptr;
}

std::optional<response> require_token(const principal& who) {
  if (who.authenticated() && who.token) return std::nullopt;
  return http::error_response(403, "Missing or invalid credentials.");
}

void get_token_owner(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = require_token(who)) return void(res(std::move(*e)));
  spdlog::warn("api: /authorizations/token/:token is deprecated since JupyterHub 2.0; use /hub/api/user");
  auto t = ctx.model.find_token(req->param("token"));
  if (!t) return void(res(http::error_response(404)));
  auto model = owner_model(ctx, who, *t);
  if (model.is_null()) return void(res(http::error_response(404)));
  ctx.sessions.record_token_activity(*t, nullptr);
  res(http::json_response(200, model));
}

void get_cookie_owner(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = require_token(who)) return void(res(std::move(*e)));
  spdlog::warn("api: /authorizations/cookie is deprecated since JupyterHub 2.0; use /hub/api/user");
  std::string name(req->param("name"));
  std::string value(req->param("value"));
  if (value.empty()) value = req->body;  // the pre-2.0 form sent the value as the body
  auto u = ctx.sessions.user_of_cookie(name, value);
  if (!u) return void(res(http::error_response(404)));
  auto view = rbac::identity_render_scopes(ctx.scopes, who.held(), rbac::principal_ref::user(u->name));
  res(http::json_response(200, render_user(ctx, *u, view)));
}

void post_token_removed(api_context&, const http::request_ptr&, const principal&, http::responder res) {
  // Removed in JupyterHub 2.0: use POST /users/{name}/tokens.
  res(http::error_response(404));
}

}  // namespace

void register_hub_routes(http::router& router, api_context& ctx) {
  router.add("GET", "/hub/api", make_handler(ctx, get_root));
  router.add("GET", "/hub/api/", make_handler(ctx, get_root));
  router.add("GET", "/hub/api/info", make_handler(ctx, get_info));
  router.add("GET", "/hub/api/health", make_handler(ctx, get_health));
  router.add("HEAD", "/hub/api/health", make_handler(ctx, get_health));
  router.add("POST", "/hub/api/shutdown", make_handler(ctx, post_shutdown));
  router.add("POST", "/hub/api/authorizations/token", make_handler(ctx, post_token_removed));
  router.add("GET", "/hub/api/authorizations/token/{token}", make_handler(ctx, get_token_owner));
  router.add("GET", "/hub/api/authorizations/cookie/{name}", make_handler(ctx, get_cookie_owner));
  router.add("GET", "/hub/api/authorizations/cookie/{name}/{value*}", make_handler(ctx, get_cookie_owner));
}

}  // namespace hubd::core::api
