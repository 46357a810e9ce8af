#pragma once
// Username normalization and validation through the authenticator slot, with hubd's rule
// (core/names) when no authenticator is wired.
#include "core/api/api_context.hpp"
#include "core/http/response.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace hubd::core::api {

names::username_result normalize_username(const api_context& ctx, std::string_view name);
bool validate_username(const api_context& ctx, std::string_view name);

// A name from a request made the stored name, or the 400 answer that says why it cannot be one.
std::optional<http::response> normalized_or_error(const api_context& ctx, std::string_view raw, std::string& out);

}  // namespace hubd::core::api
