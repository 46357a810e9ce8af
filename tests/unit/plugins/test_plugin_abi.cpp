// ABI guards: the headers compile as C99 and C++17 (object files linked in), the layout matches the
// frozen v1 table (x86_64/aarch64 LP64), and plugin_api/ cannot change without a version bump.
#include <hubd/plugin.h>

#include <catch2/catch.hpp>

#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int hubd_abi_c99_sizeof_host(void);
extern "C" int hubd_abi_cxx17_sizeof_host();

namespace {

struct layout_row {
  const char* what;
  size_t actual;
  size_t golden;
};

// Drops comments and whitespace: documentation edits do not change the fingerprint, declarations do.
std::string normalize(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "/*") == 0) {
      auto end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 1;
    } else if (text.compare(i, 2, "//") == 0) {
      auto end = text.find('\n', i);
      i = end == std::string::npos ? text.size() : end;
    } else if (!std::isspace(static_cast<unsigned char>(text[i]))) {
      out += text[i];
    }
  }
  return out;
}

uint64_t fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("the ABI headers compile as C99 and C++17 and agree with C++20 on the host table") {
  CHECK(hubd_abi_c99_sizeof_host() == static_cast<int>(sizeof(hubd_host)));
  CHECK(hubd_abi_cxx17_sizeof_host() == static_cast<int>(sizeof(hubd_host)));
}

