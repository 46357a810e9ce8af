#pragma once
// application/x-www-form-urlencoded bodies (login form, OAuth token endpoint, authorize confirm).
#include "core/http/request.hpp"

#include <optional>
#include <string_view>

namespace hubd::core::http {

// Repeated fields are kept in order. nullopt for a malformed escape or a value that is not
// valid UTF-8 or holds a NUL (the caller answers 400).
std::optional<query_map> parse_form(std::string_view body);

// True when the request's Content-Type is application/x-www-form-urlencoded (parameters ignored).
bool is_form_content_type(const request& req);

}  // namespace hubd::core::http
