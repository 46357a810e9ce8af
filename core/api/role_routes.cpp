// hubd's roles API: /roles, /roles/{name}, /roles/{name}/{users|groups|services}.
// Roles change at run time and take effect at once: every change bumps the model's generation, which
// the permission cache keys on.
#include "core/api/names.hpp"
#include "core/api/routes.hpp"
#include "core/api/support.hpp"

#include <algorithm>
#include <set>

namespace hubd::core::api {

namespace {

using model::holder_kind;
using rbac::builtin;
using rbac::resource_ref;

nlohmann::json render_role(const api_context& ctx, const model::role& r) {
  auto holders = ctx.model.holders_of(r.name);
  return {{"kind", "role"},          {"name", r.name},           {"description", r.description},
          {"scopes", r.scopes},      {"users", holders.users},   {"groups", holders.groups},
          {"services", holders.services}, {"source", r.from}};
}

std::function<response()> render_after(api_context& ctx, std::string name, int status) {
  return [&ctx, name = std::move(name), status]() {
    auto r = ctx.model.find_role(name);
    if (!r) return http::error_response(404, "No such role: " + name);
    return http::json_response(status, render_role(ctx, *r));
  };
}

// GET needs read:roles unfiltered: a role names holders of every kind, so no filter can bound it.
std::optional<response> guard_read(const api_context& ctx, const principal& who) {
  if (auto e = require_auth(who)) return e;
  if (who.held().has_all(rbac::id(builtin::read_roles))) return std::nullopt;
  rbac::scope_id ids[] = {rbac::id(builtin::read_roles)};
  return http::error_response(403, rbac::denied_message(ctx.scopes, rbac::access_result::forbidden, ids));
}

std::optional<response> guard_admin(const api_context& ctx, const principal& who) {
  return guard(ctx, who, {builtin::admin_roles}, resource_ref::none());
}

// Roles the config or the authenticator owns are changed there, not here (provenance rule: whoever made an assignment owns it).
std::optional<response> refuse_foreign(const model::role& r, std::string_view what) {
  if (r.from == "config" || r.from == authenticator_source)
    return http::error_response(400, "Cannot " + std::string(what) + " role " + r.name + ": it comes from the " +
                                         (r.from == "config" ? std::string("config file") : std::string("authenticator")));
  return std::nullopt;
}

rbac::grant_holder holder_of(const principal& who) {
  return who.kind == principal::kind_t::service ? rbac::grant_holder::service(who.name)
                                                : rbac::grant_holder::user(who.name);
}

rbac::grant_holder holder_of(const api_context& ctx, holder_kind kind, const std::string& name) {
  if (kind == holder_kind::user) return rbac::grant_holder::user(name);
  if (kind == holder_kind::service) return rbac::grant_holder::service(name);
  return rbac::grant_holder::group(name, ctx.model.group_members(name));
}

// No escalation: everyone the grant reaches gets the role's scopes, so the granter must hold each of
// them for each of those (the rule is rbac::check_grant).
std::optional<response> refuse_escalation(const api_context& ctx, const principal& who,
                                          const std::vector<std::string>& scopes, const rbac::grant_holder& holder) {
  std::optional<rbac::grant_refusal> refused;
  try {
    refused = rbac::check_grant(ctx.scopes, scopes, holder, who.held(), &ctx.permissions.membership());
  } catch (const std::exception& e) {
    return http::error_response(400, e.what());
  }
  if (!refused) return std::nullopt;
  std::string via = holder.kind == rbac::grant_holder::kind_t::group ? " (member of group " + holder.name + ")" : "";
  return http::error_response(403, "Do not have permission to grant scope " + refused->scope + " to " +
                                       refused->reached + via + " (not held: " + refused->missing +
                                       "; the granter must hold every scope of the role for everyone it reaches)");
}

std::optional<response> validate_scopes(const api_context& ctx, const std::string& role, const nlohmann::json& v,
                                        std::vector<std::string>& out) {
  if (!is_string_list(v)) return http::error_response(400, "scopes must be a list of strings");
  out = string_list(v);
  try {
    rbac::validate_role(ctx.scopes, rbac::role_def{role, "", out});
  } catch (const std::exception& e) {
    return http::error_response(400, e.what());
  }
  return std::nullopt;
}

void get_roles(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = guard_read(ctx, who)) return answer(res, std::move(*e));
  page pg;
  if (auto e = parse_page(ctx, *req, pg)) return answer(res, std::move(*e));
  auto roles = ctx.model.list_roles();
  nlohmann::json items = nlohmann::json::array();
  for (std::size_t i = pg.offset; i < roles.size() && items.size() < pg.limit; ++i)
    items.push_back(render_role(ctx, *roles[i]));
  answer(res, page_response(*req, pg, std::move(items), roles.size()));
}

void post_roles(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = guard_admin(ctx, who)) return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  if (!body.is_object()) return answer(res, http::error_response(400, "Request body must be a JSON object"));
  for (const auto& [key, _] : body.items())
    if (key != "name" && key != "description" && key != "scopes")
      return answer(res, http::error_response(400, "Invalid key '" + key + "' (expected name, description, scopes)"));
  if (!body.contains("name") || !body["name"].is_string())
    return answer(res, http::error_response(400, "A role needs a name"));
  std::string name = body["name"];
  if (auto bad = rbac::role_name_error(name)) return answer(res, http::error_response(400, "Invalid role name " + name + ": " + *bad));
  if (body.contains("description") && !body["description"].is_string())
    return answer(res, http::error_response(400, "description must be a string"));
  std::vector<std::string> scopes;
  if (auto e = validate_scopes(ctx, name, body.value("scopes", nlohmann::json::array()), scopes))
    return answer(res, std::move(*e));
  if (ctx.model.find_role(name)) return answer(res, http::error_response(409, "Role " + name + " already exists"));
  if (auto e = refuse_escalation(ctx, who, scopes, holder_of(who))) return answer(res, std::move(*e));
  model::new_role nr{name, body.value("description", std::string()), scopes, change_source(who), false};
  auto r = ctx.model.create_role(nr, reply_when_durable(res, render_after(ctx, name, 201)));
  if (!r) answer(res, model_error_response(r.err()));
}

