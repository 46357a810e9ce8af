#pragma once
// Authenticator.validate_username as JupyterHub applies it: the authenticator's own rule (or the
// default: not empty, no '/'), hubd's name rule (core/names), and Authenticator.username_pattern
// matched from the name's start (Python's re.match). One rule for logins, POST /users and the
// start-up check of the users already in the database (Authenticator.delete_invalid_users).
#include "core/app/config.hpp"
#include "core/model/hub_model.hpp"
#include "core/plugins/authenticator_adapter.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hubd::core::app {

// nullopt: valid; otherwise why not.
using username_rule = std::function<std::optional<std::string>(std::string_view)>;

username_rule make_username_rule(const config& cfg, std::shared_ptr<plugins::authenticator_adapter> authenticator);

// JupyterHub's init_users pass over the database: every user not in blocked_users must pass the
// rule and the authenticator's add_user op (when it has one). Those that do not are deleted with
// Authenticator.delete_invalid_users, and otherwise only named in a warning. Valid names not in
// normal form (stored before hubd normalised names) are named in a warning and kept, whatever
// delete_invalid_users says. Runs at start-up on
// the main thread (it waits for the model and the plugin).
void check_existing_users(const config& cfg, model::hub_model& model, const username_rule& rule,
                          plugins::authenticator_adapter& authenticator);

}  // namespace hubd::core::app
