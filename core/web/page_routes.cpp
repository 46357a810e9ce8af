#include "core/web/page_routes.hpp"

#include "core/http/cookies.hpp"
#include "core/http/form.hpp"
#include "core/http/url_codec.hpp"
#include "core/http/xsrf.hpp"
#include "core/model/plugin_views.hpp"
#include "core/model/timestamp.hpp"
#include "core/rbac/access.hpp"
#include "core/web/login_pipeline.hpp"
#include "core/web/page_support.hpp"
#include "core/web/static_files.hpp"

#include <spdlog/spdlog.h>

#include <memory>

namespace hubd::core::web {
namespace {

using http::request_ptr;
using http::responder;

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string form_value(const http::query_map& form, std::string_view key) {
  auto it = form.find(key);
  return it == form.end() ? std::string() : it->second;
}

std::string server_state(const model::server& s) {
  if (s.pending) return "pending";
  return s.started ? "running" : "stopped";
}

// ---- login / logout ------------------------------------------------------------------------

constexpr std::string_view login_expired_notice = "Your login has expired. Please log in again.";


nlohmann::json login_data(const web_context& ctx, std::string_view next, std::string_view username,
                          std::string_view error) {
  nlohmann::json d{{"page_title", "Sign in - hubd"}, {"next", next}, {"username", username}, {"login_error", error}};
  if (!ctx.authenticator.login_url.empty()) {
    // As JupyterHub's LoginHandler: the button carries ?next= so the login lands where it began.
    auto url = ctx.authenticator.login_url;
    if (!next.empty()) url += (url.find('?') == std::string::npos ? "?next=" : "&next=") + http::percent_encode(next);
    d["authenticator_login_url"] = url;
    d["login_service"] = ctx.authenticator.login_service;
  }
  return d;
}

void login_get(web_context& ctx, const request_ptr& req, responder res) {
  auto next = safe_next(ctx, *req, req->query_arg("next").value_or(""));
  if (auto who = ctx.sessions.browser(*req)) {
    // Already logged in: refresh the cookies (keeping the session) and move on.
    auto r = http::redirect_response(next.empty() ? default_next(ctx, *who->user) : next);
    if (!who->session_id.empty()) set_login_cookies(ctx, *req, r, *who->user, who->session_id);
    return void(res(std::move(r)));
  }
  if (ctx.options.auto_login) {
    const auto& url_in = ctx.authenticator.login_url;
    if (!url_in.empty() && url_in != ctx.options.hub_prefix + "login") {
      auto url = url_in;
      if (!next.empty()) url += (url.find('?') == std::string::npos ? "?next=" : "&next=") + http::percent_encode(next);
      return void(res(http::redirect_response(url)));
    }
    // As JupyterHub: auto_login without a login URL of its own means the credentials are already in
    // the request (a REMOTE_USER-style header set by a front proxy): authenticate it as it is.
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [k, v] : req->headers)
      if (!http::iequals(k, "cookie") && !http::iequals(k, "authorization")) headers[k] = v;
    nlohmann::json data{{"username", ""}, {"password", ""}, {"headers", std::move(headers)}};
    return run_login(ctx, std::move(data), [&ctx, req, res, next](login_result r) {
      if (!r.ok) return void(res(error_page(ctx, *req, r.status, r.message)));
      auto out = http::redirect_response(next.empty() ? default_next(ctx, *r.user) : next);
      set_login_cookies(ctx, *req, out, *r.user, r.session_id);
      res(std::move(out));
    });
  }
  // Sent here because the authenticator ended the login (see logged_in): a fixed message, so the
  // flag in the URL can say nothing else.
  auto notice = req->query_arg("expired") ? std::string(login_expired_notice) : std::string();
  res(render_page(ctx, *req, std::nullopt, "login", login_data(ctx, next, "", notice)));
}

void login_post(web_context& ctx, const request_ptr& req, responder res) {
  std::optional<http::query_map> form;
  if (http::is_form_content_type(*req)) form = http::parse_form(req->body);
  if (!form) return void(res(error_page(ctx, *req, 400, "Login expects a form body")));
  auto who = ctx.sessions.browser(*req);
  if (auto bad = http::check_xsrf(*req, ctx.signer, xsrf_id_for(*req, who), &*form)) {
    spdlog::warn("login: refused a POST without a valid XSRF token from {}", req->remote_addr);
    return void(res(error_page(ctx, *req, 403, *bad)));
  }
  nlohmann::json data = nlohmann::json::object();
  for (const auto& [k, v] : *form)
    if (k != "_xsrf" && k != "next" && !data.contains(k)) data[k] = v;
  auto username = trim(form_value(*form, "username"));
  data["username"] = username;
  if (!data.contains("password")) data["password"] = "";
  auto next = safe_next(ctx, *req, form_value(*form, "next"));
  if (next.empty()) next = safe_next(ctx, *req, req->query_arg("next").value_or(""));
  auto address = session::login_address(*req);
  auto& throttle = ctx.sessions.throttle();
  if (auto wait = throttle.retry_after(username, address); wait.count() > 0) {
    spdlog::warn("login: throttled a login as {} from {} for {} s after failed logins", loggable_name(username),
                 address, wait.count());
    auto page = render_page(ctx, *req, std::nullopt, "login", login_data(ctx, next, username, session::throttled_message(wait)), 429);
    page.add_header("Retry-After", std::to_string(wait.count()));
    return void(res(std::move(page)));
  }
  run_login(ctx, std::move(data), [&ctx, &throttle, req, res, next, username, address](login_result r) {
    if (!r.ok) {
      if (r.status != 403) return void(res(error_page(ctx, *req, r.status, r.message)));
      throttle.failed(username, address);
      return void(res(render_page(ctx, *req, std::nullopt, "login", login_data(ctx, next, username, r.message), 403)));
    }
    throttle.succeeded(username, address);
    auto out = http::redirect_response(next.empty() ? default_next(ctx, *r.user) : next);
    set_login_cookies(ctx, *req, out, *r.user, r.session_id);
    res(std::move(out));
  });
}

void logout(web_context& ctx, const request_ptr& req, responder res) {
  auto who = ctx.sessions.browser(*req);
  auto finish = [&ctx, req, res]() {
    auto r = http::redirect_response(ctx.options.hub_prefix + "login");
    if (ctx.options.auto_login) r = render_page(ctx, *req, std::nullopt, "logout", {{"page_title", "Signed out - hubd"}});
    if (!ctx.authenticator.logout_redirect.empty()) r = http::redirect_response(ctx.authenticator.logout_redirect);
    clear_login_cookies(ctx, *req, r);
    res(std::move(r));
  };
  if (!who) return finish();
  auto user = who->user->name;
  auto after_tokens = [&ctx, finish, user]() {
    if (ctx.options.shutdown_on_logout && ctx.spawn.stop_all) return ctx.spawn.stop_all(user, finish);
    finish();
  };
  auto sid = who->session_id.empty() ? std::string(req->cookie(session_cookie_name).value_or("")) : who->session_id;
  auto end_session = [&ctx, user, sid, after_tokens]() {
    spdlog::info("logout: user {} logged out", user);
    if (sid.empty()) return after_tokens();
    // The session's OAuth tokens go with it; the user's other sessions and tokens stay.
    auto st = ctx.model.delete_tokens_of_session(sid, [&ctx, sid, after_tokens](const model::status& s) {
      if (!s) spdlog::error("logout: deleting the tokens of a session failed: {}", s.err().message);
      auto d = ctx.model.delete_session(sid, [after_tokens](const model::status&) { after_tokens(); });
      if (!d) after_tokens();
    });
    if (!st) {
      auto d = ctx.model.delete_session(sid, [after_tokens](const model::status&) { after_tokens(); });
      if (!d) after_tokens();
    }
  };
  if (!ctx.authenticator.logout) return end_session();
  // The authenticator's logout (revoking at the identity provider) comes first, while the session and
  // auth_state still exist; whatever it answers (within its timeout), the logout goes on.
  nlohmann::json input{{"user", model::plugin_user_view(ctx.model, user)},
                       {"auth_state", model::plugin_auth_state(ctx.model, user, ctx.options.enable_auth_state)}};
  ctx.authenticator.logout(std::move(input), [user, end_session](plugins::op_result r) {
    if (!r.ok())
      spdlog::warn("logout: the authenticator's logout for {} failed ({}): {}", user, plugins::to_string(r.status),
                   r.message);
    end_session();
  });
}

// ---- pages that need a login ----------------------------------------------------------------

using page_fn = std::function<void(web_context&, const request_ptr&, responder, const browser_identity&)>;

// The login is over (refresh_user said false; its sessions are gone): a page goes to the login page
// with a message, anything else gets the 403.
http::response login_expired(web_context& ctx, const http::request& req, std::string_view user) {
  if ((req.method != "GET" && req.method != "HEAD") || wants_json(ctx, req))
    return error_page(ctx, req, 403, session::login_expired_message(user));
  auto r = http::redirect_response(ctx.options.hub_prefix + "login?next=" + http::percent_encode(req.target) + "&expired=1");
  clear_login_cookies(ctx, req, r);
  return r;
}

http::handler logged_in(web_context& ctx, page_fn fn) {
  return [&ctx, fn = std::move(fn)](const request_ptr& req, responder res) {
    auto who = ctx.sessions.browser(*req);
    if (!who) return void(res(login_redirect(ctx, *req)));
    // As every JupyterHub handler's get_current_user: a login last refreshed more than
    // auth_refresh_age ago is refreshed before the page.
    if (ctx.sessions.refresh_due(*who->user))
      return ctx.sessions.refresher()->refresh(who->user->name, [&ctx, fn, req, res, who = *who](session::refresh_verdict v) mutable {
        if (v == session::refresh_verdict::over) return void(res(login_expired(ctx, *req, who.user->name)));
        who.refreshed = true;
        fn(ctx, req, std::move(res), who);
      });
    fn(ctx, req, std::move(res), *who);
  };
}

nlohmann::json server_entry(const web_context& ctx, const std::string& user, const model::server& s) {
  const auto& o = ctx.options;
  std::string suffix = http::percent_encode(user) + (s.name.empty() ? "" : "/" + http::percent_encode(s.name));
  nlohmann::json e{{"name", s.name},
                   {"display_name", s.display_name},
                   {"state", server_state(s)},
                   {"url", server_url(ctx, user, s.name)},
                   {"spawn_url", o.hub_prefix + "spawn/" + suffix},
                   {"pending_url", o.hub_prefix + "spawn-pending/" + suffix},
                   {"last_activity", nullptr}};
  if (s.last_activity) e["last_activity"] = model::format_iso8601(*s.last_activity);
  return e;
}

void home(web_context& ctx, const request_ptr& req, responder res, const browser_identity& who) {
  const auto& name = who.user->name;
  model::server none;
  nlohmann::json def = server_entry(ctx, name, none);
  auto named = nlohmann::json::array();
  for (const auto& s : ctx.model.servers_of(name)) {
    if (s->name.empty()) def = server_entry(ctx, name, *s);
    else named.push_back(server_entry(ctx, name, *s));
  }
  bool has_form = ctx.spawn.options_form && !ctx.spawn.options_form(name, "").empty();
  nlohmann::json d{{"page_title", "Home - hubd"},
                   {"default_server", def},
                   {"named_servers", named},
                   {"allow_named_servers", ctx.options.allow_named_servers},
                   {"named_server_limit", ctx.options.named_server_limit > 0 ? std::to_string(ctx.options.named_server_limit) : ""},
                   {"options_form", has_form}};
  res(render_page(ctx, *req, who, "home", std::move(d)));
}

void token_page(web_context& ctx, const request_ptr& req, responder res, const browser_identity& who) {
  auto resolved = ctx.sessions.permissions().held_by_user(who.user->name);
  const auto& held = resolved->scopes;
  auto scopes = nlohmann::json::array();
  for (const auto& s : held.to_strings(ctx.scopes)) {
    auto base = s.substr(0, s.find('!'));
    auto id = ctx.scopes.find(base);
    scopes.push_back({{"scope", s}, {"description", id ? ctx.scopes.def(*id).description : std::string()}});
  }
  auto max = ctx.options.token_expires_in_max_seconds;
  nlohmann::json d{{"page_title", "Token - hubd"},
                   {"scopes", std::move(scopes)},
                   {"token_expires_in_max_seconds", max > 0 ? std::to_string(max) : ""}};
  res(render_page(ctx, *req, who, "token", std::move(d)));
}

void admin_page(web_context& ctx, const request_ptr& req, responder res, const browser_identity& who) {
  auto resolved = ctx.sessions.permissions().held_by_user(who.user->name);
  const auto& held = resolved->scopes;
  if (!held.has_all(rbac::id(rbac::builtin::admin_ui)))
    return void(res(error_page(ctx, *req, 403, "Action is not authorized with current scopes; requires any of [admin-ui]")));
  res(render_page(ctx, *req, who, "admin",
                  {{"page_title", "Admin - hubd"}, {"allow_named_servers", ctx.options.allow_named_servers}}));
}

// The server a spawn page names: /hub/spawn[/{u}[/{s}]]. Acting for another user needs `servers`.
struct server_target {
  std::string user, server;
};

std::optional<server_target> target_of(web_context& ctx, const http::request& req, const browser_identity& who,
                                       http::response& error) {
  server_target t{std::string(req.param("user")), std::string(req.param("server"))};
  if (t.user.empty()) t.user = who.user->name;
  if (t.user != who.user->name) {
    auto resolved = ctx.sessions.permissions().held_by_user(who.user->name);
    const auto& held = resolved->scopes;
    const auto* mm = &ctx.sessions.permissions().membership();
    if (!rbac::has_scope(held, rbac::id(rbac::builtin::servers), rbac::resource_ref::server(t.user, t.server), mm)) {
      error = error_page(ctx, req, 404, "No such user: " + t.user);
      return std::nullopt;
    }
    if (!ctx.model.find_user(t.user)) {
      error = error_page(ctx, req, 404, "No such user: " + t.user);
      return std::nullopt;
    }
  }
  if (!t.server.empty() && !ctx.options.allow_named_servers) {
    error = error_page(ctx, req, 400, "Named servers are not enabled.");
    return std::nullopt;
  }
  return t;
}

std::string pending_url(const web_context& ctx, const server_target& t) {
  return ctx.options.hub_prefix + "spawn-pending/" + http::percent_encode(t.user) +
         (t.server.empty() ? "" : "/" + http::percent_encode(t.server));
}

// Starts the spawn and sends the browser to the pending page as soon as the spawn layer answers
// (within about a second: the page shows the progress of a slow spawn). `?next=` goes along, as in
// JupyterHub. A spawn that failed within that second shows its error instead.
void start_and_redirect(web_context& ctx, const request_ptr& req, responder res, const server_target& t,
                        nlohmann::json options, const browser_identity& who) {
  if (!ctx.spawn.start) return void(res(error_page(ctx, *req, 503, "Starting servers is not available")));
  auto target = pending_url(ctx, t);
  if (auto next = safe_next(ctx, *req, req->query_arg("next").value_or("")); !next.empty())
    target += "?next=" + http::percent_encode(next);
  auto start = [&ctx, req, res, target, t, options = std::move(options)]() {
    ctx.spawn.start(t.user, t.server, options, [&ctx, req, res, target](int status, std::string message) {
      if (status >= 400) return void(res(error_page(ctx, *req, status, message)));
      res(http::redirect_response(target));
    });
  };
  // Authenticator.refresh_pre_spawn: the spawner gets a login that was just refreshed.
  auto* r = ctx.sessions.refresher();
  if (!r || !r->settings().refresh_pre_spawn || (who.refreshed && who.user->name == t.user)) return start();
  r->refresh(t.user, [&ctx, req, res, start, user = t.user](session::refresh_verdict v) {
    if (v == session::refresh_verdict::over) return void(res(error_page(ctx, *req, 403, session::login_expired_message(user))));
    start();
  });
}

void spawn_page(web_context& ctx, const request_ptr& req, responder res, const browser_identity& who) {
  http::response err;
  auto t = target_of(ctx, *req, who, err);
  if (!t) return void(res(std::move(err)));
  auto s = ctx.model.find_server(t->user, t->server);
  if (s && s->pending) return void(res(http::redirect_response(pending_url(ctx, *t))));
  if (s && s->started) return void(res(http::redirect_response(server_url(ctx, t->user, t->server))));
  nlohmann::json options = nlohmann::json::object();
  bool any_opt = false;
  for (const auto& [k, v] : req->query)
    if (k.rfind("opt-", 0) == 0) {
      options[k.substr(4)] = v;
      any_opt = true;
    }
  auto form = ctx.spawn.options_form ? ctx.spawn.options_form(t->user, t->server) : std::string();
  // A link on another site (or on a user's server, a sibling origin) must not start a server by
  // itself being followed: such a navigation gets the form with its Start button instead. Typed
  // URLs, bookmarks and the hub's own links start at once, as in JupyterHub.
  const auto fetch_site = req->header("sec-fetch-site").value_or("none");
  const bool confirm = fetch_site == "cross-site" || fetch_site == "same-site";
  if ((!form.empty() && !any_opt) || confirm) {
    nlohmann::json d{{"page_title", "Spawn - hubd"},
                     {"spawner_options_form", form},
                     {"server_name", t->server},
                     {"for_user_name", t->user == who.user->name ? "" : t->user},
                     {"confirm_start", confirm},
                     {"spawn_url", req->path}};
    return void(res(render_page(ctx, *req, who, "spawn", std::move(d))));
  }
  start_and_redirect(ctx, req, std::move(res), *t, std::move(options), who);
}

// The options form's submit (JupyterHub's SpawnHandler.post): every field is a list of its values,
// as Spawner.options_from_form receives them.
void spawn_post(web_context& ctx, const request_ptr& req, responder res, const browser_identity& who) {
  http::response err;
  auto t = target_of(ctx, *req, who, err);
  if (!t) return void(res(std::move(err)));
  auto form = http::parse_form(req->body);
  if (!form) return void(res(error_page(ctx, *req, 400, "Malformed form")));
  if (auto bad = http::check_xsrf(*req, ctx.signer, xsrf_id_for(*req, who), &*form))
    return void(res(error_page(ctx, *req, 403, *bad)));
  auto label = t->server.empty() ? t->user : t->user + "/" + t->server;
  if (auto s = ctx.model.find_server(t->user, t->server)) {
    if (s->pending) return void(res(error_page(ctx, *req, 400, label + " is pending " + *s->pending)));
    if (s->started) return void(res(error_page(ctx, *req, 400, label + " is already running")));
  }
  nlohmann::json options = nlohmann::json::object();
  for (const auto& [k, v] : *form)
    if (k != "_xsrf") options[k].push_back(v);
  start_and_redirect(ctx, req, std::move(res), *t, std::move(options), who);
}

void spawn_pending(web_context& ctx, const request_ptr& req, responder res, const browser_identity& who) {
  http::response err;
  auto t = target_of(ctx, *req, who, err);
  if (!t) return void(res(std::move(err)));
  auto s = ctx.model.find_server(t->user, t->server);
  auto spawn_url = ctx.options.hub_prefix + "spawn/" + http::percent_encode(t->user) +
                   (t->server.empty() ? "" : "/" + http::percent_encode(t->server));
  if (s && s->started && !s->pending) {
    auto next = safe_next(ctx, *req, req->query_arg("next").value_or(""));
    return void(res(http::redirect_response(next.empty() ? server_url(ctx, t->user, t->server) : next)));
  }
  if (s && s->pending) {
    auto progress = ctx.options.hub_prefix + "api/users/" + http::percent_encode(t->user) +
                    (t->server.empty() ? "/server/progress" : "/servers/" + http::percent_encode(t->server) + "/progress");
    nlohmann::json d{{"page_title", "Starting - hubd"},
                     {"progress_url", progress},
                     {"server_url", server_url(ctx, t->user, t->server)},
                     {"server_name", t->server},
                     {"spawn_url", spawn_url},
                     {"message", "Server requested"}};
    return void(res(render_page(ctx, *req, who, "spawn_pending", std::move(d))));
  }
  auto failure = ctx.spawn.last_failure ? ctx.spawn.last_failure(t->user, t->server) : std::nullopt;
  nlohmann::json d{{"page_title", "Not running - hubd"},
                   {"server_name", t->server},
                   {"spawn_url", spawn_url},
                   {"failed", failure.has_value()},
                   {"failed_message", failure.value_or("")}};
  res(render_page(ctx, *req, who, "not_running", std::move(d), 424));
}

// Re-encodes each decoded segment so nothing in the path can leave the prefix it is appended to;
// nullopt for a ".." segment.
std::optional<std::string> encode_rest(const std::string& rest) {
  std::string encoded;
  std::size_t start = 0;
  while (start <= rest.size()) {
    auto slash = rest.find('/', start);
    auto seg = rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg == "..") return std::nullopt;
    if (seg != ".") encoded += http::percent_encode(seg);
    if (slash == std::string::npos) break;
    encoded += "/";
    start = slash + 1;
  }
  return encoded;
}

