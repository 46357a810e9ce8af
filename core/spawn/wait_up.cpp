#include "core/spawn/wait_up.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <memory>

namespace hubd::core::spawn {

namespace {

struct waiter : std::enable_shared_from_this<waiter> {
  boost::asio::io_context& ioc;
  http::client& client;
  std::string url;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds timeout;
  alive_check alive;
  std::function<void(wait_up_result)> done;
  std::chrono::milliseconds delay{50};
  std::string last_error = "no answer yet";

  waiter(boost::asio::io_context& c, http::client& cl) : ioc(c), client(cl) {}

  void attempt() {
    auto self = shared_from_this();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    http::client_request req;
    req.url = url;
    req.timeout = std::clamp(left, std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
    client.request(std::move(req), [self](http::client_response&& r) {
      if (r.ok() && r.status > 0 && r.status < 500) {
        wait_up_result out;
        out.ready = true;
        out.status = r.status;
        if (auto v = r.header("X-JupyterHub-Version")) out.version = std::string(*v);
        return self->done(std::move(out));
      }
      self->last_error = r.ok() ? "it answered " + std::to_string(r.status) : r.error;
      self->check_alive();
    });
  }

  void check_alive() {
    auto self = shared_from_this();
    if (!alive) return retry_later();
    alive([self](std::optional<std::string> gone) {
      // The answer may come on any thread: continue on the io_context.
      boost::asio::post(self->ioc, [self, gone] {
        if (gone) return self->done(wait_up_result{false, 0, std::nullopt, *gone});
        self->retry_later();
      });
    });
  }

  void retry_later() {
    auto self = shared_from_this();
    if (std::chrono::steady_clock::now() >= deadline) {
      return done(wait_up_result{false, 0, std::nullopt,
                                 "the server at " + url + " never answered within " +
                                     std::to_string(timeout.count() / 1000.0).substr(0, 5) + " s (" + last_error + ")"});
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(ioc, delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(1000));
    timer->async_wait([self, timer](const boost::system::error_code&) { self->attempt(); });
  }
};

}  // namespace

void wait_up(http::io_pool& pool, http::client& client, std::string url, std::chrono::milliseconds timeout,
             alive_check alive, std::function<void(wait_up_result)> done) {
  auto w = std::make_shared<waiter>(pool.context(), client);
  w->url = std::move(url);
  w->timeout = timeout;
  w->deadline = std::chrono::steady_clock::now() + timeout;
  w->alive = std::move(alive);
  w->done = std::move(done);
  w->attempt();
}

}  // namespace hubd::core::spawn
