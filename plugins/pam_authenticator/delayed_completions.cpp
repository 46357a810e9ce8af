#include "delayed_completions.hpp"

namespace hubd_pam {

delayed_completions::delayed_completions() : thread_([this] { run(); }) {}

delayed_completions::~delayed_completions() {
  {
    std::lock_guard lk(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void delayed_completions::after(std::chrono::microseconds delay, std::function<void()> fn) {
  {
    std::lock_guard lk(mutex_);
    if (!stopping_ && delay.count() > 0) {
      queue_.push(item{std::chrono::steady_clock::now() + delay, next_seq_++, std::move(fn)});
      fn = nullptr;
    }
  }
  if (fn) {
    fn();
    return;
  }
  wake_.notify_all();
}

void delayed_completions::run() {
  std::unique_lock lk(mutex_);
  for (;;) {
    if (queue_.empty()) {
      if (stopping_) return;
      wake_.wait(lk);
      continue;
    }
    // A copy: wait_until reads the deadline again after waking, when a push may have moved the element.
    const auto due = queue_.top().due;
    if (!stopping_ && std::chrono::steady_clock::now() < due) {
      wake_.wait_until(lk, due);
      continue;
    }
    auto fn = std::move(const_cast<item&>(queue_.top()).fn);
    queue_.pop();
    lk.unlock();
    fn();  // only completes an op: hubd posts the continuation, never runs it inline
    lk.lock();
  }
}

}  // namespace hubd_pam
