#include "core/app/bootstrap.hpp"

#include "core/model/hub_model.hpp"
#include "core/rbac/rbac.hpp"

#include <algorithm>
#include <set>

namespace hubd::core::app {
namespace {

using nlohmann::json;
using model::holder_kind;
using model::holder_ref;

constexpr std::string_view config_source = "config";

void must_be_durable(model::hub_model::commit_group& group) {
  if (auto st = group.commit(); !st) throw std::runtime_error("saving the start-up changes: " + st.err().message);
}

std::vector<std::string> strings_of(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j) out.push_back(v.get<std::string>());
  return out;
}

class applier {
public:
  applier(const config& cfg, const rbac::scope_table& table, model::hub_model& m,
          const std::vector<plugin_principal>& plugins)
      : cfg_(cfg),
        table_(table),
        model_(m),
        jh_(cfg.section("JupyterHub")),
        auth_(cfg.section("Authenticator")),
        plugins_(plugins) {}

  bootstrap_report run() {
    check_conflicting_settings();
    auto loaded = load_roles();
    apply_roles(loaded);
    apply_users();
    apply_groups();
    apply_services();
    apply_plugin_services();
    apply_assignments(loaded);
    apply_plugin_roles();
    sync_admin_flags(loaded);
    strip_blocked_users();
    return std::move(report_);
  }

private:
  [[noreturn]] void fail(std::string_view key_path, const std::string& message) const {
    throw config_error(cfg_.where(key_path) + ": " + message);
  }

  // Runs one model mutation inside apply_config's commit group (memory changes at once, the store
  // at the group's end); a refusal names what was being done.
  template <class F>
  void must(std::string_view what, F&& mutation) {
    auto r = mutation(model::completion{});
    if (!r) throw std::runtime_error(std::string(what) + ": " + r.err().message);
  }

  void check_conflicting_settings() {
    if (auth_.at("manage_groups").get<bool>() && !jh_.at("load_groups").empty())
      fail("JupyterHub.load_groups", "cannot be used with Authenticator.manage_groups = true");
    if (auth_.at("manage_roles").get<bool>() && !auth_.at("keep_default_roles").get<bool>())
      report_.warnings.push_back(
          cfg_.where("Authenticator.manage_roles") +
          ": managed roles replace the default 'user' role, so a login whose auth model 'roles' do not list 'user' "
          "(or another role with 'self') leaves that user without 'self'; have the authenticator list 'user', or set "
          "Authenticator.keep_default_roles = true");
    if (auth_.at("manage_roles").get<bool>()) {
      const auto& roles = jh_.at("load_roles");
      for (std::size_t i = 0; i < roles.size(); ++i)
        for (const char* kind : {"users", "groups"})
          if (roles[i].contains(kind) && !roles[i][kind].empty())
            fail("JupyterHub.load_roles[" + std::to_string(i) + "]." + kind,
                 "roles cannot be assigned to users or groups in load_roles when Authenticator.manage_roles = true");
    }
  }

  rbac::loaded_roles load_roles() {
    auto extra = strings_of(jh_.at("extra_user_scopes"));
    try {
      auto loaded = rbac::load_roles(table_, jh_.at("load_roles"), extra);
      for (auto& w : loaded.warnings) report_.warnings.push_back(w);
      return loaded;
    } catch (const rbac::role_error& e) {
      std::string key = "JupyterHub.load_roles";
      if (e.index() >= 0) key += "[" + std::to_string(e.index()) + "]" + (e.key().empty() ? "" : "." + e.key());
      fail(key, e.what());
    } catch (const std::exception& e) {
      fail("JupyterHub.load_roles", e.what());
    }
  }

