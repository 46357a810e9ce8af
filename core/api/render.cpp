#include "core/api/render.hpp"

#include "core/http/url_codec.hpp"

#include "core/session/permissions.hpp"
#include "core/api/support.hpp"
#include "core/model/timestamp.hpp"

#include <spdlog/spdlog.h>

namespace hubd::core::api {

namespace {

nlohmann::json json_object_or(const std::optional<std::string>& text, nlohmann::json fallback) {
  if (!text) return fallback;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

nlohmann::json json_object_or(const std::string& text, nlohmann::json fallback) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

nlohmann::json role_names(const std::vector<model::role_ptr>& roles) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : roles) out.push_back(r->name);
  return out;
}

// An absolute URL for `path` when JupyterHub.public_url is set (scheme and host of it).
nlohmann::json full_url(const api_context& ctx, const std::string& path) {
  const auto& hub = ctx.config.contains("JupyterHub") ? ctx.config["JupyterHub"] : nlohmann::json::object();
  auto it = hub.find("public_url");
  if (it == hub.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) return nullptr;
  const auto& pub = it->get_ref<const std::string&>();
  auto scheme_end = pub.find("://");
  if (scheme_end == std::string::npos) return nullptr;
  auto host_end = pub.find('/', scheme_end + 3);
  return pub.substr(0, host_end) + path;
}

}  // namespace

std::string escape_path_segment(std::string_view s) { return http::url_escape_path(s); }

std::string server_url(const api_context& ctx, std::string_view user, std::string_view server) {
  std::string url = ctx.base_url + "user/" + escape_path_segment(user) + "/";
  if (!server.empty()) url += escape_path_segment(server) + "/";
  return url;
}

std::string server_progress_url(const api_context& ctx, std::string_view user, std::string_view server) {
  std::string url = ctx.api_prefix() + "/users/" + escape_path_segment(user);
  if (server.empty()) return url + "/server/progress";
  return url + "/servers/" + escape_path_segment(server) + "/progress";
}

bool server_ready(const model::server& s) { return s.started.has_value() && !s.pending; }
bool server_active(const model::server& s) { return server_ready(s) || s.pending.has_value(); }

nlohmann::json server_model(const api_context& ctx, std::string_view user, const model::server& s, bool with_state) {
  std::string url = server_url(ctx, user, s.name);
  std::string progress = server_progress_url(ctx, user, s.name);
  nlohmann::json m = {
      {"name", s.name},
      {"display_name", s.display_name.empty() ? s.name : s.display_name},
      {"full_name", std::string(user) + "/" + s.name},
      {"ready", server_ready(s)},
      {"pending", s.pending ? nlohmann::json(*s.pending) : nlohmann::json(nullptr)},
      {"stopped", !server_active(s)},
      {"url", url},
      {"progress_url", progress},
      {"full_url", full_url(ctx, url)},
      {"full_progress_url", full_url(ctx, progress)},
      {"started", iso_or_null(s.started)},
      {"last_activity", iso_or_null(s.last_activity)},
      {"user_options", json_object_or(s.user_options, nlohmann::json::object())},
  };
  if (with_state) m["state"] = json_object_or(s.state, nlohmann::json::object());
  return m;
}

std::uint32_t user_fields(const api_context& ctx, const model::user& u, const rbac::scope_set& held) {
  return rbac::visible_user_fields(held, u.name, &ctx.permissions.membership());
}

