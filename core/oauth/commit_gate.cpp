#include "core/oauth/commit_gate.hpp"

namespace hubd::core::oauth {

void commit_gate::ready(http::response r) {
  std::unique_lock lock(mutex_);
  answer_ = std::move(r);
  if (!status_) return;
  auto st = *status_;
  auto answer = std::move(*answer_);
  lock.unlock();
  res_(st ? std::move(answer) : on_failure_(st.err()));
}

void commit_gate::committed(const model::status& s) {
  std::unique_lock lock(mutex_);
  status_ = s;
  if (!s) {
    lock.unlock();
    res_(on_failure_(s.err()));
    return;
  }
  if (!answer_) return;
  auto answer = std::move(*answer_);
  lock.unlock();
  res_(std::move(answer));
}

}  // namespace hubd::core::oauth
