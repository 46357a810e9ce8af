#include "core/http/jupyterhub_version.hpp"
#include "core/http/router.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <future>
#include <thread>

using namespace hubd::core::http;
using json = nlohmann::json;

namespace {
response call(const router& rt, std::string method, std::string target, header_list headers = {}) {
  auto req = make_request(method, target, {}, std::move(headers));
  if (!req) {
    response r;
    r.status = -1;
    return r;
  }
  std::promise<response> p;
  auto f = p.get_future();
  rt.dispatch(req, [&p](response&& r) { p.set_value(std::move(r)); });
  return f.get();
}

handler echo_params() {
  return [](const request_ptr& req, responder res) {
    json j = json::object();
    for (const auto& [k, v] : req->params) j[k] = v;
    res(json_response(200, j));
  };
}
}  // namespace

TEST_CASE("routing by method and pattern with decoded parameters", "[http][router]") {
  router rt;
  rt.add("GET", "/hub/api/users/{name}", echo_params());
  rt.add("DELETE", "/hub/api/users/{name}", echo_params());
  rt.add("GET", "/hub/api/users/{name}/servers/{server}", echo_params());
  rt.add("GET", "/hub/api/users/{name}/server", [](const request_ptr&, responder res) {
    res(json_response(200, json{{"default", true}}));
  });
  rt.add("GET", "/hub/static/{path*}", echo_params());

  auto r = call(rt, "GET", "/hub/api/users/alice");
  CHECK(r.status == 200);
  CHECK(json::parse(r.body) == json{{"name", "alice"}});

  SECTION("unicode and escapes are decoded") {
    CHECK(json::parse(call(rt, "GET", "/hub/api/users/%C3%A9l%C3%A8ve").body)["name"] == "\xc3\xa9l\xc3\xa8ve");
    CHECK(json::parse(call(rt, "GET", "/hub/api/users/a%20b").body)["name"] == "a b");
    CHECK(json::parse(call(rt, "GET", "/hub/api/users/a+b").body)["name"] == "a+b");
  }
  SECTION("an encoded slash stays inside one parameter") {
    auto j = json::parse(call(rt, "GET", "/hub/api/users/a%2Fb").body);
    CHECK(j["name"] == "a/b");
    // it is not re-split into more segments: the servers route does not match
    auto k = json::parse(call(rt, "GET", "/hub/api/users/a%2Fservers%2Fx").body);
    CHECK(k["name"] == "a/servers/x");
  }
  SECTION("traversal forms are plain values") {
    CHECK(json::parse(call(rt, "GET", "/hub/api/users/..%2F..%2Fetc").body)["name"] == "../../etc");
    CHECK(json::parse(call(rt, "GET", "/hub/api/users/%2E%2E").body)["name"] == "..");
  }
  SECTION("NUL, invalid UTF-8 and bad escapes are 400") {
    // a malformed escape does not even parse as a target (the server answers 400 for it)
    CHECK_FALSE(make_request("GET", "/hub/api/users/%zz"));
    for (const char* t : {"/hub/api/users/a%00b", "/hub/api/users/%FF", "/hub/api/users/%C3"}) {
      INFO(t);
      auto bad = call(rt, "GET", t);
      CHECK(bad.status == 400);
      CHECK(json::parse(bad.body)["status"] == 400);
    }
  }
  SECTION("empty server name for the default server path with a slash") {
    CHECK(json::parse(call(rt, "GET", "/hub/api/users/u/servers/").body) == json{{"name", "u"}, {"server", ""}});
    CHECK(json::parse(call(rt, "GET", "/hub/api/users/u/servers/gpu").body)["server"] == "gpu");
    CHECK(json::parse(call(rt, "GET", "/hub/api/users/u/server").body)["default"] == true);
  }
  SECTION("tail parameter") {
    CHECK(json::parse(call(rt, "GET", "/hub/static/js/a%20b.js").body)["path"] == "js/a b.js");
  }
  SECTION("404 and 405 are JSON errors") {
    auto nf = call(rt, "GET", "/hub/api/nothing");
    CHECK(nf.status == 404);
    CHECK(json::parse(nf.body) == json{{"status", 404}, {"message", "Not Found"}});
    auto na = call(rt, "PATCH", "/hub/api/users/alice");
    CHECK(na.status == 405);
    CHECK(na.header("Allow") == "GET, DELETE");
    CHECK(json::parse(na.body)["message"] == "Method Not Allowed");
  }
  SECTION("HEAD falls back to GET") { CHECK(call(rt, "HEAD", "/hub/api/users/x").status == 200); }
  SECTION("OPTIONS on API paths is 200 and empty") {
    auto o = call(rt, "OPTIONS", "/hub/api/anything/at/all");
    CHECK(o.status == 200);
    CHECK(o.body.empty());
  }
}

