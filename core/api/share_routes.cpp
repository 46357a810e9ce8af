// Server sharing: /shares, /share-codes, /users/{u}/shared and
// /groups/{g}/shared. Share lists always answer with the pagination envelope.
#include "core/api/render.hpp"
#include "core/api/routes.hpp"
#include "core/api/support.hpp"
#include "core/http/url_codec.hpp"
#include "core/model/timestamp.hpp"

#include <algorithm>
#include <set>

namespace hubd::core::api {

namespace {

using model::holder_kind;
using rbac::builtin;
using rbac::resource_ref;

nlohmann::json shared_server(const api_context& ctx, const model::server& s) {
  auto owner = ctx.model.find_user(s.user_id);
  std::string name = owner ? owner->name : std::string();
  const auto& public_url = ctx.config.value("/JupyterHub/public_url"_json_pointer, std::string());
  std::string url = server_url(ctx, name, s.name);
  nlohmann::json full = nullptr;
  if (!public_url.empty()) {
    std::string base = public_url;
    if (!base.empty() && base.back() == '/') base.pop_back();
    full = base + url;
  }
  return {{"user", {{"name", name}}}, {"name", s.name}, {"url", url}, {"full_url", full}, {"ready", server_ready(s)}};
}

nlohmann::json render_share(const api_context& ctx, const model::share& sh) {
  auto sv = ctx.model.find_server(sh.server_id);
  nlohmann::json m = {{"server", sv ? shared_server(ctx, *sv) : nlohmann::json(nullptr)},
                      {"scopes", sh.scopes},
                      {"user", nullptr},
                      {"group", nullptr},
                      {"created_at", model::format_iso8601(sh.created)}};
  if (sh.user_id) {
    auto u = ctx.model.find_user(*sh.user_id);
    m["user"] = {{"name", u ? u->name : std::string()}};
    m["kind"] = "user";
  } else if (sh.group_id) {
    auto g = ctx.model.find_group(*sh.group_id);
    m["group"] = {{"name", g ? g->name : std::string()}};
    m["kind"] = "group";
  }
  return m;
}

nlohmann::json render_code(const api_context& ctx, const model::share_code& c) {
  auto sv = ctx.model.find_server(c.server_id);
  return {{"server", sv ? shared_server(ctx, *sv) : nlohmann::json(nullptr)},
          {"scopes", c.scopes},
          {"id", "sc_" + std::to_string(c.id)},
          {"created_at", model::format_iso8601(c.created)},
          {"expires_at", model::format_iso8601(c.expires_at)},
          {"exchange_count", c.exchange_count},
          {"last_exchanged_at", iso_or_null(c.last_exchanged_at)}};
}

template <class Rows, class Render>
response envelope(api_context& ctx, const http::request& req, const Rows& rows, Render render) {
  page pg;
  if (auto e = parse_page(ctx, req, pg, true)) return std::move(*e);
  nlohmann::json items = nlohmann::json::array();
  for (std::size_t i = pg.offset; i < rows.size() && items.size() < pg.limit; ++i) items.push_back(render(*rows[i]));
  return page_response(req, pg, std::move(items), rows.size());
}

// The default server of an existing user always exists, as a JupyterHub spawner does; a named one
// only once it was created.
bool server_exists(const api_context& ctx, const std::string& owner, const std::string& server) {
  if (!ctx.model.find_user(owner)) return false;
  return server.empty() || ctx.model.find_server(owner, server) != nullptr;
}

// The guard of every /shares/{o}/{s} and /share-codes/{o}/{s} route: the scope on that server, then
// the server itself.
std::optional<response> guard_server(const api_context& ctx, const principal& who, builtin scope,
                                     const std::string& owner, const std::string& server) {
  if (auto e = guard(ctx, who, {scope}, resource_ref::server(owner, server))) return e;
  if (!server_exists(ctx, owner, server)) return http::error_response(404, "No such server");
  return std::nullopt;
}

// The default server may have no row yet: shares and codes hang on the row, so make it first.
std::optional<response> ensure_server_row(api_context& ctx, const std::string& owner, const std::string& server) {
  if (ctx.model.find_server(owner, server)) return std::nullopt;
  auto r = ctx.model.update_server(owner, server, model::server_patch{}, model::completion{});
  if (!r) return model_error_response(r.err());
  return std::nullopt;
}

// Each granted scope must be held by the granter on that server (no escalation through sharing).
std::optional<response> refuse_ungranted(const api_context& ctx, const principal& who,
                                         const std::vector<std::string>& scopes, const std::string& owner,
                                         const std::string& server) {
  for (const auto& raw : scopes) {
    auto granted = rbac::expand_share_scopes(ctx.scopes, std::span<const std::string>(&raw, 1), owner, server);
    if (!rbac::not_covered(ctx.scopes, granted, who.held(), &ctx.permissions.membership()).empty())
      return http::error_response(403, "Do not have permission to grant share with scope " + raw);
  }
  return std::nullopt;
}

std::optional<response> share_scopes(const api_context& ctx, const nlohmann::json& body, const std::string& owner,
                                     const std::string& server, std::vector<std::string>& out, bool default_access) {
  std::vector<std::string> raw;
  if (body.contains("scopes")) {
    if (!is_string_list(body["scopes"])) return http::error_response(400, "scopes must be a list of strings");
    raw = string_list(body["scopes"]);
  } else if (default_access) {
    raw = {"access:servers"};
  }
  try {
    out = rbac::normalize_share_scopes(ctx.scopes, raw, owner, server);
  } catch (const std::exception& e) {
    return http::error_response(400, e.what());
  }
  return std::nullopt;
}

// {"user": name} or {"group": name}, exactly one, plus "scopes".
std::optional<response> share_target(api_context& ctx, const principal& who, const nlohmann::json& body,
                                     model::holder_ref& target, bool check_visibility) {
  if (!body.is_object()) return http::error_response(400, "Request body must be a JSON object");
  for (const auto& [key, _] : body.items())
    if (key != "user" && key != "group" && key != "scopes")
      return http::error_response(400, "Unexpected key '" + key + "' (expected user or group, and scopes)");
  const bool has_user = body.contains("user"), has_group = body.contains("group");
  if (has_user == has_group) return http::error_response(400, "Specify exactly one of 'user' or 'group'");
  const auto& v = has_user ? body["user"] : body["group"];
  if (!v.is_string()) return http::error_response(400, "The share target must be a name");
  target = {has_user ? holder_kind::user : holder_kind::group, v.get<std::string>()};
  if (check_visibility) {
    auto scope = has_user ? builtin::read_users_name : builtin::read_groups_name;
    auto ref = has_user ? resource_ref::user(target.name) : resource_ref::group(target.name);
    if (!holds(ctx, who, scope, ref))
      return http::error_response(403, std::string("Need scope '") + (has_user ? "read:users:name" : "read:groups:name") +
                                           "' for " + (has_user ? "user " : "group ") + target.name);
    bool exists = has_user ? ctx.model.find_user(target.name) != nullptr : ctx.model.find_group(target.name) != nullptr;
    if (!exists) return http::error_response(400, std::string("No such ") + (has_user ? "user: " : "group: ") + target.name);
  }
  return std::nullopt;
}

model::share_ptr find_share(const api_context& ctx, const std::string& owner, const std::string& server,
                            const model::holder_ref& with) {
  std::int64_t id = 0;
  if (with.kind == holder_kind::user) {
    if (auto u = ctx.model.find_user(with.name)) id = u->id;
  } else if (auto g = ctx.model.find_group(with.name)) {
    id = g->id;
  }
  if (!id) return nullptr;
  for (const auto& sh : ctx.model.shares_of_server(owner, server))
    if ((with.kind == holder_kind::user ? sh->user_id : sh->group_id) == id) return sh;
  return nullptr;
}

// ---- /shares ----

void get_owner_shares(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string owner(req->param("owner"));
  if (auto e = guard(ctx, who, {builtin::read_shares}, resource_ref::user(owner))) return answer(res, std::move(*e));
  if (!ctx.model.find_user(owner)) return answer(res, http::error_response(404, "No such user: " + owner));
  answer(res, envelope(ctx, *req, ctx.model.shares_of_owner(owner), [&](const auto& s) { return render_share(ctx, s); }));
}

void get_server_shares(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string owner(req->param("owner")), server(req->param("server"));
  if (auto e = guard_server(ctx, who, builtin::read_shares, owner, server)) return answer(res, std::move(*e));
  answer(res, envelope(ctx, *req, ctx.model.shares_of_server(owner, server),
                       [&](const auto& s) { return render_share(ctx, s); }));
}

void post_server_share(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string owner(req->param("owner")), server(req->param("server"));
  if (auto e = guard_server(ctx, who, builtin::shares, owner, server)) return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  model::holder_ref target;
  if (auto e = share_target(ctx, who, body, target, true)) return answer(res, std::move(*e));
  std::vector<std::string> scopes;
  if (auto e = share_scopes(ctx, body, owner, server, scopes, true)) return answer(res, std::move(*e));
  if (auto e = refuse_ungranted(ctx, who, scopes, owner, server)) return answer(res, std::move(*e));
  if (auto e = ensure_server_row(ctx, owner, server)) return answer(res, std::move(*e));
  auto r = ctx.model.grant_share(owner, server, target, scopes, reply_when_durable(res, [&ctx, owner, server, target]() {
                                   auto sh = find_share(ctx, owner, server, target);
                                   return sh ? http::json_response(200, render_share(ctx, *sh))
                                             : http::error_response(404);
                                 }));
  if (!r) answer(res, model_error_response(r.err()));
}

void patch_server_share(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string owner(req->param("owner")), server(req->param("server"));
  if (auto e = guard_server(ctx, who, builtin::shares, owner, server)) return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  model::holder_ref target;
  if (auto e = share_target(ctx, who, body, target, false)) return answer(res, std::move(*e));
  std::vector<std::string> scopes;  // empty: revoke everything
  if (auto e = share_scopes(ctx, body, owner, server, scopes, false)) return answer(res, std::move(*e));
  if (!find_share(ctx, owner, server, target)) return answer(res, http::json_response(200, nlohmann::json::object()));
  auto st = ctx.model.revoke_share(owner, server, target, scopes, reply_when_durable(res, [&ctx, owner, server, target]() {
                                     auto sh = find_share(ctx, owner, server, target);
                                     return http::json_response(200, sh ? render_share(ctx, *sh) : nlohmann::json::object());
                                   }));
  if (!st) answer(res, model_error_response(st.err()));
}

void delete_server_shares(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string owner(req->param("owner")), server(req->param("server"));
  if (auto e = guard_server(ctx, who, builtin::shares, owner, server)) return answer(res, std::move(*e));
  auto shares = ctx.model.shares_of_server(owner, server);
  if (shares.empty()) return answer(res, http::empty_response(204));
  for (std::size_t i = 0; i < shares.size(); ++i) {
    model::holder_ref with;
    if (shares[i]->user_id) {
      auto u = ctx.model.find_user(*shares[i]->user_id);
      with = {holder_kind::user, u ? u->name : std::string()};
    } else {
      auto g = ctx.model.find_group(*shares[i]->group_id);
      with = {holder_kind::group, g ? g->name : std::string()};
    }
    auto done = i + 1 == shares.size() ? reply_when_durable(res, http::empty_response(204)) : model::completion{};
    auto st = ctx.model.revoke_share(owner, server, with, {}, done);
    if (!st) return answer(res, model_error_response(st.err()));
  }
}

void method_not_allowed(api_context&, const http::request_ptr&, const principal&, http::responder res) {
  answer(res, http::error_response(405));
}

// ---- /users/{u}/shared and /groups/{g}/shared ----

template <holder_kind K>
void get_shared_with(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  constexpr bool user = K == holder_kind::user;
  auto ref = user ? resource_ref::user(name) : resource_ref::group(name);
  if (auto e = guard(ctx, who, {user ? builtin::read_users_shares : builtin::read_groups_shares}, ref))
    return answer(res, std::move(*e));
  bool exists = user ? ctx.model.find_user(name) != nullptr : ctx.model.find_group(name) != nullptr;
  if (!exists) return answer(res, http::error_response(404));
  auto rows = user ? ctx.model.shares_reaching_user(name) : ctx.model.shares_with(K, name);
  answer(res, envelope(ctx, *req, rows, [&](const auto& s) { return render_share(ctx, s); }));
}

template <holder_kind K>
void get_shared_server(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name")), owner(req->param("owner")), server(req->param("server"));
  constexpr bool user = K == holder_kind::user;
  auto ref = user ? resource_ref::user(name) : resource_ref::group(name);
  if (auto e = guard(ctx, who, {user ? builtin::read_users_shares : builtin::read_groups_shares}, ref))
    return answer(res, std::move(*e));
  auto sh = find_share(ctx, owner, server, {K, name});
  if (!sh) return answer(res, http::error_response(404));
  answer(res, http::json_response(200, render_share(ctx, *sh)));
}

template <holder_kind K>
void delete_shared_server(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name")), owner(req->param("owner")), server(req->param("server"));
  constexpr bool user = K == holder_kind::user;
  auto ref = user ? resource_ref::user(name) : resource_ref::group(name);
  if (auto e = guard(ctx, who, {user ? builtin::users_shares : builtin::groups_shares}, ref))
    return answer(res, std::move(*e));
  if (!find_share(ctx, owner, server, {K, name})) return answer(res, http::error_response(404));
  auto st = ctx.model.revoke_share(owner, server, {K, name}, {}, reply_when_durable(res, http::empty_response(204)));
  if (!st) answer(res, model_error_response(st.err()));
}

// ---- /share-codes ----

void get_owner_codes(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string owner(req->param("owner"));
  if (auto e = guard(ctx, who, {builtin::read_shares}, resource_ref::user(owner))) return answer(res, std::move(*e));
  if (!ctx.model.find_user(owner)) return answer(res, http::error_response(404, "No such user: " + owner));
  std::vector<model::share_code_ptr> codes;
  for (const auto& s : ctx.model.servers_of(owner))
    for (auto& c : ctx.model.share_codes_of_server(owner, s->name)) codes.push_back(std::move(c));
  answer(res, envelope(ctx, *req, codes, [&](const auto& c) { return render_code(ctx, c); }));
}

void get_server_codes(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string owner(req->param("owner")), server(req->param("server"));
  if (auto e = guard_server(ctx, who, builtin::read_shares, owner, server)) return answer(res, std::move(*e));
  answer(res, envelope(ctx, *req, ctx.model.share_codes_of_server(owner, server),
                       [&](const auto& c) { return render_code(ctx, c); }));
}

void post_server_code(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string owner(req->param("owner")), server(req->param("server"));
  if (auto e = guard_server(ctx, who, builtin::shares, owner, server)) return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  if (body.is_null()) body = nlohmann::json::object();
  if (!body.is_object()) return answer(res, http::error_response(400, "Request body must be a JSON object"));
  for (const auto& [key, _] : body.items())
    if (key != "scopes" && key != "expires_in")
      return answer(res, http::error_response(400, "Unexpected key '" + key + "' (expected scopes, expires_in)"));
  std::int64_t expires_in = 86400;
  if (body.contains("expires_in")) {
    if (!body["expires_in"].is_number_integer()) return answer(res, http::error_response(400, "expires_in must be an integer"));
    expires_in = body["expires_in"].get<std::int64_t>();
    if (expires_in < 60 || expires_in > 31536000)
      return answer(res, http::error_response(400, "expires_in must be between 60 seconds and 365 days"));
  }
  std::vector<std::string> scopes;
  if (auto e = share_scopes(ctx, body, owner, server, scopes, true)) return answer(res, std::move(*e));
  if (auto e = refuse_ungranted(ctx, who, scopes, owner, server)) return answer(res, std::move(*e));
  if (auto e = ensure_server_row(ctx, owner, server)) return answer(res, std::move(*e));
  // The secret is known only from create's return value, which may come after the commit: whichever
  // of the two comes second answers.
  struct pending {
    std::mutex mutex;
    std::optional<model::created_secret> created;
    std::optional<model::status> committed;
  };
  auto state = std::make_shared<pending>();
  std::string hub_prefix = ctx.base_url + "hub/";
  std::string public_url = ctx.config.value("/JupyterHub/public_url"_json_pointer, std::string());
  auto reply = [&ctx, res, owner, server, hub_prefix, public_url](pending& st) mutable {
    if (!*st.committed) return void(res(http::error_response(500, "The change could not be saved")));
    nlohmann::json m = nlohmann::json::object();
    for (const auto& c : ctx.model.share_codes_of_server(owner, server))
      if (c->id == st.created->id) m = render_code(ctx, *c);
    m["code"] = st.created->secret;
    std::string accept = hub_prefix + "accept-share?code=" + http::percent_encode(st.created->secret);
    m["accept_url"] = accept;
    std::string base = public_url;
    if (!base.empty() && base.back() == '/') base.pop_back();
    m["full_accept_url"] = public_url.empty() ? nlohmann::json(nullptr) : nlohmann::json(base + accept);
    res(http::json_response(200, m));
  };
  auto r = ctx.model.create_share_code(owner, server, scopes, std::chrono::seconds(expires_in),
                                       [state, reply](const model::status& s) mutable {
                                         std::lock_guard lock(state->mutex);
                                         state->committed = s;
                                         if (state->created) reply(*state);
                                       });
  if (!r) return answer(res, model_error_response(r.err()));
  std::lock_guard lock(state->mutex);
  state->created = r.value();
  if (state->committed) reply(*state);
}

void delete_server_codes(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string owner(req->param("owner")), server(req->param("server"));
  if (auto e = guard_server(ctx, who, builtin::shares, owner, server)) return answer(res, std::move(*e));
  auto codes = ctx.model.share_codes_of_server(owner, server);
  std::vector<std::int64_t> ids;
  if (auto code = req->query_arg("code")) {
    auto found = ctx.model.find_share_code(*code, model::now());
    if (!found || std::none_of(codes.begin(), codes.end(), [&](const auto& c) { return c->id == found->id; }))
      return answer(res, http::error_response(404, "No matching code found"));
    ids.push_back(found->id);
  } else if (auto id = req->query_arg("id")) {
    std::string text(*id);
    auto it = std::find_if(codes.begin(), codes.end(), [&](const auto& c) { return "sc_" + std::to_string(c->id) == text; });
    if (it == codes.end()) return answer(res, http::error_response(404, "No code found matching id=" + text));
    ids.push_back((*it)->id);
  } else {
    for (const auto& c : codes) ids.push_back(c->id);
  }
  if (ids.empty()) return answer(res, http::empty_response(204));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto done = i + 1 == ids.size() ? reply_when_durable(res, http::empty_response(204)) : model::completion{};
    auto st = ctx.model.revoke_share_code(ids[i], done);
    if (!st) return answer(res, model_error_response(st.err()));
  }
}

}  // namespace

