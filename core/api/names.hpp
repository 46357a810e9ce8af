#pragma once
// Username normalization and validation through the authenticator slot, with JupyterHub's
// base Authenticator defaults when no authenticator is wired.
#include "core/api/api_context.hpp"

#include <string>
#include <string_view>

namespace hubd::core::api {

std::string normalize_username(const api_context& ctx, std::string_view name);
bool validate_username(const api_context& ctx, std::string_view name);

}  // namespace hubd::core::api
