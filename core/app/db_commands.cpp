// hubd upgrade-db: back up the database file, then run the pending migrations.
// hubd rotate-keys: re-encrypt every auth_state with the first JUPYTERHUB_CRYPT_KEY key.
#include "core/app/commands.hpp"
#include "core/app/config.hpp"
#include "core/model/hub_model.hpp"
#include "core/store/db_url.hpp"
#include "core/store/migrations.hpp"
#include "core/store/sqlite_store.hpp"

#include <iostream>

namespace hubd::core::app {
namespace {

// Loads the config named by --config (or the defaults) and resolves JupyterHub.db_url.
bool database_path(const arg_list& args, std::filesystem::path& out, const char* usage) {
  arg_list rest = args;
  const std::string file = take_config_option(rest);
  if (!rest.empty()) {
    std::cerr << "usage: " << usage << "\n";
    return false;
  }
  try {
    const config cfg = file.empty() ? default_config() : load_config_file(file);
    const auto url = cfg.get("JupyterHub", "db_url").get<std::string>();
    auto p = store::sqlite_path_from_url(url, cfg.base_dir());
    if (!p) {
      std::cerr << cfg.where("JupyterHub.db_url") << ": " << p.err().message << "\n";
      return false;
    }
    out = p.value();
    return true;
  } catch (const config_error& e) {
    std::cerr << "config error: " << e.what() << "\n";
    return false;
  }
}

}  // namespace

int upgrade_db_command(const arg_list& args) {
  std::filesystem::path file;
  if (!database_path(args, file, "hubd upgrade-db [--config FILE]")) return 2;
  if (!std::filesystem::exists(file)) {
    std::cerr << "hubd upgrade-db: " << file.string() << " does not exist; hubd creates it at the latest version on start\n";
    return 1;
  }
  auto db = store::sqlite_store::open(file, store::open_mode::upgrade);
  if (!db) {
    std::cerr << "hubd upgrade-db: " << db.err().message << "\n";
    return 1;
  }
  auto& s = *db.value();
  const int latest = store::latest_schema_version();
  if (s.schema_version() == latest) {
    std::cout << file.string() << " is already at schema version " << latest << "\n";
    return 0;
  }
  auto backup = s.backup();
  if (!backup) {
    std::cerr << "hubd upgrade-db: backup failed, nothing migrated: " << backup.err().message << "\n";
    return 1;
  }
  std::cout << "backed up " << file.string() << " to " << backup.value().string() << "\n";
  const int from = s.schema_version();
  if (auto st = s.migrate(); !st) {
    std::cerr << "hubd upgrade-db: " << st.err().message << "\n(the backup is " << backup.value().string() << ")\n";
    return 1;
  }
  std::cout << "upgraded " << file.string() << " from schema version " << from << " to " << latest << "\n";
  return 0;
}

int rotate_keys_command(const arg_list& args) {
  std::filesystem::path file;
  if (!database_path(args, file, "hubd rotate-keys [--config FILE]")) return 2;
  auto keeper = store::crypt_keeper::from_env();
  if (!keeper) {
    std::cerr << "hubd rotate-keys: " << keeper.err().message << "\n";
    return 1;
  }
  if (!keeper->enabled()) {
    std::cerr << "hubd rotate-keys: JUPYTERHUB_CRYPT_KEY is not set: put the new key first, then the old ones, "
                 "separated by ';'\n";
    return 1;
  }
  auto db = store::sqlite_store::open(file);
  if (!db) {
    std::cerr << "hubd rotate-keys: " << db.err().message << "\n";
    return 1;
  }
  model::model_options opts;
  opts.keeper = std::move(keeper.value());
  auto m = model::hub_model::open(std::move(db.value()), std::move(opts));
  if (!m) {
    std::cerr << "hubd rotate-keys: " << m.err().message << "\n";
    return 1;
  }
  auto& hm = *m.value();
  auto r = hm.wait([&](auto done) { return hm.rotate_auth_state_keys(done); });
  if (!r) {
    std::cerr << "hubd rotate-keys: nothing changed: " << r.err().message << "\n";
    return 1;
  }
  std::cout << "re-encrypted auth_state of " << r.value() << " user(s) with the first key\n";
  return 0;
}

}  // namespace hubd::core::app
