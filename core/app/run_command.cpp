// `hubd [--config FILE] [--ports-file FILE]`: start-up, serving, and clean shutdown on SIGINT/SIGTERM.
#include "core/app/commands.hpp"
#include "core/app/config.hpp"
#include "core/app/hub_app.hpp"
#include "core/app/logging.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

namespace hubd::core::app {

int run_hub_command(const arg_list& args) {
  int status = 0;
  std::string file;
  arg_list rest = args;
  const std::string ports_file = take_option(rest, "--ports-file");
  auto loaded = config_from_args(rest, "run", status, &file);
  if (!loaded) return status;
  config cfg = std::move(*loaded);
  if (!setup_logging(cfg.get("JupyterHub", "log_level").get<std::string>())) {
    std::cerr << "config error: " << cfg.where("JupyterHub.log_level")
              << ": must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL\n";
    return 1;
  }
  for (const auto& w : cfg.warnings) spdlog::warn("config: {}", w);
  spdlog::info("hubd {} starting with {}", HUBD_VERSION, file.empty() ? std::string("embedded defaults") : file);

  hub_app app(std::move(cfg), ports_file);
  try {
    app.start();
  } catch (const config_error& e) {
    spdlog::critical("config error: {}", e.what());
    return 1;
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
  app.wait_for_shutdown();
  app.stop();
  spdlog::info("hubd stopped");
  return 0;
}

}  // namespace hubd::core::app
