// /services and /services/{name}.
#include "core/api/render.hpp"
#include "core/api/routes.hpp"
#include "core/api/support.hpp"

#include <set>

namespace hubd::core::api {

namespace {

using rbac::builtin;
using rbac::resource_ref;

void get_services(api_context& ctx, const http::request_ptr&, const principal& who, http::responder res) {
  if (auto e = require_auth(who)) return answer(res, std::move(*e));
  const auto& held = who.held();
  auto list_id = rbac::id(builtin::list_services);
  if (!held.has_any(list_id)) {
    rbac::scope_id ids[] = {list_id};
    return answer(res, http::error_response(403, rbac::denied_message(ctx.scopes, rbac::access_result::forbidden, ids)));
  }
  // An object keyed by name, never paginated (as JupyterHub answers; its own OpenAPI file wrongly says an array).
  nlohmann::json out = nlohmann::json::object();
  const auto* membership = &ctx.permissions.membership();
  for (const auto& s : ctx.model.list_services())
    if (rbac::has_scope(held, list_id, resource_ref::service(s->name), membership))
      out[s->name] = render_service(ctx, *s, held);
  answer(res, http::json_response(200, out));
}

void get_service(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::read_services, builtin::read_services_name, builtin::read_roles_services},
                     resource_ref::service(name)))
    return answer(res, std::move(*e));
  auto s = ctx.model.find_service(name);
  if (!s) return answer(res, http::error_response(404, "No such service: " + name));
  answer(res, http::json_response(200, render_service(ctx, *s, who.held())));
}

bool requester_is_admin(const principal& who) {
  if (who.user) return who.user->admin;
  if (who.service) return who.service->admin;
  return false;
}

// The body of POST /services/{name}: every key checked for its type before anything is created.
std::optional<response> parse_service(const api_context& ctx, const std::string& name, const nlohmann::json& body,
                                      model::service& row, std::optional<std::string>& token) {
  using kind = nlohmann::json::value_t;
  static const std::map<std::string, std::set<kind>> types = {
      {"admin", {kind::boolean}},
      {"url", {kind::string}},
      {"oauth_client_allowed_scopes", {kind::array}},
      {"api_token", {kind::string}},
      {"info", {kind::object}},
      {"display", {kind::boolean}},
      {"oauth_no_confirm", {kind::boolean}},
      {"command", {kind::array, kind::string}},
      {"cwd", {kind::string}},
      {"environment", {kind::object}},
      {"user", {kind::string}},
      {"oauth_client_id", {kind::string}},
      {"oauth_redirect_uri", {kind::string}},
      {"name", {kind::string}},
  };
  for (const auto& [key, value] : body.items()) {
    auto it = types.find(key);
    if (it == types.end()) return http::error_response(400, "Invalid service key: " + key);
    if (!it->second.count(value.type())) return http::error_response(400, "Invalid type for service key " + key);
  }
  if (body.contains("command"))
    return http::error_response(400, "Managed services (with a command) cannot be created at run time");
  if (body.contains("name") && body["name"] != name)
    return http::error_response(400, "The name in the body does not match the path");
  row.name = name;
  row.admin = body.value("admin", false);
  if (body.contains("url")) row.url = body["url"].get<std::string>();
  row.info = body.value("info", nlohmann::json::object()).dump();
  row.display = body.value("display", true);
  row.oauth_no_confirm = body.value("oauth_no_confirm", false);
  if (body.contains("oauth_client_id")) {
    row.oauth_client_id = body["oauth_client_id"].get<std::string>();
    if (row.oauth_client_id->rfind("service-", 0) != 0)
      return http::error_response(400, "oauth_client_id must start with 'service-'");
  }
  if (body.contains("oauth_redirect_uri")) row.oauth_redirect_uri = body["oauth_redirect_uri"].get<std::string>();
  if (body.contains("oauth_client_allowed_scopes")) {
    if (!is_string_list(body["oauth_client_allowed_scopes"]))
      return http::error_response(400, "oauth_client_allowed_scopes must be a list of scopes");
    row.oauth_allowed_scopes = string_list(body["oauth_client_allowed_scopes"]);
    for (const auto& scope : row.oauth_allowed_scopes)
      if (!ctx.scopes.find(scope.substr(0, scope.find('!'))))
        return http::error_response(400, "Unknown scope in oauth_client_allowed_scopes: " + scope);
  }
  if (body.contains("api_token")) {
    token = body["api_token"].get<std::string>();
    if (token->size() < 8) return http::error_response(400, "api_token must be at least 8 characters");
    if (ctx.model.find_token(*token)) return http::error_response(400, "api_token is already in use");
  }
  row.from_config = false;
  return std::nullopt;
}

