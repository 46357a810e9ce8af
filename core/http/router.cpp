#include "core/http/router.hpp"

#include "core/http/jupyterhub_version.hpp"

#include "core/http/url_codec.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <stdexcept>

namespace hubd::core::http {

namespace {
enum class seg_kind { literal, param, tail };
struct segment {
  seg_kind kind;
  std::string text;  // literal text or parameter name
};

constexpr std::size_t max_segments = 64;

// Splits "/a/b/" into {"a", "b", ""}. False when there are too many segments.
bool split_path(std::string_view path, std::array<std::string_view, max_segments>& out, std::size_t& n) {
  n = 0;
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  while (true) {
    if (n == max_segments) return false;
    auto slash = path.find('/');
    out[n++] = path.substr(0, slash);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

std::string normalise_base(std::string base) {
  if (base.empty() || base.front() != '/') base.insert(base.begin(), '/');
  if (base.back() != '/') base.push_back('/');
  return base;
}
}  // namespace

struct router::route {
  std::string method;
  std::string pattern;
  std::vector<segment> segments;
  bool has_tail = false;
  int literals = 0;
  handler h;
};

struct router::match {
  const route* r = nullptr;
  std::array<std::string_view, max_segments> captures{};
  std::size_t n_captures = 0;
};

router::router(router_options options) : options_(std::move(options)) {
  options_.base_url = normalise_base(options_.base_url);
  if (options_.version.empty()) options_.version = jupyterhub_api_version;
  csp_ = "frame-ancestors 'none'; report-uri " + options_.base_url + "hub/security/csp-report";
  api_csp_ = csp_ + "; default-src 'none'";
}

router::~router() = default;

void router::add(std::string_view method, std::string_view pattern, handler h) {
  if (method.empty()) throw std::invalid_argument("route method is empty");
  if (!h) throw std::invalid_argument("route handler is empty for " + std::string(pattern));
  auto r = std::make_unique<route>();
  r->method = std::string(method);
  r->pattern = std::string(pattern);
  r->h = std::move(h);
  std::array<std::string_view, max_segments> parts;
  std::size_t n = 0;
  if (!split_path(pattern, parts, n)) throw std::invalid_argument("route pattern must start with '/': " + r->pattern);
  for (std::size_t i = 0; i < n; ++i) {
    std::string_view p = parts[i];
    if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
      std::string_view name = p.substr(1, p.size() - 2);
      bool tail = !name.empty() && name.back() == '*';
      if (tail) name.remove_suffix(1);
      if (name.empty() || name.find_first_of("{}*") != std::string_view::npos)
        throw std::invalid_argument("bad parameter in route pattern: " + r->pattern);
      if (tail && i + 1 != n) throw std::invalid_argument("a {name*} parameter must be last: " + r->pattern);
      r->segments.push_back({tail ? seg_kind::tail : seg_kind::param, std::string(name)});
      r->has_tail = tail;
    } else {
      if (p.find_first_of("{}") != std::string_view::npos)
        throw std::invalid_argument("bad literal segment in route pattern: " + r->pattern);
      r->segments.push_back({seg_kind::literal, std::string(p)});
      ++r->literals;
    }
  }
  routes_.push_back(std::move(r));
}

void router::set_fallback(handler h) { fallback_ = std::move(h); }

bool router::is_api_path(std::string_view raw_path) const {
  const std::string& base = options_.base_url;
  if (raw_path.substr(0, base.size()) != base) return false;
  std::string_view rel = raw_path.substr(base.size());
  return rel.substr(0, 7) == "hub/api" && (rel.size() == 7 || rel[7] == '/');
}

void router::add_standard_headers(const request& req, response& r) const {
  if (!r.has_header("X-JupyterHub-Version")) r.headers.emplace_back("X-JupyterHub-Version", options_.version);
  if (!r.has_header("Content-Security-Policy")) {
    // HTML pages served under hub/api (the OAuth confirmation page, error pages for browsers) load
    // the hub's stylesheet, scripts and images: only non-HTML API answers get default-src 'none'.
    auto type = r.header("Content-Type");
    bool html = type && type->substr(0, 9) == "text/html";
    r.headers.emplace_back("Content-Security-Policy", is_api_path(req.path) && !html ? api_csp_ : csp_);
  }
  // A body is what its Content-Type says: a user's upload served as text cannot run as a script.
  if (!r.has_header("X-Content-Type-Options")) r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (!r.has_header("Access-Control-Allow-Headers"))
    r.headers.emplace_back("Access-Control-Allow-Headers", "accept, content-type, authorization");
  for (const auto& [k, v] : options_.extra_headers) {
    if (!r.has_header(k)) r.headers.emplace_back(k, v);
  }
}

bool router::find(const request& req, match& best, std::string& allowed) const {
  const std::string& base = options_.base_url;
  if (req.path.size() < base.size() - 1 || req.path.compare(0, base.size() - 1, base, 0, base.size() - 1) != 0)
    return false;
  std::string_view rel = std::string_view(req.path).substr(base.size() - 1);
  if (rel.empty()) rel = "/";
  std::array<std::string_view, max_segments> parts;
  std::size_t n = 0;
  if (!split_path(rel, parts, n)) return false;
  bool head = req.method == "HEAD";
  const route* get_for_head = nullptr;
  match get_match;
  for (const auto& r : routes_) {
    const auto& segs = r->segments;
    if (r->has_tail ? n < segs.size() : n != segs.size()) continue;
    match m;
    m.r = r.get();
    bool ok = true;
    for (std::size_t i = 0; i < segs.size() && ok; ++i) {
      switch (segs[i].kind) {
        case seg_kind::literal:
          ok = parts[i] == segs[i].text;
          break;
        case seg_kind::param:
          m.captures[m.n_captures++] = parts[i];
          break;
        case seg_kind::tail: {
          const char* begin = parts[i].data();
          const char* end = parts[n - 1].data() + parts[n - 1].size();
          m.captures[m.n_captures++] = std::string_view(begin, static_cast<std::size_t>(end - begin));
          break;
        }
      }
    }
    if (!ok) continue;
    auto better = [](const route* a, const route* b) {
      if (!b) return true;
      if (a->has_tail != b->has_tail) return !a->has_tail;
      return a->literals > b->literals;
    };
    if (r->method == req.method) {
      if (better(r.get(), best.r)) best = m;
    } else if (head && r->method == "GET") {
      if (better(r.get(), get_for_head)) {
        get_for_head = r.get();
        get_match = m;
      }
    } else if (allowed.find(r->method) == std::string::npos) {
      if (!allowed.empty()) allowed += ", ";
      allowed += r->method;
    }
  }
  if (!best.r && get_for_head) best = get_match;
  return best.r != nullptr;
}

void router::dispatch(request_ptr req, completion done) const {
  auto finish = [this, req, done = std::move(done)](response&& r) mutable {
    add_standard_headers(*req, r);
    done(std::move(r));
  };
  if (req->path.empty() && !req->parse_target()) {
    finish(error_response(400, "Malformed request target"));
    return;
  }
  match m;
  std::string allowed;
  if (!find(*req, m, allowed)) {
    bool api = is_api_path(req->path);
    if (api && req->method == "OPTIONS") {
      finish(empty_response(200));
    } else if (!allowed.empty()) {
      response r = error_response(405);
      r.set_header("Allow", allowed);
      finish(std::move(r));
    } else if (!api && fallback_) {
      try {
        fallback_(req, responder(std::move(finish)));
      } catch (const std::exception& e) {
        spdlog::error("http: fallback handler threw on {} {}: {}", req->method, req->path, e.what());
      }
    } else {
      finish(error_response(404));
    }
    return;
  }
  std::size_t c = 0;
  for (const auto& s : m.r->segments) {
    if (s.kind == seg_kind::literal) continue;
    std::string value;
    if (!percent_decode(m.captures[c++], value, false) || !is_clean_text(value)) {
      finish(error_response(400, "Invalid characters in URL path"));
      return;
    }
    req->params.insert_or_assign(s.text, std::move(value));
  }
  responder res(std::move(finish));
  try {
    m.r->h(req, res);
  } catch (const std::exception& e) {
    // an escaping exception must not take the io thread down; answer if nobody did
    spdlog::error("http: handler for {} {} threw: {}", req->method, m.r->pattern, e.what());
    if (!res.sent()) res(error_response(500));
  } catch (...) {
    spdlog::error("http: handler for {} {} threw a non-standard exception", req->method, m.r->pattern);
    if (!res.sent()) res(error_response(500));
  }
}

request_ptr make_request(std::string_view method, std::string_view target, std::string body, header_list headers) {
  auto req = std::make_shared<request>();
  req->method = std::string(method);
  req->target = std::string(target);
  req->body = std::move(body);
  req->headers = std::move(headers);
  req->in_process = true;
  if (!req->parse_target()) return nullptr;
  return req;
}

}  // namespace hubd::core::http
