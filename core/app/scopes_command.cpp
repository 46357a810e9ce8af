// `hubd scopes expand|check`: the operator's window onto the RBAC core (docs/rbac.md).
//   hubd scopes expand [--config FILE] [--role NAME]... [--user NAME] [SCOPE]...
//   hubd scopes check FILE
// Results go to stdout, warnings and errors to stderr ("warning: ...", "error: ...").
#include "core/app/commands.hpp"
#include "core/app/config.hpp"
#include "core/app/plugin_loading.hpp"
#include "core/plugins/plugin_host.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/rbac/rbac.hpp"

#include <spdlog/spdlog.h>

#include <iostream>
#include <map>
#include <optional>
#include <set>

namespace hubd::core::app {

namespace {

namespace rbac = hubd::core::rbac;

constexpr const char* usage_text =
    "usage: hubd scopes expand [--config FILE] [--role NAME]... [--user NAME] [SCOPE]...\n"
    "       hubd scopes check FILE\n";

struct rbac_setup {
  rbac::scope_table table;
  rbac::loaded_roles roles;
  std::map<std::string, std::string> plugin_scopes;  // custom scope -> the plugin that registered it
};

std::vector<std::string> string_list(const nlohmann::json& v) {
  std::vector<std::string> out;
  if (v.is_array())
    for (const auto& s : v)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

// The custom scopes the config's plugins register while they are created: the plugins are loaded and
// created as at start-up (a selected plugin that cannot load is an error here too).
std::optional<nlohmann::json> plugin_custom_scopes(const config& cfg, std::map<std::string, std::string>& owners) {
  auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::err);  // loader chatter is `hubd plugins`'s to show
  plugins::plugin_host host(1);
  plugins::plugin_registry registry(host);
  auto report = load_configured_plugins(cfg, registry);
  for (const auto& w : report.warnings) std::cerr << "warning: " << w << "\n";
  auto errors = report.errors;
  if (errors.empty()) errors = create_scope_registering_plugins(cfg, registry);
  spdlog::set_level(level);
  for (const auto& e : errors) std::cerr << "error: " << e << "\n";
  if (!errors.empty()) return std::nullopt;
  host.close_scope_registration();
  owners = host.custom_scope_plugins();
  return host.custom_scopes();
}

// Custom scopes (the config's, then the plugins'), then roles, as the hub does at start-up. Errors
// name the config line; nullopt after printing them.
std::optional<rbac_setup> load_rbac(const config& cfg) {
  rbac_setup out;
  const auto& jh = cfg.section("JupyterHub");
  bool ok = true;
  auto custom = out.table.add_custom_scopes(jh.value("custom_scopes", nlohmann::json::object()));
  for (const auto& w : custom.warnings) std::cerr << "warning: " << cfg.where("JupyterHub.custom_scopes") << ": " << w << "\n";
  for (const auto& e : custom.errors) {
    std::cerr << "error: " << cfg.where("JupyterHub.custom_scopes") << ": " << e << "\n";
    ok = false;
  }
  if (!ok) return std::nullopt;
  auto from_plugins = plugin_custom_scopes(cfg, out.plugin_scopes);
  if (!from_plugins) return std::nullopt;
  if (!from_plugins->empty()) {
    auto added = out.table.add_custom_scopes(*from_plugins);
    for (const auto& w : added.warnings) std::cerr << "warning: plugins: " << w << "\n";
    for (const auto& e : added.errors) std::cerr << "error: plugins: " << e << "\n";
    if (!added.errors.empty()) return std::nullopt;
  }
  try {
    out.roles = rbac::load_roles(out.table, jh.value("load_roles", nlohmann::json::array()),
                                 string_list(jh.value("extra_user_scopes", nlohmann::json::array())));
  } catch (const rbac::role_error& e) {
    std::string path = e.key() == "extra_user_scopes" ? "JupyterHub.extra_user_scopes"
                       : e.index() < 0                ? "JupyterHub.load_roles"
                                                      : "JupyterHub.load_roles[" + std::to_string(e.index()) + "]" +
                                           (e.key().empty() ? "" : "." + e.key());
    std::cerr << "error: " << cfg.where(path) << ": " << e.what() << "\n";
    return std::nullopt;
  }
  return out;
}

int expand_command(arg_list args) {
  std::string file = take_config_option(args);
  std::vector<std::string> role_names, scopes;
  std::optional<std::string> user;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string_view opt) -> std::optional<std::string> {
      if (a == opt) {
        if (i + 1 >= args.size()) return std::nullopt;
        return args[++i];
      }
      return a.substr(opt.size() + 1);
    };
    if (a == "--role" || a.rfind("--role=", 0) == 0) {
      auto v = value("--role");
      if (!v) {
        std::cerr << "error: --role needs a role name\n" << usage_text;
        return 2;
      }
      role_names.push_back(*v);
    } else if (a == "--user" || a.rfind("--user=", 0) == 0) {
      auto v = value("--user");
      if (!v || v->empty()) {
        std::cerr << "error: --user needs a user name\n" << usage_text;
        return 2;
      }
      user = *v;
    } else if (a.rfind("--", 0) == 0) {
      std::cerr << "error: unknown option '" << a << "'\n" << usage_text;
      return 2;
    } else {
      scopes.push_back(a);
    }
  }
  config cfg;
  try {
    cfg = file.empty() ? default_config() : load_config_file(file);
  } catch (const config_error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  auto setup = load_rbac(cfg);
  if (!setup) return 1;
  std::vector<std::string> raw;
  for (const auto& name : role_names) {
    const rbac::configured_role* found = nullptr;
    for (const auto& r : setup->roles.roles)
      if (r.role.name == name) found = &r;
    if (!found) {
      std::cerr << "error: role " << rbac::single_quoted(name) << " does not exist\n";
      return 1;
    }
    raw.insert(raw.end(), found->role.scopes.begin(), found->role.scopes.end());
  }
  raw.insert(raw.end(), scopes.begin(), scopes.end());
  try {
    rbac::validate_scopes(setup->table, scopes);
    auto owner = user ? rbac::principal_ref::user(*user) : rbac::principal_ref::none();
    auto e = rbac::expand(setup->table, raw, owner);
    for (const auto& w : e.warnings) std::cerr << "warning: " << w << "\n";
    for (const auto& s : e.scopes.to_strings(setup->table)) std::cout << s << "\n";
  } catch (const rbac::scope_not_found& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int check_command(arg_list args) {
  std::string file = take_config_option(args);
  if (file.empty() && args.size() == 1) file = args.front();
  if (file.empty() || args.size() > 1) {
    std::cerr << usage_text;
    return 2;
  }
  config cfg;
  try {
    cfg = load_config_file(file);
  } catch (const config_error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  auto setup = load_rbac(cfg);
  if (!setup) return 1;
  for (const auto& w : setup->roles.warnings) std::cerr << "warning: " << w << "\n";

  // Other scope lists of the config: checked like role scopes.
  int errors = 0;
  auto check_list = [&](const std::string& path, const nlohmann::json& v, const std::string& who) {
    auto list = string_list(v);
    try {
      rbac::validate_scopes(setup->table, list, who);
    } catch (const rbac::scope_not_found& e) {
      std::cerr << "error: " << cfg.where(path) << ": " << e.what() << "\n";
      ++errors;
      return;
    }
    for (const auto& w : rbac::never_matching_filters(setup->table, list, who))
      std::cerr << "warning: " << cfg.where(path) << ": " << w << "\n";
  };
  const auto& spawner = cfg.section("Spawner");
  check_list("Spawner.oauth_client_allowed_scopes", spawner.value("oauth_client_allowed_scopes", nlohmann::json()),
             "Spawner.oauth_client_allowed_scopes");
  check_list("Spawner.server_token_scopes", spawner.value("server_token_scopes", nlohmann::json()),
             "Spawner.server_token_scopes");
  const auto services = cfg.section("JupyterHub").value("services", nlohmann::json::array());
  for (std::size_t i = 0; services.is_array() && i < services.size(); ++i) {
    std::string path = "JupyterHub.services[" + std::to_string(i) + "].oauth_client_allowed_scopes";
    std::string who = "service " + rbac::single_quoted(services[i].value("name", std::string("?")));
    check_list(path, services[i].value("oauth_client_allowed_scopes", nlohmann::json()), who);
  }
  if (errors) return 1;
  std::cout << file << ": " << setup->table.size() - rbac::id(rbac::builtin::count_) << " custom scopes, "
            << setup->roles.roles.size() << " roles: ok\n";
  for (const auto& [scope, plugin] : setup->plugin_scopes)
    std::cout << "  " << scope << ": defined by plugin " << rbac::single_quoted(plugin) << "\n";
  return 0;
}

}  // namespace

int scopes_command(const arg_list& args) {
  if (args.empty()) {
    std::cerr << usage_text;
    return 2;
  }
  arg_list rest(args.begin() + 1, args.end());
  if (args.front() == "expand") return expand_command(rest);
  if (args.front() == "check") return check_command(rest);
  std::cerr << "error: unknown 'hubd scopes' command '" << args.front() << "'\n" << usage_text;
  return 2;
}

}  // namespace hubd::core::app
