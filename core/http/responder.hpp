#pragma once
// The one-shot answer channel handed to every handler. Copyable (it may be captured by several
// completion paths); only the first call counts. It may be called from any thread, at once or later:
// the server posts the answer back to the connection. If every copy is dropped unanswered, the
// request gets a 500 so that a buggy handler never leaks the connection.
#include "core/http/response.hpp"

#include <functional>
#include <memory>

namespace hubd::core::http {

class responder {
public:
  using callback = std::function<void(response&&)>;
  explicit responder(callback cb);

  // Sends the answer. Returns false (and does nothing) if an answer was already sent.
  bool operator()(response r) const;
  bool sent() const;

private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace hubd::core::http
