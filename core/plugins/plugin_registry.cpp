#include "core/plugins/plugin_registry.hpp"

#include "core/plugins/authenticator_adapter.hpp"
#include "core/plugins/detail/host_core.hpp"
#include "core/plugins/hooks_adapter.hpp"
#include "core/plugins/plugin_host.hpp"
#include "core/plugins/spawner_adapter.hpp"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <set>

namespace hubd::core::plugins {

namespace {

namespace fs = std::filesystem;
using detail::library;
using detail::plugin_record;

// The smallest struct_size each struct had in ABI v1.0. Entries and descriptors are complete in v1.0;
// a vtable needs at least its required slots (later slots read as "not implemented").
constexpr size_t v1_0_entry_size = offsetof(hubd_plugin_entry, plugins) + sizeof(void*);
constexpr size_t v1_0_desc_size = offsetof(hubd_plugin_desc, get_factory) + sizeof(void*);
constexpr size_t v1_0_auth_size = offsetof(hubd_authenticator_vtbl, authenticate) + sizeof(void*);
constexpr size_t v1_0_spawner_size = offsetof(hubd_spawner_vtbl, poll) + sizeof(void*);
constexpr size_t v1_0_hooks_size = offsetof(hubd_hooks_vtbl, call) + sizeof(void*);
constexpr uint32_t max_plugins_per_library = 256;

// Copies min(struct_size, sizeof(T)) into a zeroed T, after checking the size (never before).
template <class T>
std::string copy_struct(const void* src, size_t min_size, const char* what, T& out) {
  uint32_t size = 0;
  std::memcpy(&size, src, sizeof size);
  if (size < min_size)
    return std::string(what) + " struct_size " + std::to_string(size) + " is smaller than ABI v1.0's " +
           std::to_string(min_size);
  out = T{};
  std::memcpy(static_cast<void*>(&out), src, std::min<size_t>(size, sizeof(T)));
  out.struct_size = static_cast<uint32_t>(std::min<size_t>(size, sizeof(T)));
  return {};
}

std::string safe_str(const char* s, size_t max = 256) {
  if (!s) return {};
  return std::string(s, strnlen(s, max));
}

bool is_elf(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::memcmp(magic, "\x7f" "ELF", 4) == 0;
}

std::string dlopen_message(const fs::path& file) {
  // Boost.DLL resets dlerror(); ask the dynamic linker again for its own words.
  dlerror();
  void* h = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h) {
    dlclose(h);
    return "dlopen failed";
  }
  const char* e = dlerror();
  return e ? e : "dlopen failed";
}

const char* factory_id(plugin_kind k) {
  switch (k) {
    case plugin_kind::authenticator: return HUBD_FACTORY_AUTHENTICATOR;
    case plugin_kind::spawner: return HUBD_FACTORY_SPAWNER;
    case plugin_kind::hooks: return HUBD_FACTORY_HOOKS;
  }
  return "";
}

std::string check_vtable(plugin_record& rec, const void* vt) {
  switch (rec.kind) {
    case plugin_kind::authenticator: {
      if (auto e = copy_struct(vt, v1_0_auth_size, "authenticator vtable", rec.auth); !e.empty()) return e;
      if (!rec.auth.create || !rec.auth.destroy || !rec.auth.authenticate)
        return "authenticator vtable lacks a required slot (create, destroy, authenticate)";
      return {};
    }
    case plugin_kind::spawner: {
      if (auto e = copy_struct(vt, v1_0_spawner_size, "spawner vtable", rec.spawner); !e.empty()) return e;
      if (!rec.spawner.create || !rec.spawner.destroy || !rec.spawner.start || !rec.spawner.stop || !rec.spawner.poll)
        return "spawner vtable lacks a required slot (create, destroy, start, stop, poll)";
      return {};
    }
    case plugin_kind::hooks: {
      if (auto e = copy_struct(vt, v1_0_hooks_size, "hooks vtable", rec.hooks); !e.empty()) return e;
      if (!rec.hooks.create || !rec.hooks.destroy || !rec.hooks.call || !rec.hooks.hook_points)
        return "hooks vtable lacks a required slot (create, destroy, hook_points, call)";
      const auto& known = known_hook_points();
      for (size_t i = 0; rec.hooks.hook_points[i]; ++i) {
        if (i >= known.size() * 2) return "hook_points is not NULL-terminated or repeats names";
        std::string p = safe_str(rec.hooks.hook_points[i]);
        if (std::find(known.begin(), known.end(), p) == known.end()) return "unknown hook point '" + p + "'";
        if (std::find(rec.hook_points.begin(), rec.hook_points.end(), p) == rec.hook_points.end())
          rec.hook_points.push_back(p);
      }
      return {};
    }
  }
  return "unknown kind";
}

}  // namespace

