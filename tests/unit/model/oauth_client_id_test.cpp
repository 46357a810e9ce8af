// Server OAuth client ids: one id per (user, server), and back.
#include "core/model/oauth_client_id.hpp"

#include <catch2/catch.hpp>

using hubd::core::model::parse_server_client_id;
using hubd::core::model::server_client_id;

TEST_CASE("names without '-' keep JupyterHub's ids") {
  CHECK(server_client_id("alice", "") == "jupyterhub-user-alice");
  CHECK(server_client_id("alice", "gpu") == "jupyterhub-user-alice-gpu");
  CHECK(server_client_id("ren\xc3\xa9", "") == "jupyterhub-user-ren%C3%A9");
}

TEST_CASE("'-' inside a name cannot be read as the separator") {
  CHECK(server_client_id("cx", "y") == "jupyterhub-user-cx-y");
  CHECK(server_client_id("cx-y", "") == "jupyterhub-user-cx%2Dy");
  CHECK(server_client_id("a-b", "c-d") == "jupyterhub-user-a%2Db-c%2Dd");
  CHECK(server_client_id("cx", "y") != server_client_id("cx-y", ""));
}

TEST_CASE("parse is the inverse of server_client_id and refuses everything else") {
  for (auto [u, s] : {std::pair{"alice", ""}, {"alice", "gpu"}, {"cx-y", ""}, {"a-b", "c-d"}, {"x%y", "s p"},
                      {"ren\xc3\xa9", "\xc3\xa9t\xc3\xa9"}}) {
    auto p = parse_server_client_id(server_client_id(u, s));
    REQUIRE(p);
    CHECK(p->first == u);
    CHECK(p->second == s);
  }
  for (auto bad : {"jupyterhub", "service-x", "jupyterhub-user-", "jupyterhub-user--gpu", "jupyterhub-user-alice-",
                   "jupyterhub-user-a-b-c", "jupyterhub-user-%61lice", "jupyterhub-user-a%2", "jupyterhub-user-a%zz",
                   "jupyterhub-user-cx%2dy"}) {
    INFO(bad);
    CHECK_FALSE(parse_server_client_id(bad));
  }
}