  void apply_roles(const rbac::loaded_roles& loaded) {
    std::set<std::string> configured;
    for (const auto& cr : loaded.roles) {
      configured.insert(cr.role.name);
      const std::string source = cr.is_default ? "default" : std::string(config_source);
      auto existing = model_.find_role(cr.role.name);
      if (!existing) {
        model::new_role nr{cr.role.name, cr.role.description, cr.role.scopes, source, false};
        must("creating role " + cr.role.name, [&](auto done) { return model_.create_role(nr, done); });
        ++report_.roles_created;
        continue;
      }
      std::set<std::string> before(existing->scopes.begin(), existing->scopes.end());
      for (const auto& s : cr.role.scopes)
        if (!before.count(s) && !cr.is_default)
          report_.warnings.push_back("role " + cr.role.name + " gains scope " + s + " from the config");
      if (existing->description == cr.role.description && existing->scopes == cr.role.scopes && existing->from == source)
        continue;
      model::role_patch p;
      p.description = cr.role.description;
      p.scopes = cr.role.scopes;
      p.source = source;
      must("updating role " + cr.role.name, [&](auto done) { return model_.update_role(cr.role.name, p, done); });
    }
    // Only roles that came from the config go when the config drops them (provenance).
    for (const auto& r : model_.list_roles()) {
      if (configured.count(r->name) || rbac::is_default_role(r->name) || r->from != config_source) continue;
      must("deleting role " + r->name, [&](auto done) { return model_.delete_role(r->name, done); });
      ++report_.roles_deleted;
    }
  }

  void ensure_user(const std::string& name, std::string_view key_path, bool admin = false) {
    if (name.empty()) fail(key_path, "empty user name");
    if (model_.find_user(name)) return;
    model::new_user nu;
    nu.name = name;
    nu.admin = admin;
    nu.source = std::string(config_source);
    auto r = model_.create_user(nu, {});
    if (!r) fail(key_path, "cannot create user '" + name + "': " + r.err().message);
    ++report_.users_created;
  }

  void ensure_group(const std::string& name, std::string_view key_path) {
    if (model_.find_group(name)) return;
    auto r = model_.create_group(name, "{}", {});
    if (!r) fail(key_path, "cannot create group '" + name + "': " + r.err().message);
  }

  // The users not known yet, in one bulk creation (with the default roles). When it is refused,
  // creating them one by one finds the name that is wrong and says so as ensure_user does.
  void create_missing_users(const std::vector<std::string>& names, std::string_view key_path) {
    std::vector<model::new_user> missing;
    std::set<std::string> seen;
    for (const auto& name : names) {
      if (name.empty()) fail(key_path, "empty user name");
      if (model_.find_user(name) || !seen.insert(name).second) continue;
      model::new_user nu;
      nu.name = name;
      nu.source = std::string(config_source);
      missing.push_back(std::move(nu));
    }
    if (missing.empty()) return;
    if (model_.create_users(missing, {})) {
      report_.users_created += missing.size();
      return;
    }
    for (const auto& name : names) ensure_user(name, key_path);
  }

  void apply_users() {
    for (const auto& name : strings_of(auth_.at("admin_users"))) {
      ensure_user(name, "Authenticator.admin_users", true);
      auto u = model_.find_user(name);
      if (!u->admin) {
        model::user_patch p;
        p.admin = true;
        p.source = std::string(config_source);
        must("making " + name + " an admin", [&](auto done) { return model_.update_user(name, p, done); });
      }
    }
    const auto allowed = strings_of(auth_.at("allowed_users"));
    create_missing_users(allowed, "Authenticator.allowed_users");
    for (const auto& name : allowed) {
      auto roles = model_.roles_of(holder_kind::user, name);
      bool has_user_role = std::any_of(roles.begin(), roles.end(), [](const auto& r) { return r->name == "user"; });
      if (!has_user_role)
        must("granting the user role to " + name, [&](auto done) {
          return model_.assign_role("user", holder_ref{holder_kind::user, name}, config_source, done);
        });
    }
  }

  void apply_groups() {
    for (const auto& [name, spec] : jh_.at("load_groups").items()) {
      std::string key = "JupyterHub.load_groups." + name;
      json users = spec.is_array() ? spec : spec.value("users", json::array());
      if (!spec.is_array() && !spec.is_object()) fail(key, "must be a list of users or {users = [...], properties = {...}}");
      if (spec.is_object())
        for (const auto& [k, _] : spec.items())
          if (k != "users" && k != "properties") fail(key + "." + k, "unknown key (expected users, properties)");
      if (!users.is_array() || !std::all_of(users.begin(), users.end(), [](const json& u) { return u.is_string(); }))
        fail(key + ".users", "must be a list of user names");
      ensure_group(name, key);
      auto members = strings_of(users);
      for (const auto& u : members) ensure_user(u, key + ".users");
      if (!members.empty())
        must("adding members to group " + name,
             [&](auto done) { return model_.add_group_members(name, members, config_source, done); });
      if (spec.is_object() && spec.contains("properties")) {
        if (!spec["properties"].is_object()) fail(key + ".properties", "must be a table");
        must("setting properties of group " + name,
             [&](auto done) { return model_.set_group_properties(name, spec["properties"].dump(), done); });
      }
    }
  }

