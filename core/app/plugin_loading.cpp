#include "core/app/plugin_loading.hpp"

#include "core/plugins/authenticator_adapter.hpp"
#include "core/plugins/hooks_adapter.hpp"
#include "core/plugins/install_layout.hpp"
#include "core/plugins/plugin_registry.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>

namespace hubd::core::app {

namespace {

namespace fs = std::filesystem;
using plugins::plugin_kind;
using json = nlohmann::json;

struct selection {
  std::optional<plugin_kind> kind;  // none: a [plugins.NAME] table, any kind will do
  std::string name;
  std::string key;  // the config key that selects it, for where()
};

std::vector<selection> selections(const config& cfg) {
  std::vector<selection> out{
      {plugin_kind::authenticator, cfg.get("JupyterHub", "authenticator_class").get<std::string>(),
       "JupyterHub.authenticator_class"},
      {plugin_kind::spawner, cfg.get("JupyterHub", "spawner_class").get<std::string>(), "JupyterHub.spawner_class"}};
  for (const auto& [name, table] : cfg.section("plugins").items()) {
    if (!table.value("enabled", true)) continue;
    if (name == out[0].name || name == out[1].name) continue;  // that key already names it
    out.push_back({std::nullopt, name, "plugins." + name});
  }
  return out;
}

bool selects(const std::vector<selection>& sel, plugin_kind kind, const std::string& name) {
  for (const auto& s : sel)
    if (s.name == name && (!s.kind || *s.kind == kind)) return true;
  return false;
}

}  // namespace

plugin_load_report load_configured_plugins(const config& cfg, plugins::plugin_registry& registry) {
  plugin_load_report report;
  const auto folders = cfg.plugin_folders();
  registry.scan(folders);

  // Missing folders: the shipped one means a broken install; a configured one a typo. The default
  // plugins_dir (plugins/ beside the config) is optional and stays quiet.
  std::vector<std::string> missing;
  auto check_exists = [&](const fs::path& p, const std::string& what) {
    std::error_code ec;
    if (fs::exists(p, ec)) return;
    missing.push_back(what + " " + p.string() + " does not exist");
    report.warnings.push_back(missing.back());
  };
  check_exists(folders[0], "the shipped plugin folder (<hubd executable folder>/../" +
                               std::string(plugins::shipped_plugin_subdir) + ")");
  if (cfg.lines.count("JupyterHub.plugins_dir"))
    check_exists(folders[1], cfg.where("JupyterHub.plugins_dir") + ": plugin folder");
  for (std::size_t i = 2; i < folders.size(); ++i) check_exists(folders[i], cfg.where("JupyterHub.plugin_paths") + ": plugin path");

  const auto sel = selections(cfg);
  for (const auto& s : sel) {
    std::string error;
    if (s.kind) {
      if (auto r = registry.require(*s.kind, s.name); !r) error = r.error();
    } else if (!registry.require(plugin_kind::hooks, s.name) && !registry.require(plugin_kind::authenticator, s.name) &&
               !registry.require(plugin_kind::spawner, s.name)) {
      error = registry.require(plugin_kind::hooks, s.name).error();
      if (error.rfind("no hooks plugin named", 0) == 0) {  // the table may be meant for any kind
        error = "no plugin named '" + s.name + "' was found in";
        for (std::size_t i = 0; i < folders.size(); ++i) error += (i ? ", " : " ") + folders[i].string();
      }
    }
    if (error.empty()) continue;
    for (const auto& m : missing) error += "; " + m;
    report.errors.push_back(cfg.where(s.key) + ": " + error);
  }

  for (const auto& skipped : registry.skipped()) {
    if (skipped.duplicate_of.empty()) continue;
    std::string kind(plugins::to_string(skipped.kind));
    std::string both = kind + " plugin '" + skipped.plugin_name + "' is registered by two files, " +
                       skipped.duplicate_of.string() + " and " + skipped.file.string();
    if (!selects(sel, skipped.kind, skipped.plugin_name)) {
      report.warnings.push_back(both + "; the first one is used");
      continue;
    }
    std::string key;
    for (const auto& s : sel)
      if (s.name == skipped.plugin_name && (!s.kind || *s.kind == skipped.kind)) key = s.key;
    report.errors.push_back(cfg.where(key) + ": " + both +
                            "; remove one of them (or give yours another name) so that the config says which runs");
  }
  return report;
}

std::vector<std::string> create_scope_registering_plugins(const config& cfg, const plugins::plugin_registry& registry) {
  std::vector<std::string> errors;
  const json& tables = cfg.section("plugins");
  auto section_of = [&](const std::string& name) { return tables.value(name, json::object()); };
  const std::string auth_name = cfg.get("JupyterHub", "authenticator_class").get<std::string>();
  if (auto a = registry.create_authenticator(auth_name, section_of(auth_name)); !a)
    errors.push_back(cfg.where("plugins." + auth_name) + ": " + a.error());
  for (const auto& [name, table] : tables.items()) {
    if (name == auth_name || !table.value("enabled", true) || !registry.require(plugin_kind::hooks, name)) continue;
    if (auto h = registry.create_hooks(name, table); !h) errors.push_back(cfg.where("plugins." + name) + ": " + h.error());
  }
  return errors;
}

}  // namespace hubd::core::app
