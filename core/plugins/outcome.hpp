#pragma once
// A value or an error message: what loading and creating plugins return, since every failure must
// name the file and the reason (C++20 has no std::expected).
#include <optional>
#include <string>
#include <utility>

namespace hubd::core::plugins {

template <class T>
class outcome {
public:
  outcome(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  static outcome failure(std::string message) { return outcome(std::move(message), 0); }

  explicit operator bool() const { return value_.has_value(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  const std::string& error() const { return error_; }

private:
  outcome(std::string message, int) : error_(std::move(message)) {}
  std::optional<T> value_;
  std::string error_;
};

}  // namespace hubd::core::plugins