struct plugin_registry::impl {
  plugin_host& host;
  std::vector<std::shared_ptr<library>> libraries;
  std::map<std::pair<plugin_kind, std::string>, std::shared_ptr<const plugin_record>> records;
  std::vector<skipped_plugin> skipped;
  std::set<fs::path> seen;
  std::vector<fs::path> scanned;

  explicit impl(plugin_host& h) : host(h) {}

  skipped_plugin& skip(const fs::path& file, std::string plugin, std::string reason) {
    if (plugin.empty())
      spdlog::warn("plugin file {} skipped: {}", file.string(), reason);
    else
      spdlog::warn("plugin '{}' in {} skipped: {}", plugin, file.string(), reason);
    skipped.push_back({file, std::move(plugin), std::move(reason), {}, plugin_kind::authenticator});
    return skipped.back();
  }

  plugin_info info(const plugin_record& r) const {
    plugin_info i;
    i.file = r.lib->file;
    i.name = r.name;
    i.kind = r.kind;
    i.version = r.version;
    i.description = r.description;
    i.library_name = safe_str(r.lib->entry.library_name);
    i.library_version = safe_str(r.lib->entry.library_version);
    i.abi_major = r.lib->entry.abi_major;
    i.abi_minor = r.lib->entry.abi_minor;
    i.hook_points = r.hook_points;
    return i;
  }

  std::shared_ptr<const plugin_record> find(plugin_kind kind, std::string_view name) const {
    auto it = records.find({kind, std::string(name)});
    return it == records.end() ? nullptr : it->second;
  }

  bool load(const fs::path& file) {
    if (!is_elf(file)) {
      skip(file, {}, "not an ELF shared object");
      return false;
    }
    auto lib = std::make_shared<library>();
    lib->file = file;
    boost::system::error_code ec;
    lib->lib.load(file.string(), boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now, ec);
    if (ec) {
      skip(file, {}, "cannot be loaded: " + dlopen_message(file));
      return false;
    }
    if (!lib->lib.has(HUBD_ENTRY_SYMBOL)) {
      skip(file, {}, "missing entry symbol " HUBD_ENTRY_SYMBOL " (not a hubd plugin, or not exported)");
      return false;
    }
    auto entry_fn = lib->lib.get<const hubd_plugin_entry*()>(HUBD_ENTRY_SYMBOL);
    const hubd_plugin_entry* entry = entry_fn();
    if (!entry) {
      skip(file, {}, HUBD_ENTRY_SYMBOL " returned NULL");
      return false;
    }
    if (auto e = copy_struct(entry, v1_0_entry_size, "entry", lib->entry); !e.empty()) {
      skip(file, {}, e);
      return false;
    }
    const auto& en = lib->entry;
    if (en.abi_major != HUBD_ABI_MAJOR) {
      skip(file, {}, "ABI major " + std::to_string(en.abi_major) + " != " + std::to_string(HUBD_ABI_MAJOR));
      return false;
    }
    if (en.abi_minor > HUBD_ABI_MINOR) {
      skip(file, {},
           "built against ABI " + std::to_string(en.abi_major) + "." + std::to_string(en.abi_minor) +
               ", newer than hubd's " + std::to_string(HUBD_ABI_MAJOR) + "." + std::to_string(HUBD_ABI_MINOR));
      return false;
    }
    if (en.plugin_count > max_plugins_per_library || (en.plugin_count && !en.plugins)) {
      skip(file, {}, "invalid plugin list (plugin_count " + std::to_string(en.plugin_count) + ")");
      return false;
    }
    if (en.init) {
      std::string err;
      hubd_sink sink = detail::make_sink(err);
      if (!en.init(detail::host_table(), &sink)) {
        skip(file, {}, "init failed: " + (err.empty() ? std::string("(no reason given)") : err));
        return false;
      }
    }
    lib->initialized = true;
    libraries.push_back(lib);
    int registered = 0;
    for (uint32_t i = 0; i < en.plugin_count; ++i) {
      if (register_plugin(lib, en.plugins[i], i)) ++registered;
    }
    if (en.plugin_count == 0) skip(file, {}, "the library contains no plugins");
    return registered > 0;
  }

