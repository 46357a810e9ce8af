#pragma once
// When a user's login must be refreshed (JupyterHub's user._auth_refreshed against
// Authenticator.auth_refresh_age), and one refresh per user at a time: the requests that find a
// refresh of their user in flight wait for its verdict instead of starting another (a provider that
// rotates refresh tokens ends the login when two refreshes race). Pure: the clock is passed in, no
// plugin, no model; callers run the waiters it hands back. Thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hubd::core::session {

enum class refresh_verdict : std::uint8_t {
  valid,      // the login goes on (the plugin said true, or updated the auth model)
  over,       // the plugin said false: the user must log in again
  transient,  // the refresh failed or timed out: the login goes on, a later request asks again
};

std::string_view to_string(refresh_verdict v);

class refresh_tracker {
public:
  using clock = std::chrono::steady_clock;
  using now_fn = std::function<clock::time_point()>;
  using waiter = std::function<void(refresh_verdict)>;

  // max_age 0: never due by age (JupyterHub's auth_refresh_age = 0); forced refreshes still run.
  // `retry_after` bounds how soon a transient failure is asked again (at most max_age).
  explicit refresh_tracker(std::chrono::seconds max_age, now_fn now = {},
                           std::chrono::seconds retry_after = std::chrono::seconds(30));

  std::chrono::seconds max_age() const { return max_age_; }

  // The request path: true when the user's last refresh (or login) is at least max_age old, or the
  // user was never refreshed since hubd started. One shared lock and one hash lookup.
  bool due(std::string_view user) const;

  // A login: the user counts as refreshed now.
  void logged_in(std::string_view user);
  void forget(std::string_view user);

  // Joins the refresh of `user`. True: no refresh is in flight and the caller must start one (its own
  // verdict comes back from finish with the others'). False: `w` waits for the one in flight.
  bool join(std::string_view user, waiter w);

  // Ends the user's refresh: valid is due again after max_age, transient after min(max_age,
  // retry_after) (at least 1 s), over at once (every request asks until the user logs in again).
  // Returns every waiter that joined, the starter's included; the caller runs them.
  std::vector<waiter> finish(std::string_view user, refresh_verdict v);

  bool in_flight(std::string_view user) const;

private:
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  template <class V>
  using by_name = std::unordered_map<std::string, V, hash, std::equal_to<>>;

  clock::time_point now() const { return now_ ? now_() : clock::now(); }

  std::chrono::seconds max_age_;
  std::chrono::seconds retry_after_;
  now_fn now_;
  mutable std::shared_mutex stamps_mutex_;
  by_name<clock::time_point> due_at_;  // when the user's login is due for a refresh
  mutable std::mutex flight_mutex_;
  by_name<std::vector<waiter>> in_flight_;
};

}  // namespace hubd::core::session
