#include "core/http/xsrf.hpp"

#include "core/http/cookies.hpp"
#include "core/http/url_codec.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

namespace hubd::core::http {

namespace {
constexpr auto xsrf_max_age = std::chrono::hours(24 * 31);

// First _xsrf cookie whose signature is valid (several may exist on different paths).
std::optional<std::pair<std::string_view, std::string>> valid_xsrf_cookie(const request& req,
                                                                          const cookie_signer& signer) {
  for (const auto& [k, v] : req.headers) {
    if (!iequals(k, "cookie")) continue;
    for (auto [name, value] : parse_cookie_header(v)) {
      if (name != xsrf_cookie_name) continue;
      if (auto id = signer.verify_urlsafe(xsrf_cookie_name, value, xsrf_max_age)) return std::pair{value, *id};
    }
  }
  return std::nullopt;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}
}  // namespace

std::string session_xsrf_id(std::string_view session_id, std::string_view cookie_id) {
  std::string out;
  out.reserve(session_id.size() + cookie_id.size() + 1);
  out.append(session_id).append(":").append(cookie_id);
  return out;
}

std::string anonymous_xsrf_id(const request& req) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(req.remote_addr.data()), req.remote_addr.size());
  auto ua = req.header("user-agent").value_or("");
  crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(ua.data()), ua.size());
  const unsigned char delimiter = 0xff;  // not valid UTF-8, so fields cannot run together
  crypto_hash_sha256_update(&st, &delimiter, 1);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, digest);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest), true);
}

xsrf_token xsrf_token_for(const request& req, const cookie_signer& signer, std::string_view xsrf_id) {
  auto cookie = valid_xsrf_cookie(req, signer);
  if (cookie && cookie->second == xsrf_id) return {std::string(cookie->first), false};
  xsrf_token out;
  out.token = signer.sign_urlsafe(xsrf_cookie_name, xsrf_id);
  auto mode = req.header("sec-fetch-mode");
  out.set_cookie = !mode || *mode == "navigate";
  if (cookie && !out.set_cookie) spdlog::warn("xsrf: not accepting an _xsrf cookie bound to another id on {}", req.path);
  return out;
}

std::string xsrf_set_cookie(std::string_view token, std::string_view cookie_path, bool authenticated, bool secure) {
  cookie_options o;
  o.path = std::string(cookie_path);
  o.secure = secure;
  // As the login cookies: no page script reads it (pages carry the token in their forms and data).
  o.http_only = true;
  o.same_site = "Lax";
  if (!authenticated) o.max_age = std::chrono::seconds(3600);
  return set_cookie_header(xsrf_cookie_name, token, o);
}

bool xsrf_check_needed(const request& req) {
  std::string_view mode = req.header("sec-fetch-mode").value_or("unspecified");
  std::string_view site = req.header("sec-fetch-site").value_or("unspecified");
  bool read_only = iequals(req.method, "GET") || iequals(req.method, "HEAD") || iequals(req.method, "OPTIONS");
  if (mode == "websocket") return false;
  if (read_only && (mode == "navigate" || mode == "unspecified")) return false;
  if (read_only && mode == "no-cors" && site == "same-origin") return false;
  return true;
}

std::optional<std::string> check_xsrf(const request& req, const cookie_signer& signer, std::string_view xsrf_id,
                                      const query_map* form) {
  if (!xsrf_check_needed(req)) return std::nullopt;
  std::optional<std::string_view> sent = req.query_arg("_xsrf");
  if (!sent && form) {
    auto it = form->find("_xsrf");
    if (it != form->end()) sent = it->second;
  }
  if (!sent || sent->empty()) sent = req.header("x-xsrftoken");
  if (!sent || sent->empty()) sent = req.header("x-csrftoken");
  if (!sent || sent->empty()) return "'_xsrf' argument missing from " + req.method;
  // stricter than a regenerated token: the browser must hold the cookie, bound to this id
  auto cookie = valid_xsrf_cookie(req, signer);
  if (!cookie || cookie->second != xsrf_id || !constant_time_equals(*sent, cookie->first))
    return "XSRF cookie does not match " + req.method + " argument";
  return std::nullopt;
}

bool cookie_auth_allowed_for_content_type(const request& req) {
  if (!iequals(req.method, "POST")) return true;
  auto ct = req.header("content-type");
  if (!ct || ct->empty()) return true;
  std::string l = lower(*ct);
  std::string_view rest = l;
  while (true) {
    auto semi = rest.find(';');
    std::string_view field = rest.substr(0, semi);
    while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
    if (field.substr(0, 16) == "application/json") return true;
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  spdlog::warn("http: not allowing cookie-authenticated POST with content-type {}", *ct);
  return false;
}

}  // namespace hubd::core::http