void user_redirect(web_context& ctx, const request_ptr& req, responder res, const browser_identity& who) {
  auto url = server_url(ctx, who.user->name, "");
  auto encoded = encode_rest(std::string(req->param("path")));
  if (!encoded) return void(res(error_page(ctx, *req, 400, "Invalid path")));
  url += *encoded;
  if (!req->query_string.empty()) url += "?" + req->query_string;
  res(http::redirect_response(url));
}

// /hub/user/NAME/... : JupyterHub's UserUrlHandler. A request lands here when the proxy has no route
// for the server (not running, pending, or the route is not there yet). A ready server is redirected
// back to /user/NAME/... with `redirects` counted in the query; at user_redirect_limit the loop (a
// proxy that never routes) ends with an error page instead of the browser's own loop error.
void user_url(web_context& ctx, const request_ptr& req, responder res, const browser_identity& who) {
  std::string user(req->param("user"));
  std::string path(req->param("path"));
  auto target_user = user == who.user->name ? who.user : ctx.model.find_user(user);
  std::string server;
  if (ctx.options.allow_named_servers && target_user) {
    auto first = path.substr(0, path.find('/'));
    if (!first.empty() && ctx.model.find_server(user, first)) server = first;
  }
  if (user != who.user->name) {
    auto resolved = ctx.sessions.permissions().held_by_user(who.user->name);
    const auto& held = resolved->scopes;
    const auto* mm = &ctx.sessions.permissions().membership();
    if (!rbac::has_scope(held, rbac::id(rbac::builtin::access_servers), rbac::resource_ref::server(user, server), mm))
      return void(res(error_page(ctx, *req, 404, "No access to resources or resources not found")));
    if (!target_user) return void(res(error_page(ctx, *req, 404, "No such user " + user)));
  }
  auto s = ctx.model.find_server(user, server);
  const auto suffix = http::percent_encode(user) + (server.empty() ? "" : "/" + http::percent_encode(server));
  if (s && s->started && !s->pending) {
    long long redirects = 0;
    std::string rest;  // the query without `redirects`
    for (const auto& [k, v] : req->query) {
      if (k == "redirects") {
        try {
          redirects = std::stoll(v);
        } catch (const std::exception&) {
          redirects = 0;
        }
        continue;
      }
      rest += (rest.empty() ? "" : "&") + http::percent_encode(k) + "=" + http::percent_encode(v);
    }
    if (redirects >= ctx.options.user_redirect_limit) {
      spdlog::warn("pages: redirect loop detected for {} (the proxy does not route {}user/{}/)", who.user->name,
                   ctx.options.base_url, suffix);
      return void(res(error_page(ctx, *req, 500,
                                 "Redirect loop detected. The proxy did not route this server after " +
                                     std::to_string(redirects) + " redirects; try again later or ask the hub's administrator.")));
    }
    auto encoded = encode_rest(path);
    if (!encoded) return void(res(error_page(ctx, *req, 400, "Invalid path")));
    auto url = ctx.options.base_url + "user/" + http::percent_encode(user) + "/" + *encoded;
    url += "?" + rest + (rest.empty() ? "" : "&") + "redirects=" + std::to_string(redirects + 1);
    return void(res(http::redirect_response(url)));
  }
  const auto accept = std::string(req->header("Accept").value_or(""));
  bool api = accept.find("application/json") != std::string::npos && accept.find("text/html") == std::string::npos;
  for (std::size_t b = 0; !api && b <= path.size();) {
    auto e = path.find('/', b);
    api = path.substr(b, e == std::string::npos ? std::string::npos : e - b) == "api";
    if (e == std::string::npos) break;
    b = e + 1;
  }
  if (api) return void(res(http::error_response(424, "Server " + user + "/" + server + " is not running")));
  auto next = http::percent_encode(req->target);
  if (s && s->pending)
    return void(res(http::redirect_response(ctx.options.hub_prefix + "spawn-pending/" + suffix + "?next=" + next, 303)));
  auto failure = ctx.spawn.last_failure ? ctx.spawn.last_failure(user, server) : std::nullopt;
  nlohmann::json d{{"page_title", "Not running - hubd"},
                   {"server_name", server},
                   {"spawn_url", ctx.options.hub_prefix + "spawn/" + suffix + "?next=" + next},
                   {"failed", failure.has_value()},
                   {"failed_message", failure.value_or("")}};
  res(render_page(ctx, *req, who, "not_running", std::move(d), 424));
}

