// libFuzzer target: hubd's own layers over the HTTP parser (Beast parses the wire; hubd gets
// method, target, headers and body). The input is "METHOD TARGET" on the first line, header lines
// "Name: value", an empty line, then the body. It runs target splitting and query decoding, the
// router (base URL, path parameters, 404/405, standard headers), cookies, the Authorization header,
// form bodies, `next` validation and signed cookie verification. Any crash, sanitizer report or
// escaping exception is a bug, and so is a decoded value that is not clean text or a `next` that
// leaves the hub.
#include "core/http/authorization.hpp"
#include "core/http/cookies.hpp"
#include "core/http/form.hpp"
#include "core/http/next_url.hpp"
#include "core/http/request.hpp"
#include "core/http/router.hpp"
#include "core/http/signed_value.hpp"
#include "core/http/url_codec.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace http = hubd::core::http;

namespace {

http::router& the_router() {
  static http::router* r = [] {
    auto* rt = new http::router(http::router_options{"/jh/", "", {}});
    auto ok = [](const http::request_ptr&, http::responder respond) { respond(http::empty_response(204)); };
    rt->add("GET", "/hub/api/users/{name}", ok);
    rt->add("POST", "/hub/api/users/{name}/servers/{server_name}", ok);
    rt->add("GET", "/user/{name}/{rest*}", [](const http::request_ptr& req, http::responder respond) {
      // Path parameters arrive decoded; they must be clean text.
      if (!http::is_clean_text(req->param("name"))) __builtin_trap();
      respond(http::empty_response(200));
    });
    return rt;
  }();
  return *r;
}

void check_clean(std::string_view s) {
  if (!http::is_clean_text(s)) __builtin_trap();
}

void check_next(const std::string& next) {
  if (next.empty()) return;
  if (next[0] != '/' || next.rfind("//", 0) == 0 || next.rfind("/\\", 0) == 0) __builtin_trap();
  // Under the base URL: "/jh/...", or the base itself without its slash ("/jh", "/jh?x").
  if (next.rfind("/jh/", 0) != 0 && next != "/jh" && next.rfind("/jh?", 0) != 0 && next.rfind("/jh#", 0) != 0)
    __builtin_trap();
  for (char c : next)
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\') __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto req = std::make_shared<http::request>();
  std::size_t pos = 0;
  auto next_line = [&](std::string_view& line) {
    if (pos >= input.size()) return false;
    auto end = input.find('\n', pos);
    line = input.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? input.size() : end + 1;
    return true;
  };
  std::string_view line;
  if (!next_line(line)) return 0;
  auto sp = line.find(' ');
  req->method = std::string(line.substr(0, sp));
  req->target = sp == std::string_view::npos ? "/" : std::string(line.substr(sp + 1));
  while (next_line(line) && !line.empty()) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    req->headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  req->body = std::string(input.substr(pos));

  if (req->parse_target()) {
    for (const auto& [k, v] : req->query) {
      check_clean(k);
      check_clean(v);
    }
    if (auto next = req->query_arg("next"))
      check_next(http::validate_next_url(*next, "/jh/", req->host(), req->is_tls ? "https" : "http"));
  }
  (void)req->cookie("jupyterhub-session-id");
  for (const auto& [name, value] : req->headers) {
    if (http::iequals(name, "Cookie")) (void)http::parse_cookie_header(value);
    if (http::iequals(name, "Authorization")) (void)http::parse_authorization_token(value);
  }
  if (auto form = http::parse_form(req->body)) {
    for (const auto& [k, v] : *form) {
      check_clean(k);
      check_clean(v);
    }
  }
  check_next(http::validate_next_url(req->body, "/jh/", req->host(), "https"));

  static const http::cookie_signer signer("fuzz-cookie-secret");
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  if (auto c = req->cookie("jupyterhub-hub-login")) (void)signer.verify("jupyterhub-hub-login", *c, std::chrono::hours(24), now);
  (void)signer.verify("jupyterhub-hub-login", req->body, std::chrono::hours(24), now);
  (void)signer.verify_urlsafe("_xsrf", req->body, std::chrono::hours(24), now);
  // What this host signs, it verifies (the body as a value).
  auto signed_value = signer.sign("c", req->body, now);
  auto back = signer.verify("c", signed_value, std::chrono::hours(1), now);
  if (!back || *back != req->body) __builtin_trap();
  if (auto decoded = http::base64_decode(req->body, true)) (void)http::base64_encode(*decoded, true);

  int calls = 0;
  auto routed = std::make_shared<http::request>(*req);
  routed->path.clear();
  routed->query.clear();
  the_router().dispatch(routed, [&calls](http::response&& r) {
    ++calls;
    if (r.status < 100 || r.status > 599) __builtin_trap();
  });
  if (calls != 1) __builtin_trap();  // every handler here answers synchronously, exactly once
  return 0;
}
