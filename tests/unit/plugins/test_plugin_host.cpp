#include "core/plugins/plugin_host.hpp"

#include "core/plugins/authenticator_adapter.hpp"
#include "core/plugins/hooks_adapter.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/plugins/spawner_adapter.hpp"
#include "tests/unit/plugins/test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace hubd::core::plugins;
using hubd::test::eventually;
using hubd::test::fixture;
using hubd::test::wait_op;
using nlohmann::json;

namespace {

struct fx {
  plugin_host host{2};
  plugin_registry reg{host};
  fx() { reg.scan({fixture("fx_good.so"), fixture("fx_throws.so")}); }
  std::shared_ptr<authenticator_adapter> auth(json section = json::object()) {
    auto a = reg.create_authenticator("fx-auth", section);
    REQUIRE(a);
    return a.value();
  }
  op_result login(const std::shared_ptr<authenticator_adapter>& a, const std::string& user) {
    return wait_op([&](auto cb) { a->authenticate({{"username", user}}, cb); });
  }
};

}  // namespace

TEST_CASE("a completion called later from another thread is delivered") {
  fx f;
  auto a = f.auth();
  auto r = f.login(a, "later");
  REQUIRE(r.ok());
  CHECK(r.value["name"] == "later");
  auto sync = f.login(a, "anyone");
  REQUIRE(sync.ok());
  CHECK(sync.value["groups"] == json::array({"fx"}));
}

TEST_CASE("an op that never completes times out; its continuation gets a timeout error") {
  fx f;
  auto a = f.auth(json{{"timeout", 0.2}});
  auto r = f.login(a, "never");
  CHECK(r.status == op_status::timeout);
  CHECK_THAT(r.message, Catch::Contains("timed out in authenticate"));
  CHECK(r.http_status() == 504);
  CHECK(f.host.counters().timeouts == 1);
}

TEST_CASE("a late completion after the timeout is counted and dropped") {
  fx f;
  auto a = f.auth(json{{"timeout", 0.05}});
  auto r = f.login(a, "late");
  CHECK(r.status == op_status::timeout);
  CHECK(eventually([&] { return f.host.counters().late_completions == 1; }));
}

TEST_CASE("a completion called twice is detected, the first result wins") {
  fx f;
  auto a = f.auth();
  auto before = f.host.counters().double_completions;
  auto r = f.login(a, "twice");
  REQUIRE(r.ok());
  CHECK(r.value["name"] == "twice");
  CHECK(eventually([&] { return f.host.counters().double_completions == before + 1; }));
}

TEST_CASE("malformed or invalid results are clear errors, logged as plugin-misbehaving") {
  fx f;
  auto a = f.auth();
  auto r = f.login(a, "badjson");
  CHECK(r.status == op_status::misbehaving);
  CHECK_THAT(r.message, Catch::Contains("returned malformed JSON from authenticate"));
  CHECK(r.http_status() == 500);

  r = f.login(a, "badshape");
  CHECK(r.status == op_status::misbehaving);
  CHECK_THAT(r.message, Catch::Contains("invalid result from authenticate") && Catch::Contains("\"name\""));

  r = f.login(a, "badstatus");
  CHECK(r.status == op_status::misbehaving);
  CHECK_THAT(r.message, Catch::Contains("unknown status 77"));

  r = f.login(a, "denyme");
  CHECK(r.status == op_status::denied);
  CHECK(r.user_message() == "no entry");
  CHECK(f.host.counters().misbehaving >= 3);
}

TEST_CASE("an exception in a C++ plugin stops at the SDK barrier and fails closed") {
  fx f;
  auto a = f.reg.create_authenticator("fx-throws", json::object());
  REQUIRE(a);
  auto r = wait_op([&](auto cb) { a.value()->authenticate({{"username", "x"}}, cb); });
  CHECK(r.status == op_status::failed);
  CHECK_THAT(r.message, Catch::Contains("fixture exploded"));
}

TEST_CASE("create failures name the plugin, the file and the plugin's reason") {
  fx f;
  auto a = f.reg.create_authenticator("fx-auth", json{{"refuse", true}});
  REQUIRE_FALSE(a);
  CHECK_THAT(a.error(), Catch::Contains("fx-auth") && Catch::Contains("fx_good.so") &&
                            Catch::Contains("config key 'refuse' is not allowed"));
}

