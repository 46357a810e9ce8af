#include "core/http/io_pool.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace hubd::core::http {

struct io_pool::impl {
  unsigned n;
  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
  std::vector<std::thread> threads;
  std::mutex mutex;

  explicit impl(unsigned count) : n(count == 0 ? 1 : count), ioc(static_cast<int>(n)) {}
};

io_pool::io_pool(unsigned threads) : impl_(std::make_unique<impl>(threads)) {}

io_pool::~io_pool() {
  stop();
  join();
}

boost::asio::io_context& io_pool::context() { return impl_->ioc; }

unsigned io_pool::threads() const { return impl_->n; }

void io_pool::start() {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->threads.empty()) return;
  impl_->guard.emplace(impl_->ioc.get_executor());
  for (unsigned i = 0; i < impl_->n; ++i) {
    impl_->threads.emplace_back([this] {
      for (;;) {
        try {
          impl_->ioc.run();
          return;
        } catch (const std::exception& e) {
          // a throwing completion handler must not kill the io thread
          spdlog::error("http: io thread caught an exception: {}", e.what());
        }
      }
    });
  }
}

void io_pool::stop() {
  std::lock_guard lock(impl_->mutex);
  impl_->guard.reset();
  impl_->ioc.stop();
}

void io_pool::join() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mutex);
    threads.swap(impl_->threads);
  }
  for (auto& t : threads) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    else if (t.joinable()) t.detach();
  }
}

}  // namespace hubd::core::http