nlohmann::json render_user(const api_context& ctx, const model::user& u, const rbac::scope_set& held,
                           const user_render_options& opts) {
  namespace f = rbac::user_field;
  const auto* membership = &ctx.permissions.membership();
  std::uint32_t mask = rbac::visible_user_fields(held, u.name, membership);

  // Servers first: a server-level read:servers grant shows the key even when no user field is visible.
  nlohmann::json servers = nlohmann::json::object();
  bool any_server = false;
  model::server_ptr default_server;
  for (const auto& s : ctx.model.servers_of(u.name)) {
    if (s->name.empty()) default_server = s;
    if (!opts.include_stopped_servers && !server_active(*s)) continue;
    bool whole = (mask & f::servers) != 0;
    if (!whole && !rbac::can_read_server(held, u.name, s->name, membership)) continue;
    bool with_state = rbac::can_read_server_state(held, u.name, s->name, membership);
    servers[s->name] = server_model(ctx, u.name, *s, with_state);
    any_server = true;
  }
  if (mask == 0 && !any_server) return nlohmann::json::object();

  nlohmann::json m = nlohmann::json::object();
  if (mask & f::kind) m["kind"] = "user";
  if (mask & f::name) m["name"] = u.name;
  if (mask & f::admin) m["admin"] = u.admin;
  if (mask & f::user_info) m["user_info"] = json_object_or(u.user_info, nullptr);
  if (mask & f::roles) m["roles"] = role_names(ctx.model.roles_of(model::holder_kind::user, u.name));
  if (mask & f::groups) m["groups"] = ctx.model.user_groups(u.name);
  if (mask & f::server) {
    m["server"] = default_server && server_ready(*default_server) ? nlohmann::json(server_url(ctx, u.name, ""))
                                                                   : nlohmann::json(nullptr);
  }
  if (mask & f::pending) {
    m["pending"] = default_server && default_server->pending ? nlohmann::json(*default_server->pending)
                                                             : nlohmann::json(nullptr);
  }
  if (mask & f::created) m["created"] = model::format_iso8601(u.created);
  if (mask & f::last_activity) m["last_activity"] = iso_or_null(u.last_activity);
  if ((mask & f::servers) || any_server) m["servers"] = std::move(servers);
  if (mask & f::auth_state) {
    nlohmann::json state = nullptr;
    if (opts.decrypt_auth_state && ctx.model.auth_state_enabled()) {
      auto r = ctx.model.get_auth_state(u.name);
      if (r && r.value()) {
        state = *r.value();
      } else if (!r) {
        spdlog::error("api: auth_state of {} could not be decrypted: {}", u.name, r.err().message);
      }
    }
    m["auth_state"] = std::move(state);
  }
  return m;
}

nlohmann::json render_group(const api_context& ctx, const model::group& g, const rbac::scope_set& held) {
  namespace f = rbac::group_field;
  std::uint32_t mask = rbac::visible_group_fields(held, g.name);
  nlohmann::json m = nlohmann::json::object();
  if (mask & f::kind) m["kind"] = "group";
  if (mask & f::name) m["name"] = g.name;
  if (mask & f::users) m["users"] = ctx.model.group_members(g.name);
  if (mask & f::properties) m["properties"] = json_object_or(g.properties, nlohmann::json::object());
  if (mask & f::roles) m["roles"] = role_names(ctx.model.roles_of(model::holder_kind::group, g.name));
  return m;
}

nlohmann::json render_service(const api_context& ctx, const model::service& s, const rbac::scope_set& held) {
  namespace f = rbac::service_field;
  std::uint32_t mask = rbac::visible_service_fields(held, s.name);
  nlohmann::json m = nlohmann::json::object();
  if (mask & f::kind) m["kind"] = "service";
  if (mask & f::name) m["name"] = s.name;
  if (mask & f::admin) m["admin"] = s.admin;
  if (mask & f::url) m["url"] = s.url ? nlohmann::json(*s.url) : nlohmann::json("");
  if (mask & f::prefix) m["prefix"] = s.url ? ctx.base_url + "services/" + escape_path_segment(s.name) + "/" : "";
  std::optional<managed_service_slot::info> managed;
  if ((mask & (f::command | f::pid)) && ctx.managed_services.status) managed = ctx.managed_services.status(s.name);
  if (mask & f::command) m["command"] = managed ? nlohmann::json(managed->command) : nlohmann::json::array();
  if (mask & f::pid) m["pid"] = managed ? managed->pid : 0;
  if (mask & f::info) m["info"] = json_object_or(s.info, nlohmann::json::object());
  if (mask & f::display) m["display"] = s.display;
  if (mask & f::roles) m["roles"] = role_names(ctx.model.roles_of(model::holder_kind::service, s.name));
  return m;
}

nlohmann::json render_token(const api_context& ctx, const model::token& t, std::string_view owner_kind,
                            std::string_view owner_name, const rbac::scope_set* resolved) {
  nlohmann::json client = "JupyterHub";
  if (!t.client_id.empty() && t.client_id != "jupyterhub") {
    auto c = ctx.model.find_oauth_client(t.client_id);
    client = c && !c->description.empty() ? c->description : t.client_id;
  }
  nlohmann::json m = {
      {std::string(owner_kind), owner_name},
      {"id", "a" + std::to_string(t.id)},
      {"kind", "api_token"},
      {"roles", nlohmann::json::array()},
      {"scopes", resolved ? resolved->to_strings(ctx.scopes) : std::vector<std::string>{}},
      {"created", model::format_iso8601(t.created)},
      {"last_activity", iso_or_null(t.last_activity)},
      {"expires_at", iso_or_null(t.expires_at)},
      {"note", t.note},
      {"session_id", t.session_id ? nlohmann::json(*t.session_id) : nlohmann::json(nullptr)},
      {"oauth_client", std::move(client)},
  };
  return m;
}

}  // namespace hubd::core::api
