#include "core/app/config.hpp"

#include "core/names/username.hpp"
#include "core/plugins/install_layout.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <sstream>

namespace hubd::core::app {
namespace {

using nlohmann::json;

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// " (did you mean bind_url?)" for a near miss: at most a third of the name mistyped.
std::string closest(std::string_view name, const std::vector<std::string_view>& known) {
  std::string_view best;
  std::size_t best_d = std::max<std::size_t>(2, name.size() / 3) + 1;
  for (auto k : known) {
    auto d = edit_distance(name, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return best.empty() ? std::string() : " (did you mean " + std::string(best) + "?)";
}

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
      auto it = std::find_if(key.fields.begin(), key.fields.end(), [n = name.str()](const config_key& f) { return f.name == n; });
      if (it == key.fields.end()) {
        if (key.extra_fields_warn) {
          out.warnings.push_back(source + ":" + std::to_string(v.source().begin.line) + ": " + field_path + ": unknown key, ignored");
          continue;
        }
        std::vector<std::string_view> names;
        for (const auto& f : key.fields) names.push_back(f.name);
        fail(v, field_path, "unknown key" + closest(name.str(), names));
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
      if (sec == schema.end()) {
        std::vector<std::string_view> names;
        for (const auto& sc : schema) names.push_back(sc.name);
        names.push_back("plugins");
        fail(section_node, sname, "unknown section" + closest(sname, names));
      }
      auto table = section_node.as_table();
      if (!table) fail(section_node, sname, "must be a table");
      remember(section_node, sname);
      for (auto&& [key_name, value] : *table) {
        std::string path = sname + "." + std::string(key_name.str());
        auto key = std::find_if(sec->keys.begin(), sec->keys.end(), [n = key_name.str()](const config_key& k) { return k.name == n; });
        if (key == sec->keys.end()) fail(value, path, "unknown key" + moved_key_hint(sname, key_name.str(), *sec));
        if (key->not_supported_yet) fail(value, path, "not supported yet by hubd");
        out.values[sname][std::string(key_name.str())] = check(*key, value, path);
      }
    }
  }

  // JupyterHub keys hubd spells differently get their hubd name; other near misses a suggestion.
  static std::string moved_key_hint(std::string_view section, std::string_view name, const config_section& sec) {
    if (section == "JupyterHub" && (name == "ip" || name == "port"))
      return " (JupyterHub's ip and port are bind_url = \"http://IP:PORT\" in hubd)";
    if (section == "JupyterHub" && (name == "hub_ip" || name == "hub_port"))
      return " (JupyterHub's hub_ip and hub_port are hub_bind_url = \"http://IP:PORT\" in hubd)";
    return suggestion(name, sec);
  }

  static std::string suggestion(std::string_view name, const config_section& sec) {
    std::vector<std::string_view> names;
    for (const auto& k : sec.keys) names.push_back(k.name);
    return closest(name, names);
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

[[noreturn]] void fail_at(const config& cfg, std::string_view path, std::string_view msg) {
  throw config_error(cfg.where(path) + ": " + std::string(msg));
}

// JupyterHub's own names for what hubd ships ("localprocess", "jupyterhub.spawner.LocalProcessSpawner"),
// normalised here once so the rest of hubd only sees registered plugin names. Names of JupyterHub
// classes hubd has no plugin for are refused with what to use instead.
struct class_alias {
  std::vector<std::string_view> names;
  std::string_view hubd_name;  // empty: refused with `advice`
  std::string_view advice;
};

const std::vector<class_alias>& authenticator_aliases() {
  static const std::vector<class_alias> a = {
      {{"jupyterhub.auth.DummyAuthenticator", "DummyAuthenticator"}, "dummy", ""},
      {{"null", "jupyterhub.auth.NullAuthenticator", "NullAuthenticator"}, "",
       "JupyterHub's NullAuthenticator has no hubd plugin yet; use \"dummy\" with [plugins.dummy] password, or a plugin "
       "of your own"},
      {{"default", "jupyterhub.auth.PAMAuthenticator", "PAMAuthenticator"}, "pam", ""},
      {{"shared-password", "jupyterhub.authenticators.shared.SharedPasswordAuthenticator", "SharedPasswordAuthenticator"},
       "",
       "JupyterHub's SharedPasswordAuthenticator: use authenticator_class = \"dummy\" with [plugins.dummy] password = "
       "\"...\""},
  };
  return a;
}

const std::vector<class_alias>& spawner_aliases() {
  static const std::vector<class_alias> a = {
      {{"default", "localprocess", "LocalProcessSpawner", "jupyterhub.spawner.LocalProcessSpawner"}, "local", ""},
      {{"simple", "SimpleLocalProcessSpawner", "jupyterhub.spawner.SimpleLocalProcessSpawner"}, "",
       "JupyterHub's SimpleLocalProcessSpawner: use spawner_class = \"local\" (hubd's local spawner runs servers as "
       "hubd's own user too; Spawner.notebook_dir sets their folder)"},
      {{"sudospawner.SudoSpawner", "SudoSpawner"}, "", "sudospawner has no hubd plugin yet; hubd ships \"local\""},
      {{"systemdspawner.SystemdSpawner", "SystemdSpawner"}, "", "systemdspawner has no hubd plugin yet; hubd ships \"local\""},
      {{"dockerspawner.DockerSpawner", "DockerSpawner"}, "", "dockerspawner has no hubd plugin yet; hubd ships \"local\""},
      {{"kubespawner.KubeSpawner", "KubeSpawner"}, "", "kubespawner has no hubd plugin yet; hubd ships \"local\""},
  };
  return a;
}

void normalise_class(config& cfg, const char* key, const std::vector<class_alias>& aliases) {
  auto& v = cfg.values["JupyterHub"][key];
  const std::string name = v.get<std::string>();
  const std::string path = std::string("JupyterHub.") + key;
  for (const auto& a : aliases)
    if (std::find(a.names.begin(), a.names.end(), name) != a.names.end()) {
      if (a.hubd_name.empty()) fail_at(cfg, path, "\"" + name + "\": " + std::string(a.advice));
      v = std::string(a.hubd_name);
      return;
    }
  if (name.find('.') != std::string::npos)
    fail_at(cfg, path, "\"" + name + "\" looks like a Python class; hubd names a plugin by its registered name "
                       "(`hubd plugins` lists them)");
}

// The folder relative state paths resolve against, and those paths made absolute.
void apply_data_dir(config& cfg) {
  auto& jh = cfg.values["JupyterHub"];
  if (jh["data_dir"].get<std::string>() == ".") return;
  const auto dir = cfg.data_dir();
  auto& db = jh["db_url"];
  constexpr std::string_view sqlite = "sqlite:///";
  const std::string url = db.get<std::string>();
  if (url.rfind(sqlite, 0) == 0 && url.size() > sqlite.size() && url[sqlite.size()] != '/' &&
      url.compare(sqlite.size(), std::string::npos, ":memory:") != 0)
    db = std::string(sqlite) + (dir / url.substr(sqlite.size())).lexically_normal().string();
  for (auto [section, key] : {std::pair{"JupyterHub", "cookie_secret_file"}, std::pair{"ConfigurableHTTPProxy", "pid_file"}}) {
    auto sec = cfg.values.find(section);
    if (sec == cfg.values.end() || !sec->contains(key) || !(*sec)[key].is_string()) continue;
    std::filesystem::path p((*sec)[key].get<std::string>());
    if (!p.empty() && p.is_relative()) (*sec)[key] = (dir / p).lexically_normal().string();
  }
}

// The line of the most precise key the file has one for.
std::string_view known_key(const config& cfg, std::string_view precise, std::string_view outer) {
  return cfg.lines.count(precise) ? precise : outer;
}

// Without the authenticator (which start-up applies) the case is kept: the loader refuses what no
// one could log in as, and composes (NFC), nothing more.
void normalise_user_names(config& cfg) {
  for_each_user_name(cfg, [&cfg](json& name, const std::string& key) {
    auto r = names::normalize_username(name.get<std::string>(), names::case_rule::keep);
    if (!r.ok()) fail_at(cfg, key, json(name.get<std::string>()).dump(-1, ' ', false, json::error_handler_t::replace) + ": " + r.error);
    name = std::move(r.name);
  });
}

// Checks that need more than one key, or more than the type: the file's line is named as always.
void check_semantics(config& cfg) {
  normalise_class(cfg, "authenticator_class", authenticator_aliases());
  normalise_class(cfg, "spawner_class", spawner_aliases());
  normalise_user_names(cfg);

  const auto& auth = cfg.values["Authenticator"];
  if (auth["auth_refresh_age"].get<std::int64_t>() < 0)
    fail_at(cfg, "Authenticator.auth_refresh_age", "must be 0 (never refresh by age) or a number of seconds");
  if (auth["login_failure_limit"].get<std::int64_t>() < 1)
    fail_at(cfg, "Authenticator.login_failure_limit", "must be at least 1 (login_throttle = false turns throttling off)");
  if (auth["login_max_backoff"].get<std::int64_t>() < 1)
    fail_at(cfg, "Authenticator.login_max_backoff", "must be at least 1 second");
  if (const auto pattern = auth["username_pattern"].get<std::string>(); !pattern.empty()) {
    std::regex re;
    try {
      re = std::regex(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      fail_at(cfg, "Authenticator.username_pattern", std::string("not a valid regular expression: ") + e.what());
    }
    // As JupyterHub at start-up: a configured name the pattern refuses is a config error.
    // (on the name as hubd's rule folds it, what an authenticator without a rule of its own gives)
    for (const char* key : {"admin_users", "allowed_users"})
      for (const auto& n : auth[key]) {
        const auto name = names::normalize_username(n.get<std::string>()).name;
        if (!std::regex_search(name, re, std::regex_constants::match_continuous))
          fail_at(cfg, std::string("Authenticator.") + key, "\"" + name + "\" does not match Authenticator.username_pattern");
      }
  }

  const bool trusted = cfg.values["JupyterHub"]["trust_user_provided_tokens"].get<bool>();
  const std::size_t min_token = trusted ? 8 : untrusted_token_min_length;
  const auto& services = cfg.values["JupyterHub"]["services"];
  for (std::size_t i = 0; i < services.size(); ++i) {
    const auto& s = services[i];
    const std::string key = "JupyterHub.services[" + std::to_string(i) + "]";
    if (s.contains("oauth_roles"))
      fail_at(cfg, key + ".oauth_roles",
              "deprecated since JupyterHub 3.0 and not supported by hubd: list the scopes in oauth_client_allowed_scopes");
    if (s.contains("api_token") && s["api_token"].get<std::string>().size() < min_token)
      fail_at(cfg, key + ".api_token",
              "must be at least " + std::to_string(min_token) + " characters" +
                  (trusted ? std::string()
                           : std::string(" (hubd stores tokens as an unsalted digest, so a configured token must be long; "
                                         "generate one with `openssl rand -hex 32`, or set "
                                         "JupyterHub.trust_user_provided_tokens = true to allow 8)")));
  }
  apply_data_dir(cfg);
}

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
  check_semantics(cfg);
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

std::filesystem::path config::data_dir() const { return resolve_path(get("JupyterHub", "data_dir").get<std::string>()); }

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
      if (key.not_supported_yet) {
        s << "# " << key.name << ": not supported yet by hubd (naming it is an error)\n";
        continue;
      }
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

void for_each_user_name(config& cfg, const std::function<void(json& name, const std::string& key)>& fn) {
  auto each = [&fn](json& list, const std::string& key) {
    if (!list.is_array()) return;  // the bootstrap names the wrong shape
    for (auto& n : list)
      if (n.is_string()) fn(n, key);
  };
  auto& auth = cfg.values["Authenticator"];
  for (const char* key : {"admin_users", "allowed_users", "blocked_users"}) each(auth[key], std::string("Authenticator.") + key);
  // Keys are matched against the normalised login name, values become the user.
  json mapped = json::object();
  for (auto& [from, to] : auth["username_map"].items()) {
    const std::string key(known_key(cfg, "Authenticator.username_map." + from, "Authenticator.username_map"));
    json k = from;
    fn(k, key);
    if (to.is_string()) fn(to, key);
    mapped[k.get<std::string>()] = to;
  }
  auth["username_map"] = std::move(mapped);
  auto& jh = cfg.values["JupyterHub"];
  for (auto& [group, spec] : jh["load_groups"].items()) {
    const std::string key = "JupyterHub.load_groups." + group;
    each(spec.is_object() && spec.contains("users") ? spec["users"] : spec,
         std::string(known_key(cfg, key + ".users", known_key(cfg, key, "JupyterHub.load_groups"))));
  }
  auto& roles = jh["load_roles"];
  for (std::size_t i = 0; i < roles.size(); ++i) {
    const std::string key = "JupyterHub.load_roles[" + std::to_string(i) + "].users";
    if (roles[i].is_object() && roles[i].contains("users"))
      each(roles[i]["users"], std::string(known_key(cfg, key, "JupyterHub.load_roles")));
  }
}

}  // namespace hubd::core::app
