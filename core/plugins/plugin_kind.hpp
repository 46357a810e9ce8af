#pragma once
// The three kinds of plugin, as core sees them (never the ABI's integer constants).
#include <optional>
#include <string_view>

namespace hubd::core::plugins {

enum class plugin_kind { authenticator, spawner, hooks };

constexpr std::string_view to_string(plugin_kind k) {
  switch (k) {
    case plugin_kind::authenticator: return "authenticator";
    case plugin_kind::spawner: return "spawner";
    case plugin_kind::hooks: return "hooks";
  }
  return "unknown";
}

std::optional<plugin_kind> parse_plugin_kind(std::string_view s);

}  // namespace hubd::core::plugins
