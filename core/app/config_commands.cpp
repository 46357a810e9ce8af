// check-config and generate-config, and the --config option every command shares.
#include "core/app/commands.hpp"
#include "core/app/config.hpp"
#include "core/app/plugin_loading.hpp"
#include "core/plugins/plugin_host.hpp"
#include "core/plugins/plugin_registry.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

namespace hubd::core::app {

std::string take_option(arg_list& args, std::string_view name, std::string_view alias) {
  const std::string with_value = std::string(name) + "=";
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (*it == name || (!alias.empty() && *it == alias)) {
      if (it + 1 == args.end()) return {};
      std::string value = *(it + 1);
      args.erase(it, it + 2);
      return value;
    }
    if (it->rfind(with_value, 0) == 0) {
      std::string value = it->substr(with_value.size());
      args.erase(it);
      return value;
    }
  }
  return {};
}

std::string take_config_option(arg_list& args) { return take_option(args, "--config", "-f"); }

std::optional<config> config_from_args(const arg_list& args, std::string_view command, int& exit_status,
                                       std::string* file_out) {
  arg_list rest = args;
  std::string file = take_config_option(rest);
  if (file_out) *file_out = file;
  if (!rest.empty()) {
    std::cerr << "hubd " << command << ": unexpected argument '" << rest.front() << "'\n";
    exit_status = 2;
    return std::nullopt;
  }
  try {
    return file.empty() ? default_config() : load_config_file(file);
  } catch (const config_error& e) {
    std::cerr << "config error: " << e.what() << "\n";
    exit_status = 1;
    return std::nullopt;
  }
}

int check_config_command(const arg_list& args) {
  arg_list rest = args;
  std::string file = take_config_option(rest);
  if (file.empty() && !rest.empty()) file = rest.front();
  if (file.empty()) {
    std::cerr << "usage: hubd check-config FILE\n";
    return 2;
  }
  try {
    config cfg = load_config_file(file);
    for (const auto& w : cfg.warnings) std::cerr << "warning: " << w << "\n";
    // The plugins the config selects must load, as start-up requires; the loader's own warnings
    // about unrelated files are `hubd plugins`'s to show.
    spdlog::set_level(spdlog::level::err);
    plugins::plugin_host host(1);
    plugins::plugin_registry registry(host);
    auto report = load_configured_plugins(cfg, registry);
    for (const auto& w : report.warnings) std::cerr << "warning: " << w << "\n";
    for (const auto& e : report.errors) std::cerr << "config error: " << e << "\n";
    if (!report.errors.empty()) return 1;
    std::cout << file << ": ok\n";
    return 0;
  } catch (const config_error& e) {
    std::cerr << "config error: " << e.what() << "\n";
    return 1;
  }
}

int generate_config_command(const arg_list&) {
  std::cout << generate_default_config();
  return 0;
}

}  // namespace hubd::core::app
