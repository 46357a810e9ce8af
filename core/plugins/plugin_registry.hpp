#pragma once
// The plugin loader: scans plugin folders for shared objects, checks each library's ABI descriptor,
// and registers plugins by kind and name. Libraries are loaded with RTLD_LOCAL|RTLD_NOW and never
// unloaded while anything created from them is alive.
#include "core/plugins/outcome.hpp"
#include "core/plugins/plugin_kind.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::plugins {

class plugin_host;
class authenticator_adapter;
class spawner_adapter;
class hooks_adapter;

struct plugin_info {
  std::filesystem::path file;
  std::string name;  // registered name, e.g. "dummy"
  plugin_kind kind = plugin_kind::authenticator;
  std::string version;
  std::string description;
  std::string library_name;
  std::string library_version;
  int abi_major = 0;
  int abi_minor = 0;
  std::vector<std::string> hook_points;  // hooks only
};

// A file (or one plugin in it, when plugin_name is set) that did not load, and why.
struct skipped_plugin {
  std::filesystem::path file;
  std::string plugin_name;
  std::string reason;
  // Set when the plugin was refused because an earlier file registered the same kind and name:
  // that file (which keeps the name) and the kind.
  std::filesystem::path duplicate_of;
  plugin_kind kind = plugin_kind::authenticator;
};

class plugin_registry {
public:
  // Libraries get `host`'s host table in init; instances are created on its pool.
  explicit plugin_registry(plugin_host& host);
  ~plugin_registry();
  plugin_registry(const plugin_registry&) = delete;
  plugin_registry& operator=(const plugin_registry&) = delete;

  // Scans each path: a folder (every *.so directly inside, in name order) or a file. Broken files are
  // skipped with a warning and recorded in skipped(); a missing folder is only logged. A file already
  // loaded is not loaded again.
  void scan(const std::vector<std::filesystem::path>& paths);
  // Loads one file; returns false (and records why) when nothing from it registered.
  bool load_file(const std::filesystem::path& file);

  std::vector<plugin_info> plugins() const;
  const std::vector<skipped_plugin>& skipped() const;

  // The paths given to scan(), in order.
  const std::vector<std::filesystem::path>& scanned() const;

  // The registered plugin, or an error that names the file and the reason when the config names a
  // plugin that did not load (start-up must stop with it), or the folders searched when no file has it.
  outcome<plugin_info> require(plugin_kind kind, std::string_view name) const;

  // Instances. `section` is the plugin's [plugins.NAME] table as JSON (may be null or {}); hubd's own
  // keys (timeout, roles, enabled) are taken out before the plugin sees it. The *_sync forms block the
  // calling thread while create() runs on the pool: start-up only, never on an io thread.
  outcome<std::shared_ptr<authenticator_adapter>> create_authenticator(std::string_view name,
                                                                       const nlohmann::json& section) const;
  outcome<std::shared_ptr<hooks_adapter>> create_hooks(std::string_view name, const nlohmann::json& section) const;
  outcome<std::shared_ptr<spawner_adapter>> create_spawner_sync(std::string_view name,
                                                                const nlohmann::json& section) const;
  // One spawner per (user, server): the callback runs on the plugin completion thread.
  void create_spawner(std::string_view name, const nlohmann::json& section,
                      std::function<void(outcome<std::shared_ptr<spawner_adapter>>)> done) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hubd::core::plugins