  void apply_services() {
    std::set<std::string> configured;
    for (const auto& pp : plugins_) configured.insert(pp.name);  // apply_plugin_services owns these
    const auto& services = jh_.at("services");
    for (std::size_t i = 0; i < services.size(); ++i) {
      const auto& s = services[i];
      std::string key = "JupyterHub.services[" + std::to_string(i) + "]";
      if (!s.contains("name") || s["name"].get<std::string>().empty()) fail(key, "a service needs a name");
      std::string name = s["name"];
      if (!configured.insert(name).second)
        fail(key + ".name", plugin_holders_of(name) ? "service '" + name + "' has the name of a plugin with roles"
                                                    : "duplicate service name '" + name + "'");
      if (s.contains("oauth_client_id") && s["oauth_client_id"].get<std::string>().rfind("service-", 0) != 0)
        fail(key + ".oauth_client_id", "must start with 'service-'");
      model::service row;
      if (auto existing = model_.find_service(name)) row = *existing;
      row.name = name;
      row.admin = s.value("admin", false);
      row.url = s.contains("url") ? std::optional<std::string>(s["url"].get<std::string>()) : std::nullopt;
      row.info = s.value("info", json::object()).dump();
      row.display = s.value("display", true);
      row.oauth_client_id = s.contains("oauth_client_id") ? std::optional<std::string>(s["oauth_client_id"]) : std::nullopt;
      row.oauth_redirect_uri =
          s.contains("oauth_redirect_uri") ? std::optional<std::string>(s["oauth_redirect_uri"]) : std::nullopt;
      row.oauth_allowed_scopes = strings_of(s.value("oauth_client_allowed_scopes", json::array()));
      row.oauth_no_confirm = s.value("oauth_no_confirm", false);
      row.from_config = true;
      for (const auto& scope : row.oauth_allowed_scopes)
        if (!table_.find(scope.substr(0, scope.find('!'))))
          fail(key + ".oauth_client_allowed_scopes", "unknown scope '" + scope + "'");
      must("saving service " + name, [&](auto done) { return model_.put_service(row, done); });
      apply_service_token(name, s, key);
      // The deprecated `admin = true` grants the admin role when the service is first created.
      if (row.admin && model_.roles_of(holder_kind::service, name).empty())
        must("granting admin to service " + name, [&](auto done) {
          return model_.assign_role("admin", holder_ref{holder_kind::service, name}, config_source, done);
        });
    }
    for (const auto& s : model_.list_services())
      if (s->from_config && !configured.count(s->name))
        must("removing service " + s->name, [&](auto done) { return model_.delete_service(s->name, done); });
  }

  bool plugin_holders_of(const std::string& name) const {
    return std::any_of(plugins_.begin(), plugins_.end(), [&](const auto& pp) { return pp.name == name; });
  }

  void apply_plugin_services() {
    for (const auto& pp : plugins_) {
      std::string key = "plugins." + pp.name + ".roles";
      for (const auto& role : pp.roles)
        if (!model_.find_role(role)) fail(key, "unknown role '" + role + "' (define it in JupyterHub.load_roles)");
      model::service row;
      if (auto existing = model_.find_service(pp.name)) row = *existing;
      row.name = pp.name;
      row.url.reset();
      row.kind = store::principal_kind::plugin;
      row.display = false;
      row.from_config = true;
      must("saving the principal of plugin " + pp.name, [&](auto done) { return model_.put_service(row, done); });
    }
  }

