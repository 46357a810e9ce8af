#include "core/spawn/spawn_patch.hpp"

namespace hubd::core::spawn {

std::string apply_spawn_patch(nlohmann::json& ctx, const nlohmann::json& patch) {
  using nlohmann::json;
  if (patch.is_null()) return "";
  if (!patch.is_object()) return "the patch is not a JSON object";
  for (const auto& [key, value] : patch.items()) {
    if (key == "env") {
      if (!value.is_object()) return "\"env\" must be an object of strings";
      for (const auto& [k, v] : value.items())
        if (!v.is_string() && !v.is_null()) return "env value for " + k + " must be a string or null";
    } else if (key == "args") {
      if (!value.is_array()) return "\"args\" must be a list of strings";
      for (const auto& v : value)
        if (!v.is_string()) return "\"args\" must be a list of strings";
    } else if (key == "user_options") {
      if (!value.is_object()) return "\"user_options\" must be an object";
    }
    // Unknown keys are ignored: both sides ignore unknown fields, so either may be newer.
  }
  auto merge = [&ctx](const char* field, const json& changes) {
    json& target = ctx[field];
    if (!target.is_object()) target = json::object();
    for (const auto& [k, v] : changes.items()) {
      if (v.is_null()) target.erase(k);
      else target[k] = v;
    }
  };
  if (auto it = patch.find("env"); it != patch.end()) merge("env", *it);
  if (auto it = patch.find("user_options"); it != patch.end()) merge("user_options", *it);
  if (auto it = patch.find("args"); it != patch.end()) ctx["args"] = *it;
  return "";
}

}  // namespace hubd::core::spawn
