#include "core/spawn/admission.hpp"

#include <catch2/catch.hpp>

using namespace hubd::core::spawn;

TEST_CASE("server names (JupyterHub 6)", "[admission]") {
  for (auto ok : {"a", "gpu", "a1", "my-server", "abcdefghijklmnopqrstuvwxyz0123"}) CHECK(valid_server_name(ok));
  for (auto bad : {"", "1a", "-a", "a-", "a--b", "A", "a_b", "a b", "abcdefghijklmnopqrstuvwxyz01234", "a/b"})
    CHECK_FALSE(valid_server_name(bad));
}

TEST_CASE("admit_spawn", "[admission]") {
  spawn_limits lim;
  spawn_counts c;
  CHECK(admit_spawn("alice", "", lim, c).ok());
  CHECK(admit_spawn("alice", "gpu", lim, c).status == 400);
  CHECK(admit_spawn("alice", "gpu", lim, c).message == "Named servers are not enabled.");
  lim.allow_named_servers = true;
  CHECK(admit_spawn("alice", "gpu", lim, c).ok());
  CHECK(admit_spawn("alice", "Bad", lim, c).message == "Invalid server_name");
  lim.named_server_limit_per_user = 2;
  c.user_named_servers = 2;
  auto full = admit_spawn("alice", "gpu", lim, c);
  CHECK(full.status == 400);
  CHECK(full.message.find("already has the maximum of 2 named servers") != std::string::npos);
  c.server_exists = true;  // restarting an existing named server is not a new one
  CHECK(admit_spawn("alice", "gpu", lim, c).ok());

  c = {};
  c.server_running = true;
  CHECK(admit_spawn("alice", "", lim, c).message == "alice is already running");
  c = {};
  c.stop_pending = true;
  CHECK(admit_spawn("alice", "gpu", lim, c).message == "alice/gpu is pending stop");
  c = {};
  c.spawn_pending = true;
  CHECK(admit_spawn("alice", "", lim, c).status == 202);

  c = {};
  lim.concurrent_spawn_limit = 3;
  c.pending_spawns = 3;
  auto busy = admit_spawn("alice", "", lim, c, 7);
  CHECK(busy.status == 429);
  CHECK(busy.retry_after == 37);
  for (unsigned seed = 0; seed < 100; ++seed) {
    auto r = admit_spawn("alice", "", lim, c, seed);
    CHECK(r.retry_after >= 30);
    CHECK(r.retry_after <= 60);
  }
  lim.concurrent_spawn_limit = 0;  // unlimited
  CHECK(admit_spawn("alice", "", lim, c).ok());
  lim.active_server_limit = 5;
  c.active_servers = 5;
  auto active = admit_spawn("alice", "", lim, c);
  CHECK(active.status == 429);
  CHECK(active.retry_after == 0);
  c.active_servers = 4;
  CHECK(admit_spawn("alice", "", lim, c).ok());
}
