#pragma once
// The single writer: callers on any thread submit change lists with a completion; one thread takes
// everything queued, commits it as ONE transaction (one fsync), then runs the completions in
// submission order. Under load a batch grows by itself, so throughput scales with concurrency
// while every completion still fires only after its change is durable (group commit).
#include "core/store/store.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hubd::core::store {

class batch_writer {
public:
  using completion = std::function<void(const status&)>;
  struct item {
    std::vector<change> changes;
    completion done;  // may be empty
  };
  // Called on the writer thread after a failed commit, before that batch's completions run, so the
  // owner can restore its in-memory state from the store and take back what is still queued
  // (it was validated against state that never became durable).
  using failure_handler = std::function<void(const error&)>;

  struct stats {
    std::uint64_t batches = 0;
    std::uint64_t items = 0;
    std::uint64_t failed_batches = 0;
    std::uint64_t largest_batch = 0;
  };

  explicit batch_writer(store& s, std::size_t max_batch = 8192);
  ~batch_writer();  // stop()
  batch_writer(const batch_writer&) = delete;
  batch_writer& operator=(const batch_writer&) = delete;

  void set_failure_handler(failure_handler h);
  // Thread-safe; never waits for I/O. After stop(), completes at once with errc::closed.
  void submit(std::vector<change> changes, completion done);
  // Remove everything not yet taken by the writer (from inside the failure handler).
  std::vector<item> take_queued();
  // Block until everything submitted before this call is durable (or failed).
  status flush();
  // Commit what is queued, then end the thread. Idempotent.
  void stop();
  stats get_stats() const;

private:
  void run();

  store& store_;
  std::size_t max_batch_;
  failure_handler on_failure_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<item> queue_;
  bool stopping_ = false;
  stats stats_;
  std::thread thread_;
};

}  // namespace hubd::core::store
