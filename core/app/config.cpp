#include "core/app/config.hpp"

#include "core/plugins/install_layout.hpp"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

namespace hubd::core::app {
namespace {

using nlohmann::json;

struct loader {
  std::string source;  // file name shown in messages
  config& out;

  [[noreturn]] void fail(const toml::node& node, std::string_view path, std::string_view msg) const {
    std::ostringstream s;
    s << source << ":" << node.source().begin.line << ": " << path << ": " << msg;
    throw config_error(s.str());
  }

  void remember(const toml::node& node, const std::string& path) { out.lines[path] = static_cast<int>(node.source().begin.line); }

  static json to_json(const toml::node& node) {
    if (auto t = node.as_table()) {
      json obj = json::object();
      for (auto&& [key, value] : *t) obj[std::string(key.str())] = to_json(value);
      return obj;
    }
    if (auto a = node.as_array()) {
      json arr = json::array();
      for (auto&& value : *a) arr.push_back(to_json(value));
      return arr;
    }
    if (auto s = node.as_string()) return s->get();
    if (auto i = node.as_integer()) return i->get();
    if (auto f = node.as_floating_point()) return f->get();
    if (auto b = node.as_boolean()) return b->get();
    // Dates and times have no JupyterHub setting; keep their text.
    std::ostringstream s;
    node.visit([&](auto&& v) { s << v; });
    return s.str();
  }

  static std::string_view kind_name(value_kind kind) {
    switch (kind) {
      case value_kind::string: return "a string";
      case value_kind::boolean: return "true or false";
      case value_kind::integer: return "an integer";
      case value_kind::number: return "a number";
      case value_kind::string_list: return "a list of strings";
      case value_kind::table: return "a table";
      case value_kind::string_map: return "a table of strings";
      case value_kind::array_of_tables: return "an array of tables ([[...]])";
      case value_kind::table_of_tables: return "a table of tables";
      case value_kind::any: return "any value";
    }
    return "a value";
  }

  json check(const config_key& key, const toml::node& node, const std::string& path) {
    remember(node, path);
    auto wrong = [&] { fail(node, path, std::string("must be ") + std::string(kind_name(key.kind))); };
    switch (key.kind) {
      case value_kind::string:
        if (!node.is_string()) wrong();
        break;
      case value_kind::boolean:
        if (!node.is_boolean()) wrong();
        break;
      case value_kind::integer:
        if (!node.is_integer()) wrong();
        break;
      case value_kind::number:
        if (!node.is_number()) wrong();
        break;
      case value_kind::string_list: {
        auto a = node.as_array();
        if (!a) wrong();
        for (auto&& v : *a)
          if (!v.is_string()) fail(v, path, "must be a list of strings");
        break;
      }
      case value_kind::table:
        if (!node.is_table()) wrong();
        break;
      case value_kind::string_map: {
        auto t = node.as_table();
        if (!t) wrong();
        for (auto&& [name, v] : *t)
          if (!v.is_string()) fail(v, path + "." + std::string(name.str()), "must be a string");
        break;
      }
      case value_kind::array_of_tables: {
        auto a = node.as_array();
        if (!a) wrong();
        json arr = json::array();
        std::size_t i = 0;
        for (auto&& v : *a) {
          auto t = v.as_table();
          std::string item_path = path + "[" + std::to_string(i++) + "]";
          if (!t) fail(v, item_path, "must be a table");
          arr.push_back(check_fields(key, *t, item_path));
        }
        return arr;
      }
      case value_kind::table_of_tables: {
        auto t = node.as_table();
        if (!t) wrong();
        json obj = json::object();
        for (auto&& [name, v] : *t) {
          std::string item_path = path + "." + std::string(name.str());
          auto inner = v.as_table();
          if (!inner) fail(v, item_path, "must be a table");
          obj[std::string(name.str())] = check_fields(key, *inner, item_path);
        }
        return obj;
      }
      case value_kind::any:
        break;
    }
    return to_json(node);
  }

  json check_fields(const config_key& key, const toml::table& table, const std::string& path) {
    json obj = json::object();
    for (auto&& [name, v] : table) {
      std::string field_path = path + "." + std::string(name.str());
      auto it = std::find_if(key.fields.begin(), key.fields.end(), [&](const config_key& f) { return f.name == name.str(); });
      if (it == key.fields.end()) {
        if (key.extra_fields_warn) {
          out.warnings.push_back(source + ":" + std::to_string(v.source().begin.line) + ": " + field_path + ": unknown key, ignored");
          continue;
        }
        fail(v, field_path, "unknown key");
      }
      obj[std::string(name.str())] = check(*it, v, field_path);
    }
    for (const auto& f : key.fields)
      if (!obj.contains(std::string(f.name)) && !f.default_value.is_null()) obj[std::string(f.name)] = f.default_value;
    return obj;
  }

  void load(const toml::table& root) {
    for (auto&& [section_name, section_node] : root) {
      std::string sname(section_name.str());
      if (sname == "plugins") {
        load_plugins(section_node);
        continue;
      }
      const auto& schema = config_schema();
      auto sec = std::find_if(schema.begin(), schema.end(), [&](const config_section& s) { return s.name == sname; });
      if (sec == schema.end()) fail(section_node, sname, "unknown section");
      auto table = section_node.as_table();
      if (!table) fail(section_node, sname, "must be a table");
      remember(section_node, sname);
      for (auto&& [key_name, value] : *table) {
        std::string path = sname + "." + std::string(key_name.str());
        auto key = std::find_if(sec->keys.begin(), sec->keys.end(), [&](const config_key& k) { return k.name == key_name.str(); });
        if (key == sec->keys.end()) fail(value, path, "unknown key");
        out.values[sname][std::string(key_name.str())] = check(*key, value, path);
      }
    }
  }

