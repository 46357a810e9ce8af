#pragma once
// Answers held back for a while: a refused login is answered after the failure delay the PAM stack
// asked for (pam_faildelay, pam_unix: 2-3 s), from a thread of the plugin's own, so the delay slows
// the one who guessed wrong without holding a thread of hubd's plugin pool meanwhile.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace hubd_pam {

class delayed_completions {
public:
  delayed_completions();
  ~delayed_completions();  // runs whatever is still waiting, at once
  delayed_completions(const delayed_completions&) = delete;
  delayed_completions& operator=(const delayed_completions&) = delete;

  // Runs `fn` once `delay` has passed (at once when it is zero or the queue is shutting down).
  void after(std::chrono::microseconds delay, std::function<void()> fn);

private:
  struct item {
    std::chrono::steady_clock::time_point due;
    std::uint64_t seq;  // keeps equal deadlines in arrival order
    std::function<void()> fn;
    bool operator>(const item& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<item, std::vector<item>, std::greater<>> queue_;
  std::uint64_t next_seq_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hubd_pam
