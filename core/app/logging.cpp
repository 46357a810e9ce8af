#include "core/app/logging.hpp"

#include "core/app/log_line.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

namespace hubd::core::app {

bool setup_logging(std::string_view level) {
  spdlog::level::level_enum lvl;
  if (level == "DEBUG") lvl = spdlog::level::debug;
  else if (level == "INFO") lvl = spdlog::level::info;
  else if (level == "WARNING" || level == "WARN") lvl = spdlog::level::warn;
  else if (level == "ERROR") lvl = spdlog::level::err;
  else if (level == "CRITICAL") lvl = spdlog::level::critical;
  else return false;
  auto logger = spdlog::stderr_color_mt("hubd");
  spdlog::set_default_logger(logger);
  // %L is one letter (I, W, E, ...) as JupyterHub's log lines have.
  spdlog::set_formatter(std::make_unique<log_line_formatter>("[%L %Y-%m-%d %H:%M:%S.%e %n] %v"));
  spdlog::set_level(lvl);
  spdlog::flush_on(spdlog::level::info);
  return true;
}

}  // namespace hubd::core::app
