#include "core/plugins/hooks_adapter.hpp"

#include "core/plugins/detail/host_core.hpp"

#include <algorithm>

namespace hubd::core::plugins {

const std::vector<std::string>& known_hook_points() {
  static const std::vector<std::string> points = {
      HUBD_HOOK_POST_AUTH,         HUBD_HOOK_AUTH_STATE,          HUBD_HOOK_PRE_SPAWN,
      HUBD_HOOK_POST_STOP,         HUBD_HOOK_PROGRESS_READY,      HUBD_EVENT_USER_CREATED,
      HUBD_EVENT_USER_DELETED,     HUBD_EVENT_GROUP_MEMBERS_CHANGED, HUBD_EVENT_ROLE_CHANGED,
      HUBD_EVENT_SERVER_STARTED,   HUBD_EVENT_SERVER_STOPPED,
  };
  return points;
}

hooks_adapter::hooks_adapter(std::shared_ptr<detail::instance> inst) : inst_(std::move(inst)) {}
hooks_adapter::~hooks_adapter() = default;

const std::string& hooks_adapter::name() const { return inst_->plugin().name; }
const std::vector<std::string>& hooks_adapter::hook_points() const { return inst_->plugin().hook_points; }

bool hooks_adapter::subscribes(std::string_view hook_point) const {
  const auto& p = hook_points();
  return std::find(p.begin(), p.end(), hook_point) != p.end();
}

void hooks_adapter::call(std::string_view hook_point, nlohmann::json input, op_callback done) {
  const auto& points = hook_points();
  auto it = std::find(points.begin(), points.end(), hook_point);
  if (it == points.end()) {
    inst_->host().post_completion([done = std::move(done)] {
      if (done) done(op_result{op_status::ok, nullptr, {}});
    });
    return;
  }
  auto fn = inst_->plugin().hooks.call;
  const char* point = it->c_str();  // lives in the plugin record, as long as the instance
  auto text = std::make_shared<const std::string>(input.is_null() ? std::string("{}") : input.dump());
  std::weak_ptr<detail::instance> weak = inst_;
  inst_->start_op(
      std::string(hook_point),
      [weak, fn, point, text](hubd_op* op) {
        if (auto i = weak.lock()) fn(i->obj(), i->handle(), op, point, hubd_str{text->data(), text->size()});
      },
      [](const nlohmann::json& v) { return v.is_object() || v.is_null() ? "" : "expected {} or a JSON patch object"; },
      std::move(done));
}

}  // namespace hubd::core::plugins