TEST_CASE("ABI v1 layout matches the golden table") {
  static_assert(sizeof(void*) == 8, "the golden table is for LP64 targets");
  const std::vector<layout_row> rows = {
      {"sizeof hubd_str", sizeof(hubd_str), 16},
      {"hubd_str.len", offsetof(hubd_str, len), 8},
      {"sizeof hubd_sink", sizeof(hubd_sink), 16},
      {"hubd_sink.write", offsetof(hubd_sink, write), 8},
      {"sizeof hubd_host", sizeof(hubd_host), 72},
      {"hubd_host.abi_major", offsetof(hubd_host, abi_major), 4},
      {"hubd_host.abi_minor", offsetof(hubd_host, abi_minor), 6},
      {"hubd_host.log", offsetof(hubd_host, log), 8},
      {"hubd_host.complete", offsetof(hubd_host, complete), 16},
      {"hubd_host.progress", offsetof(hubd_host, progress), 24},
      {"hubd_host.post_event", offsetof(hubd_host, post_event), 32},
      {"hubd_host.get_extension", offsetof(hubd_host, get_extension), 40},
      {"hubd_host.is_pool_thread", offsetof(hubd_host, is_pool_thread), 48},
      {"hubd_host.get_config", offsetof(hubd_host, get_config), 56},
      {"hubd_host.register_scope", offsetof(hubd_host, register_scope), 64},
      {"sizeof hubd_plugin_desc", sizeof(hubd_plugin_desc), 40},
      {"hubd_plugin_desc.kind", offsetof(hubd_plugin_desc, kind), 4},
      {"hubd_plugin_desc.name", offsetof(hubd_plugin_desc, name), 8},
      {"hubd_plugin_desc.version", offsetof(hubd_plugin_desc, version), 16},
      {"hubd_plugin_desc.description", offsetof(hubd_plugin_desc, description), 24},
      {"hubd_plugin_desc.get_factory", offsetof(hubd_plugin_desc, get_factory), 32},
      {"sizeof hubd_plugin_entry", sizeof(hubd_plugin_entry), 56},
      {"hubd_plugin_entry.abi_major", offsetof(hubd_plugin_entry, abi_major), 4},
      {"hubd_plugin_entry.abi_minor", offsetof(hubd_plugin_entry, abi_minor), 6},
      {"hubd_plugin_entry.library_name", offsetof(hubd_plugin_entry, library_name), 8},
      {"hubd_plugin_entry.library_version", offsetof(hubd_plugin_entry, library_version), 16},
      {"hubd_plugin_entry.init", offsetof(hubd_plugin_entry, init), 24},
      {"hubd_plugin_entry.deinit", offsetof(hubd_plugin_entry, deinit), 32},
      {"hubd_plugin_entry.plugin_count", offsetof(hubd_plugin_entry, plugin_count), 40},
      {"hubd_plugin_entry.plugins", offsetof(hubd_plugin_entry, plugins), 48},
      {"sizeof hubd_authenticator_vtbl", sizeof(hubd_authenticator_vtbl), 176},
      {"hubd_authenticator_vtbl.flags", offsetof(hubd_authenticator_vtbl, flags), 4},
      {"hubd_authenticator_vtbl.create", offsetof(hubd_authenticator_vtbl, create), 8},
      {"hubd_authenticator_vtbl.destroy", offsetof(hubd_authenticator_vtbl, destroy), 16},
      {"hubd_authenticator_vtbl.authenticate", offsetof(hubd_authenticator_vtbl, authenticate), 24},
      {"hubd_authenticator_vtbl.refresh_user", offsetof(hubd_authenticator_vtbl, refresh_user), 32},
      {"hubd_authenticator_vtbl.check_allowed", offsetof(hubd_authenticator_vtbl, check_allowed), 40},
      {"hubd_authenticator_vtbl.check_blocked", offsetof(hubd_authenticator_vtbl, check_blocked), 48},
      {"hubd_authenticator_vtbl.is_admin", offsetof(hubd_authenticator_vtbl, is_admin), 56},
      {"hubd_authenticator_vtbl.pre_spawn_start", offsetof(hubd_authenticator_vtbl, pre_spawn_start), 64},
      {"hubd_authenticator_vtbl.post_spawn_stop", offsetof(hubd_authenticator_vtbl, post_spawn_stop), 72},
      {"hubd_authenticator_vtbl.add_user", offsetof(hubd_authenticator_vtbl, add_user), 80},
      {"hubd_authenticator_vtbl.delete_user", offsetof(hubd_authenticator_vtbl, delete_user), 88},
      {"hubd_authenticator_vtbl.load_managed_roles", offsetof(hubd_authenticator_vtbl, load_managed_roles), 96},
      {"hubd_authenticator_vtbl.handle_request", offsetof(hubd_authenticator_vtbl, handle_request), 104},
      {"hubd_authenticator_vtbl.cancel_op", offsetof(hubd_authenticator_vtbl, cancel_op), 112},
      {"hubd_authenticator_vtbl.on_event", offsetof(hubd_authenticator_vtbl, on_event), 120},
      {"hubd_authenticator_vtbl.normalize_username", offsetof(hubd_authenticator_vtbl, normalize_username), 128},
      {"hubd_authenticator_vtbl.validate_username", offsetof(hubd_authenticator_vtbl, validate_username), 136},
      {"hubd_authenticator_vtbl.login_url", offsetof(hubd_authenticator_vtbl, login_url), 144},
      {"hubd_authenticator_vtbl.logout_url", offsetof(hubd_authenticator_vtbl, logout_url), 152},
      {"hubd_authenticator_vtbl.routes", offsetof(hubd_authenticator_vtbl, routes), 160},
      {"hubd_authenticator_vtbl.logout", offsetof(hubd_authenticator_vtbl, logout), 168},
      {"sizeof hubd_spawner_vtbl", sizeof(hubd_spawner_vtbl), 120},
      {"hubd_spawner_vtbl.flags", offsetof(hubd_spawner_vtbl, flags), 4},
      {"hubd_spawner_vtbl.create", offsetof(hubd_spawner_vtbl, create), 8},
      {"hubd_spawner_vtbl.destroy", offsetof(hubd_spawner_vtbl, destroy), 16},
      {"hubd_spawner_vtbl.start", offsetof(hubd_spawner_vtbl, start), 24},
      {"hubd_spawner_vtbl.stop", offsetof(hubd_spawner_vtbl, stop), 32},
      {"hubd_spawner_vtbl.poll", offsetof(hubd_spawner_vtbl, poll), 40},
      {"hubd_spawner_vtbl.options_form", offsetof(hubd_spawner_vtbl, options_form), 48},
      {"hubd_spawner_vtbl.options_from_form", offsetof(hubd_spawner_vtbl, options_from_form), 56},
      {"hubd_spawner_vtbl.delete_forever", offsetof(hubd_spawner_vtbl, delete_forever), 64},
      {"hubd_spawner_vtbl.rename", offsetof(hubd_spawner_vtbl, rename), 72},
      {"hubd_spawner_vtbl.cancel_op", offsetof(hubd_spawner_vtbl, cancel_op), 80},
      {"hubd_spawner_vtbl.on_event", offsetof(hubd_spawner_vtbl, on_event), 88},
      {"hubd_spawner_vtbl.get_state", offsetof(hubd_spawner_vtbl, get_state), 96},
      {"hubd_spawner_vtbl.load_state", offsetof(hubd_spawner_vtbl, load_state), 104},
      {"hubd_spawner_vtbl.clear_state", offsetof(hubd_spawner_vtbl, clear_state), 112},
      {"sizeof hubd_hooks_vtbl", sizeof(hubd_hooks_vtbl), 56},
      {"hubd_hooks_vtbl.flags", offsetof(hubd_hooks_vtbl, flags), 4},
      {"hubd_hooks_vtbl.create", offsetof(hubd_hooks_vtbl, create), 8},
      {"hubd_hooks_vtbl.destroy", offsetof(hubd_hooks_vtbl, destroy), 16},
      {"hubd_hooks_vtbl.hook_points", offsetof(hubd_hooks_vtbl, hook_points), 24},
      {"hubd_hooks_vtbl.call", offsetof(hubd_hooks_vtbl, call), 32},
      {"hubd_hooks_vtbl.cancel_op", offsetof(hubd_hooks_vtbl, cancel_op), 40},
      {"hubd_hooks_vtbl.on_event", offsetof(hubd_hooks_vtbl, on_event), 48},
      {"sizeof hubd_host_api", sizeof(hubd_host_api), 16},
      {"hubd_host_api.request", offsetof(hubd_host_api, request), 8},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    CHECK(r.actual == r.golden);
  }
}

TEST_CASE("plugin_api cannot change without an ABI version bump") {
  const std::string dir = HUBD_PLUGIN_API_DIR;
  std::string all;
  for (const char* h : {"abi.h", "authenticator.h", "hooks.h", "host_api.h", "plugin.h", "spawner.h"}) {
    std::string text = read(dir + "/hubd/" + h);
    REQUIRE_FALSE(text.empty());
    all += std::string(h) + ":" + normalize(text) + "\n";
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(all)));
  const std::string actual = std::to_string(HUBD_ABI_MAJOR) + "." + std::to_string(HUBD_ABI_MINOR) + " " + hex;
  std::string golden = read(dir + "/abi.fingerprint");
  while (!golden.empty() && std::isspace(static_cast<unsigned char>(golden.back()))) golden.pop_back();
  INFO("plugin_api/hubd/*.h changed. Append-only changes need HUBD_ABI_MINOR + 1 (a removal or a change of "
       "meaning needs a new major), then write the new line into plugin_api/abi.fingerprint: "
       << actual);
  CHECK(golden == actual);
}
