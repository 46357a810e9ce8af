#include "core/http/authorization.hpp"
#include "core/http/cookies.hpp"
#include "core/http/form.hpp"
#include "core/http/next_url.hpp"
#include "core/http/redact.hpp"
#include "core/http/request.hpp"
#include "core/http/signed_value.hpp"
#include "core/http/url_codec.hpp"
#include "core/http/xsrf.hpp"

#include <catch2/catch.hpp>

using namespace hubd::core::http;
using namespace std::chrono_literals;

TEST_CASE("percent decoding and text checks", "[http][codec]") {
  std::string out;
  CHECK(percent_decode("a%20b+c", out, true));
  CHECK(out == "a b c");
  out.clear();
  CHECK(percent_decode("a%2Fb+c", out, false));
  CHECK(out == "a/b+c");
  out.clear();
  CHECK_FALSE(percent_decode("%4", out, false));
  CHECK_FALSE(percent_decode("%zz", out, false));
  CHECK_FALSE(percent_decode("abc%", out, false));
  CHECK(is_valid_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  CHECK_FALSE(is_valid_utf8("\xc3"));              // truncated
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_clean_text(std::string_view("a\0b", 3)));
  CHECK(percent_encode("a b/é") == "a%20b%2F%C3%A9");
}

TEST_CASE("request target parsing decodes the query", "[http][request]") {
  request r;
  r.target = "/hub/api/users?name_filter=a+b&x=%C3%A9&x=2&flag";
  REQUIRE(r.parse_target());
  CHECK(r.path == "/hub/api/users");
  CHECK(r.query_arg("name_filter") == "a b");
  CHECK(r.query_args("x") == std::vector<std::string_view>{"\xc3\xa9", "2"});
  CHECK(r.query_arg("flag") == "");
  CHECK_FALSE(r.query_arg("nope"));
  request bad;
  bad.target = "/x?a=%00";
  CHECK_FALSE(bad.parse_target());
  bad.target = "/x?a=%ff";
  CHECK_FALSE(bad.parse_target());
  bad.target = "/x?a=%zz";
  CHECK_FALSE(bad.parse_target());
  bad.target = "not a target";
  CHECK_FALSE(bad.parse_target());
}

TEST_CASE("cookie header parsing", "[http][cookies]") {
  auto all = parse_cookie_header("a=1; b=\"two\";c=; =x; noeq; a=3");
  REQUIRE(all.size() == 4);
  CHECK(all[1].second == "two");
  CHECK(all[2].second == "");
  CHECK(find_cookie("a=1; b=2", "b") == "2");
  CHECK(find_cookie("a=1; a=2", "a") == "1");
  CHECK_FALSE(find_cookie("ab=1", "a"));
  request r;
  r.headers = {{"Cookie", "x=1"}, {"cookie", "jupyterhub-session-id=abc"}};
  CHECK(r.cookie("jupyterhub-session-id") == "abc");
}

TEST_CASE("Set-Cookie building and clearing", "[http][cookies]") {
  cookie_options o;
  o.path = "/hub/";
  o.secure = true;
  o.same_site = "Lax";
  o.max_age = 3600s;
  CHECK(set_cookie_header("jupyterhub-hub-login", "v", o) ==
        "jupyterhub-hub-login=v; Max-Age=3600; Path=/hub/; SameSite=Lax; Secure; HttpOnly");
  cookie_options e;
  e.expires = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  CHECK(set_cookie_header("a", "b", e) == "a=b; expires=Tue, 14 Nov 2023 22:13:20 GMT; Path=/; HttpOnly");
  CHECK(clear_cookie_header("a", o) ==
        "a=; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/hub/; SameSite=Lax; Secure; HttpOnly");
  CHECK_THROWS_AS(set_cookie_header("a;b", "x", o), std::invalid_argument);
  CHECK_THROWS_AS(set_cookie_header("a", "x;y", o), std::invalid_argument);
  CHECK_THROWS_AS(set_cookie_header("a", "x\r\nSet-Cookie: evil", o), std::invalid_argument);
  cookie_options bad;
  bad.path = "/x; Domain=evil";
  CHECK_THROWS_AS(set_cookie_header("a", "x", bad), std::invalid_argument);
}

