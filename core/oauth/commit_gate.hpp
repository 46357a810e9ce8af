#pragma once
// A model mutation returns its value (a new code, a token secret) at once and reports its commit
// later on the writer thread, possibly before the caller has even seen the return value. The
// answer needs both: it is sent on whichever arrives second.
#include "core/http/responder.hpp"
#include "core/model/hub_model.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace hubd::core::oauth {

class commit_gate : public std::enable_shared_from_this<commit_gate> {
public:
  // `on_failure` builds the answer when the commit failed.
  commit_gate(http::responder res, std::function<http::response(const model::error&)> on_failure)
      : res_(std::move(res)), on_failure_(std::move(on_failure)) {}

  // The completion to hand to the mutation.
  model::completion completion() {
    return [self = shared_from_this()](const model::status& s) { self->committed(s); };
  }
  // The answer to send once the commit succeeded.
  void ready(http::response r);

private:
  void committed(const model::status& s);
  std::mutex mutex_;
  http::responder res_;
  std::function<http::response(const model::error&)> on_failure_;
  std::optional<http::response> answer_;
  std::optional<model::status> status_;
};

}  // namespace hubd::core::oauth
