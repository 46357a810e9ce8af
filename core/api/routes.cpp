#include "core/api/routes.hpp"

namespace hubd::core::api {

// One declaration and one call per area file: keep these two lists simple so merges are trivial.
void register_hub_routes(http::router& router, api_context& ctx);
void register_user_routes(http::router& router, api_context& ctx);
void register_token_routes(http::router& router, api_context& ctx);
void register_server_routes(http::router& router, api_context& ctx);
void register_proxy_routes(http::router& router, api_context& ctx);
void register_group_routes(http::router& router, api_context& ctx);
void register_service_routes(http::router& router, api_context& ctx);
void register_role_routes(http::router& router, api_context& ctx);
void register_share_routes(http::router& router, api_context& ctx);

void register_api_routes(http::router& router, api_context& ctx) {
  register_hub_routes(router, ctx);
  register_user_routes(router, ctx);
  register_token_routes(router, ctx);
  register_server_routes(router, ctx);
  register_proxy_routes(router, ctx);
  register_group_routes(router, ctx);
  register_service_routes(router, ctx);
  register_role_routes(router, ctx);
  register_share_routes(router, ctx);
}

}  // namespace hubd::core::api
