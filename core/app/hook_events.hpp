#pragma once
// Change events for hook plugins (plugin_api/hubd/hooks.h): the model's committed changes become
// user_created, user_deleted, group_members_changed, role_changed, server_started and server_stopped
// calls on every hook plugin that subscribes, in config order. Delivery never holds up the change
// (the model already committed it) and a failing hook is logged and changes nothing else.
#include "core/model/events.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hubd::core::model {
class hub_model;
}
namespace hubd::core::plugins {
class hooks_adapter;
}

namespace hubd::core::app {

// The hook point and input a model event becomes, or nullopt for events hooks do not see
// (group_created, group_deleted, user_renamed). Reads the model for the user and role models.
struct hook_event {
  std::string hook_point;
  nlohmann::json input;
};
std::optional<hook_event> to_hook_event(const model::hub_model& model, const model::event& e);

// Subscribes to the model; a no-op when no hook plugin takes any change event.
void deliver_change_events(model::hub_model& model, std::vector<std::shared_ptr<plugins::hooks_adapter>> hooks);

}  // namespace hubd::core::app
