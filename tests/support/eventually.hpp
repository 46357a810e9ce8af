#pragma once
// Waiting on a condition in unit tests: polls until it holds. The budget only guards against hanging
// forever, never a timing assertion, so one generous default serves every test.
#include <chrono>
#include <thread>

namespace hubd::test {

template <class Pred>
bool eventually(Pred&& pred, std::chrono::milliseconds budget = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace hubd::test