void get_role(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = guard_read(ctx, who)) return answer(res, std::move(*e));
  std::string name(req->param("name"));
  auto r = ctx.model.find_role(name);
  if (!r) return answer(res, http::error_response(404, "No such role: " + name));
  answer(res, http::json_response(200, render_role(ctx, *r)));
}

void patch_role(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = guard_admin(ctx, who)) return answer(res, std::move(*e));
  std::string name(req->param("name"));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  auto r = ctx.model.find_role(name);
  if (!r) return answer(res, http::error_response(404, "No such role: " + name));
  if (!body.is_object()) return answer(res, http::error_response(400, "Request body must be a JSON object"));
  model::role_patch p;
  for (const auto& [key, value] : body.items()) {
    if (key == "description" && value.is_string()) {
      p.description = value.get<std::string>();
    } else if (key == "scopes") {
      std::vector<std::string> scopes;
      if (auto e = validate_scopes(ctx, name, value, scopes)) return answer(res, std::move(*e));
      p.scopes = std::move(scopes);
    } else {
      return answer(res, http::error_response(400, "Invalid key or value type for '" + key + "'"));
    }
  }
  if (auto e = refuse_foreign(*r, "change")) return answer(res, std::move(*e));
  if (p.scopes && rbac::is_default_role(name))
    return answer(res, http::error_response(400, "The scopes of the default role " + name + " cannot be changed"));
  if (p.scopes) {
    if (auto e = refuse_escalation(ctx, who, *p.scopes, holder_of(who))) return answer(res, std::move(*e));
    // Every current holder gets the new scopes at once: the granter must cover them for each.
    auto holders = ctx.model.holders_of(name);
    const std::pair<holder_kind, const std::vector<std::string>*> kinds[] = {
        {holder_kind::user, &holders.users}, {holder_kind::group, &holders.groups}, {holder_kind::service, &holders.services}};
    for (const auto& [kind, list] : kinds)
      for (const auto& n : *list)
        if (auto e = refuse_escalation(ctx, who, *p.scopes, holder_of(ctx, kind, n))) return answer(res, std::move(*e));
  }
  auto u = ctx.model.update_role(name, p, reply_when_durable(res, render_after(ctx, name, 200)));
  if (!u) answer(res, model_error_response(u.err()));
}

void delete_role(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = guard_admin(ctx, who)) return answer(res, std::move(*e));
  std::string name(req->param("name"));
  auto r = ctx.model.find_role(name);
  if (!r) return answer(res, http::error_response(404, "No such role: " + name));
  if (rbac::is_default_role(name))
    return answer(res, http::error_response(400, "The default role " + name + " cannot be deleted"));
  if (auto e = refuse_foreign(*r, "delete")) return answer(res, std::move(*e));
  auto st = ctx.model.delete_role(name, reply_when_durable(res, http::empty_response(204)));
  if (!st) answer(res, model_error_response(st.err()));
}

