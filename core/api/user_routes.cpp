// /user, /users, /users/{name}, /users/{name}/activity, /users/{name}/admin-access.
#include "core/api/names.hpp"
#include "core/api/render.hpp"
#include "core/api/routes.hpp"
#include "core/api/support.hpp"
#include "core/http/url_codec.hpp"
#include "core/model/timestamp.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

namespace hubd::core::api {

namespace {

using rbac::builtin;
using rbac::resource_ref;

// The requester's own admin flag (JupyterHub's "Only admins can grant admin permissions" rule).
bool requester_is_admin(const principal& who) {
  if (who.user) return who.user->admin;
  if (who.service) return who.service->admin;
  return false;
}

void get_self(api_context& ctx, const http::request_ptr&, const principal& who, http::responder res) {
  if (auto e = require_auth(who)) return answer(res, std::move(*e));
  nlohmann::json m;
  if (who.user) {
    auto u = ctx.model.find_user(who.user->id);
    if (!u) return answer(res, http::error_response(403, "Missing or invalid credentials."));
    m = render_user(ctx, *u, who.identity());
  } else {
    m = render_service(ctx, *who.service, who.identity());
  }
  m["scopes"] = who.held().to_strings(ctx.scopes);
  m["token_id"] = who.token ? nlohmann::json("a" + std::to_string(who.token->id)) : nlohmann::json(nullptr);
  m["session_id"] = who.session_id ? nlohmann::json(*who.session_id) : nlohmann::json(nullptr);
  answer(res, http::json_response(200, m));
}

bool any_server(api_context& ctx, const model::user& u, bool (*pred)(const model::server&)) {
  for (const auto& s : ctx.model.servers_of(u.name)) {
    if (pred(*s)) return true;
  }
  return false;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void get_users(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = require_auth(who)) return answer(res, std::move(*e));
  const auto& held = who.held();
  auto list_id = rbac::id(builtin::list_users);
  if (!held.has_any(list_id) ||
      !rbac::usable_list_filters(held, list_id, {rbac::filter_kind::user, rbac::filter_kind::group})) {
    rbac::scope_id req_ids[] = {list_id};
    return answer(res, http::error_response(403, rbac::denied_message(ctx.scopes, rbac::access_result::forbidden,
                                                                      req_ids)));
  }
  page pg;
  if (auto e = parse_page(ctx, *req, pg)) return answer(res, std::move(*e));
  std::string state(req->query_arg("state").value_or(""));
  if (!state.empty() && state != "active" && state != "ready" && state != "inactive")
    return answer(res, http::error_response(400, "Unrecognized state filter: '" + state + "'"));
  std::string sort(req->query_arg("sort").value_or(""));
  bool descending = !sort.empty() && sort[0] == '-';
  std::string sort_key = descending ? sort.substr(1) : sort;
  if (!sort_key.empty() && sort_key != "id" && sort_key != "name" && sort_key != "last_activity")
    return answer(res, http::error_response(400, "Invalid sort: '" + sort + "'"));
  std::string name_filter = lower(req->query_arg("name_filter").value_or(""));
  user_render_options opts;
  opts.include_stopped_servers = has_query_flag(*req, "include_stopped_servers");

  const auto* membership = &ctx.permissions.membership();
  bool unfiltered = held.has_all(list_id) && state.empty() && name_filter.empty() && sort_key.empty();
  std::vector<model::user_ptr> slice;
  std::size_t total = 0;
  if (unfiltered) {
    total = ctx.model.user_count();
    slice = ctx.model.list_users(pg.offset, pg.limit);
  } else {
    auto keep = [&](const model::user& u) {
      if (!rbac::has_scope(held, list_id, resource_ref::user(u.name), membership)) return false;
      if (!name_filter.empty() && lower(u.name).find(name_filter) == std::string::npos) return false;
      if (state == "active" && !any_server(ctx, u, server_active)) return false;
      if (state == "ready" && !any_server(ctx, u, server_ready)) return false;
      if (state == "inactive" && any_server(ctx, u, server_active)) return false;
      return true;
    };
    auto all = ctx.model.list_users_if(0, std::numeric_limits<std::size_t>::max(), keep);
    total = all.size();
    if (sort_key == "name") {
      std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
    } else if (sort_key == "last_activity") {
      // NULL activity first ascending (and so last descending).
      std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        if (!a->last_activity || !b->last_activity) return !a->last_activity && b->last_activity;
        return *a->last_activity < *b->last_activity;
      });
    }
    if (descending) std::reverse(all.begin(), all.end());
    for (std::size_t i = pg.offset; i < all.size() && slice.size() < pg.limit; ++i) slice.push_back(all[i]);
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& u : slice) {
    auto m = render_user(ctx, *u, held, opts);
    if (!m.empty()) items.push_back(std::move(m));
  }
  answer(res, page_response(*req, pg, std::move(items), total));
}

