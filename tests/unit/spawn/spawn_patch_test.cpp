#include "core/spawn/spawn_patch.hpp"

#include <catch2/catch.hpp>

using namespace hubd::core::spawn;
using nlohmann::json;

namespace {
json context() {
  return {{"user", {{"name", "alice"}}},
          {"args", {"--a"}},
          {"env", {{"KEEP", "1"}, {"DROP", "2"}}},
          {"user_options", {{"profile", "small"}}}};
}
}  // namespace

TEST_CASE("no patch, no change", "[spawn_patch]") {
  for (const json& none : {json(nullptr), json::object()}) {
    auto ctx = context();
    CHECK(apply_spawn_patch(ctx, none).empty());
    CHECK(ctx == context());
  }
}

TEST_CASE("env is merged, args replaced, user_options merged", "[spawn_patch]") {
  auto ctx = context();
  json patch = {{"env", {{"NEW", "x"}, {"DROP", nullptr}, {"KEEP", "changed"}}},
                {"args", {"--b", "--c"}},
                {"user_options", {{"gpu", true}, {"profile", nullptr}}},
                {"unknown_field", 1}};
  REQUIRE(apply_spawn_patch(ctx, patch).empty());
  CHECK(ctx["env"] == json{{"KEEP", "changed"}, {"NEW", "x"}});
  CHECK(ctx["args"] == json{"--b", "--c"});
  CHECK(ctx["user_options"] == json{{"gpu", true}});
  CHECK(ctx["user"] == json{{"name", "alice"}});
}

TEST_CASE("a malformed patch changes nothing and says why", "[spawn_patch]") {
  const json bad[] = {
      json::array(),
      json{{"env", "PATH=/x"}},
      json{{"env", {{"N", 5}}}},
      json{{"args", "--x"}},
      json{{"args", {1, 2}}},
      json{{"user_options", json::array()}},
      // A good part does not get applied when another part is bad.
      json{{"env", {{"OK", "y"}}}, {"args", {false}}},
  };
  for (const auto& p : bad) {
    auto ctx = context();
    CHECK_FALSE(apply_spawn_patch(ctx, p).empty());
    CHECK(ctx == context());
  }
}
