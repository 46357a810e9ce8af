#include "core/session/login_refresh.hpp"

#include "core/model/plugin_views.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <vector>

namespace hubd::core::session {
namespace {

using nlohmann::json;

// Why a partial auth model cannot be applied, or "".
std::string check_update(const json& v) {
  if (auto it = v.find("auth_state"); it != v.end() && !it->is_object() && !it->is_null())
    return "\"auth_state\" must be an object or null";
  if (auto it = v.find("admin"); it != v.end() && !it->is_boolean() && !it->is_null()) return "\"admin\" must be a boolean";
  if (auto it = v.find("user_info"); it != v.end() && !it->is_object() && !it->is_null())
    return "\"user_info\" must be an object or null";
  if (auto it = v.find("groups"); it != v.end() && !it->is_null()) {
    if (!it->is_array()) return "\"groups\" must be a list of names";
    for (const auto& g : *it)
      if (!g.is_string()) return "\"groups\" must be a list of names";
  }
  return "";
}

}  // namespace

std::string login_expired_message(std::string_view user) {
  return "auth has expired for " + std::string(user) + ", login again";
}

login_refresh::login_refresh(model::hub_model& model, refresh_settings settings, refresh_call call, post_fn post,
                             refresh_tracker::now_fn now)
    : model_(model),
      settings_(std::move(settings)),
      call_(std::move(call)),
      post_(std::move(post)),
      tracker_(std::make_shared<refresh_tracker>(settings_.auth_refresh_age, std::move(now))) {
  model_.subscribe([weak = std::weak_ptr<refresh_tracker>(tracker_)](const model::event& e) {
    auto tracker = weak.lock();
    if (!tracker) return;
    if (e.kind == model::event_kind::user_deleted) tracker->forget(e.user);
    else if (e.kind == model::event_kind::user_renamed) tracker->forget(e.detail);
  });
}

void login_refresh::refresh(const std::string& user, std::function<void(refresh_verdict)> then) {
  auto post = post_;
  bool first = tracker_->join(user, [post, then = std::move(then)](refresh_verdict v) {
    post([then, v] { then(v); });
  });
  if (!first) return;
  spdlog::debug("refresh: refreshing the login of {}", user);
  json input{{"user", model::plugin_user_view(model_, user)},
             {"auth_state", model::plugin_auth_state(model_, user, settings_.enable_auth_state)}};
  call_(std::move(input), [this, user](refresh_answer a) { on_answer(user, std::move(a)); });
}

void login_refresh::on_answer(const std::string& user, refresh_answer a) {
  if (!a.completed) {
    spdlog::warn("refresh: refreshing the login of {} failed, the login stays: {}", user, a.failure);
    return finish(user, refresh_verdict::transient);
  }
  if (a.value.is_boolean()) {
    if (a.value.get<bool>()) return finish(user, refresh_verdict::valid);
    return end_login(user);
  }
  if (auto err = check_update(a.value); !err.empty()) {
    spdlog::error("plugin-misbehaving: refresh_user for {} returned an auth model that cannot be applied: {}", user, err);
    return finish(user, refresh_verdict::transient);
  }
  store_update(user, a.value);
}

// Every step is submitted in order and the writer commits in order, so the last completion to
// arrive means all of them are durable.
void login_refresh::store_update(const std::string& user, const json& update) {
  auto cur = model_.find_user(user);
  if (!cur) return finish(user, refresh_verdict::over);
  std::vector<std::function<model::status(model::completion)>> steps;
  model::user_patch patch;
  patch.source = "authenticator";
  bool patched = false;
  if (auto it = update.find("admin"); it != update.end() && it->is_boolean()) {
    bool admin = it->get<bool>() || settings_.admin_users.count(user) > 0;
    if (admin != cur->admin) patch.admin = admin, patched = true;
  }
  if (auto it = update.find("user_info"); it != update.end() && it->is_object()) {
    patch.user_info = std::optional<std::string>(it->dump());
    patched = true;
  }
  if (patched)
    steps.push_back([this, user, patch](model::completion d) -> model::status {
      auto r = model_.update_user(user, patch, std::move(d));
      return r ? model::status{} : model::status(r.err());
    });
  if (auto it = update.find("groups"); settings_.manage_groups && it != update.end() && it->is_array()) {
    std::vector<std::string> groups;
    for (const auto& g : *it) groups.push_back(g.get<std::string>());
    steps.push_back([this, user, groups](model::completion d) {
      return model_.set_user_groups_from_source(user, groups, "authenticator", std::move(d));
    });
  }
  if (auto it = update.find("auth_state"); it != update.end() && settings_.enable_auth_state && model_.auth_state_enabled()) {
    std::optional<json> state;
    if (!it->is_null()) state = *it;
    steps.push_back([this, user, state](model::completion d) { return model_.set_auth_state(user, state, std::move(d)); });
  }
  if (steps.empty()) return finish(user, refresh_verdict::valid);

  struct progress {
    std::atomic<std::size_t> left;
    std::atomic<bool> failed{false};
    explicit progress(std::size_t n) : left(n) {}
  };
  auto p = std::make_shared<progress>(steps.size());
  auto arrive = [this, user, p] {
    if (p->left.fetch_sub(1) != 1) return;
    finish(user, p->failed ? refresh_verdict::transient : refresh_verdict::valid);
  };
  for (auto& step : steps) {
    auto st = step([user, p, arrive](const model::status& s) {
      if (!s) {
        spdlog::error("refresh: storing the refreshed auth model of {} failed: {}", user, s.err().message);
        p->failed = true;
      }
      arrive();
    });
    if (!st) {
      spdlog::error("refresh: storing the refreshed auth model of {} failed: {}", user, st.err().message);
      p->failed = true;
      arrive();
    }
  }
}

void login_refresh::end_login(const std::string& user) {
  auto r = model_.end_user_sessions(user, [this, user](const model::status& s) {
    if (!s) spdlog::error("refresh: ending the browser sessions of {} failed: {}", user, s.err().message);
    finish(user, refresh_verdict::over);
  });
  if (!r) {
    spdlog::warn("refresh: the login of {} is over (refresh_user answered false)", user);
    return finish(user, refresh_verdict::over);
  }
  spdlog::warn("refresh: the login of {} is over (refresh_user answered false): {} browser session(s) ended", user,
               r.value());
}

void login_refresh::finish(const std::string& user, refresh_verdict v) {
  for (auto& w : tracker_->finish(user, v)) w(v);
}

}  // namespace hubd::core::session
