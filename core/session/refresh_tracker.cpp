#include "core/session/refresh_tracker.hpp"

#include <algorithm>

namespace hubd::core::session {

std::string_view to_string(refresh_verdict v) {
  switch (v) {
    case refresh_verdict::valid: return "valid";
    case refresh_verdict::over: return "over";
    case refresh_verdict::transient: return "transient";
  }
  return "unknown";
}

refresh_tracker::refresh_tracker(std::chrono::seconds max_age, now_fn now, std::chrono::seconds retry_after)
    : max_age_(max_age), retry_after_(retry_after), now_(std::move(now)) {}

bool refresh_tracker::due(std::string_view user) const {
  if (max_age_.count() <= 0) return false;
  auto t = now();
  std::shared_lock lock(stamps_mutex_);
  auto it = due_at_.find(user);
  return it == due_at_.end() || t >= it->second;
}

void refresh_tracker::logged_in(std::string_view user) {
  auto at = now() + max_age_;
  std::unique_lock lock(stamps_mutex_);
  if (auto it = due_at_.find(user); it != due_at_.end()) it->second = at;
  else due_at_.emplace(std::string(user), at);
}

void refresh_tracker::forget(std::string_view user) {
  std::unique_lock lock(stamps_mutex_);
  if (auto it = due_at_.find(user); it != due_at_.end()) due_at_.erase(it);
}

bool refresh_tracker::join(std::string_view user, waiter w) {
  std::lock_guard lock(flight_mutex_);
  auto it = in_flight_.find(user);
  if (it != in_flight_.end()) {
    it->second.push_back(std::move(w));
    return false;
  }
  in_flight_.emplace(std::string(user), std::vector<waiter>{}).first->second.push_back(std::move(w));
  return true;
}

std::vector<refresh_tracker::waiter> refresh_tracker::finish(std::string_view user, refresh_verdict v) {
  // The stamp first: a request arriving between the two steps then sees it and does not start a
  // second refresh of a login that was just found valid.
  switch (v) {
    case refresh_verdict::valid: logged_in(user); break;
    case refresh_verdict::transient: {
      auto wait = std::max(std::chrono::seconds(1), std::min(max_age_.count() > 0 ? max_age_ : retry_after_, retry_after_));
      auto at = now() + wait;
      std::unique_lock lock(stamps_mutex_);
      if (auto it = due_at_.find(user); it != due_at_.end()) it->second = at;
      else due_at_.emplace(std::string(user), at);
      break;
    }
    case refresh_verdict::over: forget(user); break;
  }
  std::vector<waiter> out;
  std::lock_guard lock(flight_mutex_);
  if (auto it = in_flight_.find(user); it != in_flight_.end()) {
    out = std::move(it->second);
    in_flight_.erase(it);
  }
  return out;
}

bool refresh_tracker::in_flight(std::string_view user) const {
  std::lock_guard lock(flight_mutex_);
  return in_flight_.find(user) != in_flight_.end();
}

}  // namespace hubd::core::session
