#pragma once
// A response body produced over time and sent as it comes (Transfer-Encoding: chunked), for
// text/event-stream answers such as spawn progress. Producers push from any thread; the server pulls
// one chunk at a time, so a slow client holds back nothing but its own queue.
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace hubd::core::http {

class body_stream {
public:
  using pull_callback = std::function<void(std::optional<std::string> chunk)>;

  // Queues a chunk (empty chunks are dropped: an empty chunk would end the HTTP body). No-op once closed.
  void push(std::string chunk);
  // Ends the body once the queued chunks are sent. Idempotent.
  void close();
  // `cb` is called exactly once: with the next chunk, or with nullopt when closed and drained. At
  // once when a chunk is queued, else from the push or close that provides it (on that thread).
  // One pull at a time.
  void next(pull_callback cb);
  bool closed() const;

private:
  mutable std::mutex mutex_;
  std::deque<std::string> queued_;
  bool closed_ = false;
  pull_callback waiting_;
};

}  // namespace hubd::core::http
