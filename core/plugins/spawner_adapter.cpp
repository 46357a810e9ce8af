#include "core/plugins/spawner_adapter.hpp"

#include "core/plugins/detail/host_core.hpp"

#include <spdlog/spdlog.h>

namespace hubd::core::plugins {

namespace {
using nlohmann::json;

using detail::check_poll;
using detail::check_start;
std::string check_object(const json& v) { return v.is_object() || v.is_null() ? "" : "expected a JSON object"; }
}  // namespace

spawner_adapter::spawner_adapter(std::shared_ptr<detail::instance> inst) : inst_(std::move(inst)) {}
spawner_adapter::~spawner_adapter() = default;

const std::string& spawner_adapter::name() const { return inst_->plugin().name; }

bool spawner_adapter::implements(std::string_view op) const {
  const auto& v = inst_->plugin().spawner;
  if (op == "start") return v.start;
  if (op == "stop") return v.stop;
  if (op == "poll") return v.poll;
  if (op == "options_form") return v.options_form;
  if (op == "options_from_form") return v.options_from_form;
  if (op == "delete_forever") return v.delete_forever;
  if (op == "rename") return v.rename;
  if (op == "get_state") return v.get_state;
  if (op == "load_state") return v.load_state;
  if (op == "clear_state") return v.clear_state;
  return false;
}

void spawner_adapter::start(json ctx, progress_callback progress, op_callback done,
                            std::optional<std::chrono::milliseconds> timeout) {
  detail::call_op(inst_, "start", inst_->plugin().spawner.start, ctx, check_start,
                  [done = std::move(done)](op_result r) {
                    if (r.ok() && r.value.is_string()) r.value = json{{"url", r.value}};
                    if (done) done(std::move(r));
                  },
                  std::move(progress), timeout);
}
void spawner_adapter::stop(bool now, op_callback done, std::optional<std::chrono::milliseconds> timeout, json auth_state) {
  detail::call_op(inst_, "stop", inst_->plugin().spawner.stop, json{{"now", now}, {"auth_state", std::move(auth_state)}}, {},
                  std::move(done), {}, timeout);
}
void spawner_adapter::poll(op_callback done) {
  detail::call_op(inst_, "poll", inst_->plugin().spawner.poll, json::object(), check_poll, std::move(done));
}
void spawner_adapter::options_form(json ctx, op_callback done) {
  detail::call_op(inst_, "options_form", inst_->plugin().spawner.options_form, ctx, check_object, std::move(done));
}
void spawner_adapter::options_from_form(json form, op_callback done) {
  detail::call_op(inst_, "options_from_form", inst_->plugin().spawner.options_from_form, json{{"form", form}},
                  check_object, std::move(done));
}
void spawner_adapter::delete_forever(json ctx, op_callback done) {
  detail::call_op(inst_, "delete_forever", inst_->plugin().spawner.delete_forever, ctx, {}, std::move(done));
}
void spawner_adapter::rename(std::string old_name, std::string new_name, op_callback done) {
  detail::call_op(inst_, "rename", inst_->plugin().spawner.rename, json{{"old_name", old_name}, {"new_name", new_name}},
                  {}, std::move(done));
}

void spawner_adapter::get_state(std::function<void(json)> done) {
  auto inst = inst_;
  auto deliver = [inst, done](json state) { inst->host().post_completion([done, state] { done(state); }); };
  if (!inst->run([inst, deliver] {
        json state;
        auto fn = inst->plugin().spawner.get_state;
        std::string out;
        hubd_sink sink = detail::make_sink(out);
        if (fn && inst->obj() && fn(inst->obj(), &sink)) {
          if (auto err = detail::parse_plugin_json(out, state); !err.empty() || !(state.is_object() || state.is_null())) {
            inst->host().misbehaving_++;
            spdlog::error("plugin-misbehaving: plugin '{}' returned malformed state from get_state: {}",
                          inst->plugin().name, err.empty() ? std::string("not a JSON object") : err);
            state = nullptr;
          }
        }
        deliver(state);
      }))
    done(nullptr);  // shutting down: no completion thread any more
}

void spawner_adapter::load_state(json state, std::function<void(bool)> done) {
  auto inst = inst_;
  auto text = std::make_shared<const std::string>(state.dump());
  auto deliver = [inst, done](bool ok) { inst->host().post_completion([done, ok] { done(ok); }); };
  if (!inst->run([inst, text, deliver] {
        auto fn = inst->plugin().spawner.load_state;
        deliver(fn && inst->obj() ? fn(inst->obj(), hubd_str{text->data(), text->size()}) : true);
      }))
    done(false);
}

void spawner_adapter::clear_state(std::function<void()> done) {
  auto inst = inst_;
  auto deliver = [inst, done] { inst->host().post_completion([done] { done(); }); };
  if (!inst->run([inst, deliver] {
        if (auto fn = inst->plugin().spawner.clear_state; fn && inst->obj()) fn(inst->obj());
        deliver();
      }))
    done();
}

}  // namespace hubd::core::plugins
