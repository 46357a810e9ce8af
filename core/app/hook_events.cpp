#include "core/app/hook_events.hpp"

#include "core/model/hub_model.hpp"
#include "core/model/plugin_views.hpp"
#include "core/plugins/hooks_adapter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace hubd::core::app {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 6> change_events = {"user_created", "user_deleted", "group_members_changed",
                                                           "role_changed", "server_started", "server_stopped"};

}  // namespace

std::optional<hook_event> to_hook_event(const model::hub_model& m, const model::event& e) {
  using model::event_kind;
  switch (e.kind) {
    case event_kind::user_created: return hook_event{"user_created", {{"user", model::plugin_user_view(m, e.user)}}};
    case event_kind::user_deleted: return hook_event{"user_deleted", {{"user", json{{"name", e.user}}}}};
    case event_kind::group_members_changed: {
      json users = e.users.empty() && !e.user.empty() ? json::array({e.user}) : json(e.users);
      json in{{"group", e.group}, {"added", json::array()}, {"removed", json::array()}};
      in[e.detail == "removed" ? "removed" : "added"] = users;
      return hook_event{"group_members_changed", std::move(in)};
    }
    case event_kind::role_changed: {
      json in{{"role", model::plugin_role_view(m, e.role)}, {"change", e.detail.empty() ? "updated" : e.detail}};
      if (!e.user.empty()) in["user"] = e.user;
      if (!e.group.empty()) in["group"] = e.group;
      return hook_event{"role_changed", std::move(in)};
    }
    case event_kind::server_started:
    case event_kind::server_stopped: {
      json in{{"user", e.user}, {"server_name", e.server}};
      if (e.kind == event_kind::server_started)
        if (auto sv = m.find_server(e.user, e.server); sv && sv->url) in["url"] = *sv->url;
      return hook_event{e.kind == event_kind::server_started ? "server_started" : "server_stopped", std::move(in)};
    }
    default: return std::nullopt;
  }
}

void deliver_change_events(model::hub_model& m, std::vector<std::shared_ptr<plugins::hooks_adapter>> hooks) {
  std::erase_if(hooks, [](const auto& h) {
    return std::none_of(change_events.begin(), change_events.end(),
                        [&](std::string_view ev) { return h->subscribes(ev); });
  });
  if (hooks.empty()) return;
  // Runs on the writer thread after the commit: only render and post (hooks_adapter::call queues the
  // plugin call on the plugin pool and never runs it inline).
  m.subscribe([&m, hooks = std::move(hooks)](const model::event& e) {
    std::optional<hook_event> ev;
    for (const auto& h : hooks) {
      if (!ev) {
        ev = to_hook_event(m, e);
        if (!ev) return;
      }
      if (!h->subscribes(ev->hook_point)) continue;
      h->call(ev->hook_point, ev->input, [name = h->name(), point = ev->hook_point](plugins::op_result r) {
        if (!r.ok()) spdlog::warn("hook plugin {} failed on {}: {} (the change stands)", name, point, r.message);
      });
    }
  });
}

}  // namespace hubd::core::app