void accept_share_get(web_context& ctx, const request_ptr& req, responder res, const browser_identity& who) {
  auto code = std::string(req->query_arg("code").value_or(""));
  auto now = model::now();
  auto sc = code.empty() ? nullptr : ctx.model.find_share_code(code, now);
  if (!sc) return void(res(error_page(ctx, *req, 404, "No such code")));
  auto server = ctx.model.find_server(sc->server_id);
  auto owner = server ? ctx.model.find_user(server->user_id) : nullptr;
  if (!server || !owner) return void(res(error_page(ctx, *req, 404, "No such code")));
  if (owner->id == who.user->id) return void(res(error_page(ctx, *req, 403, "You can't accept a share code for your own server")));
  auto lines = nlohmann::json::array();
  for (const auto& s : sc->scopes) {
    auto id = ctx.scopes.find(s.substr(0, s.find('!')));
    lines.push_back({{"description", id ? ctx.scopes.def(*id).description : s},
                     {"filter", "server " + owner->name + "/" + server->name}});
  }
  nlohmann::json d{{"page_title", "Accept sharing invitation - hubd"},
                   {"owner", owner->name},
                   {"server_name", server->name},
                   {"scope_descriptions", lines},
                   {"server_ready", server->started && !server->pending},
                   {"accept_url", ctx.options.hub_prefix + "accept-share"},
                   {"code", code},
                   {"next", safe_next(ctx, *req, req->query_arg("next").value_or(""))}};
  res(render_page(ctx, *req, who, "accept_share", std::move(d)));
}