std::optional<response> check_admin_grant(const principal& who, const nlohmann::json& admin) {
  if (admin.is_boolean() && admin.get<bool>() && !requester_is_admin(who))
    return http::error_response(403, "Only admins can grant admin permissions");
  return std::nullopt;
}

void post_users(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  if (auto e = guard(ctx, who, {builtin::admin_users}, resource_ref::none())) return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  if (!body.is_object()) return answer(res, http::error_response(400, "Must specify at least one user to create"));
  auto names_it = body.find("usernames");
  if (names_it == body.end() || !is_string_list(*names_it) || names_it->empty())
    return answer(res, http::error_response(400, "Must specify at least one user to create"));
  nlohmann::json admin = body.value("admin", nlohmann::json(false));
  if (!admin.is_boolean()) return answer(res, http::error_response(400, "admin must be true or false"));
  if (auto e = check_admin_grant(who, admin)) return answer(res, std::move(*e));
  std::vector<model::new_user> to_create;
  std::vector<std::string> seen, invalid;
  for (const auto& raw : *names_it) {
    std::string name;
    if (auto e = normalized_or_error(ctx, raw.get<std::string>(), name)) return answer(res, std::move(*e));
    if (!validate_username(ctx, name)) {
      invalid.push_back(name);
      continue;
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    if (ctx.model.find_user(name)) {
      spdlog::warn("api: user {} already exists", name);
      continue;
    }
    model::new_user nu;
    nu.name = name;
    nu.admin = admin.get<bool>();
    to_create.push_back(std::move(nu));
  }
  if (!invalid.empty()) {
    nlohmann::json names = invalid;
    return answer(res, http::error_response(400, "Invalid usernames: " + names.dump()));
  }
  if (to_create.empty()) return answer(res, http::error_response(409, "All " + std::to_string(seen.size()) + " users already exist"));
  auto created = std::make_shared<std::vector<std::string>>();
  for (const auto& u : to_create) created->push_back(u.name);
  auto held = who.scopes;
  auto r = ctx.model.create_users(to_create, reply_when_durable(res, [&ctx, created, held]() {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& name : *created) {
      if (auto u = ctx.model.find_user(name)) out.push_back(render_user(ctx, *u, held->scopes));
    }
    return http::json_response(201, out);
  }));
  if (!r) answer(res, model_error_response(r.err()));
}


void get_user(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who,
                     {builtin::read_users, builtin::read_users_name, builtin::read_servers, builtin::read_users_groups,
                      builtin::read_users_activity, builtin::read_roles_users},
                     resource_ref::user(name)))
    return answer(res, std::move(*e));
  auto u = ctx.model.find_user(name);
  if (!u) return answer(res, http::error_response(404));
  user_render_options opts;
  opts.include_stopped_servers = has_query_flag(*req, "include_stopped_servers");
  opts.decrypt_auth_state = true;
  answer(res, http::json_response(200, render_user(ctx, *u, who.held(), opts)));
}

void post_user(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  // The scope check sees the name the user would have: admin:users!user=carol may create CAROL.
  std::string raw(req->param("name")), name;
  auto invalid = normalized_or_error(ctx, raw, name);
  if (auto e = guard(ctx, who, {builtin::admin_users}, resource_ref::user(invalid ? raw : name))) return answer(res, std::move(*e));
  if (invalid) return answer(res, std::move(*invalid));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  if (!body.is_null() && !body.is_object()) return answer(res, http::error_response(400, "Request body must be a JSON object"));
  nlohmann::json admin = body.is_object() ? body.value("admin", nlohmann::json(false)) : nlohmann::json(false);
  if (!admin.is_boolean()) return answer(res, http::error_response(400, "admin must be true or false"));
  if (auto e = check_admin_grant(who, admin)) return answer(res, std::move(*e));
  if (ctx.model.find_user(name)) return answer(res, http::error_response(409, "User " + name + " already exists"));
  if (!validate_username(ctx, name)) return answer(res, http::error_response(400, "Invalid username: " + name));
  model::new_user nu;
  nu.name = name;
  nu.admin = admin.get<bool>();
  auto held = who.scopes;
  auto r = ctx.model.create_user(nu, reply_when_durable(res, [&ctx, name, held]() {
    auto u = ctx.model.find_user(name);
    if (!u) return http::error_response(404);
    return http::json_response(201, render_user(ctx, *u, held->scopes));
  }));
  if (!r) answer(res, model_error_response(r.err()));
}