  bool register_plugin(const std::shared_ptr<library>& lib, const hubd_plugin_desc* desc_ptr, uint32_t index) {
    const auto& file = lib->file;
    std::string label = "#" + std::to_string(index);
    if (!desc_ptr) {
      skip(file, label, "plugin descriptor is NULL");
      return false;
    }
    hubd_plugin_desc desc{};
    if (auto e = copy_struct(desc_ptr, v1_0_desc_size, "plugin descriptor", desc); !e.empty()) {
      skip(file, label, e);
      return false;
    }
    auto rec = std::make_shared<plugin_record>();
    rec->lib = lib;
    rec->name = safe_str(desc.name);
    rec->version = safe_str(desc.version);
    rec->description = safe_str(desc.description, 1024);
    static const std::regex name_re("[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}");
    if (!std::regex_match(rec->name, name_re)) {
      skip(file, label, "invalid plugin name '" + rec->name + "' (letters, digits, '_', '.', '-')");
      return false;
    }
    switch (desc.kind) {
      case HUBD_KIND_AUTHENTICATOR: rec->kind = plugin_kind::authenticator; break;
      case HUBD_KIND_SPAWNER: rec->kind = plugin_kind::spawner; break;
      case HUBD_KIND_HOOKS: rec->kind = plugin_kind::hooks; break;
      default:
        skip(file, rec->name, "unknown plugin kind " + std::to_string(desc.kind));
        return false;
    }
    const char* fid = factory_id(rec->kind);
    const void* vt = desc.get_factory ? desc.get_factory(fid) : nullptr;
    if (!vt) {
      skip(file, rec->name, std::string("factory ") + fid + " missing");
      return false;
    }
    if (auto e = check_vtable(*rec, vt); !e.empty()) {
      skip(file, rec->name, e);
      return false;
    }
    if (auto prev = find(rec->kind, rec->name)) {
      auto& s = skip(file, rec->name,
                     "duplicate " + std::string(to_string(rec->kind)) + " name '" + rec->name +
                         "': already registered from " + prev->lib->file.string());
      s.duplicate_of = prev->lib->file;
      s.kind = rec->kind;
      return false;
    }
    spdlog::debug("plugin '{}' ({}) {} loaded from {}", rec->name, to_string(rec->kind), rec->version, file.string());
    records[{rec->kind, rec->name}] = rec;
    return true;
  }

  template <class Adapter>
  outcome<std::shared_ptr<Adapter>> create_sync(plugin_kind kind, std::string_view name, const nlohmann::json& section,
                                                const plugin_registry& self) {
    std::promise<outcome<std::shared_ptr<Adapter>>> p;
    auto f = p.get_future();
    create_async<Adapter>(kind, name, section, self,
                          [&p](outcome<std::shared_ptr<Adapter>> r) { p.set_value(std::move(r)); });
    return f.get();
  }

  template <class Adapter>
  void create_async(plugin_kind kind, std::string_view name, const nlohmann::json& section, const plugin_registry& self,
                    std::function<void(outcome<std::shared_ptr<Adapter>>)> done) {
    using result = outcome<std::shared_ptr<Adapter>>;
    auto req = self.require(kind, name);
    if (!req) return done(result::failure(req.error()));
    detail::create_instance(host.core(), find(kind, name), section,
                            [done](std::shared_ptr<detail::instance> inst, std::string error) {
                              if (!inst) return done(result::failure(error));
                              done(result(std::make_shared<Adapter>(std::move(inst))));
                            });
  }
};

