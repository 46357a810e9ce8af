// Renders every page template with kainjow mustache and sample data (samples/*.json) and checks
// what a browser would get: escaping of user-provided values, the XSRF field in every POST form,
// no external URLs anywhere (templates and static files).
#include "tests/unit/web/render.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <set>

namespace fs = std::filesystem;
using hubd::tests::web::read_text;
using hubd::tests::web::render_page;
using hubd::tests::web::sample_data;
using nlohmann::json;

namespace {

const fs::path templates_dir = HUBD_WEB_TEMPLATES_DIR;
const fs::path static_dir = HUBD_WEB_STATIC_DIR;
const fs::path samples_dir = HUBD_WEB_SAMPLES_DIR;

const std::vector<std::string> pages = {"login", "logout", "error", "home", "token", "oauth",
                                        "spawn", "spawn_pending", "not_running", "accept_share", "admin"};

// Values the hub renders unescaped on purpose: HTML produced by the spawner plugin or by the hub
// itself, never text a user typed.
const std::set<std::string> raw_fields = {"spawner_options_form", "message_html"};

const std::string hostile = "<i id=pwn>\"'&";
const std::string hostile_escaped = "&lt;i id=pwn&gt;&quot;&apos;&amp;";

json make_hostile(const json& j) {
  if (j.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : j.items()) {
      if (!raw_fields.count(k)) out[k] = make_hostile(v);
    }
    return out;
  }
  if (j.is_array()) {
    json out = json::array();
    for (const auto& v : j) out.push_back(make_hostile(v));
    return out;
  }
  if (j.is_string()) return hostile + j.get<std::string>();
  return j;
}

std::string render_ok(const std::string& page, const json& data) {
  auto r = render_page(templates_dir, page, data);
  INFO(page << ": " << r.error);
  REQUIRE(r.error.empty());
  return r.html;
}

// Plain find() rather than a regex: libstdc++'s regex recurses per character and can overflow
// the stack on a whole page under ASan. Forms in the templates are never nested.
std::vector<std::string> forms_of(const std::string& html) {
  std::vector<std::string> forms;
  for (auto start = html.find("<form"); start != std::string::npos; start = html.find("<form", start + 1)) {
    const auto end = html.find("</form>", start);
    REQUIRE(end != std::string::npos);
    forms.push_back(html.substr(start, end + 7 - start));
  }
  return forms;
}

std::string open_tag(const std::string& form) { return form.substr(0, form.find('>') + 1); }