  // Runs after apply_assignments, which makes a configured role's services exactly its config list:
  // the plugins' own roles are added back here, and roles a plugin no longer lists are taken away.
  void apply_plugin_roles() {
    for (const auto& pp : plugins_) {
      std::set<std::string> want(pp.roles.begin(), pp.roles.end());
      for (const auto& r : model_.roles_of(holder_kind::service, pp.name))
        if (!want.erase(r->name))
          must("unassigning role " + r->name + " from plugin " + pp.name, [&](auto done) {
            return model_.unassign_role(r->name, holder_ref{holder_kind::service, pp.name}, "", done);
          });
      for (const auto& role : want)
        must("assigning role " + role + " to plugin " + pp.name, [&](auto done) {
          return model_.assign_role(role, holder_ref{holder_kind::service, pp.name}, config_source, done);
        });
    }
  }

  // A service's configured api_token becomes a token owned by it with `inherit` (the `token` role's
  // default), so it acts with exactly the service's roles; a token it had from an earlier config goes.
  void apply_service_token(const std::string& name, const json& s, const std::string& key) {
    std::optional<std::string> secret;
    if (s.contains("api_token")) secret = s["api_token"].get<std::string>();
    if (secret && secret->size() < 8) fail(key + ".api_token", "must be at least 8 characters");
    auto svc = model_.find_service(name);
    std::optional<std::int64_t> keep;  // the configured token, when it is already stored
    if (secret) {
      if (auto t = model_.find_token(*secret)) {
        if (t->service_id != svc->id) fail(key + ".api_token", "is already the token of someone else");
        keep = t->id;
      }
    }
    for (const auto& t : model_.tokens_of(holder_kind::service, name))
      if (t->note == "from config" && t->id != keep)
        must("removing an old config token of service " + name,
             [&](auto done) { return model_.delete_token(t->id, done); });
    if (!secret || keep) return;
    model::new_token nt;
    nt.owner_kind = holder_kind::service;
    nt.owner = name;
    nt.scopes = {"inherit"};
    nt.note = "from config";
    nt.secret = *secret;
    auto r = model_.create_token(nt, {});
    if (!r) fail(key + ".api_token", "cannot store the token: " + r.err().message);
  }

  // Makes the holders of `kind` of a role exactly `wanted` (any source), creating missing holders.
  void set_holders(const rbac::configured_role& cr, holder_kind kind, const std::vector<std::string>& wanted,
                   const std::string& key) {
    const auto& role = cr.role.name;
    auto holders = model_.holders_of(role);
    const auto& current = kind == holder_kind::user ? holders.users : kind == holder_kind::group ? holders.groups
                                                                                                  : holders.services;
    std::set<std::string> want(wanted.begin(), wanted.end());
    for (const auto& name : wanted) {
      if (kind == holder_kind::user) ensure_user(name, key);
      if (kind == holder_kind::group) ensure_group(name, key);
      if (kind == holder_kind::service && !model_.find_service(name))
        fail(key, "role " + role + " names service '" + name + "', which is not defined");
      if (std::find(current.begin(), current.end(), name) == current.end())
        must("assigning role " + role, [&](auto done) {
          return model_.assign_role(role, holder_ref{kind, name}, config_source, done);
        });
    }
    for (const auto& name : current)
      if (!want.count(name))
        must("unassigning role " + role, [&](auto done) { return model_.unassign_role(role, holder_ref{kind, name}, "", done); });
  }

  void apply_assignments(const rbac::loaded_roles& loaded) {
    auto admin_users = strings_of(auth_.at("admin_users"));
    for (const auto& cr : loaded.roles) {
      std::string key = cr.index >= 0 ? "JupyterHub.load_roles[" + std::to_string(cr.index) + "]" : "JupyterHub.load_roles";
      const bool is_admin = cr.role.name == "admin", is_user = cr.role.name == "user";
      if (cr.users) {
        auto users = *cr.users;
        if (is_admin) users.insert(users.end(), admin_users.begin(), admin_users.end());
        set_holders(cr, holder_kind::user, users, key + ".users");
      } else if (!is_user && !is_admin && cr.index >= 0) {
        set_holders(cr, holder_kind::user, {}, key + ".users");
      }
      // Default roles not in the config keep their holders; a configured role's groups and services
      // are exactly what it lists (a left-out key clears them), except the admin role's services.
      if (cr.index < 0) continue;
      set_holders(cr, holder_kind::group, cr.groups.value_or(std::vector<std::string>{}), key + ".groups");
      if (cr.services || !is_admin) {
        auto services = cr.services.value_or(std::vector<std::string>{});
        for (const auto& pp : plugins_)  // kept, so that a restart does not unassign and reassign them
          if (std::find(pp.roles.begin(), pp.roles.end(), cr.role.name) != pp.roles.end()) services.push_back(pp.name);
        set_holders(cr, holder_kind::service, services, key + ".services");
      }
    }
  }

