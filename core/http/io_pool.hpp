#pragma once
// One io_context run by a few threads: the HTTP server, the HTTP client and timers share it.
#include <memory>

namespace boost::asio {
class io_context;
}

namespace hubd::core::http {

class io_pool {
public:
  explicit io_pool(unsigned threads = 2);
  ~io_pool();  // stop() and join()
  io_pool(const io_pool&) = delete;
  io_pool& operator=(const io_pool&) = delete;

  boost::asio::io_context& context();
  // Starts the threads (idempotent). The context keeps running while idle until stop().
  void start();
  // Makes run() return on every thread; pending handlers are dropped. Idempotent.
  void stop();
  void join();
  unsigned threads() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hubd::core::http