TEST_CASE("standard headers on every response", "[http][router]") {
  router_options o;
  o.version = "5.2.1";
  o.extra_headers = {{"X-Extra", "1"}, {"Content-Security-Policy", "ignored because the router sets it"}};
  router rt(o);
  rt.add("GET", "/hub/api/", [](const request_ptr&, responder res) { res(json_response(200, {{"version", "x"}})); });
  rt.add("GET", "/hub/home", [](const request_ptr&, responder res) { res(html_response(200, "<p>")); });
  auto api = call(rt, "GET", "/hub/api/");
  CHECK(api.header("X-JupyterHub-Version") == "5.2.1");
  CHECK(api.header("Content-Security-Policy") ==
        "frame-ancestors 'none'; report-uri /hub/security/csp-report; default-src 'none'");
  CHECK(api.header("Access-Control-Allow-Headers") == "accept, content-type, authorization");
  CHECK(api.header("Content-Type") == "application/json");
  CHECK(api.header("X-Extra") == "1");
  auto page = call(rt, "GET", "/hub/home");
  CHECK(page.header("Content-Security-Policy") == "frame-ancestors 'none'; report-uri /hub/security/csp-report");
  // An HTML page under hub/api (the OAuth confirmation page) loads the hub's CSS and scripts.
  rt.add("GET", "/hub/api/oauth2/authorize", [](const request_ptr&, responder res) { res(html_response(200, "<p>")); });
  CHECK(call(rt, "GET", "/hub/api/oauth2/authorize").header("Content-Security-Policy") ==
        "frame-ancestors 'none'; report-uri /hub/security/csp-report");
  auto missing = call(rt, "GET", "/nowhere");
  CHECK(missing.status == 404);
  CHECK(missing.header("X-JupyterHub-Version") == "5.2.1");
  // Without a version the header names the JupyterHub release whose API hubd implements, not hubd's own.
  router plain;
  CHECK(call(plain, "GET", "/x").header("X-JupyterHub-Version") == std::string(jupyterhub_api_version));
  CHECK(std::string(jupyterhub_api_version) != HUBD_VERSION);
}

TEST_CASE("base URL prefix", "[http][router]") {
  router_options o;
  o.base_url = "/jh";  // normalised to /jh/
  router rt(o);
  rt.add("GET", "/hub/api/users/{name}", echo_params());
  rt.add("GET", "/", [](const request_ptr&, responder res) { res(empty_response(200)); });
  CHECK(call(rt, "GET", "/jh/hub/api/users/a").status == 200);
  CHECK(call(rt, "GET", "/hub/api/users/a").status == 404);
  CHECK(call(rt, "GET", "/jh/").status == 200);
  CHECK(call(rt, "GET", "/jh").status == 200);
  CHECK(call(rt, "GET", "/jhx/hub/api/users/a").status == 404);
  CHECK(rt.is_api_path("/jh/hub/api"));
  CHECK(rt.is_api_path("/jh/hub/api/users"));
  CHECK_FALSE(rt.is_api_path("/jh/hub/apix"));
  CHECK_FALSE(rt.is_api_path("/hub/api/users"));
  CHECK(call(rt, "GET", "/jh/hub/api/users/a").header("Content-Security-Policy") ==
        "frame-ancestors 'none'; report-uri /jh/hub/security/csp-report; default-src 'none'");
  CHECK(call(rt, "OPTIONS", "/jh/hub/api/x").status == 200);
  CHECK(call(rt, "OPTIONS", "/jh/hub/x").status == 404);
}

