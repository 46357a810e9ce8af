// How a plugin's completion becomes an op_result: a hostile result is misbehaving, never a throw
// on the completion thread (which would terminate the hub).
#include "core/plugins/detail/completion.hpp"

#include <catch2/catch.hpp>

using namespace hubd::core::plugins;

TEST_CASE("a number too large for a double is malformed JSON, not an escaping exception") {
  nlohmann::json out = 1;
  CHECK_FALSE(detail::parse_plugin_json("[1e999]", out).empty());
  CHECK(out.is_null());
  op_result r;
  REQUIRE_NOTHROW(r = detail::read_completion(HUBD_OK, "{\"name\": \"a\", \"x\": 1e999}", detail::check_auth_model, "p", "authenticate"));
  CHECK(r.status == op_status::misbehaving);
  CHECK(r.message.find("plugin 'p' returned malformed JSON from authenticate") == 0);
}

TEST_CASE("completions map to statuses, checks and HTTP statuses") {
  auto ok = detail::read_completion(HUBD_OK, "\"alice\"", detail::check_auth_model, "p", "authenticate");
  CHECK(ok.ok());
  auto bad = detail::read_completion(HUBD_OK, "{\"name\": \"\"}", detail::check_auth_model, "p", "authenticate");
  CHECK(bad.status == op_status::misbehaving);
  CHECK(bad.http_status() == 500);
  auto failed = detail::read_completion(HUBD_FAILED, R"({"status_code": 404, "message": "gone"})", {}, "p", "op");
  CHECK(failed.status == op_status::failed);
  CHECK(failed.http_status() == 404);
  CHECK(failed.message == "plugin 'p' failed op: gone");
  // A status_code that only truncates to an HTTP error (2^32 + 403) is not one.
  auto wide_failed = detail::read_completion(HUBD_FAILED, R"({"status_code": 4294967699})", {}, "p", "op");
  CHECK(wide_failed.http_status() == 500);
  auto unknown = detail::read_completion(42, "{}", {}, "p", "op");
  CHECK(unknown.status == op_status::misbehaving);
  CHECK(unknown.message == "plugin 'p' completed op with unknown status 42");
}
