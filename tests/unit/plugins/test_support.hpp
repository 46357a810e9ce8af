#pragma once
// Helpers for plugin tests: wait for a callback-style result (never a timing assert: the wait is only
// a guard against hanging forever).
#include "core/plugins/op_result.hpp"
#include "tests/support/eventually.hpp"

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>

namespace hubd::test {

inline std::string fixture_dir() { return HUBD_FIXTURE_PLUGIN_DIR; }
inline std::string fixture(const std::string& name) { return fixture_dir() + "/" + name; }
inline std::string shipped(const std::string& name) { return std::string(HUBD_SHIPPED_PLUGIN_DIR) + "/" + name; }

template <class Start>
core::plugins::op_result wait_op(Start start) {
  auto p = std::make_shared<std::promise<core::plugins::op_result>>();
  auto f = p->get_future();
  start([p](core::plugins::op_result r) { p->set_value(std::move(r)); });
  if (f.wait_for(std::chrono::seconds(60)) != std::future_status::ready) throw std::runtime_error("op never answered");
  return f.get();
}

}  // namespace hubd::test