  void sync_admin_flags(const rbac::loaded_roles& loaded) {
    auto it = std::find_if(loaded.roles.begin(), loaded.roles.end(),
                           [](const auto& cr) { return cr.role.name == "admin"; });
    const bool explicit_users = it != loaded.roles.end() && it->users.has_value();
    auto holders = model_.holders_of("admin");
    std::set<std::string> in_role(holders.users.begin(), holders.users.end());
    for (std::size_t offset = 0;; offset += 1000) {
      auto page = model_.list_users(offset, 1000);
      if (page.empty()) break;
      for (const auto& u : page) {
        model::user_patch p;
        p.source = std::string(config_source);
        if (in_role.count(u->name) && !u->admin) {
          p.admin = true;
        } else if (u->admin && !in_role.count(u->name)) {
          if (explicit_users) {
            p.admin = false;
          } else {
            must("granting admin role to " + u->name, [&](auto done) {
              return model_.assign_role("admin", holder_ref{holder_kind::user, u->name}, config_source, done);
            });
            continue;
          }
        } else {
          continue;
        }
        must("updating admin flag of " + u->name, [&](auto done) { return model_.update_user(u->name, p, done); });
      }
    }
  }

  void strip_blocked_users() {
    for (const auto& name : strings_of(auth_.at("blocked_users"))) {
      auto u = model_.find_user(name);
      if (!u) continue;
      if (u->admin) {
        model::user_patch p;
        p.admin = false;
        p.source = std::string(config_source);
        must("removing admin from blocked user " + name, [&](auto done) { return model_.update_user(name, p, done); });
      }
      for (const auto& r : model_.roles_of(holder_kind::user, name))
        must("removing roles of blocked user " + name, [&](auto done) {
          return model_.unassign_role(r->name, holder_ref{holder_kind::user, name}, "", done);
        });
      for (const auto& g : model_.user_groups(name))
        must("removing groups of blocked user " + name,
             [&](auto done) { return model_.remove_group_members(g, {name}, "", done); });
    }
  }

  const config& cfg_;
  const rbac::scope_table& table_;
  model::hub_model& model_;
  const json& jh_;
  const json& auth_;
  const std::vector<plugin_principal>& plugins_;
  bootstrap_report report_;
};

}  // namespace

void define_custom_scopes(const config& cfg, const nlohmann::json& plugin_scopes, rbac::scope_table& table,
                          std::vector<std::string>& warnings) {
  auto add = [&](const nlohmann::json& defs, std::string_view key) {
    if (defs.empty()) return;
    auto r = table.add_custom_scopes(defs);
    for (auto& w : r.warnings) warnings.push_back(cfg.where(key) + ": " + w);
    if (!r.errors.empty()) {
      std::string msg;
      for (const auto& e : r.errors) msg += (msg.empty() ? "" : "; ") + e;
      throw config_error(cfg.where(key) + ": " + msg);
    }
  };
  add(cfg.get("JupyterHub", "custom_scopes"), "JupyterHub.custom_scopes");
  add(plugin_scopes, "plugins");
}

