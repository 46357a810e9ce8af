#pragma once
// hubd's configuration: a TOML file whose tables and keys mirror JupyterHub's traitlets names
// (`c.JupyterHub.base_url` is `[JupyterHub] base_url`). Every key is declared once in the schema
// (config_schema.cpp); the loader rejects unknown keys and wrong types, naming the file and line,
// fills in defaults, and hands the rest of hubd plain JSON.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::app {

// A config error always names where it comes from: "hub.toml:12: JupyterHub.bind_url: ...".
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class value_kind {
  string,
  boolean,
  integer,
  number,
  string_list,
  table,            // a table of free keys (checked by whoever reads it)
  string_map,       // a table of string values (environment-like)
  array_of_tables,  // [[X.y]]: each element checked against `fields`
  table_of_tables,  // {name = {...}}: each value checked against `fields`
  any,
};

struct config_key {
  std::string_view name;
  value_kind kind;
  nlohmann::json default_value;
  std::string_view doc;
  std::vector<config_key> fields = {};  // for array_of_tables / table_of_tables
  bool extra_fields_warn = false;        // unknown nested fields only warn (as JupyterHub does)
  // JupyterHub has the key but hubd does not implement it yet: naming it in a file is an error
  // ("not supported yet by hubd"), and generate-config says so instead of showing a default.
  bool not_supported_yet = false;
};

struct config_section {
  std::string_view name;  // "JupyterHub", "Authenticator", "Spawner", ...
  std::string_view doc;
  std::vector<config_key> keys;
};

// Every section and key hubd knows. `plugins` is special: `[plugins.NAME]` tables hold free keys
// that the named plugin checks, plus the host keys in plugin_host_keys().
const std::vector<config_section>& config_schema();
const std::vector<config_key>& plugin_host_keys();

struct config {
  // {"JupyterHub": {...}, "Authenticator": {...}, ..., "plugins": {"NAME": {...}}} with defaults filled in.
  nlohmann::json values;
  // The file it came from; empty for the embedded defaults and for text.
  std::filesystem::path file;
  // The name messages use for where the config came from ("hub.toml", "embedded defaults").
  std::string source_name = "embedded defaults";
  // Source line of every key path that appeared in the file ("JupyterHub.load_roles[0].scopes").
  std::map<std::string, int, std::less<>> lines;
  // Warnings found while loading (unknown nested fields that JupyterHub only warns about).
  std::vector<std::string> warnings;

  const nlohmann::json& section(std::string_view name) const;
  const nlohmann::json& get(std::string_view section, std::string_view key) const;
  // "hub.toml:12: JupyterHub.bind_url" (or "embedded defaults: JupyterHub.bind_url") for messages.
  std::string where(std::string_view key_path) const;
  // The folder relative paths in the config are resolved against (the config file's folder, or cwd).
  std::filesystem::path base_dir() const;
  // Resolve a path-valued setting against base_dir().
  std::filesystem::path resolve_path(std::string_view p) const;
  // JupyterHub.data_dir resolved against base_dir(): the folder relative state paths (db_url's
  // SQLite file, cookie_secret_file, ConfigurableHTTPProxy.pid_file) are resolved against. The
  // loader already rewrote those settings to absolute paths when data_dir is not ".".
  std::filesystem::path data_dir() const;
  // The folders and files scanned for plugins, in order: the shipped folder beside the executable
  // (<exe_dir>/../lib/hubd/plugins), JupyterHub.plugins_dir, then JupyterHub.plugin_paths.
  std::vector<std::filesystem::path> plugin_folders() const;
};

// A token written in the config (a service's api_token) is stored as one unsalted digest, as
// every hubd token is, so unless JupyterHub.trust_user_provided_tokens vouches for it, it must be
// at least this long (with it: JupyterHub's minimum, 8).
inline constexpr std::size_t untrusted_token_min_length = 16;

config load_config_file(const std::filesystem::path& file);
config load_config_text(std::string_view toml_text, std::string_view source_name = "config");
// The embedded defaults: what hubd runs on without --config.
config default_config();
// The commented default config `hubd generate-config` prints.
std::string generate_default_config();

// Every user name the config holds (Authenticator.admin_users, allowed_users, blocked_users, both
// sides of username_map, the users of JupyterHub.load_groups and load_roles), each with the key a
// refusal names; `fn` may replace the name. The loader checks them with hubd's name rule; start-up
// makes them the names the authenticator gives (its normalize_username, then the rule).
void for_each_user_name(config& cfg, const std::function<void(nlohmann::json& name, const std::string& key)>& fn);

}  // namespace hubd::core::app