TEST_CASE("sink functions and routes") {
  fx f;
  auto a = f.auth();
  // The plugin's own mapping, then hubd's rule on what it gave back: NFC and the refusals, the
  // plugin's case kept.
  CHECK(a->normalize_username("Alice").name == "norm-Alice");
  CHECK(a->normalize_username("Rene\u0301").name == "norm-Ren\u00e9");
  CHECK(a->normalize_username("../x").error.find("'/'") != std::string::npos);
  CHECK(a->routes() == std::vector<std::string>{"oauth_callback"});
  CHECK(a->implements("normalize_username"));
  CHECK_FALSE(a->implements("check_allowed"));
}

TEST_CASE("hooks: subscriptions, patches, the internal API and custom scopes") {
  fx f;
  auto h = f.reg.create_hooks("fx-hooks", json::object());
  REQUIRE(h);
  auto hooks = h.value();
  CHECK(hooks->hook_points() == std::vector<std::string>{"post_auth", "user_created"});
  CHECK(hooks->subscribes("post_auth"));
  CHECK_FALSE(hooks->subscribes("pre_spawn"));
  CHECK(f.host.custom_scopes().contains("custom:fx-read"));

  auto r = wait_op([&](auto cb) { hooks->call("post_auth", {{"auth_model", {{"name", "a"}}}}, cb); });
  REQUIRE(r.ok());
  CHECK(r.value == json{{"groups", {"from-hook"}}});

  r = wait_op([&](auto cb) { hooks->call("pre_spawn", json::object(), cb); });  // not subscribed
  CHECK(r.ok());
  CHECK(r.value.is_null());

  // Before the app installs the internal API: 503, asynchronously.
  r = wait_op([&](auto cb) { hooks->call("user_created", {{"user", {{"name", "fx"}}}}, cb); });
  REQUIRE(r.ok());
  CHECK(r.value["api_status"] == 503);
  CHECK(r.value["api_body"]["status"] == 503);

  std::atomic<int> calls{0};
  f.host.set_api_handler([&](api_request req, api_responder respond) {
    ++calls;
    CHECK(req.plugin_name == "fx-hooks");
    // Answer from another thread, as the app's router would.
    std::thread([req, respond] { respond(200, {{"name", "fx"}, {"path", req.path}, {"method", req.method}}); }).detach();
  });
  r = wait_op([&](auto cb) { hooks->call("user_created", {{"user", {{"name", "fx"}}}}, cb); });
  REQUIRE(r.ok());
  CHECK(r.value["api_status"] == 200);
  CHECK(r.value["api_body"] == json{{"name", "fx"}, {"path", "/users/fx"}, {"method", "GET"}});
  CHECK(calls == 1);
}

TEST_CASE("spawner: progress events, start, poll, state") {
  fx f;
  auto s = f.reg.create_spawner_sync("fx-spawner", json::object());
  REQUIRE(s);
  auto sp = s.value();
  std::vector<json> events;
  std::mutex mu;
  auto r = wait_op([&](auto cb) {
    sp->start(json{{"user", {{"name", "a"}}}, {"server_name", ""}},
              [&](json ev) {
                std::lock_guard lock(mu);
                events.push_back(ev);
              },
              cb);
  });
  REQUIRE(r.ok());
  CHECK(r.value["url"] == "http://127.0.0.1:1");
  {
    std::lock_guard lock(mu);
    REQUIRE(events.size() == 2);  // progress is posted before the completion, in order
    CHECK(events[1]["progress"] == 90);
  }
  r = wait_op([&](auto cb) { sp->poll(cb); });
  CHECK(r.value == json{{"running", true}});
  auto p = std::make_shared<std::promise<json>>();
  sp->get_state([p](json st) { p->set_value(st); });
  CHECK(p->get_future().get() == json{{"pid", 42}});
  r = wait_op([&](auto cb) { sp->stop(true, cb); });
  CHECK(r.ok());

  // Async creation, as core does per user server.
  auto p2 = std::make_shared<std::promise<bool>>();
  f.reg.create_spawner("fx-spawner", json::object(), [p2](auto o) { p2->set_value(bool(o)); });
  CHECK(p2->get_future().get());
}

TEST_CASE("shutdown answers pending ops as cancelled and later calls fail cleanly") {
  auto f = std::make_unique<fx>();
  auto a = f->auth(json{{"timeout", 3600}});
  auto p = std::make_shared<std::promise<op_result>>();
  a->authenticate({{"username", "never"}}, [p](op_result r) { p->set_value(std::move(r)); });
  // Let the plugin call run first so the op is outstanding, then shut down.
  CHECK(eventually([&] { return true; }));
  f->host.shutdown();
  auto r = p->get_future().get();
  CHECK(r.status == op_status::cancelled);
  auto r2 = wait_op([&](auto cb) { a->authenticate({{"username", "x"}}, cb); });
  CHECK(r2.status == op_status::cancelled);
}
