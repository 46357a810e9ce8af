#include "core/spawn/route_activity.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace hubd::core;
using namespace hubd::core::spawn;

namespace {
proxy::route user_route(const std::string& spec, const std::string& user, const std::string& server,
                        nlohmann::json stamp) {
  proxy::route r{spec, "http://127.0.0.1:1", proxy::user_route_data(user, server)};
  if (!stamp.is_null()) r.data["last_activity"] = stamp;
  return r;
}
model::time_point at(const char* iso) { return *model::parse_iso8601(iso); }
}  // namespace

TEST_CASE("newer proxy stamps become activity updates", "[route_activity]") {
  proxy::route_table table;
  for (auto r : {user_route("/user/alice/", "alice", "", "2026-12-01T10:00:00.500Z"),
                 user_route("/user/alice/gpu/", "alice", "gpu", "2026-12-01T09:00:00Z"),
                 user_route("/user/bob/", "bob", "", "2026-12-01T10:00:00Z"),
                 user_route("/user/carol/", "carol", "", nullptr),           // no traffic yet
                 user_route("/user/dave/", "dave", "", "not a time"),        // malformed stamp
                 user_route("/user/erin/", "erin", "", "2030-01-01T00:00:00Z"),  // far future: clock skew
                 user_route("/user/ghost/", "ghost", "", "2026-12-01T10:00:00Z")})  // no such server
    table[r.routespec] = r;
  proxy::route hub{"/", "http://127.0.0.1:8081", proxy::hub_route_data()};
  hub.data["last_activity"] = "2026-12-01T10:00:00Z";
  table["/"] = hub;

  std::map<std::pair<std::string, std::string>, model::opt_time> stored = {
      {{"alice", ""}, at("2026-12-01T09:59:00Z")},   // older: updated
      {{"alice", "gpu"}, at("2026-12-01T09:30:00Z")},  // newer than the stamp: kept
      {{"bob", ""}, std::nullopt},                   // never active: updated
      {{"carol", ""}, std::nullopt},
      {{"dave", ""}, std::nullopt},
      {{"erin", ""}, std::nullopt},
  };
  auto lookup = [&](const std::string& u, const std::string& s) -> std::optional<model::opt_time> {
    auto it = stored.find({u, s});
    if (it == stored.end()) return std::nullopt;
    return it->second;
  };
  auto updates = activity_from_routes(table, at("2026-12-01T10:05:00Z"), lookup);
  REQUIRE(updates.size() == 2);
  CHECK(updates[0].user == "alice");
  CHECK(updates[0].server == "");
  CHECK(updates[0].when == at("2026-12-01T10:00:00.5Z"));
  CHECK(updates[1].user == "bob");
}
