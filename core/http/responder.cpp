#include "core/http/responder.hpp"

#include <spdlog/spdlog.h>

#include <atomic>

namespace hubd::core::http {

struct responder::state {
  callback cb;
  std::atomic<bool> sent{false};

  explicit state(callback c) : cb(std::move(c)) {}
  ~state() {
    if (!sent.exchange(true) && cb) {
      spdlog::error("http: handler dropped its responder without answering; sending 500");
      try {
        cb(error_response(500, "The request handler did not answer"));
      } catch (...) {
        // nothing sensible left to do in a destructor
      }
    }
  }
};

responder::responder(callback cb) : state_(std::make_shared<state>(std::move(cb))) {}

bool responder::operator()(response r) const {
  if (state_->sent.exchange(true)) {
    spdlog::warn("http: responder called more than once; extra answer ignored");
    return false;
  }
  state_->cb(std::move(r));
  return true;
}

bool responder::sent() const { return state_->sent.load(); }

}  // namespace hubd::core::http
