#include "core/store/batch_writer.hpp"

#include <spdlog/spdlog.h>

#include <future>

namespace hubd::core::store {

batch_writer::batch_writer(store& s, std::size_t max_batch)
    : store_(s), max_batch_(max_batch ? max_batch : 1), thread_([this] { run(); }) {}

batch_writer::~batch_writer() { stop(); }

void batch_writer::set_failure_handler(failure_handler h) {
  std::lock_guard lock(mutex_);
  on_failure_ = std::move(h);
}

void batch_writer::submit(std::vector<change> changes, completion done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(item{std::move(changes), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  if (done) done(make_error(errc::closed, "the store writer is stopped; the change was not saved"));
}

std::vector<batch_writer::item> batch_writer::take_queued() {
  std::lock_guard lock(mutex_);
  std::vector<item> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

status batch_writer::flush() {
  auto p = std::make_shared<std::promise<status>>();
  auto f = p->get_future();
  submit({}, [p](const status& s) { p->set_value(s); });
  return f.get();
}

void batch_writer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

batch_writer::stats batch_writer::get_stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void batch_writer::run() {
  std::vector<item> batch;
  std::vector<change> changes;
  for (;;) {
    failure_handler on_failure;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      on_failure = on_failure_;
    }
    changes.clear();
    for (auto& it : batch)
      for (auto& c : it.changes) changes.push_back(std::move(c));
    status st = store_.commit(changes);
    std::vector<item> also_failed;
    if (!st) {
      spdlog::error("store: commit of {} change(s) failed: {}", changes.size(), st.err().message);
      if (on_failure) on_failure(st.err());
    }
    {
      std::lock_guard lock(mutex_);
      ++stats_.batches;
      stats_.items += batch.size();
      if (!st) ++stats_.failed_batches;
      if (batch.size() > stats_.largest_batch) stats_.largest_batch = batch.size();
    }
    for (auto& it : batch)
      if (it.done) it.done(st);
    batch.clear();
  }
}

}  // namespace hubd::core::store
