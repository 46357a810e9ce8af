#pragma once
// Where hubd finds what it ships. Computed from the running executable, never compiled in, so that the
// build tree, `cmake --install --prefix P` and the Debian package's /usr all behave alike: the
// executable is <root>/bin/hubd, the shipped plugins are <root>/lib/hubd/plugins and the page
// templates and static files are <root>/share/hubd/{templates,static}. The two subfolders must match
// HUBD_PLUGIN_SUBDIR and HUBD_DATA_SUBDIR in cmake/hubd_options.cmake, which lays out both trees.
// Header-only so that core/app's config library and core/web can use it without linking the loader.
#include <filesystem>
#include <system_error>

namespace hubd::core::plugins {

inline constexpr const char* shipped_plugin_subdir = "lib/hubd/plugins";
inline constexpr const char* shipped_data_subdir = "share/hubd";

// The folder of the running executable (/proc/self/exe resolves symlinks, so a /usr/local/bin/hubd
// symlink to an unpacked tree still finds that tree); the current folder if /proc is not mounted.
inline std::filesystem::path executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return std::filesystem::current_path(ec);
  return exe.parent_path();
}

// <exe_dir>/../lib/hubd/plugins: always scanned first, before the config's plugins_dir and plugin_paths.
inline std::filesystem::path shipped_plugin_dir() {
  return (executable_dir().parent_path() / shipped_plugin_subdir).lexically_normal();
}

// <exe_dir>/../share/hubd: the default page templates (templates/) and static files (static/).
inline std::filesystem::path shipped_data_dir() {
  return (executable_dir().parent_path() / shipped_data_subdir).lexically_normal();
}

}  // namespace hubd::core::plugins