TEST_CASE("signed cookie values", "[http][cookies]") {
  cookie_signer s(std::string("\x01\x02secret-bytes\x00\xff", 16));
  auto now = std::chrono::system_clock::now();
  std::string v = s.sign("jupyterhub-hub-login", "cookie-id-123", now);
  CHECK(s.verify("jupyterhub-hub-login", v, 14 * 24h, now) == "cookie-id-123");
  SECTION("expired") { CHECK_FALSE(s.verify("jupyterhub-hub-login", v, 10s, now + 11s)); }
  SECTION("from the far future") { CHECK_FALSE(s.verify("jupyterhub-hub-login", s.sign("jupyterhub-hub-login", "x", now + 24h * 40), 1h, now)); }
  SECTION("other cookie name") { CHECK_FALSE(s.verify("_xsrf", v, 14 * 24h, now)); }
  SECTION("tampered") {
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string t = v;
      t[i] = t[i] == 'a' ? 'b' : 'a';
      CHECK_FALSE(s.verify("jupyterhub-hub-login", t, 14 * 24h, now));
    }
    CHECK_FALSE(s.verify("jupyterhub-hub-login", v.substr(0, v.size() - 1), 14 * 24h, now));
    CHECK_FALSE(s.verify("jupyterhub-hub-login", "", 14 * 24h, now));
    CHECK_FALSE(s.verify("jupyterhub-hub-login", "2|1:0|99999999:x|", 14 * 24h, now));
  }
  SECTION("other secret") {
    cookie_signer other("another secret");
    CHECK_FALSE(other.verify("jupyterhub-hub-login", v, 14 * 24h, now));
  }
  SECTION("binary values and url-safe form") {
    std::string bin("\x00\x01|:;=\xff", 7);
    auto t = s.sign_urlsafe("_xsrf", bin, now);
    CHECK(t.find_first_of("+/=|") == std::string::npos);
    CHECK(s.verify_urlsafe("_xsrf", t, 1h, now) == bin);
    CHECK_FALSE(s.verify_urlsafe("_xsrf", t + "A", 1h, now));
    CHECK_FALSE(s.verify_urlsafe("_xsrf", "!!!", 1h, now));
  }
  CHECK_THROWS_AS(cookie_signer(""), std::invalid_argument);
}

namespace {
request_ptr make(std::string method, header_list headers, std::string target = "/hub/api/users") {
  auto r = std::make_shared<request>();
  r->method = std::move(method);
  r->target = std::move(target);
  r->headers = std::move(headers);
  r->remote_addr = "10.0.0.1";
  REQUIRE(r->parse_target());
  return r;
}
}  // namespace

