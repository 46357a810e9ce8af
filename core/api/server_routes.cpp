// /users/{name}/server, /users/{name}/servers/{server} and their /progress streams.
// Thin: parse, check the scope, hand the lifecycle to the spawn slot (core/spawn/server_manager).
#include "core/api/render.hpp"
#include "core/api/routes.hpp"
#include "core/api/support.hpp"

#include <spdlog/spdlog.h>

namespace hubd::core::api {

namespace {

using rbac::builtin;
using rbac::resource_ref;

std::string server_param(const http::request& req) { return std::string(req.param("server")); }

void get_server(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  std::string server = server_param(*req);
  if (auto e = guard(ctx, who, {builtin::read_servers}, resource_ref::server(name, server))) return void(res(std::move(*e)));
  if (!ctx.model.find_user(name)) return void(res(http::error_response(404, "No such user: " + name)));
  auto s = ctx.model.find_server(name, server);
  if (!s && !server.empty()) return void(res(http::error_response(404, "No such server: " + name + "/" + server)));
  model::server none;
  none.name = server;
  bool with_state = holds(ctx, who, builtin::admin_server_state, resource_ref::server(name, server));
  res(http::json_response(200, server_model(ctx, name, s ? *s : none, with_state)));
}

void post_server(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  std::string server = server_param(*req);
  if (auto e = guard(ctx, who, {builtin::start_servers}, resource_ref::server(name, server))) return void(res(std::move(*e)));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return void(res(std::move(*e)));
  if (!ctx.model.find_user(name)) return void(res(http::error_response(404, "No such user: " + name)));
  if (!body.is_null() && !body.is_object()) return void(res(http::error_response(400, "Request body must be a JSON object")));
  // ServerRequest, or (legacy) the whole body is user_options. null / absent: reuse the previous options.
  nlohmann::json options;
  if (body.is_object()) {
    if (body.contains("user_options") || body.contains("display_name")) {
      options = body.value("user_options", nlohmann::json());
      if (!options.is_null() && !options.is_object())
        return void(res(http::error_response(400, "user_options must be a JSON object")));
    } else if (!body.empty()) {
      options = body;
    }
  }
  if (!ctx.spawn.start) return void(res(http::error_response(501, "Starting servers is not available in this hub")));
  auto* r = ctx.sessions.refresher();
  refresh_before(ctx, who, name, r && r->settings().refresh_pre_spawn,
                 [&ctx, name, server, options, res](bool over) {
                   if (over) return void(res(http::error_response(403, session::login_expired_message(name))));
                   ctx.spawn.start(name, server, options, [res](http::response out) { res(std::move(out)); });
                 });
}

void delete_server(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  std::string server = server_param(*req);
  if (auto e = guard(ctx, who, {builtin::delete_servers}, resource_ref::server(name, server))) return void(res(std::move(*e)));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return void(res(std::move(*e)));
  if (!ctx.model.find_user(name)) return void(res(http::error_response(404, "No such user: " + name)));
  bool remove = false;
  if (body.is_object() && body.contains("remove")) {
    if (!body["remove"].is_boolean()) return void(res(http::error_response(400, "remove must be true or false")));
    remove = body["remove"].get<bool>();
  }
  if (remove && server.empty()) return void(res(http::error_response(400, "Cannot delete the default server")));
  if (!server.empty() && !ctx.model.find_server(name, server))
    return void(res(http::error_response(404, "No such server: " + name + "/" + server)));
  auto& slot = remove ? ctx.spawn.remove : ctx.spawn.stop;
  if (!slot) {
    auto s = ctx.model.find_server(name, server);
    if (!s || !server_active(*s)) return void(res(http::empty_response(204)));
    return void(res(http::error_response(501, "Stopping servers is not available in this hub")));
  }
  // As JupyterHub: a user whose own login is over must log in again to stop; an admin or a service
  // (the idle culler) stops anyway.
  bool self = who.kind == principal::kind_t::user && who.name == name;
  auto* r = ctx.sessions.refresher();
  refresh_before(ctx, who, name, r && r->settings().refresh_pre_stop, [&slot, name, server, res, self](bool over) {
    if (over && self) return void(res(http::error_response(403, session::login_expired_message(name))));
    if (over) spdlog::warn("refresh: user {} may have stale auth info; stopping {} anyway", name, server.empty() ? "the default server" : server);
    slot(name, server, [res](http::response out) { res(std::move(out)); });
  });
}

void get_progress(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  std::string server = server_param(*req);
  if (auto e = guard(ctx, who, {builtin::read_servers}, resource_ref::server(name, server))) return void(res(std::move(*e)));
  if (!ctx.model.find_user(name)) return void(res(http::error_response(404, "No such user: " + name)));
  if (!server.empty() && !ctx.model.find_server(name, server))
    return void(res(http::error_response(404, "No such server: " + name + "/" + server)));
  if (!ctx.spawn.progress) return void(res(http::error_response(400, name + " is not starting")));
  ctx.spawn.progress(name, server, [res](http::response r) { res(std::move(r)); });
}

}  // namespace

void register_server_routes(http::router& router, api_context& ctx) {
  for (const char* path : {"/hub/api/users/{name}/server", "/hub/api/users/{name}/servers/{server}"}) {
    router.add("GET", path, make_handler(ctx, get_server));
    router.add("POST", path, make_handler(ctx, post_server));
    router.add("DELETE", path, make_handler(ctx, delete_server));
  }
  router.add("GET", "/hub/api/users/{name}/server/progress", make_handler(ctx, get_progress));
  router.add("GET", "/hub/api/users/{name}/servers/{server}/progress", make_handler(ctx, get_progress));
}

}  // namespace hubd::core::api
