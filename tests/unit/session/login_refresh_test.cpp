// The login refresh against a real model on SQLite: what each answer of refresh_user does to the
// user (stored auth model, ended sessions), that the verdict comes only after the commit, and that
// concurrent refreshes of one user make one call. The plugin op is the injected call, answered from
// another thread as the plugin host does.
#include "core/session/login_refresh.hpp"

#include "core/model/plugin_views.hpp"
#include "core/rbac/roles.hpp"
#include "core/store/sqlite_store.hpp"
#include "tests/unit/store/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

using namespace hubd::core;
using nlohmann::json;
using session::refresh_verdict;

namespace {

struct hub {
  hubd::test::temp_dir dir;
  std::unique_ptr<model::hub_model> model;
  std::mutex mutex;
  std::vector<json> inputs;                              // what the plugin was asked
  std::function<session::refresh_answer(const json&)> answer;  // what it answers
  std::vector<std::thread> threads;
  std::unique_ptr<session::login_refresh> refresh;

  explicit hub(session::refresh_settings s = {}) {
    auto db = store::sqlite_store::open(dir / "hub.sqlite");
    REQUIRE(db);
    model::model_options o;
    o.keeper = store::crypt_keeper::parse(std::string(64, 'b')).value();
    model = std::move(model::hub_model::open(std::move(db.value()), std::move(o)).value());
    for (const auto& r : rbac::default_roles()) {
      model::new_role nr{r.name, r.description, r.scopes, "default"};
      REQUIRE(model->wait([&](auto done) { return model->create_role(nr, done); }));
    }
    REQUIRE(model->wait([&](auto done) { return model->create_user({"alice", false}, done); }));
    s.enable_auth_state = true;
    auto call = [this](json input, std::function<void(session::refresh_answer)> done) {
      std::lock_guard lock(mutex);
      inputs.push_back(input);
      // Answered from another thread, later: never inline, as the plugin host completes ops.
      threads.emplace_back([this, input, done] { done(answer(input)); });
    };
    auto post = [this](std::function<void()> fn) {
      std::lock_guard lock(mutex);
      threads.emplace_back(std::move(fn));
    };
    refresh = std::make_unique<session::login_refresh>(*model, s, call, post);
  }
  ~hub() {
    for (;;) {
      std::vector<std::thread> ts;
      {
        std::lock_guard lock(mutex);
        ts.swap(threads);
      }
      if (ts.empty()) break;
      for (auto& t : ts) t.join();
    }
  }

  refresh_verdict run(const std::string& user = "alice") {
    auto p = std::make_shared<std::promise<refresh_verdict>>();
    auto f = p->get_future();
    refresh->refresh(user, [p](refresh_verdict v) { p->set_value(v); });
    REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    return f.get();
  }
  std::size_t calls() {
    std::lock_guard lock(mutex);
    return inputs.size();
  }
};

session::refresh_answer ok(json v) { return {true, std::move(v), {}}; }

session::refresh_settings with_age(std::chrono::seconds age) {
  session::refresh_settings s;
  s.auth_refresh_age = age;
  return s;
}

}  // namespace

TEST_CASE("true keeps the login and counts as a refresh; the plugin gets the user and its auth_state") {
  hub h(with_age(std::chrono::seconds(300)));
  REQUIRE(h.model->wait([&](auto d) { return h.model->set_auth_state("alice", json{{"token", "t1"}}, d); }));
  h.answer = [](const json&) { return ok(true); };
  CHECK(h.refresh->due("alice"));
  CHECK(h.run() == refresh_verdict::valid);
  CHECK_FALSE(h.refresh->due("alice"));
  REQUIRE(h.calls() == 1);
  CHECK(h.inputs[0]["user"]["name"] == "alice");
  CHECK(h.inputs[0]["auth_state"] == json{{"token", "t1"}});
}

TEST_CASE("a deleted or renamed user's login is due again: a new user of that name has no stamp") {
  hub h(with_age(std::chrono::seconds(300)));
  REQUIRE(h.model->wait([&](auto d) { return h.model->create_user({"bob", false}, d); }));
  h.refresh->logged_in("alice");
  h.refresh->logged_in("bob");
  REQUIRE(h.model->wait([&](auto d) { return h.model->delete_user("alice", d); }));
  model::user_patch rename;
  rename.name = "robert";
  REQUIRE(h.model->wait([&](auto d) { return h.model->update_user("bob", rename, d); }));
  CHECK(h.refresh->due("alice"));
  CHECK(h.refresh->due("bob"));
}