TEST_CASE("XSRF token issue and check", "[http][xsrf]") {
  cookie_signer s("cookie-secret");
  std::string id = session_xsrf_id("sess", "cookie-id");
  // first page view: no cookie, navigation → token issued and to be set
  auto nav = make("GET", {});
  auto first = xsrf_token_for(*nav, s, id);
  CHECK(first.set_cookie);
  CHECK(xsrf_set_cookie(first.token, "/hub/", false, false).find("Max-Age=3600") != std::string::npos);
  CHECK(xsrf_set_cookie(first.token, "/hub/", true, true).find("Max-Age") == std::string::npos);
  // a fetch() from a script never gets the cookie set
  auto fetch = make("GET", {{"Sec-Fetch-Mode", "cors"}});
  CHECK_FALSE(xsrf_token_for(*fetch, s, id).set_cookie);

  std::string cookie = "_xsrf=" + first.token;
  SECTION("cookie reused when bound to the same id") {
    auto again = make("GET", {{"Cookie", cookie}});
    auto t = xsrf_token_for(*again, s, id);
    CHECK(t.token == first.token);
    CHECK_FALSE(t.set_cookie);
  }
  SECTION("header, alternate header, query and form argument pass") {
    CHECK_FALSE(check_xsrf(*make("POST", {{"Cookie", cookie}, {"X-XSRFToken", first.token}}), s, id));
    CHECK_FALSE(check_xsrf(*make("DELETE", {{"Cookie", cookie}, {"X-CSRFToken", first.token}}), s, id));
    CHECK_FALSE(check_xsrf(*make("POST", {{"Cookie", cookie}}, "/hub/api/users?_xsrf=" + first.token), s, id));
    query_map form{{"_xsrf", first.token}};
    CHECK_FALSE(check_xsrf(*make("POST", {{"Cookie", cookie}}), s, id, &form));
  }
  SECTION("missing token") {
    auto msg = check_xsrf(*make("POST", {{"Cookie", cookie}}), s, id);
    REQUIRE(msg);
    CHECK(*msg == "'_xsrf' argument missing from POST");
  }
  SECTION("token without the cookie, or of another id, or forged") {
    CHECK(check_xsrf(*make("POST", {{"X-XSRFToken", first.token}}), s, id));
    auto other = s.sign_urlsafe("_xsrf", session_xsrf_id("sess2", "cookie-id"));
    CHECK(check_xsrf(*make("POST", {{"Cookie", "_xsrf=" + other}, {"X-XSRFToken", other}}), s, id));
    CHECK(check_xsrf(*make("POST", {{"Cookie", "_xsrf=forged"}, {"X-XSRFToken", "forged"}}), s, id));
    auto msg = check_xsrf(*make("PATCH", {{"Cookie", cookie}, {"X-XSRFToken", first.token + "x"}}), s, id);
    REQUIRE(msg);
    CHECK(*msg == "XSRF cookie does not match PATCH argument");
  }
  SECTION("a valid cookie among several is found") {
    auto r = make("POST", {{"Cookie", "_xsrf=junk; _xsrf=" + first.token}, {"X-XSRFToken", first.token}});
    CHECK_FALSE(check_xsrf(*r, s, id));
  }
  SECTION("GET exemptions by Sec-Fetch-Mode") {
    CHECK_FALSE(xsrf_check_needed(*make("GET", {})));
    CHECK_FALSE(xsrf_check_needed(*make("GET", {{"Sec-Fetch-Mode", "navigate"}})));
    CHECK_FALSE(xsrf_check_needed(*make("GET", {{"Sec-Fetch-Mode", "websocket"}})));
    CHECK_FALSE(xsrf_check_needed(*make("GET", {{"Sec-Fetch-Mode", "no-cors"}, {"Sec-Fetch-Site", "same-origin"}})));
    CHECK(xsrf_check_needed(*make("GET", {{"Sec-Fetch-Mode", "no-cors"}, {"Sec-Fetch-Site", "cross-site"}})));
    CHECK(xsrf_check_needed(*make("GET", {{"Sec-Fetch-Mode", "cors"}})));
    CHECK(xsrf_check_needed(*make("POST", {})));
    CHECK(xsrf_check_needed(*make("POST", {{"Sec-Fetch-Mode", "navigate"}})));
    CHECK_FALSE(check_xsrf(*make("GET", {}), s, id));
    CHECK(check_xsrf(*make("GET", {{"Sec-Fetch-Mode", "cors"}}), s, id));
  }
  SECTION("anonymous ids depend on address and user agent") {
    auto a = anonymous_xsrf_id(*make("GET", {{"User-Agent", "x"}}));
    auto b = anonymous_xsrf_id(*make("GET", {{"User-Agent", "y"}}));
    CHECK(a != b);
    CHECK(a == anonymous_xsrf_id(*make("GET", {{"User-Agent", "x"}})));
  }
}

TEST_CASE("cookie auth on a POST needs a JSON content type", "[http][xsrf]") {
  CHECK(cookie_auth_allowed_for_content_type(*make("POST", {})));
  CHECK(cookie_auth_allowed_for_content_type(*make("POST", {{"Content-Type", "application/json"}})));
  CHECK(cookie_auth_allowed_for_content_type(*make("POST", {{"Content-Type", "Application/JSON; charset=utf-8"}})));
  CHECK_FALSE(cookie_auth_allowed_for_content_type(*make("POST", {{"Content-Type", "text/plain"}})));
  CHECK_FALSE(cookie_auth_allowed_for_content_type(
      *make("POST", {{"Content-Type", "application/x-www-form-urlencoded"}})));
  CHECK(cookie_auth_allowed_for_content_type(*make("PATCH", {{"Content-Type", "text/plain"}})));
}

TEST_CASE("form bodies", "[http][form]") {
  auto f = parse_form("scopes=read%3Ausers&scopes=admin%3Agroups&_xsrf=abc&name=a+b&empty=&flag");
  REQUIRE(f);
  CHECK(f->count("scopes") == 2);
  CHECK(f->find("name")->second == "a b");
  CHECK(f->find("empty")->second == "");
  CHECK(f->find("flag")->second == "");
  CHECK(parse_form("")->empty());
  CHECK_FALSE(parse_form("a=%zz"));
  CHECK_FALSE(parse_form("a=%00"));
  CHECK_FALSE(parse_form("a=%C3"));
  CHECK(is_form_content_type(*make("POST", {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}})));
  CHECK_FALSE(is_form_content_type(*make("POST", {{"Content-Type", "application/json"}})));
}

