#pragma once
// A hook plugin instance: which hook points it subscribes to, and calling one. Results are patches
// that the caller applies (plugins never mutate hub objects).
#include "core/plugins/op_result.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::plugins {

namespace detail {
class instance;
}

// Every hook point and change event a hook plugin may subscribe to.
const std::vector<std::string>& known_hook_points();

class hooks_adapter {
public:
  explicit hooks_adapter(std::shared_ptr<detail::instance> inst);
  ~hooks_adapter();

  const std::string& name() const;
  const std::vector<std::string>& hook_points() const;
  bool subscribes(std::string_view hook_point) const;

  // Calls one hook point. done gets ok with {} / null (no change) or a JSON patch, denied (post_auth:
  // refuse the login), or an error. A hook point the plugin does not subscribe to completes ok with
  // null without calling it.
  void call(std::string_view hook_point, nlohmann::json input, op_callback done);

private:
  std::shared_ptr<detail::instance> inst_;
};

}  // namespace hubd::core::plugins