TEST_CASE("a partial auth model is durable before the verdict; groups only with manage_groups") {
  session::refresh_settings s;
  s.manage_groups = GENERATE(true, false);
  hub h(s);
  h.answer = [](const json&) {
    return ok({{"auth_state", {{"token", "t2"}}}, {"groups", {"physics"}}, {"admin", true}, {"name", "mallory"}});
  };
  CHECK(h.run() == refresh_verdict::valid);
  // Read at once: the verdict came after the commit.
  CHECK(h.model->get_auth_state("alice").value() == json{{"token", "t2"}});
  CHECK(h.model->find_user("alice")->admin);
  CHECK(h.model->is_member("alice", "physics") == s.manage_groups);
  CHECK_FALSE(h.model->find_user("mallory"));  // the name cannot change
}

TEST_CASE("an admin_users user stays admin whatever a refresh says") {
  session::refresh_settings s;
  s.admin_users = {"alice"};
  hub h(s);
  model::user_patch admin;
  admin.admin = true;
  REQUIRE(h.model->wait([&](auto d) { return h.model->update_user("alice", admin, d); }));
  h.answer = [](const json&) { return ok({{"admin", false}}); };
  CHECK(h.run() == refresh_verdict::valid);
  CHECK(h.model->find_user("alice")->admin);
}

TEST_CASE("false ends every browser session of the user and keeps its API tokens") {
  hub h;
  auto old_cookie = h.model->find_user("alice")->cookie_id;
  auto s1 = h.model->wait([&](auto d) { return h.model->create_session("alice", d); }).value();
  auto s2 = h.model->wait([&](auto d) { return h.model->create_session("alice", d); }).value();
  model::new_token oauth_token(model::holder_kind::user, "alice", {"access:servers"});
  oauth_token.session_id = s1->id;
  auto bound = h.model->wait([&](auto d) { return h.model->create_token(oauth_token, d); }).value();
  auto api = h.model->wait([&](auto d) { return h.model->create_token({model::holder_kind::user, "alice", {}}, d); }).value();
  h.answer = [](const json&) { return ok(false); };
  CHECK(h.run() == refresh_verdict::over);
  CHECK_FALSE(h.model->find_user_by_cookie_id(old_cookie));  // every login cookie is dead
  CHECK(h.model->find_user("alice")->cookie_id != old_cookie);
  CHECK_FALSE(h.model->find_session(s1->id));
  CHECK_FALSE(h.model->find_session(s2->id));
  CHECK_FALSE(h.model->find_token(bound.secret));  // the sessions' OAuth tokens went with them
  CHECK(h.model->find_token(api.secret));           // API tokens stay, as in JupyterHub
  CHECK(h.refresh->due("alice"));                   // asked again until the user logs in again
}

TEST_CASE("a failure or a malformed auth model is transient: nothing changes, the login stays") {
  hub h(with_age(std::chrono::seconds(300)));
  REQUIRE(h.model->wait([&](auto d) { return h.model->set_auth_state("alice", json{{"token", "t1"}}, d); }));
  auto cookie = h.model->find_user("alice")->cookie_id;
  h.answer = [](const json&) { return session::refresh_answer{false, {}, "timeout: no answer in 10 s"}; };
  CHECK(h.run() == refresh_verdict::transient);
  h.answer = [](const json&) { return ok({{"auth_state", "not an object"}, {"groups", {1, 2}}}); };
  CHECK(h.run() == refresh_verdict::transient);
  CHECK(h.model->get_auth_state("alice").value() == json{{"token", "t1"}});
  CHECK(h.model->find_user("alice")->cookie_id == cookie);
  CHECK_FALSE(h.refresh->due("alice"));  // not asked again at once
}

TEST_CASE("concurrent refreshes of one user make one call and all get its verdict") {
  hub h;
  std::promise<void> release;
  auto gate = release.get_future().share();
  h.answer = [gate](const json&) {
    gate.wait();
    return ok({{"auth_state", {{"token", "rotated"}}}});
  };
  std::vector<std::future<refresh_verdict>> got;
  for (int i = 0; i < 5; ++i) {
    auto p = std::make_shared<std::promise<refresh_verdict>>();
    got.push_back(p->get_future());
    h.refresh->refresh("alice", [p](refresh_verdict v) { p->set_value(v); });
  }
  release.set_value();
  for (auto& f : got) {
    REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(f.get() == refresh_verdict::valid);
  }
  CHECK(h.calls() == 1);
}