TEST_CASE("fallback handles unmatched page paths, not API paths", "[http][router]") {
  router rt;
  rt.set_fallback([](const request_ptr&, responder res) { res(html_response(404, "<h1>404</h1>")); });
  CHECK(call(rt, "GET", "/hub/nope").body == "<h1>404</h1>");
  CHECK(json::parse(call(rt, "GET", "/hub/api/nope").body)["status"] == 404);
}

TEST_CASE("responder semantics", "[http][router]") {
  router rt;
  rt.add("GET", "/later", [](const request_ptr& req, responder res) {
    std::thread([req, res] {
      req->principal = "alice";
      res(json_response(200, {{"from", "thread"}}));
    }).detach();
  });
  rt.add("GET", "/dropped", [](const request_ptr&, responder) {});
  rt.add("GET", "/twice", [](const request_ptr&, responder res) {
    CHECK(res(empty_response(201)));
    CHECK_FALSE(res(empty_response(500)));
  });
  rt.add("GET", "/throws", [](const request_ptr&, responder) { throw std::runtime_error("boom"); });
  rt.add("GET", "/throws-after-answer", [](const request_ptr&, responder res) {
    res(empty_response(204));
    throw std::runtime_error("late boom");
  });
  CHECK(json::parse(call(rt, "GET", "/later").body)["from"] == "thread");
  auto dropped = call(rt, "GET", "/dropped");
  CHECK(dropped.status == 500);
  CHECK(json::parse(dropped.body)["status"] == 500);
  CHECK(call(rt, "GET", "/twice").status == 201);
  CHECK(call(rt, "GET", "/throws").status == 500);
  CHECK(call(rt, "GET", "/throws-after-answer").status == 204);
}

TEST_CASE("in-process requests", "[http][router]") {
  router rt;
  rt.add("POST", "/hub/api/users/{name}", [](const request_ptr& req, responder res) {
    CHECK(req->in_process);
    res(json_response(201, {{"name", req->param("name")}, {"body", req->body}, {"q", req->query_arg("x").value_or("")}}));
  });
  auto req = make_request("POST", "/hub/api/users/bob?x=1", "{}");
  REQUIRE(req);
  std::promise<response> p;
  rt.dispatch(req, [&](response&& r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  CHECK(r.status == 201);
  CHECK(json::parse(r.body) == json{{"name", "bob"}, {"body", "{}"}, {"q", "1"}});
  CHECK_FALSE(make_request("GET", "no slash"));
}

TEST_CASE("bad patterns are rejected at registration", "[http][router]") {
  router rt;
  auto h = [](const request_ptr&, responder) {};
  CHECK_THROWS_AS(rt.add("GET", "no-slash", h), std::invalid_argument);
  CHECK_THROWS_AS(rt.add("GET", "/a/{}", h), std::invalid_argument);
  CHECK_THROWS_AS(rt.add("GET", "/a/{x*}/b", h), std::invalid_argument);
  CHECK_THROWS_AS(rt.add("GET", "/a/x{y}", h), std::invalid_argument);
  CHECK_THROWS_AS(rt.add("", "/a", h), std::invalid_argument);
}

TEST_CASE("error responses", "[http][response]") {
  CHECK(json::parse(error_response(403).body) == json{{"status", 403}, {"message", "Forbidden"}});
  CHECK(json::parse(error_response(400, "Invalid JSON in body of request").body)["message"] ==
        "Invalid JSON in body of request");
  CHECK(json::parse(error_response(599).body)["message"] == "Unknown");
  auto red = redirect_response("/hub/login?next=%2Fhub%2F");
  CHECK(red.status == 302);
  CHECK(red.header("location") == "/hub/login?next=%2Fhub%2F");
  CHECK(empty_response(204).header("Content-Type") == "text/plain");
  // invalid UTF-8 in a JSON string does not throw
  CHECK(json_response(200, json{{"x", std::string("\xff")}}).status == 200);
}
