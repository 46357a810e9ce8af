#pragma once
// Internal to core/plugins: how a plugin's completion (status + result JSON) becomes an op_result.
// Pure (no loader, no threads), so the untrusted-input path can be tested and fuzzed on its own.
#include "hubd/abi.h"

#include "core/plugins/op_result.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace hubd::core::plugins::detail {

inline constexpr std::size_t max_plugin_json = 4u << 20;  // results, progress events, request bodies

// Parses plugin JSON (an empty string is null) with the size limit; returns the error or "".
std::string parse_plugin_json(std::string_view text, nlohmann::json& out);

// Status + result text as the plugin completed them, checked with `validate` when ok. A malformed
// or unexpected answer is op_status::misbehaving with a message naming the plugin and the op.
op_result read_completion(hubd_status status, std::string_view text, const result_validator& validate,
                          std::string_view plugin_name, std::string_view op_name);

// Result shapes of the authenticator and spawner ops; each returns "" or what is wrong.
std::string expect_bool(const nlohmann::json& v);
std::string expect_object_or_null(const nlohmann::json& v);
std::string check_auth_model(const nlohmann::json& v);
std::string check_start(const nlohmann::json& v);
std::string check_poll(const nlohmann::json& v);

}  // namespace hubd::core::plugins::detail
