#pragma once
#include <string_view>

namespace hubd::core::app {

// Sets up spdlog's default logger for hubd: JupyterHub-like lines on stderr,
// "[I 2026-01-02 03:04:05.678 hubd] message". `level` takes JupyterHub's names
// (DEBUG, INFO, WARNING, ERROR, CRITICAL); returns false for an unknown name.
bool setup_logging(std::string_view level);

}  // namespace hubd::core::app
