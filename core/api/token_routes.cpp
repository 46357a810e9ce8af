// /users/{name}/tokens[/{id}].
#include "core/session/permissions.hpp"
#include "core/api/render.hpp"
#include "core/api/routes.hpp"
#include "core/api/support.hpp"
#include "core/model/timestamp.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <mutex>

namespace hubd::core::api {

namespace {

using rbac::builtin;
using rbac::resource_ref;

nlohmann::json token_json(api_context& ctx, const model::token& t, std::string_view owner) {
  auto resolved = ctx.permissions.token_scopes(t);
  return render_token(ctx, t, "user", owner, resolved ? &resolved->scopes : nullptr);
}

// "a17" → 17; nullopt for anything else.
std::optional<std::int64_t> parse_token_id(std::string_view id) {
  if (id.size() < 2 || id[0] != 'a') return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), v);
  if (ec != std::errc{} || p != id.data() + id.size() || v <= 0) return std::nullopt;
  return v;
}

model::token_ptr token_of_user(api_context& ctx, std::string_view user, std::string_view id) {
  auto n = parse_token_id(id);
  auto u = ctx.model.find_user(user);
  if (!n || !u) return nullptr;
  auto t = ctx.model.find_token_by_id(*n);
  if (!t || !t->user_id || *t->user_id != u->id) return nullptr;
  if (t->expires_at && *t->expires_at <= model::now()) return nullptr;
  return t;
}

void get_tokens(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::read_tokens}, resource_ref::user(name))) return answer(res, std::move(*e));
  if (!ctx.model.find_user(name)) return answer(res, http::error_response(404));
  auto now = model::now();
  std::vector<model::token_ptr> tokens;
  for (auto& t : ctx.model.tokens_of(model::holder_kind::user, name)) {
    if (t->expires_at && *t->expires_at <= now) {
      ctx.model.delete_token(t->id, {});
      continue;
    }
    tokens.push_back(t);
  }
  auto key = [](const model::token_ptr& t) { return t->last_activity.value_or(t->created); };
  std::stable_sort(tokens.begin(), tokens.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : tokens) list.push_back(token_json(ctx, *t, name));
  answer(res, http::json_response(200, {{"api_tokens", std::move(list)}}));
}

void get_token(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::read_tokens}, resource_ref::user(name))) return answer(res, std::move(*e));
  auto t = token_of_user(ctx, name, req->param("id"));
  if (!t) return answer(res, http::error_response(404));
  answer(res, http::json_response(200, token_json(ctx, *t, name)));
}

void delete_token(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  if (auto e = guard(ctx, who, {builtin::tokens}, resource_ref::user(name))) return answer(res, std::move(*e));
  auto t = token_of_user(ctx, name, req->param("id"));
  if (!t) return answer(res, http::error_response(404));
  auto done = reply_when_durable(res, http::empty_response(204));
  // Deleting an OAuth token revokes the client's access: every token from that client goes.
  auto st = t->client_id.empty() || t->client_id == "jupyterhub"
                ? ctx.model.delete_token(t->id, std::move(done))
                : ctx.model.delete_tokens_of_client(name, t->client_id, std::move(done));
  if (!st) answer(res, model_error_response(st.err()));
}