void post_service(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::admin_services}, resource_ref::service(name)))
    return answer(res, std::move(*e));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  if (body.is_null()) body = nlohmann::json::object();
  if (!body.is_object()) return answer(res, http::error_response(400, "Request body must be a JSON object"));
  if (ctx.model.find_service(name)) return answer(res, http::error_response(409, "Service " + name + " already exists"));
  model::service row;
  std::optional<std::string> token;
  if (auto e = parse_service(ctx, name, body, row, token)) return answer(res, std::move(*e));
  if (row.admin && !requester_is_admin(who))
    return answer(res, http::error_response(400, "Not allowed to create an admin service without being an admin"));
  // Allowed OAuth scopes beyond the requester's own would let the service's clients escalate.
  try {
    auto allowed = rbac::expand(ctx.scopes, row.oauth_allowed_scopes, rbac::principal_ref::service(name)).scopes;
    auto missing = rbac::not_covered(ctx.scopes, allowed, who.held(), &ctx.permissions.membership());
    if (!missing.empty())
      return answer(res, http::error_response(400, "Not allowed to grant oauth_client_allowed_scopes " + missing.front() +
                                                       ", which the requester does not hold"));
  } catch (const std::exception& e) {
    return answer(res, http::error_response(400, e.what()));
  }
  auto render = [&ctx, name, held = who.scopes]() {
    auto s = ctx.model.find_service(name);
    if (!s) return http::error_response(404);
    return http::json_response(201, render_service(ctx, *s, held->scopes));
  };
  auto put = ctx.model.put_service(row, token || row.admin ? model::completion{} : reply_when_durable(res, render));
  if (!put) return answer(res, model_error_response(put.err()));
  if (row.admin) {
    auto st = ctx.model.assign_role("admin", model::holder_ref{model::holder_kind::service, name}, change_source(who),
                                    token ? model::completion{} : reply_when_durable(res, render));
    if (!st) return answer(res, model_error_response(st.err()));
  }
  if (token) {
    model::new_token nt(model::holder_kind::service, name, {"inherit"});
    nt.note = "from API";
    nt.secret = *token;
    auto t = ctx.model.create_token(nt, reply_when_durable(res, render));
    if (!t) answer(res, model_error_response(t.err()));
  }
}

void delete_service(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::admin_services}, resource_ref::service(name)))
    return answer(res, std::move(*e));
  auto s = ctx.model.find_service(name);
  if (!s) return answer(res, http::error_response(404, "No such service: " + name));
  if (s->from_config)
    return answer(res, http::error_response(405, "Service " + name + " is defined in the config and cannot be deleted"));
  auto st = ctx.model.delete_service(name, reply_when_durable(res, http::empty_response(200)));
  if (!st) answer(res, model_error_response(st.err()));
}

}  // namespace

void register_service_routes(http::router& router, api_context& ctx) {
  router.add("GET", "/hub/api/services", make_handler(ctx, get_services));
  router.add("GET", "/hub/api/services/{name}", make_handler(ctx, get_service));
  router.add("POST", "/hub/api/services/{name}", make_handler(ctx, post_service));
  router.add("DELETE", "/hub/api/services/{name}", make_handler(ctx, delete_service));
}

}  // namespace hubd::core::api
