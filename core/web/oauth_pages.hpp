#pragma once
// What the pages give the OAuth provider: its consent and error pages in the hub's layout, and its
// settings as the pages read them from the config.
#include "core/oauth/oauth_context.hpp"
#include "core/web/web_context.hpp"

namespace hubd::core::web {

// `ctx` must outlive the port.
oauth::page_port oauth_pages(const web_context& ctx);

// require_pkce, token lifetime and the auto-login URL (no_confirm is left empty).
oauth::oauth_settings oauth_settings_of(const web_context& ctx);

}  // namespace hubd::core::web