// The token creation checks after the requester is known.
void create_token(api_context& ctx, const std::string& name, const nlohmann::json& body, const std::string& requester,
                  bool requester_is_service, resolved_ptr held, http::responder res) {
  auto u = ctx.model.find_user(name);
  if (!u || !held ||
      !rbac::has_scope(held->scopes, rbac::id(builtin::tokens), resource_ref::user(name),
                       &ctx.permissions.membership()))
    return answer(res, http::error_response(403, "User " + name + " not found or no permissions to generate tokens"));
  nlohmann::json roles = body.value("roles", nlohmann::json(nullptr));
  nlohmann::json scopes = body.value("scopes", nlohmann::json(nullptr));
  if (!roles.is_null() && !is_string_list(roles))
    return answer(res, http::error_response(400, "roles must be null or a list of strings"));
  if (!scopes.is_null() && !is_string_list(scopes))
    return answer(res, http::error_response(400, "scopes must be null or a list of strings"));
  if (!roles.is_null() && !scopes.is_null())
    return answer(res, http::error_response(400, "Can only assign one of scopes or roles"));
  nlohmann::json expires_in = body.value("expires_in", nlohmann::json(nullptr));
  if (!expires_in.is_null() && !expires_in.is_number_integer())
    return answer(res, http::error_response(400, "expires_in must be null or an integer, got " + expires_in.dump()));
  std::int64_t max_seconds = ctx.hub_int("token_expires_in_max_seconds", 0);
  std::int64_t expires = expires_in.is_null() ? 0 : expires_in.get<std::int64_t>();
  if (expires < 0) return answer(res, http::error_response(400, "expires_in must not be negative"));
  if (max_seconds > 0) {
    if (expires_in.is_null() || expires == 0) expires = max_seconds;
    if (expires > max_seconds)
      return answer(res, http::error_response(400, "expires_in: " + std::to_string(expires) + " must not exceed " +
                                                      std::to_string(max_seconds)));
  }
  nlohmann::json note = body.value("note", nlohmann::json(nullptr));
  if (!note.is_null() && !note.is_string()) return answer(res, http::error_response(400, "note must be a string"));

  std::vector<std::string> requested;
  if (!scopes.is_null()) {
    requested = string_list(scopes);
  } else if (!roles.is_null()) {
    for (const auto& r : string_list(roles)) {
      auto role = ctx.model.find_role(r);
      if (!role) return answer(res, http::error_response(400, "Role '" + r + "' does not exist"));
      requested.insert(requested.end(), role->scopes.begin(), role->scopes.end());
    }
  } else if (auto token_role = ctx.model.find_role("token")) {
    requested = token_role->scopes;  // copied now: later changes to the role do not follow
  } else {
    requested = {"inherit"};
  }
  auto owner_set = ctx.permissions.user_scopes(name);
  if (!owner_set) return answer(res, http::error_response(404));
  try {
    if (auto err = rbac::check_token_scopes(ctx.scopes, requested, rbac::principal_ref::user(name),
                                            rbac::oauth_client_ref::hub(), owner_set->scopes,
                                            &ctx.permissions.membership()))
      return answer(res, http::error_response(400, *err));
  } catch (const rbac::scope_not_found& e) {
    return answer(res, http::error_response(400, e.what()));
  }
  model::new_token nt;
  nt.owner_kind = model::holder_kind::user;
  nt.owner = name;
  nt.scopes = requested;
  if (expires > 0) nt.expires_at = model::now() + std::chrono::seconds(expires);
  if (note.is_string()) {
    nt.note = note.get<std::string>();
  } else {
    nt.note = "Requested via api";
    if (requester_is_service) {
      nt.note += " by service " + requester;
    } else if (requester != name) {
      nt.note += " by user " + requester;
    }
  }
  // The commit may complete on the writer thread before create_token returns here: whichever of
  // the two comes second answers.
  struct pending_reply {
    std::mutex mutex;
    std::optional<model::created_token> created;
    std::optional<model::status> committed;
  };
  auto state = std::make_shared<pending_reply>();
  auto reply = [&ctx, name, res](pending_reply& st) mutable {
    if (!*st.committed) return answer(res, http::error_response(500, "The token could not be saved"));
    auto m = token_json(ctx, *st.created->token, name);
    m["token"] = st.created->secret;
    answer(res, http::json_response(201, m));
  };
  auto r = ctx.model.create_token(nt, [state, reply](const model::status& s) mutable {
    std::lock_guard lock(state->mutex);
    state->committed = s;
    if (state->created) reply(*state);
  });
  if (!r) return answer(res, model_error_response(r.err()));
  std::lock_guard lock(state->mutex);
  state->created = std::move(r.value());
  if (state->committed) reply(*state);
}

void post_token(api_context& ctx, const http::request_ptr& req, const principal& who, http::responder res) {
  std::string name(req->param("name"));
  nlohmann::json body;
  if (auto e = parse_json_body(*req, body)) return answer(res, std::move(*e));
  if (body.is_null()) body = nlohmann::json::object();
  if (!body.is_object()) return answer(res, http::error_response(400, "Request body must be a JSON object"));
  if (who.authenticated()) {
    return create_token(ctx, name, body, who.name, who.kind == principal::kind_t::service, who.scopes, res);
  }
  if (who.xsrf_error) return answer(res, http::error_response(403, *who.xsrf_error));
  auto auth = body.find("auth");
  if (auth == body.end() || !ctx.authenticator.authenticate)
    return answer(res, http::error_response(403, "Missing or invalid credentials."));
  nlohmann::json auth_data = *auth;
  body.erase("auth");
  // The login page's throttle counts these attempts too: the API is no way around it.
  std::string attempted = auth_data.is_object() && auth_data.value("username", nlohmann::json()).is_string()
                              ? auth_data["username"].get<std::string>()
                              : std::string();
  auto address = session::login_address(*req);
  auto& throttle = ctx.sessions.throttle();
  if (auto wait = throttle.retry_after(attempted, address); wait.count() > 0) {
    auto r = http::error_response(429, session::throttled_message(wait));
    r.add_header("Retry-After", std::to_string(wait.count()));
    return answer(res, std::move(r));
  }
  ctx.authenticator.authenticate(auth_data, [&ctx, &throttle, name, body, res, attempted, address](std::optional<std::string> user) mutable {
    if (!user) {
      throttle.failed(attempted, address);
      return answer(res, http::error_response(403));
    }
    throttle.succeeded(attempted, address);
    create_token(ctx, name, body, *user, false, ctx.permissions.user_scopes(*user), res);
  });
}

}  // namespace

void register_token_routes(http::router& router, api_context& ctx) {
  router.add("GET", "/hub/api/users/{name}/tokens", make_handler(ctx, get_tokens));
  router.add("POST", "/hub/api/users/{name}/tokens", make_handler(ctx, post_token));
  router.add("GET", "/hub/api/users/{name}/tokens/{id}", make_handler(ctx, get_token));
  router.add("DELETE", "/hub/api/users/{name}/tokens/{id}", make_handler(ctx, delete_token));
}

}  // namespace hubd::core::api
