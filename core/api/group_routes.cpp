// /groups, /groups/{name}, /groups/{name}/users, /groups/{name}/properties.
#include "core/api/names.hpp"
#include "core/api/render.hpp"
#include "core/api/routes.hpp"
#include "core/api/support.hpp"

#include <algorithm>
#include <limits>
#include <set>

namespace hubd::core::api {

namespace {

using rbac::builtin;
using rbac::resource_ref;

// A group name is a path segment: non-empty, no '/', no control characters.
bool valid_group_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  return std::none_of(name.begin(), name.end(), [](char c) { return c == '/' || static_cast<unsigned char>(c) < 0x20; });
}

// The users of a body, normalized as JupyterHub does; the first unknown one is reported.
std::optional<response> body_users(api_context& ctx, const nlohmann::json& body, std::vector<std::string>& out,
                                   bool required) {
  auto it = body.is_object() ? body.find("users") : body.end();
  if (!body.is_object() || it == body.end()) {
    if (!required) return std::nullopt;
    return http::error_response(400, "Must specify users to add or remove");
  }
  if (!is_string_list(*it)) return http::error_response(400, "users must be a list of user names");
  std::set<std::string> seen;
  for (const auto& raw : *it) {
    std::string name;
    if (auto e = normalized_or_error(ctx, raw.get<std::string>(), name)) return e;
    if (!ctx.model.find_user(name)) return http::error_response(400, "No such user: " + name);
    if (seen.insert(name).second) out.push_back(name);
  }
  return std::nullopt;
}

// Provenance: under manage_groups, the groups the authenticator fills are read-only here.
bool managed_by_authenticator(api_context& ctx, std::string_view group) {
  return ctx.auth_bool("manage_groups", false) && ctx.model.group_has_members_from(group, authenticator_source);
}

response managed_refusal() {
  return http::error_response(400, "Group management via API is disabled for groups managed by the authenticator");
}

std::function<response()> render_after(api_context& ctx, std::string name, resolved_ptr held, int status) {
  return [&ctx, name = std::move(name), held = std::move(held), status]() {
    auto g = ctx.model.find_group(name);
    if (!g) return http::error_response(404);
    return http::json_response(status, render_group(ctx, *g, held->scopes));
  };
}

void get_groups(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = require_auth(who)) return answer(res, std::move(*e));
  const auto& held = who.held();
  auto list_id = rbac::id(builtin::list_groups);
  if (!held.has_any(list_id) || !rbac::usable_list_filters(held, list_id, {rbac::filter_kind::group})) {
    rbac::scope_id ids[] = {list_id};
    return answer(res, http::error_response(403, rbac::denied_message(ctx.scopes, rbac::access_result::forbidden, ids)));
  }
  page pg;
  if (auto e = parse_page(ctx, *req, pg)) return answer(res, std::move(*e));
  std::vector<model::group_ptr> slice;
  std::size_t total = 0;
  if (held.has_all(list_id)) {
    total = ctx.model.group_count();
    slice = ctx.model.list_groups(pg.offset, pg.limit);
  } else {
    const auto* membership = &ctx.permissions.membership();
    std::size_t seen = 0;
    for (const auto& g : ctx.model.list_groups(0, std::numeric_limits<std::size_t>::max())) {
      if (!rbac::has_scope(held, list_id, resource_ref::group(g->name), membership)) continue;
      if (seen++ >= pg.offset && slice.size() < pg.limit) slice.push_back(g);
    }
    total = seen;
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& g : slice) items.push_back(render_group(ctx, *g, held));
  answer(res, page_response(*req, pg, std::move(items), total));
}

void post_groups(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = guard(ctx, who, {builtin::admin_groups}, resource_ref::none())) return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  if (!body.is_object() || !body.contains("groups") || !is_string_list(body["groups"]) || body["groups"].empty())
    return answer(res, http::error_response(400, "Must specify at least one group to create"));
  for (const auto& [key, _] : body.items())
    if (key != "groups" && key != "users")
      return answer(res, http::error_response(400, "Invalid key '" + key + "' (expected groups, users)"));
  std::vector<std::string> users;
  if (auto e = body_users(ctx, body, users, false)) return answer(res, std::move(*e));
  // Groups before the first existing one are created, as JupyterHub does; then 409.
  std::vector<std::string> to_create;
  std::optional<std::string> exists;
  std::set<std::string> seen;
  for (const auto& v : body["groups"]) {
    std::string name = v.get<std::string>();
    if (!valid_group_name(name)) return answer(res, http::error_response(400, "Invalid group name: " + name));
    if (ctx.model.find_group(name) || seen.count(name)) {
      exists = name;
      break;
    }
    seen.insert(name);
    to_create.push_back(name);
  }
  auto held = who.scopes;
  auto names = std::make_shared<std::vector<std::string>>(to_create);
  auto finish = [&ctx, names, held, exists]() {
    if (exists) return http::error_response(409, "Group " + *exists + " already exists");
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : *names)
      if (auto g = ctx.model.find_group(n)) out.push_back(render_group(ctx, *g, held->scopes));
    return http::json_response(201, out);
  };
  if (to_create.empty()) return answer(res, finish());
  const std::string source = change_source(who);
  auto created = ctx.model.create_groups(to_create, users.empty() ? reply_when_durable(res, finish) : model::completion{});
  if (!created) return answer(res, model_error_response(created.err()));
  // Writes commit in order: the last one's completion answers for all.
  for (std::size_t i = 0; i < to_create.size() && !users.empty(); ++i) {
    auto done = i + 1 == to_create.size() ? reply_when_durable(res, finish) : model::completion{};
    auto st = ctx.model.add_group_members(to_create[i], users, source, done);
    if (!st) return answer(res, model_error_response(st.err()));
  }
}