void accept_share_post(web_context& ctx, const request_ptr& req, responder res, const browser_identity& who) {
  auto form = http::parse_form(req->body);
  if (!form) return void(res(error_page(ctx, *req, 400, "Malformed form")));
  if (auto bad = http::check_xsrf(*req, ctx.signer, xsrf_id_for(*req, who), &*form))
    return void(res(error_page(ctx, *req, 403, *bad)));
  auto code = form_value(*form, "code");
  auto now = model::now();
  auto sc = code.empty() ? nullptr : ctx.model.find_share_code(code, now);
  auto server = sc ? ctx.model.find_server(sc->server_id) : nullptr;
  if (!sc || !server || server->user_id == who.user->id)
    return void(res(error_page(ctx, *req, 400, "Invalid share code")));
  auto owner = ctx.model.find_user(server->user_id);
  auto next = safe_next(ctx, *req, form_value(*form, "next"));
  if (next.empty() && owner) next = server_url(ctx, owner->name, server->name);
  auto r = ctx.model.exchange_share_code(code, who.user->name, now, [&ctx, req, res, next](const model::status& s) {
    if (!s) return void(res(error_page(ctx, *req, 500, "Accepting the share failed")));
    res(http::redirect_response(next));
  });
  if (!r) res(error_page(ctx, *req, 400, "Invalid share code: " + r.err().message));
}