TEST_CASE("Authorization header", "[http][auth]") {
  CHECK(parse_authorization_token("token abc123") == "abc123");
  CHECK(parse_authorization_token("Token abc123") == "abc123");
  CHECK(parse_authorization_token("Bearer abc123") == "abc123");
  CHECK(parse_authorization_token("bEaReR   abc123  ") == "abc123");
  CHECK_FALSE(parse_authorization_token("Basic dXNlcjpwYXNz"));
  CHECK_FALSE(parse_authorization_token("token"));
  CHECK_FALSE(parse_authorization_token("token "));
  CHECK_FALSE(parse_authorization_token("tokenabc"));
  CHECK_FALSE(parse_authorization_token("token a b"));
  CHECK_FALSE(parse_authorization_token(""));
}

TEST_CASE("next URL validation", "[http][next]") {
  struct row {
    std::string next;
    std::string expected;  // "" = rejected
  };
  const std::string host = "hub.example.org:8000";
  std::vector<row> table = {
      {"/hub/home", "/hub/home"},
      {"/user/alice/lab?x=1#frag", "/user/alice/lab?x=1#frag"},
      {"/", "/"},
      {"", ""},
      {"hub/home", ""},
      {"//evil.com", ""},
      {"//evil.com/hub/", ""},
      {"///evil.com", ""},
      {"////evil.com/x", ""},
      {"\\\\evil.com", ""},
      {"/\\evil.com", ""},
      {"\\/evil.com", ""},
      {"/%2F/evil.com", ""},
      {"/%2f%2fevil.com", ""},
      {"%2F%2Fevil.com", ""},
      {"/%5Cevil.com", ""},
      {"/%5c%5cevil.com", ""},
      {"/\t/evil.com", ""},
      {"/\n/evil.com", ""},
      {"/x\r\nSet-Cookie: a=b", ""},
      {"https://evil.com/hub/", ""},
      {"http://evil.com", ""},
      {"javascript:alert(1)", ""},
      {"data:text/html,hi", ""},
      {"http:/hub/home", ""},
      {"http://hub.example.org:8000/hub/home?a=b", "/hub/home?a=b"},
      {"HTTP://HUB.example.org:8000/hub/home", "/hub/home"},
      {"http://hub.example.org:8000", "/"},
      {"https://hub.example.org:8000/hub/home", ""},  // other scheme
      {"http://hub.example.org/hub/home", ""},        // other port
      {"http://hub.example.org:8000@evil.com/", ""},
      {"//hub.example.org:8000/hub/spawn", "/hub/spawn"},
      {"/hub/../../etc/passwd", ""},
      {"/hub/%2e%2e/x", ""},
      {"/hub/./x", ""},
      {"/%00", ""},
  };
  for (const auto& r : table) {
    INFO("next = " << r.next);
    CHECK(validate_next_url(r.next, "/", host, "http") == r.expected);
  }
  // with a base URL, only paths under it
  CHECK(validate_next_url("/jh/hub/home", "/jh/", host, "http") == "/jh/hub/home");
  CHECK(validate_next_url("/jh", "/jh/", host, "http") == "/jh");
  CHECK(validate_next_url("/jhx/hub", "/jh/", host, "http") == "");
  CHECK(validate_next_url("/other/", "/jh/", host, "http") == "");
  CHECK(validate_next_url("/jh%2Fhub", "/jh/", host, "http") == "");
  CHECK(validate_next_url("http://hub.example.org:8000/jh/hub/x", "/jh/", host, "http") == "/jh/hub/x");
  CHECK(validate_next_url("http://hub.example.org:8000/", "/jh/", host, "http") == "");
  CHECK(validate_next_url("/hub/home", "/", "", "http") == "/hub/home");
  CHECK(validate_next_url("//x/hub/home", "/", "", "http") == "");
}

TEST_CASE("token redaction in logged URLs", "[http][redact]") {
  CHECK(redact_target("/hub/api/authorizations/token/abcdef") == "/hub/api/authorizations/token/[secret]");
  CHECK(redact_target("/hub/api/authorizations/cookie/jupyterhub-services/xyz") ==
        "/hub/api/authorizations/cookie/jupyterhub-services/[secret]");
  CHECK(redact_target("/user/a/lab?token=abc&x=1") == "/user/a/lab?token=[secret]&x=1");
  CHECK(redact_target("/hub/oauth_callback?code=c&state=s&other=o") ==
        "/hub/oauth_callback?code=[secret]&state=[secret]&other=o");
  CHECK(redact_target("/x?_xsrf=t&api_key=k&Auth=z&plain") == "/x?_xsrf=[secret]&api_key=[secret]&Auth=[secret]&plain");
  CHECK(redact_target("/hub/api/users") == "/hub/api/users");
  CHECK(redact_target("/x?") == "/x?");
}
