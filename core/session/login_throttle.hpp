#pragma once
// Failed-login throttling (JupyterHub has none): after a number of failed logins, further attempts
// wait a backoff that doubles with each failure, up to a maximum. Three counters, so that guessing
// is slowed without handing an attacker the power to lock a person out:
//   - a name from one address: the limit (default 5);
//   - one address, any names: ten times the limit (one machine trying many names);
//   - one name, any addresses: forty times the limit (a distributed guess of one password).
// A person is only ever kept out for the current backoff, never longer than the maximum; attempts
// refused while waiting are not counted, and a successful login clears its name's counters.
// Counters are forgotten after a quiet period. Pure: the clock is injected, no I/O.
#include "core/http/request.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hubd::core::session {

struct throttle_settings {
  bool enabled = true;                  // Authenticator.login_throttle
  int failure_limit = 5;                // Authenticator.login_failure_limit
  std::chrono::seconds max_backoff{120};  // Authenticator.login_max_backoff
};

class login_throttle {
public:
  using clock = std::chrono::steady_clock;
  explicit login_throttle(throttle_settings settings, std::function<clock::time_point()> now = clock::now);

  // Whole seconds a login as `name` from `address` must wait; 0 when it may be tried now.
  std::chrono::seconds retry_after(std::string_view name, std::string_view address) const;
  void failed(std::string_view name, std::string_view address);
  void succeeded(std::string_view name, std::string_view address);

  const throttle_settings& settings() const { return settings_; }
  std::size_t tracked() const;  // counters kept (bounded: old ones are forgotten)

private:
  struct counter {
    int failures = 0;
    clock::time_point last{};
    clock::time_point blocked_until{};
  };
  void count(std::string key, int limit, clock::time_point now);
  void forget_old(clock::time_point now);

  throttle_settings settings_;
  std::function<clock::time_point()> now_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, counter> counters_;
  std::size_t inserts_since_sweep_ = 0;
};

// The address a login comes from: the peer, or, when the peer is on loopback (the proxy hubd runs
// beside it, configurable-http-proxy), the last address of X-Forwarded-For that proxy appended.
std::string login_address(std::string_view peer, std::string_view forwarded_for);
std::string login_address(const http::request& req);

// What a throttled login is told, on the login page and in the API's JSON alike.
std::string throttled_message(std::chrono::seconds wait);

}  // namespace hubd::core::session
