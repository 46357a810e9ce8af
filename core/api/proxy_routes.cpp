// GET/POST/PATCH /proxy: the proxy's routing table, a resync, and a new API URL or
// token for an external proxy. Thin: the proxy slot (core/proxy, wired by the app) does the work.
#include "core/api/routes.hpp"
#include "core/api/support.hpp"

#include <algorithm>

namespace hubd::core::api {

namespace {

using rbac::builtin;
using rbac::resource_ref;

void get_proxy(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = guard(ctx, who, {builtin::proxy}, resource_ref::none())) return void(res(std::move(*e)));
  page pg;
  if (auto e = parse_page(ctx, *req, pg)) return void(res(std::move(*e)));
  if (!ctx.proxy.get_routes) return void(res(page_response(*req, pg, nlohmann::json::object(), 0)));
  ctx.proxy.get_routes([req, pg, res](std::optional<nlohmann::json> routes) {
    if (!routes || !routes->is_object())
      return void(res(http::error_response(502, "The proxy's routing table could not be read")));
    // Paginated by sorted routespec (nlohmann's object keeps its keys sorted).
    nlohmann::json slice = nlohmann::json::object();
    std::size_t i = 0;
    for (auto& [spec, route] : routes->items()) {
      if (i >= pg.offset && slice.size() < pg.limit) slice[spec] = route;
      ++i;
    }
    res(page_response(*req, pg, std::move(slice), routes->size()));
  });
}

void post_proxy(api_context& ctx, const http::request_ptr&, const principal& who, http::responder res) {
  if (auto e = guard(ctx, who, {builtin::proxy}, resource_ref::none())) return void(res(std::move(*e)));
  if (!ctx.proxy.resync) return void(res(http::empty_response(200)));
  ctx.proxy.resync([res](bool ok) {
    res(ok ? http::empty_response(200) : http::error_response(502, "The proxy's routes could not be synchronised"));
  });
}

void patch_proxy(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = guard(ctx, who, {builtin::proxy}, resource_ref::none())) return void(res(std::move(*e)));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return void(res(std::move(*e)));
  if (!body.is_object()) return void(res(http::error_response(400, "Request body must be JSON dict")));
  for (const char* key : {"api_url", "auth_token"})
    if (body.contains(key) && !body[key].is_string())
      return void(res(http::error_response(400, std::string(key) + " must be a string")));
  if (!ctx.proxy.reconfigure) return void(res(http::error_response(400, "This hub has no proxy to reconfigure")));
  ctx.proxy.reconfigure(body, [res](bool ok) {
    res(ok ? http::empty_response(200) : http::error_response(502, "The proxy could not be reached with the new settings"));
  });
}

}  // namespace

void register_proxy_routes(http::router& router, api_context& ctx) {
  router.add("GET", "/hub/api/proxy", make_handler(ctx, get_proxy));
  router.add("POST", "/hub/api/proxy", make_handler(ctx, post_proxy));
  router.add("PATCH", "/hub/api/proxy", make_handler(ctx, patch_proxy));
}

}  // namespace hubd::core::api