bool is_post(const std::string& form) {
  static const std::regex post_re(R"(method\s*=\s*"post")", std::regex::icase);
  return std::regex_search(open_tag(form), post_re);
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

// A reference that makes the browser fetch or navigate off the hub: absolute or
// protocol-relative URLs in attributes, CSS url() and @import.
bool has_external_reference(const std::string& text) {
  static const std::regex attr_re(R"((src|href|action|content|poster|data)\s*=\s*["']?\s*(https?:|//|javascript:))",
                                  std::regex::icase);
  static const std::regex css_re(R"((url\(\s*["']?\s*(https?:|//))|@import)", std::regex::icase);
  static const std::regex js_re(R"(["'`]\s*(https?:)?//[A-Za-z0-9])");
  return std::regex_search(text, attr_re) || std::regex_search(text, css_re) || std::regex_search(text, js_re);
}

}  // namespace

TEST_CASE("every page renders with its sample data", "[web]") {
  for (const auto& page : pages) {
    SECTION(page) {
      const auto html = render_ok(page, sample_data(samples_dir, page));
      CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
      CHECK(html.find("data-page=\"" + page + "\"") != std::string::npos);
      CHECK(html.find("<meta name=\"xsrf-token\" content=\"2|a1b2c3d4|") != std::string::npos);
      CHECK(html.find("/hub/static/css/hubd.css?v=0.1.0") != std::string::npos);
      CHECK(html.find("{{") == std::string::npos);
      CHECK(html.find("}}") == std::string::npos);
      CHECK(count(html, "</main>") == 1);
    }
  }
}

TEST_CASE("pages render when every optional field is left out", "[web]") {
  const json minimal = {{"base_url", "/"}, {"static_url", "/hub/static/"}, {"xsrf_token", "t0ken"}};
  for (const auto& page : pages) {
    SECTION(page) {
      const auto html = render_ok(page, minimal);
      CHECK(html.find("data-page=\"" + page + "\"") != std::string::npos);
      // No user: no navigation links, no logout.
      CHECK(html.find("data-testid=\"logout\"") == std::string::npos);
    }
  }
}

TEST_CASE("user-provided values are escaped everywhere", "[web]") {
  for (const auto& page : pages) {
    SECTION(page) {
      const auto html = render_ok(page, make_hostile(sample_data(samples_dir, page)));
      CHECK(html.find("<i id=pwn>") == std::string::npos);
      CHECK(html.find("id=pwn>\"") == std::string::npos);
      CHECK(html.find(hostile_escaped) != std::string::npos);
    }
  }
}

TEST_CASE("templates use raw output only for the hub's own HTML fields", "[web]") {
  static const std::regex raw_re(R"(\{\{\{\s*([\w.]+)\s*\}\}\}|\{\{&\s*([\w.]+)\s*\}\})");
  for (const auto& entry : fs::directory_iterator(templates_dir)) {
    const auto text = read_text(entry.path());
    for (auto it = std::sregex_iterator(text.begin(), text.end(), raw_re); it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
      INFO(entry.path().filename().string() << " renders " << name << " unescaped");
      CHECK(raw_fields.count(name) == 1);
    }
  }
}

TEST_CASE("every POST form carries the XSRF token; other forms are script-only", "[web]") {
  std::size_t post_forms = 0;
  for (const auto& page : pages) {
    const auto data = sample_data(samples_dir, page);
    const auto token = data["xsrf_token"].get<std::string>();
    const auto html = render_ok(page, data);
    for (const auto& form : forms_of(html)) {
      INFO(page << ": " << open_tag(form));
      if (is_post(form)) {
        ++post_forms;
        CHECK(count(form, "<input type=\"hidden\" name=\"_xsrf\" value=\"" + token + "\">") == 1);
      } else {
        // Submitted by fetch() with the X-XSRFToken header; without an action it can never send
        // form data to another place, and it has an id or a testid for the script to find it.
        CHECK(open_tag(form).find("action=") == std::string::npos);
        CHECK((open_tag(form).find("id=") != std::string::npos));
      }
    }
  }
  // login, oauth, spawn, accept_share
  CHECK(post_forms == 4);
}

TEST_CASE("no external URLs in pages or static files", "[web]") {
  for (const auto& page : pages) {
    INFO(page);
    CHECK_FALSE(has_external_reference(render_ok(page, sample_data(samples_dir, page))));
  }
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(static_dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    auto text = read_text(entry.path());
    // An SVG names its XML namespace with a URL that is never fetched.
    for (std::string ns = "xmlns=\"http://www.w3.org/2000/svg\""; text.find(ns) != std::string::npos;) {
      text.erase(text.find(ns), ns.size());
    }
    INFO(entry.path().string());
    CHECK_FALSE(has_external_reference(text));
    CHECK(text.find("http://") == std::string::npos);
    CHECK(text.find("https://") == std::string::npos);
  }
  CHECK(files >= 8);
  CHECK(has_external_reference(R"(<script src="https://cdn.example/x.js">)"));
  CHECK(has_external_reference(R"(<link href="//cdn.example/x.css">)"));
  CHECK(has_external_reference("body { background: url('https://x/y.png') }"));
}

TEST_CASE("static scripts never build markup from strings", "[web]") {
  for (const auto& entry : fs::directory_iterator(static_dir / "js")) {
    const auto text = read_text(entry.path());
    INFO(entry.path().filename().string());
    CHECK(text.find("innerHTML") == std::string::npos);
    CHECK(text.find("outerHTML") == std::string::npos);
    CHECK(text.find("insertAdjacentHTML") == std::string::npos);
    CHECK(text.find("document.write") == std::string::npos);
    CHECK(text.find("eval(") == std::string::npos);
  }
}

TEST_CASE("login page", "[web]") {
  auto data = sample_data(samples_dir, "login");
  SECTION("password form posts to login_url with next, username kept after a failure") {
    const auto html = render_ok("login", data);
    CHECK(html.find("<form action=\"/hub/login?next=%2Fhub%2Fhome\" method=\"post\"") != std::string::npos);
    CHECK(html.find("<input type=\"hidden\" name=\"next\" value=\"/hub/home\">") != std::string::npos);
    CHECK(html.find("name=\"username\" value=\"alice\"") != std::string::npos);
    CHECK(html.find("name=\"password\"") != std::string::npos);
    CHECK(html.find("Invalid username or password") != std::string::npos);
  }
  SECTION("no error area without an error") {
    data.erase("login_error");
    CHECK(render_ok("login", data).find("login-error") == std::string::npos);
  }
  SECTION("a redirect-based authenticator gets a button instead of the form") {
    data["authenticator_login_url"] = "/hub/oauth_login?next=%2Fhub%2F";
    data["login_service"] = "GitHub";
    const auto html = render_ok("login", data);
    CHECK(html.find("href=\"/hub/oauth_login?next=%2Fhub%2F\"") != std::string::npos);
    CHECK(html.find("Sign in with GitHub") != std::string::npos);
    CHECK(html.find("name=\"password\"") == std::string::npos);
  }
  SECTION("a hostile next cannot break out of its attribute") {
    data["next"] = "\"><script>alert(1)</script>";
    const auto html = render_ok("login", data);
    CHECK(html.find("<script>alert(1)") == std::string::npos);
    CHECK(html.find("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"") != std::string::npos);
  }
}

TEST_CASE("header shows the user, admin link only with admin access", "[web]") {
  auto data = sample_data(samples_dir, "home");
  auto html = render_ok("home", data);
  CHECK(html.find("data-testid=\"nav-user-name\">alice<") != std::string::npos);
  CHECK(html.find("href=\"/hub/admin\"") != std::string::npos);
  CHECK(html.find("href=\"/hub/logout\"") != std::string::npos);
  CHECK(html.find("<meta name=\"hubd-user\" content=\"alice\">") != std::string::npos);
  CHECK(html.find("href=\"/services/grader/\"") != std::string::npos);
  data["admin_access"] = false;
  html = render_ok("home", data);
  CHECK(html.find("href=\"/hub/admin\"") == std::string::npos);
}

TEST_CASE("base_url prefixes every hub link", "[web]") {
  auto data = sample_data(samples_dir, "home");
  data["base_url"] = "/jh/";
  data["static_url"] = "/jh/hub/static/";
  const auto html = render_ok("home", data);
  CHECK(html.find("href=\"/jh/hub/home\"") != std::string::npos);
  CHECK(html.find("src=\"/jh/hub/logo\"") != std::string::npos);
  CHECK(html.find("src=\"/jh/hub/static/js/home.js\"") != std::string::npos);
  CHECK(html.find("href=\"/jh/hub/logout\"") != std::string::npos);
  CHECK(html.find("href=\"/hub/logout\"") == std::string::npos);
  CHECK(html.find("href=\"/hub/token\"") == std::string::npos);
}

TEST_CASE("home page lists the default and named servers with their states", "[web]") {
  auto data = sample_data(samples_dir, "home");
  auto html = render_ok("home", data);
  CHECK(html.find("data-testid=\"server-row-default\"") != std::string::npos);
  CHECK(html.find("data-server-name=\"gpu\" data-state=\"stopped\"") != std::string::npos);
  CHECK(html.find("data-server-name=\"analysis\" data-state=\"pending\"") != std::string::npos);
  CHECK(html.find(">GPU box<") != std::string::npos);
  CHECK(html.find(">analysis<") != std::string::npos);  // no display name: the name is shown
  CHECK(html.find("up to 3") != std::string::npos);
  data["allow_named_servers"] = false;
  html = render_ok("home", data);
  CHECK(html.find("new-server-form") == std::string::npos);
  CHECK(html.find("data-server-name=\"gpu\"") == std::string::npos);
}

TEST_CASE("token page gets my scopes and the expiry cap", "[web]") {
  auto data = sample_data(samples_dir, "token");
  data["token_expires_in_max_seconds"] = 86400;
  const auto html = render_ok("token", data);
  CHECK(html.find("data-expires-max=\"86400\"") != std::string::npos);
  CHECK(count(html, "name=\"scopes\"") == 4);
  CHECK(html.find("value=\"servers!user=alice\"") != std::string::npos);
  CHECK(html.find("Start and stop user servers.") != std::string::npos);
  data.erase("token_expires_in_max_seconds");
  CHECK(render_ok("token", data).find("data-expires-max=\"0\"") != std::string::npos);
}

TEST_CASE("OAuth confirmation page", "[web]") {
  auto data = sample_data(samples_dir, "oauth");
  SECTION("one hidden scopes field per allowed scope, one line per described scope") {
    const auto html = render_ok("oauth", data);
    CHECK(count(html, "<input type=\"hidden\" name=\"scopes\"") == data["allowed_scopes"].size());
    CHECK(html.find("<input type=\"hidden\" name=\"scopes\" value=\"custom:grades:read!group=class-a\">") !=
          std::string::npos);
    CHECK(count(html, "data-testid=\"oauth-scope\"") == 2);
    CHECK(html.find("Read grades. <span class=\"muted\">Applies to users in group class-a.</span>") != std::string::npos);
    CHECK(html.find("Applies to server alice/.") != std::string::npos);
    CHECK(html.find("Service grader") != std::string::npos);
    CHECK(html.find("/services/grader/oauth_callback") != std::string::npos);
    CHECK(html.find("method=\"post\" action=\"/hub/api/oauth2/authorize?client_id=service-grader&amp;") != std::string::npos);
    CHECK(html.find("will not be able to take actions") == std::string::npos);
  }
  SECTION("identify only") {
    data["scope_descriptions"] = json::array({{{"scope", nullptr}, {"description", "Identify the owner of the requesting entity."}}});
    data["identify_only"] = true;
    const auto html = render_ok("oauth", data);
    CHECK(html.find("It will not be able to take actions on your behalf.") != std::string::npos);
    CHECK(html.find("Applies to") == std::string::npos);
  }
}

TEST_CASE("error pages", "[web]") {
  auto data = sample_data(samples_dir, "error");
  auto html = render_ok("error", data);
  CHECK(html.find("503 : Service Unavailable") != std::string::npos);
  CHECK(html.find("Your server appears to be down") != std::string::npos);
  CHECK(html.find("href=\"/hub/spawn/alice\"") != std::string::npos);
  data = {{"base_url", "/"}, {"static_url", "/hub/static/"}, {"xsrf_token", "t"}, {"status_code", 404},
          {"status_message", "Not Found"}, {"message_html", "<p>See <a href=\"/hub/home\">home</a></p>"}};
  html = render_ok("error", data);
  CHECK(html.find("404 : Not Found") != std::string::npos);
  CHECK(html.find("appears to be down") == std::string::npos);
  CHECK(html.find("<p>See <a href=\"/hub/home\">home</a></p>") != std::string::npos);
}

TEST_CASE("spawn pages", "[web]") {
  auto html = render_ok("spawn", sample_data(samples_dir, "spawn"));
  CHECK(html.find("<select id=\"image\" name=\"image\">") != std::string::npos);  // the spawner's form, raw
  CHECK(html.find("action=\"/hub/spawn/alice/gpu\" method=\"post\"") != std::string::npos);
  CHECK(html.find("Starting a server for <strong>bob</strong>") != std::string::npos);
  html = render_ok("spawn_pending", sample_data(samples_dir, "spawn_pending"));
  CHECK(html.find("data-progress-url=\"/hub/api/users/alice/servers/gpu/progress\"") != std::string::npos);
  CHECK(html.find("js/spawn_pending.js") != std::string::npos);
  html = render_ok("not_running", sample_data(samples_dir, "not_running"));
  CHECK(html.find("href=\"/hub/spawn/alice/gpu\"") != std::string::npos);
  CHECK(html.find("Spawner exited with status 1") != std::string::npos);
  CHECK(html.find("Relaunch server") != std::string::npos);
}

TEST_CASE("accept-share page", "[web]") {
  const auto html = render_ok("accept_share", sample_data(samples_dir, "accept_share"));
  CHECK(html.find("<input type=\"hidden\" name=\"code\" value=\"abcdefghijklmnopqrstuvwxyz0123\">") != std::string::npos);
  CHECK(html.find("<input type=\"hidden\" name=\"next\" value=\"/user/bob/\">") != std::string::npos);
  CHECK(html.find("(default)") != std::string::npos);
  CHECK(html.find("share-not-ready") != std::string::npos);
  CHECK(html.find("Applies to server bob/.") != std::string::npos);
}

TEST_CASE("logout page links to the login page by default", "[web]") {
  const json data = {{"base_url", "/jh/"}, {"static_url", "/jh/hub/static/"}, {"xsrf_token", "t"}};
  CHECK(render_ok("logout", data).find("href=\"/jh/hub/login\" data-testid=\"login-again\"") != std::string::npos);
}

TEST_CASE("JSON to mustache data conversion", "[web]") {
  using hubd::tests::web::to_data;
  kainjow::mustache::mustache t{"{{#a}}A{{a}}{{/a}}{{^b}}noB{{/b}}{{^c}}noC{{/c}}{{#d}}[{{.}}]{{/d}}{{n}}"};
  const auto out = t.render(to_data({{"a", "x"}, {"b", ""}, {"c", nullptr}, {"d", {1, 2}}, {"n", 42}}));
  CHECK(out == "AxnoBnoC[1][2]42");
}

#ifdef HUBD_WEB_HAVE_RENDERER
#include "core/web/templates.hpp"

// The handlers render through core/web's template_renderer: it must give byte-identical pages,
// so every check above holds for what browsers really get.
TEST_CASE("core/web's renderer gives the same pages", "[web]") {
  const hubd::core::web::template_renderer renderer({templates_dir});
  for (const auto& page : pages) {
    INFO(page);
    const auto data = sample_data(samples_dir, page);
    const auto html = renderer.render(page, data);
    REQUIRE(html.has_value());
    CHECK(*html == render_ok(page, data));
    const auto hostile_html = renderer.render(page, make_hostile(data));
    REQUIRE(hostile_html.has_value());
    CHECK(hostile_html->find("<i id=pwn>") == std::string::npos);
  }
}
#endif
