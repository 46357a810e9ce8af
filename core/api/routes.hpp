#pragma once
// Registers every REST endpoint of hubd on the router (one register_<area>_routes per area file,
// listed in routes.cpp).
#include "core/api/api_context.hpp"
#include "core/http/router.hpp"

namespace hubd::core::api {

// `ctx` must outlive the router.
void register_api_routes(http::router& router, api_context& ctx);

}  // namespace hubd::core::api
