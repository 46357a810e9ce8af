#include "core/api/support.hpp"

#include "core/http/url_codec.hpp"
#include "core/model/timestamp.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>

namespace hubd::core::api {

http::handler make_handler(api_context& ctx, api_handler h) {
  auto run = [&ctx, h](const http::request_ptr& req, const http::responder& res, const principal& who) {
    try {
      h(ctx, req, who, res);
    } catch (const std::exception& e) {
      spdlog::error("api: handler for {} {} failed: {}", req->method, req->path, e.what());
      res(http::error_response(500));
    }
  };
  return [&ctx, run](const http::request_ptr& req, http::responder res) {
    principal who = ctx.sessions.identify(*req);  // never throws
    // Browser and token requests alike (JupyterHub's get_current_user): a login last refreshed
    // more than auth_refresh_age ago is refreshed first; the handler runs once that is settled.
    if (who.user && ctx.sessions.refresh_due(*who.user))
      return ctx.sessions.refresher()->refresh(who.user->name, [run, req, res, who](session::refresh_verdict v) mutable {
        if (v == session::refresh_verdict::over) {
          auto name = who.name;
          who = principal{};
          who.login_expired = name;
          req->principal.clear();
        } else {
          who.refreshed = true;
        }
        run(req, res, who);
      });
    run(req, res, who);
  };
}

void refresh_before(api_context& ctx, const principal& who, const std::string& user, bool wanted,
                    std::function<void(bool over)> then) {
  auto* r = ctx.sessions.refresher();
  if (!wanted || !r || (who.refreshed && who.user && who.name == user)) return then(false);
  r->refresh(user, [then = std::move(then)](session::refresh_verdict v) { then(v == session::refresh_verdict::over); });
}

std::optional<response> parse_json_body(const http::request& req, nlohmann::json& out) {
  out = nullptr;
  std::string_view body = req.body;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  out = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (out.is_discarded()) {
    out = nullptr;
    return http::error_response(400, "Invalid JSON in body of request");
  }
  return std::nullopt;
}

std::optional<response> require_auth(const principal& p) {
  if (p.authenticated()) return std::nullopt;
  if (p.xsrf_error) return http::error_response(403, *p.xsrf_error);
  if (p.login_expired) return http::error_response(403, session::login_expired_message(*p.login_expired));
  return http::error_response(403, "Missing or invalid credentials.");
}

std::optional<response> guard(const api_context& ctx, const principal& p, std::initializer_list<rbac::builtin> any_of,
                              const rbac::resource_ref& r) {
  if (auto e = require_auth(p)) return e;
  rbac::scope_id ids[16];
  std::size_t n = 0;
  for (auto b : any_of) {
    if (n < std::size(ids)) ids[n++] = rbac::id(b);
  }
  std::span<const rbac::scope_id> req(ids, n);
  auto result = rbac::check(p.held(), req, r, &ctx.permissions.membership());
  if (result == rbac::access_result::allowed) return std::nullopt;
  int status = result == rbac::access_result::not_found ? 404 : 403;
  return http::error_response(status, rbac::denied_message(ctx.scopes, result, req));
}

bool holds(const api_context& ctx, const principal& p, rbac::builtin s, const rbac::resource_ref& r) {
  return p.authenticated() && rbac::has_scope(p.held(), rbac::id(s), r, &ctx.permissions.membership());
}

namespace {

// Python's int(): optional sign, digits, surrounding whitespace allowed.
std::optional<long long> parse_int(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool accepts_pagination(const http::request& req) {
  auto accept = req.header("Accept");
  if (!accept) return false;
  std::string_view rest = *accept;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (http::iequals(item, "application/jupyterhub-pagination+json")) return true;
  }
  return false;
}

}  // namespace

std::optional<response> parse_page(const api_context& ctx, const http::request& req, page& out, bool always_envelope) {
  out.envelope = always_envelope || accepts_pagination(req);
  auto max_limit = static_cast<std::size_t>(std::max<std::int64_t>(1, ctx.hub_int("api_page_max_limit", 200)));
  auto default_limit =
      out.envelope ? static_cast<std::size_t>(std::max<std::int64_t>(1, ctx.hub_int("api_page_default_limit", 50)))
                   : max_limit;
  long long offset = 0;
  long long limit = static_cast<long long>(default_limit);
  auto o = req.query_arg("offset");
  auto l = req.query_arg("limit");
  if (o) {
    auto v = parse_int(*o);
    if (!v) return http::error_response(400, "Invalid argument type, offset and limit must be integers");
    offset = std::llabs(*v);
  }
  if (l) {
    auto v = parse_int(*l);
    if (!v) return http::error_response(400, "Invalid argument type, offset and limit must be integers");
    limit = std::llabs(*v);
  }
  out.offset = static_cast<std::size_t>(offset);
  out.limit = std::clamp<std::size_t>(static_cast<std::size_t>(limit), 1, max_limit);
  return std::nullopt;
}

std::string page_url(const http::request& req, std::size_t offset, std::size_t limit) {
  std::string url = req.is_tls ? "https://" : "http://";
  url += req.host();
  url += req.path;
  url += '?';
  bool first = true;
  auto add = [&](std::string_view k, std::string_view v) {
    if (!first) url += '&';
    first = false;
    url += http::percent_encode(k);
    url += '=';
    url += http::percent_encode(v);
  };
  for (const auto& [k, v] : req.query) {
    if (k == "offset" || k == "limit") continue;
    add(k, v);
  }
  add("offset", std::to_string(offset));
  add("limit", std::to_string(limit));
  return url;
}

response page_response(const http::request& req, const page& pg, nlohmann::json items, std::size_t total) {
  bool more = pg.offset + pg.limit < total;
  if (!pg.envelope) {
    if (more) {
      spdlog::warn("api: truncated list of {} items at offset {} limit {} for {}; request the pagination envelope "
                   "to page through it",
                   total, pg.offset, pg.limit, req.path);
    }
    return http::json_response(200, items);
  }
  nlohmann::json next = nullptr;
  if (more) {
    std::size_t next_offset = pg.offset + pg.limit;
    next = {{"offset", next_offset}, {"limit", pg.limit}, {"url", page_url(req, next_offset, pg.limit)}};
  }
  nlohmann::json body = {
      {"items", std::move(items)},
      {"_pagination", {{"offset", pg.offset}, {"limit", pg.limit}, {"total", total}, {"next", std::move(next)}}}};
  return http::json_response(200, body);
}

int status_for(model::errc code) {
  switch (code) {
    case model::errc::invalid: return 400;
    case model::errc::not_found: return 404;
    case model::errc::conflict: return 409;
    default: return 500;
  }
}

response model_error_response(const model::error& e) {
  int status = status_for(e.code);
  if (status == 500) {
    spdlog::error("api: model error {}: {}", store::errc_name(e.code), e.message);
  }
  return http::error_response(status, e.message);
}

model::completion reply_when_durable(http::responder res, std::function<response()> make) {
  return [res = std::move(res), make = std::move(make)](const model::status& s) {
    if (!s) {
      spdlog::error("api: change could not be committed: {}", s.err().message);
      res(http::error_response(500, "The change could not be saved: " + s.err().message));
      return;
    }
    try {
      res(make());
    } catch (const std::exception& e) {
      spdlog::error("api: rendering after commit failed: {}", e.what());
      res(http::error_response(500));
    }
  };
}

model::completion reply_when_durable(http::responder res, response answer) {
  auto shared = std::make_shared<response>(std::move(answer));
  return reply_when_durable(std::move(res), [shared]() { return std::move(*shared); });
}

bool has_query_flag(const http::request& req, std::string_view name) { return req.query_arg(name).has_value(); }

std::string change_source(const principal& who) { return who.plugin ? "plugin:" + who.name : "api"; }

bool is_string_list(const nlohmann::json& v) {
  if (!v.is_array()) return false;
  for (const auto& x : v) {
    if (!x.is_string()) return false;
  }
  return true;
}

std::vector<std::string> string_list(const nlohmann::json& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  out.reserve(v.size());
  for (const auto& x : v) {
    if (x.is_string()) out.push_back(x.get<std::string>());
  }
  return out;
}

nlohmann::json iso_or_null(const model::opt_time& t) {
  if (!t) return nullptr;
  return model::format_iso8601(*t);
}

}  // namespace hubd::core::api