void patch_user(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::admin_users}, resource_ref::user(name))) return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  auto u = ctx.model.find_user(name);
  if (!u) return answer(res, http::error_response(404));
  if (!body.is_object()) return answer(res, http::error_response(400, "Request body must be a JSON object"));
  for (const auto& [key, value] : body.items()) {
    bool ok = (key == "name" && value.is_string()) || (key == "admin" && value.is_boolean()) ||
              (key == "auth_state" && (value.is_object() || value.is_null()));
    if (!ok) return answer(res, http::error_response(400, "Invalid key or value type for '" + key + "'"));
  }
  if (!requester_is_admin(who) && (u->admin || (body.contains("admin") && body["admin"].get<bool>())))
    return answer(res, http::error_response(403, "Only admins can modify admin users or grant admin permissions"));
  model::user_patch p;
  std::string final_name = name;
  if (body.contains("name")) {
    std::string new_name;
    if (auto e = normalized_or_error(ctx, body["name"].get<std::string>(), new_name)) return answer(res, std::move(*e));
    if (new_name != name) {
      if (ctx.model.find_user(new_name))
        return answer(res, http::error_response(400, "User " + new_name + " already exists, username must be unique"));
      if (!validate_username(ctx, new_name))
        return answer(res, http::error_response(400, "Invalid username: " + new_name));
      p.name = new_name;
      final_name = new_name;
    }
  }
  if (body.contains("admin")) p.admin = body["admin"].get<bool>();
  auto held = who.scopes;
  auto render = [&ctx, final_name, held]() {
    auto u2 = ctx.model.find_user(final_name);
    if (!u2) return http::error_response(404);
    user_render_options opts;
    opts.decrypt_auth_state = true;
    return http::json_response(200, render_user(ctx, *u2, held->scopes, opts));
  };
  bool set_state = body.contains("auth_state");
  std::optional<nlohmann::json> state;
  if (set_state && !body["auth_state"].is_null()) state = body["auth_state"];
  // The last mutation's completion answers: the writer commits in order.
  auto r = ctx.model.update_user(name, p, set_state ? model::completion{} : reply_when_durable(res, render));
  if (!r) return answer(res, model_error_response(r.err()));
  if (set_state) {
    auto s = ctx.model.set_auth_state(final_name, state, reply_when_durable(res, render));
    if (!s) answer(res, model_error_response(s.err()));
  }
}

void delete_user(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::delete_users}, resource_ref::user(name))) return answer(res, std::move(*e));
  auto u = ctx.model.find_user(name);
  if (!u) return answer(res, http::error_response(404));
  if (who.user && who.user->name == name) return answer(res, http::error_response(400, "Cannot delete yourself!"));
  for (const auto& s : ctx.model.servers_of(name)) {
    if (s->pending && *s->pending == "stop")
      return answer(res, http::error_response(400, "User " + name + "'s server is in the process of stopping, please wait."));
  }
  auto do_delete = [&ctx, name, res]() mutable {
    auto st = ctx.model.delete_user(name, reply_when_durable(res, http::empty_response(204)));
    if (!st) res(model_error_response(st.err()));
  };
  // Every active server (named ones too) is stopped first, so no process outlives its record.
  std::vector<std::string> active;
  for (const auto& s : ctx.model.servers_of(name))
    if (server_active(*s)) active.push_back(s->name);
  if (active.empty() || !ctx.spawn.stop) return do_delete();
  auto left = std::make_shared<std::atomic<std::size_t>>(active.size());
  auto failed = std::make_shared<std::atomic<bool>>(false);
  for (const auto& server : active) {
    ctx.spawn.stop(name, server, [do_delete, res, left, failed](http::response r) mutable {
      if (r.status >= 400 && !failed->exchange(true)) res(std::move(r));
      if (left->fetch_sub(1) == 1 && !failed->load()) do_delete();
    });
  }
}