struct holder_area {
  holder_kind kind;
  const char* key;  // "users", "groups", "services": the path segment and the body key
};

void change_holders(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res,
                    holder_area area, bool assign) {
  if (auto e = guard_admin(ctx, who)) return answer(res, std::move(*e));
  std::string name(req->param("name"));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  auto r = ctx.model.find_role(name);
  if (!r) return answer(res, http::error_response(404, "No such role: " + name));
  if (!body.is_object() || !body.contains(area.key) || !is_string_list(body[area.key]))
    return answer(res, http::error_response(400, std::string("Must specify ") + area.key + " as a list of names"));
  if (auto e = refuse_foreign(*r, assign ? "assign" : "unassign")) return answer(res, std::move(*e));
  // Every name first: nothing is applied when any is bad.
  std::vector<std::string> names, missing;
  std::set<std::string> seen;
  for (const auto& v : body[area.key]) {
    std::string n = v.get<std::string>();
    if (area.kind == holder_kind::user)
      if (auto e = normalized_or_error(ctx, std::string(n), n)) return answer(res, std::move(*e));
    if (!seen.insert(n).second) continue;
    bool exists = area.kind == holder_kind::user    ? ctx.model.find_user(n) != nullptr
                  : area.kind == holder_kind::group ? ctx.model.find_group(n) != nullptr
                                                    : ctx.model.find_service(n) != nullptr;
    (exists ? names : missing).push_back(n);
  }
  if (!missing.empty())
    return answer(res, http::error_response(404, std::string("No such ") + area.key + ": " + nlohmann::json(missing).dump()));
  if (assign) {
    for (const auto& n : names)
      if (auto e = refuse_escalation(ctx, who, r->scopes, holder_of(ctx, area.kind, n))) return answer(res, std::move(*e));
  } else {
    for (const auto& n : names)
      for (const auto& a : ctx.model.assignments_of(area.kind, n))
        if (a.role_id == r->id && (a.from == "config" || a.from == authenticator_source))
          return answer(res, http::error_response(400, "Cannot unassign role " + name + " from " + n +
                                                           ": the assignment comes from the " + a.from));
  }
  if (names.empty()) return answer(res, render_after(ctx, name, 200)());
  const std::string source = change_source(who);
  for (std::size_t i = 0; i < names.size(); ++i) {
    // Writes commit in order: the last one's completion answers for all.
    auto done = i + 1 == names.size() ? reply_when_durable(res, render_after(ctx, name, 200)) : model::completion{};
    model::holder_ref h{area.kind, names[i]};
    auto st = assign ? ctx.model.assign_role(name, h, source, done) : ctx.model.unassign_role(name, h, "", done);
    if (!st) return answer(res, model_error_response(st.err()));
  }
}

template <holder_kind K, bool Assign>
void holders_handler(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  static constexpr const char* keys[] = {"users", "groups", "services"};
  change_holders(ctx, req, who, std::move(res), holder_area{K, keys[static_cast<int>(K)]}, Assign);
}

}  // namespace

void register_role_routes(http::router& router, api_context& ctx) {
  router.add("GET", "/hub/api/roles", make_handler(ctx, get_roles));
  router.add("POST", "/hub/api/roles", make_handler(ctx, post_roles));
  router.add("GET", "/hub/api/roles/{name}", make_handler(ctx, get_role));
  router.add("PATCH", "/hub/api/roles/{name}", make_handler(ctx, patch_role));
  router.add("DELETE", "/hub/api/roles/{name}", make_handler(ctx, delete_role));
  router.add("POST", "/hub/api/roles/{name}/users", make_handler(ctx, holders_handler<holder_kind::user, true>));
  router.add("DELETE", "/hub/api/roles/{name}/users", make_handler(ctx, holders_handler<holder_kind::user, false>));
  router.add("POST", "/hub/api/roles/{name}/groups", make_handler(ctx, holders_handler<holder_kind::group, true>));
  router.add("DELETE", "/hub/api/roles/{name}/groups", make_handler(ctx, holders_handler<holder_kind::group, false>));
  router.add("POST", "/hub/api/roles/{name}/services", make_handler(ctx, holders_handler<holder_kind::service, true>));
  router.add("DELETE", "/hub/api/roles/{name}/services",
             make_handler(ctx, holders_handler<holder_kind::service, false>));
}

}  // namespace hubd::core::api
