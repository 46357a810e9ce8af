#include "core/session/login_throttle.hpp"

#include "core/names/username.hpp"

#include <algorithm>

namespace hubd::core::session {

namespace {

// Counted under the name the login would become (case folded, NFC), so that typing ALICE or a
// decomposed form does not start a fresh counter; a name the rule refuses counts as typed.
std::string counted_name(std::string_view typed) {
  auto r = names::normalize_username(typed);
  return r.ok() ? r.name : std::string(typed);
}

std::string key(char kind, std::string_view a, std::string_view b = {}) {
  std::string k(1, kind);
  k += '\0';
  k += a;
  k += '\0';
  k += b;
  return k;
}

// Forgotten once quiet this long: long enough that a slow guess keeps its count.
std::chrono::seconds quiet_period(const throttle_settings& s) {
  return std::max<std::chrono::seconds>(std::chrono::minutes(15), 4 * s.max_backoff);
}

constexpr std::size_t sweep_every = 1024;
// Past this many counters (an attack from very many addresses), only those still blocking are kept.
constexpr std::size_t max_counters = 200000;

}  // namespace

login_throttle::login_throttle(throttle_settings settings, std::function<clock::time_point()> now)
    : settings_(settings), now_(std::move(now)) {}

std::chrono::seconds login_throttle::retry_after(std::string_view name, std::string_view address) const {
  if (!settings_.enabled) return std::chrono::seconds(0);
  const auto now = now_();
  clock::duration wait{0};
  const auto counted = counted_name(name);
  std::lock_guard lock(mutex_);
  for (const auto& k : {key('p', counted, address), key('a', address), key('n', counted)}) {
    auto it = counters_.find(k);
    if (it != counters_.end() && it->second.blocked_until > now) wait = std::max(wait, it->second.blocked_until - now);
  }
  return std::chrono::ceil<std::chrono::seconds>(wait);
}

void login_throttle::count(std::string k, int limit, clock::time_point now) {
  auto [it, inserted] = counters_.try_emplace(std::move(k));
  if (inserted) ++inserts_since_sweep_;
  auto& c = it->second;
  ++c.failures;
  c.last = now;
  if (c.failures < limit) return;
  // 1 s at the limit, doubling with each further failure, at most max_backoff.
  const int doublings = std::min(c.failures - limit, 30);
  auto backoff = std::min<std::chrono::seconds>(std::chrono::seconds(1LL << doublings), settings_.max_backoff);
  c.blocked_until = now + backoff;
}

void login_throttle::failed(std::string_view name, std::string_view address) {
  if (!settings_.enabled) return;
  const auto now = now_();
  const auto counted = counted_name(name);
  std::lock_guard lock(mutex_);
  const int limit = std::max(1, settings_.failure_limit);
  count(key('p', counted, address), limit, now);
  count(key('a', address), 10 * limit, now);
  count(key('n', counted), 40 * limit, now);
  if (inserts_since_sweep_ >= sweep_every) forget_old(now);
}

void login_throttle::succeeded(std::string_view name, std::string_view address) {
  if (!settings_.enabled) return;
  const auto counted = counted_name(name);
  std::lock_guard lock(mutex_);
  counters_.erase(key('p', counted, address));
  counters_.erase(key('n', counted));
}

void login_throttle::forget_old(clock::time_point now) {
  inserts_since_sweep_ = 0;
  const auto quiet = quiet_period(settings_);
  for (auto it = counters_.begin(); it != counters_.end();) {
    if (now - it->second.last > quiet && it->second.blocked_until <= now) it = counters_.erase(it);
    else ++it;
  }
  if (counters_.size() <= max_counters) return;
  for (auto it = counters_.begin(); it != counters_.end();) {
    if (it->second.blocked_until <= now) it = counters_.erase(it);
    else ++it;
  }
}

std::size_t login_throttle::tracked() const {
  std::lock_guard lock(mutex_);
  return counters_.size();
}

std::string login_address(std::string_view peer, std::string_view forwarded_for) {
  const bool loopback = peer.rfind("127.", 0) == 0 || peer == "::1" || peer.rfind("::ffff:127.", 0) == 0;
  if (!loopback || forwarded_for.empty()) return std::string(peer);
  auto last = forwarded_for.substr(forwarded_for.rfind(',') + 1);
  while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
  while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
  return last.empty() ? std::string(peer) : std::string(last);
}

std::string login_address(const http::request& req) {
  return login_address(req.remote_addr, req.header("x-forwarded-for").value_or(""));
}

std::string throttled_message(std::chrono::seconds wait) {
  return "Too many failed logins. Try again in " + std::to_string(wait.count()) +
         (wait.count() == 1 ? " second." : " seconds.");
}

}  // namespace hubd::core::session