void post_activity(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::users_activity}, resource_ref::user(name))) return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  auto u = ctx.model.find_user(name);
  if (!u) return answer(res, http::error_response(404, "No such user: " + name));
  if (!body.is_object() || (!body.contains("last_activity") && !body.contains("servers")))
    return answer(res, http::error_response(400, "body must contain at least one of `last_activity` or `servers`"));
  auto limit = model::now() + std::chrono::minutes(59);
  auto parse_ts = [&](const nlohmann::json& v, const std::string& what) -> std::variant<model::time_point, response> {
    if (!v.is_string()) return http::error_response(400, "last_activity must be a timestamp string, got " + v.dump());
    auto t = model::parse_iso8601(v.get<std::string>());
    if (!t) return http::error_response(400, "Invalid timestamp for " + what + ": " + v.get<std::string>());
    if (*t > limit) return http::error_response(400, "last_activity must not be in the future: " + v.get<std::string>());
    return *t;
  };
  std::optional<model::time_point> user_ts;
  std::vector<std::pair<std::string, model::time_point>> server_ts;
  if (body.contains("last_activity")) {
    auto r = parse_ts(body["last_activity"], "user");
    if (auto* e = std::get_if<response>(&r)) return answer(res, std::move(*e));
    user_ts = std::get<model::time_point>(r);
  }
  if (body.contains("servers")) {
    const auto& servers = body["servers"];
    if (!servers.is_object()) return answer(res, http::error_response(400, "servers must be a dict"));
    for (const auto& [sname, sv] : servers.items()) {
      if (!ctx.model.find_server(name, sname))
        return answer(res, http::error_response(400, "No such server '" + sname + "' for user " + name));
      if (!sv.is_object() || !sv.contains("last_activity"))
        return answer(res, http::error_response(400, "server " + sname + " must have last_activity"));
      auto r = parse_ts(sv["last_activity"], "server " + sname);
      if (auto* e = std::get_if<response>(&r)) return answer(res, std::move(*e));
      server_ts.emplace_back(sname, std::get<model::time_point>(r));
    }
  }
  // Only newer values are applied; each change gets its own completion and the last answers.
  auto pending = std::make_shared<std::atomic<int>>(1);
  auto failed = std::make_shared<std::atomic<bool>>(false);
  auto step = [pending, failed, res](const model::status& s) {
    if (!s) failed->store(true);
    if (pending->fetch_sub(1) == 1) {
      res(failed->load() ? http::error_response(500, "The change could not be saved") : http::empty_response(200));
    }
  };
  if (user_ts && (!u->last_activity || *user_ts > *u->last_activity)) {
    pending->fetch_add(1);
    if (!ctx.model.touch_user(name, *user_ts, step)) pending->fetch_sub(1);
  }
  for (const auto& [sname, ts] : server_ts) {
    auto s = ctx.model.find_server(name, sname);
    if (!s || (s->last_activity && ts <= *s->last_activity)) continue;
    model::server_patch p;
    p.last_activity = ts;
    pending->fetch_add(1);
    if (!ctx.model.update_server(name, sname, p, step)) pending->fetch_sub(1);
  }
  step(model::status{});
}

void post_admin_access(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::servers}, resource_ref::user(name))) return answer(res, std::move(*e));
  if (!ctx.hub_bool("admin_access", false)) return answer(res, http::error_response(403));
  if (!ctx.model.find_user(name)) return answer(res, http::error_response(404));
  spdlog::warn("api: /users/{{name}}/admin-access is deprecated and does nothing");
  answer(res, http::empty_response(200));
}

}  // namespace

void register_user_routes(http::router& router, api_context& ctx) {
  router.add("GET", "/hub/api/user", make_handler(ctx, get_self));
  router.add("GET", "/hub/api/users", make_handler(ctx, get_users));
  router.add("POST", "/hub/api/users", make_handler(ctx, post_users));
  router.add("GET", "/hub/api/users/{name}", make_handler(ctx, get_user));
  router.add("POST", "/hub/api/users/{name}", make_handler(ctx, post_user));
  router.add("PATCH", "/hub/api/users/{name}", make_handler(ctx, patch_user));
  router.add("DELETE", "/hub/api/users/{name}", make_handler(ctx, delete_user));
  router.add("POST", "/hub/api/users/{name}/activity", make_handler(ctx, post_activity));
  router.add("POST", "/hub/api/users/{name}/admin-access", make_handler(ctx, post_admin_access));
}

}  // namespace hubd::core::api