void get_group(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::read_groups, builtin::read_groups_name, builtin::read_roles_groups},
                     resource_ref::group(name)))
    return answer(res, std::move(*e));
  auto g = ctx.model.find_group(name);
  if (!g) return answer(res, http::error_response(404, "No such group: " + name));
  answer(res, http::json_response(200, render_group(ctx, *g, who.held())));
}

void post_group(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::admin_groups}, resource_ref::group(name))) return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  if (!body.is_null() && !body.is_object()) return answer(res, http::error_response(400, "Request body must be a JSON object"));
  if (!valid_group_name(name)) return answer(res, http::error_response(400, "Invalid group name: " + name));
  if (ctx.model.find_group(name)) return answer(res, http::error_response(409, "Group " + name + " already exists"));
  std::vector<std::string> users;
  if (auto e = body_users(ctx, body, users, false)) return answer(res, std::move(*e));
  auto finish = render_after(ctx, name, who.scopes, 201);
  auto created = ctx.model.create_group(name, "{}", users.empty() ? reply_when_durable(res, finish) : model::completion{});
  if (!created) return answer(res, model_error_response(created.err()));
  if (users.empty()) return;
  auto st = ctx.model.add_group_members(name, users, change_source(who), reply_when_durable(res, finish));
  if (!st) answer(res, model_error_response(st.err()));
}

void delete_group(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::delete_groups}, resource_ref::group(name))) return answer(res, std::move(*e));
  if (!ctx.model.find_group(name)) return answer(res, http::error_response(404, "No such group: " + name));
  if (managed_by_authenticator(ctx, name)) return answer(res, managed_refusal());
  auto st = ctx.model.delete_group(name, reply_when_durable(res, http::empty_response(204)));
  if (!st) answer(res, model_error_response(st.err()));
}

void change_members(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res,
                    bool add) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::groups}, resource_ref::group(name))) return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  if (!ctx.model.find_group(name)) return answer(res, http::error_response(404, "No such group: " + name));
  std::vector<std::string> users;
  if (auto e = body_users(ctx, body, users, true)) return answer(res, std::move(*e));
  if (managed_by_authenticator(ctx, name)) return answer(res, managed_refusal());
  auto done = reply_when_durable(res, render_after(ctx, name, who.scopes, 200));
  // Removal takes every source's membership: "remove alice" means she is no longer a member.
  auto st = add ? ctx.model.add_group_members(name, users, change_source(who), done)
                : ctx.model.remove_group_members(name, users, "", done);
  if (!st) answer(res, model_error_response(st.err()));
}

void post_members(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  change_members(ctx, req, who, std::move(res), true);
}
void delete_members(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  change_members(ctx, req, who, std::move(res), false);
}

void put_properties(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::groups}, resource_ref::group(name))) return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  if (!ctx.model.find_group(name)) return answer(res, http::error_response(404, "No such group: " + name));
  if (!body.is_object()) return answer(res, http::error_response(400, "properties must be a JSON object"));
  auto r = ctx.model.set_group_properties(name, body.dump(),
                                          reply_when_durable(res, render_after(ctx, name, who.scopes, 200)));
  if (!r) answer(res, model_error_response(r.err()));
}

}  // namespace

void register_group_routes(http::router& router, api_context& ctx) {
  router.add("GET", "/hub/api/groups", make_handler(ctx, get_groups));
  router.add("POST", "/hub/api/groups", make_handler(ctx, post_groups));
  router.add("GET", "/hub/api/groups/{name}", make_handler(ctx, get_group));
  router.add("POST", "/hub/api/groups/{name}", make_handler(ctx, post_group));
  router.add("DELETE", "/hub/api/groups/{name}", make_handler(ctx, delete_group));
  router.add("POST", "/hub/api/groups/{name}/users", make_handler(ctx, post_members));
  router.add("DELETE", "/hub/api/groups/{name}/users", make_handler(ctx, delete_members));
  router.add("PUT", "/hub/api/groups/{name}/properties", make_handler(ctx, put_properties));
}

}  // namespace hubd::core::api