// ---- authenticator routes --------------------------------------------------------------------

void authenticator_route(web_context& ctx, const request_ptr& req, responder res) {
  nlohmann::json in{{"method", req->method}, {"path", req->path}, {"query", req->query_string}, {"body", req->body}};
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [k, v] : req->headers)
    if (!http::iequals(k, "cookie") && !http::iequals(k, "authorization")) headers[k] = v;
  in["headers"] = std::move(headers);
  // The plugin's own cookies (an OAuth state cookie, say): the hub's login, session, services and
  // XSRF cookies are credentials of the hub and stay out of the plugin's input.
  nlohmann::json cookies = nlohmann::json::object();
  for (const auto& [k, v] : req->headers) {
    if (!http::iequals(k, "cookie")) continue;
    for (const auto& [name, value] : http::parse_cookie_header(v)) {
      bool hub_cookie = name.rfind("jupyterhub-", 0) == 0 || name.rfind("__Host-jupyterhub-", 0) == 0 ||
                        name == http::xsrf_cookie_name;
      std::string key(name);
      if (!hub_cookie && !cookies.contains(key)) cookies[key] = std::string(value);
    }
  }
  in["cookies"] = std::move(cookies);
  ctx.authenticator.handle_request(std::move(in), [&ctx, req, res](plugins::op_result r) {
    if (!r.ok() || !r.value.is_object()) return void(res(error_page(ctx, *req, r.ok() ? 500 : r.http_status(), r.user_message())));
    auto v = std::move(r.value);
    // A plugin that finished a login hands back the auth model; hubd then logs the person in.
    if (auto am = v.find("auth_model"); am != v.end()) {
      auto next = safe_next(ctx, *req, v.value("next", std::string()));
      auto headers = v.value("headers", nlohmann::json::object());
      if (!headers.is_object()) headers = nlohmann::json::object();
      return complete_login(ctx, *am, [&ctx, req, res, next, headers](login_result lr) {
        if (!lr.ok) return void(res(error_page(ctx, *req, lr.status, lr.message)));
        auto out = http::redirect_response(next.empty() ? default_next(ctx, *lr.user) : next);
        set_login_cookies(ctx, *req, out, *lr.user, lr.session_id);
        // The plugin's own headers (clearing its state cookie) go with the login's redirect.
        for (const auto& [k, hv] : headers.items())
          if (hv.is_string() && !http::iequals(k, "location")) out.add_header(k, hv.get<std::string>());
        res(std::move(out));
      });
    }
    http::response out;
    out.status = v.value("status", 200);
    if (auto redirect = v.find("redirect"); redirect != v.end() && redirect->is_string()) {
      out = http::redirect_response(redirect->get<std::string>(), out.status >= 300 && out.status < 400 ? out.status : 302);
    } else {
      out.body = v.value("body", std::string());
    }
    if (auto h = v.find("headers"); h != v.end() && h->is_object())
      for (const auto& [k, hv] : h->items())
        if (hv.is_string()) out.add_header(k, hv.get<std::string>());
    res(std::move(out));
  });
}

}  // namespace

