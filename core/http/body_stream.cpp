#include "core/http/body_stream.hpp"

#include <utility>

namespace hubd::core::http {

void body_stream::push(std::string chunk) {
  if (chunk.empty()) return;
  pull_callback cb;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    if (!waiting_) {
      queued_.push_back(std::move(chunk));
      return;
    }
    cb = std::move(waiting_);
    waiting_ = nullptr;
  }
  cb(std::move(chunk));  // outside the lock: the callback may pull again
}

void body_stream::close() {
  pull_callback cb;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    if (!queued_.empty() || !waiting_) return;
    cb = std::move(waiting_);
    waiting_ = nullptr;
  }
  cb(std::nullopt);
}

void body_stream::next(pull_callback cb) {
  std::optional<std::string> chunk;
  {
    std::lock_guard lock(mutex_);
    if (!queued_.empty()) {
      chunk = std::move(queued_.front());
      queued_.pop_front();
    } else if (!closed_) {
      waiting_ = std::move(cb);
      return;
    }
  }
  cb(std::move(chunk));
}

bool body_stream::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace hubd::core::http
