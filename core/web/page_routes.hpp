#pragma once
// The hub's page routes under <base_url>hub/: login and logout, home, token,
// admin, spawn pages, redirects, health, static files, error pages and the authenticator's own
// routes. Cookie auth only; pages that need a login redirect to it.
#include "core/http/router.hpp"
#include "core/web/web_context.hpp"

namespace hubd::core::web {

// Registers every page route and the router's fallback (404 page under /hub/, redirect into
// /hub/ elsewhere). `ctx` must outlive the router.
void register_page_routes(http::router& router, web_context& ctx);

}  // namespace hubd::core::web
