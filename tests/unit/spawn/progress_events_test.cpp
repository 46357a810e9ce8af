#include "core/spawn/progress_events.hpp"

#include <catch2/catch.hpp>

using namespace hubd::core::spawn;
using nlohmann::json;

TEST_CASE("spawner events cannot claim the end", "[progress_events]") {
  auto e = sanitize_progress_event({{"progress", 100}, {"ready", true}, {"failed", true}, {"message", "hi"}});
  REQUIRE(e);
  CHECK_FALSE(e->contains("ready"));
  CHECK_FALSE(e->contains("failed"));
  CHECK((*e)["progress"] == 99.0);
  CHECK((*e)["message"] == "hi");
  CHECK((*sanitize_progress_event({{"progress", -5}}))["progress"] == 0.0);
  CHECK_FALSE(sanitize_progress_event({{"progress", "lots"}})->contains("progress"));
  CHECK((*sanitize_progress_event({{"message", 42}}))["message"] == "42");
  CHECK_FALSE(sanitize_progress_event(json::array()));
  CHECK_FALSE(sanitize_progress_event("text"));
}

TEST_CASE("final events", "[progress_events]") {
  auto r = ready_event("/user/a<b>/");
  CHECK(r["progress"] == 100);
  CHECK(r["ready"] == true);
  CHECK(r["url"] == "/user/a<b>/");
  CHECK(r["message"] == "Server ready at /user/a<b>/");
  CHECK(r["html_message"] == "Server ready at <a href=\"/user/a&lt;b&gt;/\">/user/a&lt;b&gt;/</a>");
  auto f = failed_event("command not found");
  CHECK(f == json{{"progress", 100}, {"failed", true}, {"message", "Spawn failed: command not found"}});
}

TEST_CASE("text/event-stream encoding", "[progress_events]") {
  CHECK(event_stream({}).empty());
  CHECK(event_stream({{{"progress", 0}}, {{"progress", 100}, {"ready", true}}}) ==
        "data: {\"progress\":0}\n\ndata: {\"progress\":100,\"ready\":true}\n\n");
}
