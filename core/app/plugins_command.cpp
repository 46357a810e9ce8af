// `hubd plugins [--config FILE]`: scans the plugin folders the config names and lists every plugin
// found (file, name, kind, versions) and why any file or plugin was skipped.
#include "core/app/commands.hpp"
#include "core/app/config.hpp"
#include "core/app/plugin_loading.hpp"
#include "core/plugins/plugin_host.hpp"
#include "core/plugins/plugin_registry.hpp"

#include <spdlog/spdlog.h>

#include <iomanip>
#include <iostream>

namespace hubd::core::app {

int plugins_command(const arg_list& args) {
  int status = 0;
  auto loaded = config_from_args(args, "plugins", status);
  if (!loaded) return status;
  const config& cfg = *loaded;
  // The listing is the output; loader warnings would only repeat it.
  spdlog::set_level(spdlog::level::err);

  const auto paths = cfg.plugin_folders();

  plugins::plugin_host host(1);
  plugins::plugin_registry registry(host);
  auto report = load_configured_plugins(cfg, registry);

  std::cout << "plugin folders:\n";
  for (const auto& p : paths) std::cout << "  " << p.string() << (std::filesystem::exists(p) ? "" : "  (does not exist)") << "\n";
  auto found = registry.plugins();
  std::cout << "\n" << found.size() << " plugin(s) loaded:\n";
  if (!found.empty()) {
    std::cout << "  " << std::left << std::setw(20) << "NAME" << std::setw(15) << "KIND" << std::setw(12) << "VERSION"
              << std::setw(6) << "ABI" << "FILE\n";
  }
  for (const auto& p : found) {
    std::cout << "  " << std::left << std::setw(20) << p.name << std::setw(15) << plugins::to_string(p.kind)
              << std::setw(12) << p.version << std::setw(6)
              << (std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor)) << p.file.string() << "\n";
    if (!p.description.empty()) std::cout << "      " << p.description << "\n";
  }
  const auto& skipped = registry.skipped();
  if (!skipped.empty()) {
    std::cout << "\n" << skipped.size() << " skipped:\n";
    for (const auto& s : skipped) {
      std::cout << "  " << s.file.string();
      if (!s.plugin_name.empty()) std::cout << " (plugin '" << s.plugin_name << "')";
      std::cout << ": " << s.reason << "\n";
    }
  }
  // What the config selects, so a wrong name is visible before `hubd` refuses to start.
  std::cout << "\nconfigured:\n";
  auto show = [&](plugins::plugin_kind kind, const std::string& name, const std::string& key) {
    auto r = registry.require(kind, name);
    std::cout << "  " << key << " = \"" << name << "\": " << (r ? "loaded from " + r->file.string() : "NOT LOADED: " + r.error())
              << "\n";
  };
  show(plugins::plugin_kind::authenticator, cfg.get("JupyterHub", "authenticator_class").get<std::string>(),
       "JupyterHub.authenticator_class");
  show(plugins::plugin_kind::spawner, cfg.get("JupyterHub", "spawner_class").get<std::string>(),
       "JupyterHub.spawner_class");
  for (const auto& [name, section] : cfg.values["plugins"].items()) {
    if (registry.require(plugins::plugin_kind::hooks, name))
      show(plugins::plugin_kind::hooks, name, "[plugins." + name + "]");
  }
  // Exit status as `hubd check-config` and start-up: a selected plugin that cannot load is an error.
  for (const auto& w : report.warnings) std::cerr << "warning: " << w << "\n";
  for (const auto& e : report.errors) std::cerr << "error: " << e << "\n";
  return report.errors.empty() ? 0 : 1;
}

}  // namespace hubd::core::app
