#pragma once
// The small user and role models hook plugins receive (plugin_api/hubd/hooks.h): the same shape
// for pre_spawn, post_stop and the change events.
#include "core/model/hub_model.hpp"

#include <nlohmann/json.hpp>

#include <string_view>

namespace hubd::core::model {

// {"name", "admin", "groups", "roles"}; only {"name"} when the user is gone.
nlohmann::json plugin_user_view(const hub_model& m, std::string_view user);
// {"name", "description", "scopes"}; only {"name"} when the role is gone.
nlohmann::json plugin_role_view(const hub_model& m, std::string_view role);

}  // namespace hubd::core::model
