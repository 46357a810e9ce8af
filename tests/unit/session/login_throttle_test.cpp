#include "core/session/login_throttle.hpp"

#include <catch2/catch.hpp>

#include <string>

using hubd::core::session::login_address;
using hubd::core::session::login_throttle;
using hubd::core::session::throttle_settings;
using namespace std::chrono_literals;

namespace {
struct fake_clock {
  login_throttle::clock::time_point t{std::chrono::hours(1000)};
  auto fn() {
    return [this] { return t; };
  }
};

throttle_settings limit(int n, std::chrono::seconds max = 120s) {
  throttle_settings s;
  s.failure_limit = n;
  s.max_backoff = max;
  return s;
}
}  // namespace

TEST_CASE("below the limit nothing waits; at the limit the wait starts at 1 s and doubles") {
  fake_clock c;
  login_throttle t(limit(3), c.fn());
  t.failed("alice", "10.0.0.1");
  t.failed("alice", "10.0.0.1");
  CHECK(t.retry_after("alice", "10.0.0.1") == 0s);
  t.failed("alice", "10.0.0.1");
  CHECK(t.retry_after("alice", "10.0.0.1") == 1s);
  c.t += 1s;
  CHECK(t.retry_after("alice", "10.0.0.1") == 0s);
  t.failed("alice", "10.0.0.1");
  CHECK(t.retry_after("alice", "10.0.0.1") == 2s);
  c.t += 2s;
  t.failed("alice", "10.0.0.1");
  CHECK(t.retry_after("alice", "10.0.0.1") == 4s);
  c.t += 1500ms;
  CHECK(t.retry_after("alice", "10.0.0.1") == 3s);  // whole seconds, rounded up
}

TEST_CASE("the wait never exceeds the maximum, however many failures") {
  fake_clock c;
  login_throttle t(limit(1, 30s), c.fn());
  for (int i = 0; i < 100; ++i) {
    t.failed("alice", "10.0.0.1");
    CHECK(t.retry_after("alice", "10.0.0.1") <= 30s);
    c.t += 30s;
  }
  t.failed("alice", "10.0.0.1");
  CHECK(t.retry_after("alice", "10.0.0.1") == 30s);
}

TEST_CASE("case and Unicode variants of a name count as that name") {
  fake_clock c;
  login_throttle t(limit(3), c.fn());
  t.failed("alice", "10.0.0.1");
  t.failed("ALICE", "10.0.0.1");
  t.failed("Alice", "10.0.0.1");
  CHECK(t.retry_after("alice", "10.0.0.1") == 1s);
  t.failed("ren\u00e9", "10.0.0.2");
  t.failed("rene\u0301", "10.0.0.2");  // NFD
  t.failed("REN\u00c9", "10.0.0.2");
  CHECK(t.retry_after("ren\u00e9", "10.0.0.2") == 1s);
  t.succeeded("ALICE", "10.0.0.1");
  t.failed("alice", "10.0.0.1");
  CHECK(t.retry_after("alice", "10.0.0.1") == 0s);
}

TEST_CASE("a guess from one address does not keep the same person out from another") {
  fake_clock c;
  login_throttle t(limit(2), c.fn());
  t.failed("alice", "6.6.6.6");
  t.failed("alice", "6.6.6.6");
  CHECK(t.retry_after("alice", "6.6.6.6") == 1s);
  CHECK(t.retry_after("alice", "10.0.0.1") == 0s);
  CHECK(t.retry_after("bob", "6.6.6.6") == 0s);
}

TEST_CASE("one address trying many names waits after ten times the limit") {
  fake_clock c;
  login_throttle t(limit(2), c.fn());
  for (int i = 0; i < 19; ++i) t.failed("user" + std::to_string(i), "6.6.6.6");
  CHECK(t.retry_after("someone-new", "6.6.6.6") == 0s);
  t.failed("user19", "6.6.6.6");
  CHECK(t.retry_after("someone-new", "6.6.6.6") == 1s);
  CHECK(t.retry_after("someone-new", "10.0.0.1") == 0s);
}

TEST_CASE("one name guessed from many addresses waits after forty times the limit, everywhere") {
  fake_clock c;
  login_throttle t(limit(1), c.fn());
  for (int i = 0; i < 39; ++i) t.failed("alice", "10.0." + std::to_string(i) + ".1");
  CHECK(t.retry_after("alice", "192.168.1.1") == 0s);
  t.failed("alice", "10.9.9.9");
  CHECK(t.retry_after("alice", "192.168.1.1") == 1s);
}

TEST_CASE("a successful login clears its name's counters; its address keeps counting") {
  fake_clock c;
  login_throttle t(limit(2), c.fn());
  t.failed("alice", "10.0.0.1");
  t.succeeded("alice", "10.0.0.1");
  t.failed("alice", "10.0.0.1");
  CHECK(t.retry_after("alice", "10.0.0.1") == 0s);
  t.failed("alice", "10.0.0.1");
  CHECK(t.retry_after("alice", "10.0.0.1") == 1s);
}

TEST_CASE("quiet counters are forgotten, so memory stays bounded") {
  fake_clock c;
  login_throttle t(limit(5), c.fn());
  for (int i = 0; i < 2000; ++i) t.failed("u" + std::to_string(i), "10.0.0." + std::to_string(i % 200));
  const auto many = t.tracked();
  CHECK(many > 2000);
  c.t += 1h;
  for (int i = 0; i < 1100; ++i) t.failed("later" + std::to_string(i), "10.1.0.1");
  CHECK(t.tracked() < many);
  CHECK(t.retry_after("u1", "10.0.0.1") == 0s);
}

TEST_CASE("turned off, nothing is counted") {
  fake_clock c;
  auto s = limit(1);
  s.enabled = false;
  login_throttle t(s, c.fn());
  for (int i = 0; i < 10; ++i) t.failed("alice", "10.0.0.1");
  CHECK(t.retry_after("alice", "10.0.0.1") == 0s);
  CHECK(t.tracked() == 0);
}

TEST_CASE("the login address: the peer, or X-Forwarded-For's last entry behind a proxy on loopback") {
  CHECK(login_address("10.0.0.5", "") == "10.0.0.5");
  CHECK(login_address("10.0.0.5", "6.6.6.6") == "10.0.0.5");  // a client cannot pick its own address
  CHECK(login_address("127.0.0.1", "") == "127.0.0.1");
  CHECK(login_address("127.0.0.1", "1.2.3.4") == "1.2.3.4");
  CHECK(login_address("127.0.0.1", "spoofed, 1.2.3.4") == "1.2.3.4");  // the proxy appends the real one
  CHECK(login_address("::1", " 2001:db8::1 ") == "2001:db8::1");
  CHECK(login_address("::ffff:127.0.0.1", "1.2.3.4") == "1.2.3.4");
}