void register_page_routes(http::router& router, web_context& ctx) {
  auto files = std::make_shared<static_files>(ctx.options.static_dir);
  auto& o = ctx.options;

  router.add("GET", "/hub", [&ctx](const request_ptr&, responder res) {
    res(http::redirect_response(ctx.options.hub_prefix));
  });
  router.add("GET", "/hub/", [&ctx](const request_ptr& req, responder res) {
    if (!ctx.options.default_url.empty()) return void(res(http::redirect_response(ctx.options.default_url)));
    auto who = ctx.sessions.browser(*req);
    if (!who) return void(res(http::redirect_response(ctx.options.hub_prefix + "login?next=" +
                                                       http::percent_encode(ctx.options.hub_prefix))));
    res(http::redirect_response(default_next(ctx, *who->user)));
  });
  router.add("GET", "/hub/login", [&ctx](const request_ptr& req, responder res) { login_get(ctx, req, std::move(res)); });
  router.add("POST", "/hub/login", [&ctx](const request_ptr& req, responder res) { login_post(ctx, req, std::move(res)); });
  router.add("GET", "/hub/logout", [&ctx](const request_ptr& req, responder res) { logout(ctx, req, std::move(res)); });
  router.add("GET", "/hub/home", logged_in(ctx, home));
  router.add("GET", "/hub/token", logged_in(ctx, token_page));
  router.add("GET", "/hub/admin", logged_in(ctx, admin_page));
  for (const char* p : {"/hub/spawn", "/hub/spawn/{user}", "/hub/spawn/{user}/{server}"})
  {
    router.add("GET", p, logged_in(ctx, spawn_page));
    router.add("POST", p, logged_in(ctx, spawn_post));
  }
  for (const char* p : {"/hub/spawn-pending/{user}", "/hub/spawn-pending/{user}/{server}"})
    router.add("GET", p, logged_in(ctx, spawn_pending));
  router.add("GET", "/hub/user-redirect/{path*}", logged_in(ctx, user_redirect));
  router.add("GET", "/hub/user/{user}", logged_in(ctx, user_url));
  router.add("GET", "/hub/user/{user}/{path*}", logged_in(ctx, user_url));
  router.add("GET", "/hub/accept-share", logged_in(ctx, accept_share_get));
  router.add("POST", "/hub/accept-share", logged_in(ctx, accept_share_post));
  router.add("GET", "/hub/health", [](const request_ptr&, responder res) { res(http::empty_response(200)); });
  router.add("GET", "/hub/error/{code}", [&ctx](const request_ptr& req, responder res) {
    int code = 500;
    try {
      code = std::stoi(std::string(req->param("code")));
    } catch (const std::exception&) {
    }
    if (code < 400 || code > 599) code = 500;
    nlohmann::json extra = nlohmann::json::object();
    if (code == 503) extra["server_down"] = true;
    res(error_page(ctx, *req, code, {}, extra));
  });
  router.add("POST", "/hub/security/csp-report", logged_in(ctx, [](web_context&, const request_ptr& req, responder res,
                                                                    const browser_identity& who) {
    spdlog::warn("pages: content security policy violation reported by {}: {}", who.user->name,
                 req->body.substr(0, 1000));
    res(http::empty_response(200));
  }));
  router.add("GET", "/hub/static/{path*}", [files](const request_ptr& req, responder res) {
    res(files->serve(*req, std::string(req->param("path"))));
  });
  router.add("GET", "/hub/logo", [files](const request_ptr& req, responder res) {
    res(files->serve(*req, "img/logo.svg"));
  });
  if (ctx.authenticator.handle_request) {
    for (const auto& route : ctx.authenticator.routes) {
      std::string pattern = "/hub/" + (route.front() == '/' ? route.substr(1) : route);
      for (const char* m : {"GET", "POST"})
        router.add(m, pattern, [&ctx](const request_ptr& req, responder res) { authenticator_route(ctx, req, std::move(res)); });
    }
  }
  router.set_fallback([&ctx](const request_ptr& req, responder res) {
    const auto& hub = ctx.options.hub_prefix;
    if (req->path.rfind(hub, 0) == 0 || req->path + "/" == hub) return void(res(error_page(ctx, *req, 404)));
    const auto& base = ctx.options.base_url;
    std::string rest = req->path.substr(std::min(base.size(), req->path.size()));
    // /user/NAME and /services/NAME get their trailing slash; anything else goes under /hub/.
    auto slash_count = std::count(rest.begin(), rest.end(), '/');
    if (req->method == "GET" && slash_count == 1 && (rest.rfind("user/", 0) == 0 || rest.rfind("services/", 0) == 0))
      return void(res(http::redirect_response(req->path + "/" + (req->query_string.empty() ? "" : "?" + req->query_string))));
    if (req->method != "GET" && req->method != "HEAD") return void(res(error_page(ctx, *req, 404)));
    res(http::redirect_response(hub + rest + (req->query_string.empty() ? "" : "?" + req->query_string)));
  });
  (void)o;
}

}  // namespace hubd::core::web