plugin_registry::plugin_registry(plugin_host& host) : impl_(std::make_unique<impl>(host)) {}
plugin_registry::~plugin_registry() = default;

void plugin_registry::scan(const std::vector<fs::path>& paths) {
  for (const auto& p : paths) {
    impl_->scanned.push_back(p);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(p, ec)) {
        if (e.path().extension() == ".so" && !e.is_directory()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) load_file(f);
    } else if (fs::exists(p, ec)) {
      load_file(p);
    } else {
      spdlog::info("plugin path {} does not exist; nothing loaded from it", p.string());
    }
  }
}

bool plugin_registry::load_file(const fs::path& file) {
  std::error_code ec;
  auto canonical = fs::weakly_canonical(file, ec);
  if (ec) canonical = file;
  if (!impl_->seen.insert(canonical).second) return false;
  return impl_->load(file);
}

std::vector<plugin_info> plugin_registry::plugins() const {
  std::vector<plugin_info> out;
  for (const auto& [key, rec] : impl_->records) out.push_back(impl_->info(*rec));
  return out;
}

const std::vector<skipped_plugin>& plugin_registry::skipped() const { return impl_->skipped; }
const std::vector<fs::path>& plugin_registry::scanned() const { return impl_->scanned; }

outcome<plugin_info> plugin_registry::require(plugin_kind kind, std::string_view name) const {
  if (auto rec = impl_->find(kind, name)) return impl_->info(*rec);
  std::string kind_s(to_string(kind));
  for (const auto& s : impl_->skipped) {
    if (s.plugin_name == name && s.duplicate_of.empty())
      return outcome<plugin_info>::failure(kind_s + " plugin '" + std::string(name) + "' could not be loaded from " +
                                           s.file.string() + ": " + s.reason);
  }
  std::string msg = "no " + kind_s + " plugin named '" + std::string(name) + "' was found";
  if (!impl_->scanned.empty()) {
    msg += " in";
    for (std::size_t i = 0; i < impl_->scanned.size(); ++i) msg += (i ? ", " : " ") + impl_->scanned[i].string();
  }
  std::string avail;
  for (const auto& [key, rec] : impl_->records)
    if (key.first == kind) avail += (avail.empty() ? "" : ", ") + rec->name;
  msg += avail.empty() ? " (none loaded)" : " (loaded: " + avail + ")";
  std::string broken;
  for (const auto& s : impl_->skipped)
    if (s.plugin_name.empty()) broken += "; " + s.file.string() + ": " + s.reason;
  if (!broken.empty()) msg += "; files that failed to load" + broken;
  return outcome<plugin_info>::failure(msg);
}

outcome<std::shared_ptr<authenticator_adapter>> plugin_registry::create_authenticator(
    std::string_view name, const nlohmann::json& section) const {
  return impl_->create_sync<authenticator_adapter>(plugin_kind::authenticator, name, section, *this);
}
outcome<std::shared_ptr<hooks_adapter>> plugin_registry::create_hooks(std::string_view name,
                                                                      const nlohmann::json& section) const {
  return impl_->create_sync<hooks_adapter>(plugin_kind::hooks, name, section, *this);
}
outcome<std::shared_ptr<spawner_adapter>> plugin_registry::create_spawner_sync(std::string_view name,
                                                                               const nlohmann::json& section) const {
  return impl_->create_sync<spawner_adapter>(plugin_kind::spawner, name, section, *this);
}
void plugin_registry::create_spawner(std::string_view name, const nlohmann::json& section,
                                     std::function<void(outcome<std::shared_ptr<spawner_adapter>>)> done) const {
  impl_->create_async<spawner_adapter>(plugin_kind::spawner, name, section, *this, std::move(done));
}

}  // namespace hubd::core::plugins