void apply_managed_roles(const config& cfg, const rbac::scope_table& table, model::hub_model& m,
                         const nlohmann::json& loaded, std::vector<std::string>& warnings) {
  const std::string where = cfg.where("Authenticator.manage_roles") + ": load_managed_roles";
  // One commit for every role and grant (see apply_config).
  model::hub_model::commit_group group(m);
  auto must = [&](const std::string& what, auto&& mutation) {
    auto r = mutation(model::completion{});
    if (!r) throw std::runtime_error(what + ": " + r.err().message);
  };
  const json& roles = loaded.is_object() ? loaded.value("roles", json::array()) : loaded;
  if (!roles.is_array()) throw config_error(where + " must return {\"roles\": [role dicts]}");
  const bool reset = cfg.section("Authenticator").value("reset_managed_roles_on_startup", false);
  std::set<std::string> returned;
  for (const auto& dict : roles) {
    if (!dict.is_object() || !dict.contains("name") || !dict["name"].is_string())
      throw config_error(where + ": every role needs a name");
    const std::string name = dict["name"];
    rbac::role_def def{name, dict.value("description", std::string()), strings_of(dict.value("scopes", json::array()))};
    try {
      if (auto bad = rbac::role_name_error(name)) throw rbac::role_error("invalid role name " + name + ": " + *bad);
      rbac::validate_role(table, def);
    } catch (const std::exception& e) {
      throw config_error(where + ": " + e.what());
    }
    returned.insert(name);
    auto existing = m.find_role(name);
    if (!existing) {
      model::new_role nr{name, def.description, def.scopes, "authenticator", true};
      must("creating managed role " + name, [&](auto done) { return m.create_role(nr, done); });
    } else {
      model::role_patch p;
      if (dict.contains("description")) p.description = def.description;
      if (dict.contains("scopes")) p.scopes = def.scopes;
      p.managed_by_auth = true;
      must("updating managed role " + name, [&](auto done) { return m.update_role(name, p, done); });
    }
    auto role_row = m.find_role(name);
    const std::pair<const char*, holder_kind> kinds[] = {
        {"users", holder_kind::user}, {"groups", holder_kind::group}, {"services", holder_kind::service}};
    for (const auto& [key, kind] : kinds) {
      if (!dict.contains(key)) continue;
      std::set<std::string> want;
      for (const auto& h : strings_of(dict[key])) {
        bool exists = kind == holder_kind::user    ? m.find_user(h) != nullptr
                      : kind == holder_kind::group ? m.find_group(h) != nullptr
                                                   : m.find_service(h) != nullptr;
        if (!exists && kind == holder_kind::user) {
          model::new_user nu;
          nu.name = h;
          nu.source = "authenticator";
          must("creating user " + h, [&](auto done) { return m.create_user(nu, done); });
          exists = true;
        }
        if (!exists) {
          warnings.push_back(where + ": role " + name + " names unknown " + key + " entry " + h + "; skipped");
          continue;
        }
        want.insert(h);
      }
      auto holders = m.holders_of(name);
      const auto& current = kind == holder_kind::user    ? holders.users
                            : kind == holder_kind::group ? holders.groups
                                                         : holders.services;
      for (const auto& h : want)
        if (std::find(current.begin(), current.end(), h) == current.end())
          must("assigning managed role " + name, [&](auto done) {
            return m.assign_role(name, holder_ref{kind, h}, "authenticator", done);
          });
      if (!reset) continue;
      for (const auto& h : current) {
        if (want.count(h)) continue;
        for (const auto& a : m.assignments_of(kind, h))
          if (a.role_id == role_row->id && a.from == "authenticator")
            must("unassigning managed role " + name, [&](auto done) {
              return m.unassign_role(name, holder_ref{kind, h}, "authenticator", done);
            });
      }
    }
  }
  if (reset)
    for (const auto& r : m.list_roles())
      if (r->managed_by_auth && !returned.count(r->name) && !rbac::is_default_role(r->name) && r->from != "config")
        must("deleting managed role " + r->name, [&](auto done) { return m.delete_role(r->name, done); });
  must_be_durable(group);
}

bootstrap_report apply_config(const config& cfg, const rbac::scope_table& table, model::hub_model& model,
                              const std::vector<plugin_principal>& plugins) {
  // A mutation per configured user, group, role and grant, each seeing the ones before it in
  // memory; one commit (one fsync) for all of them instead of one each.
  model::hub_model::commit_group group(model);
  auto report = applier(cfg, table, model, plugins).run();
  must_be_durable(group);
  return report;
}

}  // namespace hubd::core::app