void register_share_routes(http::router& router, api_context& ctx) {
  router.add("GET", "/hub/api/shares/{owner}", make_handler(ctx, get_owner_shares));
  for (const char* m : {"POST", "PATCH", "DELETE"}) router.add(m, "/hub/api/shares/{owner}", make_handler(ctx, method_not_allowed));
  router.add("GET", "/hub/api/shares/{owner}/{server}", make_handler(ctx, get_server_shares));
  router.add("POST", "/hub/api/shares/{owner}/{server}", make_handler(ctx, post_server_share));
  router.add("PATCH", "/hub/api/shares/{owner}/{server}", make_handler(ctx, patch_server_share));
  router.add("DELETE", "/hub/api/shares/{owner}/{server}", make_handler(ctx, delete_server_shares));

  router.add("GET", "/hub/api/users/{name}/shared", make_handler(ctx, get_shared_with<holder_kind::user>));
  router.add("GET", "/hub/api/users/{name}/shared/{owner}/{server}", make_handler(ctx, get_shared_server<holder_kind::user>));
  router.add("DELETE", "/hub/api/users/{name}/shared/{owner}/{server}",
             make_handler(ctx, delete_shared_server<holder_kind::user>));
  router.add("GET", "/hub/api/groups/{name}/shared", make_handler(ctx, get_shared_with<holder_kind::group>));
  router.add("GET", "/hub/api/groups/{name}/shared/{owner}/{server}",
             make_handler(ctx, get_shared_server<holder_kind::group>));
  router.add("DELETE", "/hub/api/groups/{name}/shared/{owner}/{server}",
             make_handler(ctx, delete_shared_server<holder_kind::group>));

  router.add("GET", "/hub/api/share-codes/{owner}", make_handler(ctx, get_owner_codes));
  for (const char* m : {"POST", "DELETE"}) router.add(m, "/hub/api/share-codes/{owner}", make_handler(ctx, method_not_allowed));
  router.add("GET", "/hub/api/share-codes/{owner}/{server}", make_handler(ctx, get_server_codes));
  router.add("POST", "/hub/api/share-codes/{owner}/{server}", make_handler(ctx, post_server_code));
  router.add("DELETE", "/hub/api/share-codes/{owner}/{server}", make_handler(ctx, delete_server_codes));
}

}  // namespace hubd::core::api
