#pragma once
// Loading the plugins a config selects, shared by start-up, `hubd check-config`, `hubd plugins` and
// `hubd scopes`, so that each of them refuses the same configs with the same words.
#include "core/app/config.hpp"

#include <string>
#include <vector>

namespace hubd::core::plugins {
class plugin_host;
class plugin_registry;
}  // namespace hubd::core::plugins

namespace hubd::core::app {

struct plugin_load_report {
  // A configured plugin that is found nowhere or did not load, or a selected name that two files
  // register: "hub.toml:3: JupyterHub.spawner_class: no spawner plugin named 'simple' was found in ...".
  std::vector<std::string> errors;
  // A folder that does not exist; two files registering a name the config does not select.
  std::vector<std::string> warnings;
};

// Scans cfg.plugin_folders() into `registry` (the shipped folder, plugins_dir, plugin_paths) and checks
// the selected plugins: JupyterHub.authenticator_class, JupyterHub.spawner_class and every enabled
// [plugins.NAME] table. Files that fail to load are in registry.skipped() (and the loader's log).
plugin_load_report load_configured_plugins(const config& cfg, plugins::plugin_registry& registry);

// Creates the selected authenticator and the enabled hook plugins, as start-up does, so that the
// custom scopes they register are in host.custom_scopes(). Returns the errors ("hub.toml:5:
// plugins.NAME: ...") of those whose create() failed.
std::vector<std::string> create_scope_registering_plugins(const config& cfg, const plugins::plugin_registry& registry);

}  // namespace hubd::core::app