  void load_plugins(const toml::node& node) {
    auto table = node.as_table();
    if (!table) fail(node, "plugins", "must be a table of [plugins.NAME] tables");
    for (auto&& [name, value] : *table) {
      std::string path = "plugins." + std::string(name.str());
      auto inner = value.as_table();
      if (!inner) fail(value, path, "must be a table");
      remember(value, path);
      json settings = to_json(value);
      // The host's own keys are type-checked here; the rest is the plugin's to check.
      for (const auto& hk : plugin_host_keys()) {
        if (auto v = inner->get(hk.name)) {
          check(hk, *v, path + "." + std::string(hk.name));
        } else {
          settings[std::string(hk.name)] = hk.default_value;
        }
      }
      for (auto&& [k, v] : *inner) remember(v, path + "." + std::string(k.str()));
      out.values["plugins"][std::string(name.str())] = std::move(settings);
    }
  }
};

json defaults_json() {
  json values = json::object();
  for (const auto& section : config_schema()) {
    json& s = values[std::string(section.name)] = json::object();
    for (const auto& key : section.keys) s[std::string(key.name)] = key.default_value;
  }
  values["plugins"] = json::object();
  return values;
}

config load_toml(std::string_view text, std::string source, std::filesystem::path file) {
  config cfg;
  cfg.values = defaults_json();
  cfg.file = std::move(file);
  cfg.source_name = source;
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream s;
    s << source << ":" << e.source().begin.line << ": " << e.description();
    throw config_error(s.str());
  }
  loader{std::move(source), cfg}.load(root);
  return cfg;
}

}  // namespace

const nlohmann::json& config::section(std::string_view name) const { return values.at(std::string(name)); }

const nlohmann::json& config::get(std::string_view sec, std::string_view key) const {
  return values.at(std::string(sec)).at(std::string(key));
}

std::string config::where(std::string_view key_path) const {
  const std::string& src = source_name;
  auto it = lines.find(key_path);
  if (it != lines.end()) return src + ":" + std::to_string(it->second) + ": " + std::string(key_path);
  return src + ": " + std::string(key_path);
}

std::filesystem::path config::base_dir() const {
  return file.empty() ? std::filesystem::current_path() : std::filesystem::absolute(file).parent_path();
}

std::filesystem::path config::resolve_path(std::string_view p) const {
  std::filesystem::path path(p);
  return path.is_absolute() ? path : base_dir() / path;
}

std::vector<std::filesystem::path> config::plugin_folders() const {
  // The shipped plugins come first and always: a config that names its own folder still gets `dummy`
  // and `local`, and a file in the config's folders cannot take over a shipped plugin's name.
  std::vector<std::filesystem::path> out{plugins::shipped_plugin_dir(),
                                         resolve_path(get("JupyterHub", "plugins_dir").get<std::string>())};
  for (const auto& extra : get("JupyterHub", "plugin_paths")) out.push_back(resolve_path(extra.get<std::string>()));
  return out;
}

config load_config_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw config_error(file.string() + ": cannot read the config file");
  std::stringstream buf;
  buf << in.rdbuf();
  return load_toml(buf.str(), file.filename().string(), file);
}

config load_config_text(std::string_view toml_text, std::string_view source_name) {
  return load_toml(toml_text, std::string(source_name), {});
}

config default_config() {
  config cfg;
  cfg.values = defaults_json();
  // Embedded defaults keep their state in ./hubd-data so that `scripts/dev.sh run` leaves the tree clean.
  cfg.values["JupyterHub"]["db_url"] = "sqlite:///hubd-data/jupyterhub.sqlite";
  cfg.values["JupyterHub"]["cookie_secret_file"] = "hubd-data/jupyterhub_cookie_secret";
  return cfg;
}

std::string generate_default_config() {
  std::ostringstream s;
  s << "# hubd configuration. Tables and keys mirror JupyterHub's: c.JupyterHub.base_url = '/x/'\n"
       "# is written [JupyterHub] base_url = \"/x/\". Every line below shows the default.\n"
       "# Plugins are configured in [plugins.NAME] tables; a hook plugin runs when its table exists.\n";
  for (const auto& section : config_schema()) {
    s << "\n# " << section.doc << "\n[" << section.name << "]\n";
    for (const auto& key : section.keys) {
      s << "# " << key.doc << "\n";
      if (key.kind == value_kind::array_of_tables) {
        s << "# [[" << section.name << "." << key.name << "]]";
        for (const auto& f : key.fields) s << " " << f.name;
        s << "\n";
        continue;
      }
      std::string value = key.default_value.is_null() ? std::string("\"\"") : key.default_value.dump();
      if (key.default_value.is_object()) value = "{}";
      s << "# " << key.name << " = " << value << "\n";
    }
  }
  s << "\n# [plugins.NAME]\n";
  for (const auto& key : plugin_host_keys()) s << "# " << key.name << " = " << key.default_value.dump() << "  # " << key.doc << "\n";
  return s.str();
}

}  // namespace hubd::core::app
