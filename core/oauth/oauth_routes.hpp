#pragma once
// The OAuth2 provider's endpoints:
//   GET|POST <hub>/api/oauth2/authorize  (browser, cookie auth; confirm page)
//   POST     <hub>/api/oauth2/token      (client credentials in the form body)
#include "core/http/router.hpp"
#include "core/oauth/oauth_context.hpp"

namespace hubd::core::oauth {

// `ctx` must outlive the router.
void register_oauth_routes(http::router& router, oauth_context& ctx);

}  // namespace hubd::core::oauth
