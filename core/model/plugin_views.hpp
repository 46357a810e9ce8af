#pragma once
// The small user and role models hook plugins receive (plugin_api/hubd/hooks.h): the same shape
// for pre_spawn, post_stop and the change events.
#include "core/model/hub_model.hpp"

#include <nlohmann/json.hpp>

#include <string_view>

namespace hubd::core::model {

// {"name", "admin", "groups", "roles"}; only {"name"} when the user is gone.
nlohmann::json plugin_user_view(const hub_model& m, std::string_view user);
// The user's decrypted auth_state as authenticator and spawner plugins receive it (JupyterHub's
// user.get_auth_state()): null unless `enable_auth_state` (Authenticator.enable_auth_state) and a
// key is loaded, or when nothing is stored or it cannot be decrypted (logged, never the value).
nlohmann::json plugin_auth_state(const hub_model& m, std::string_view user, bool enable_auth_state);
// {"name", "description", "scopes"}; only {"name"} when the role is gone.
nlohmann::json plugin_role_view(const hub_model& m, std::string_view role);

}  // namespace hubd::core::model
