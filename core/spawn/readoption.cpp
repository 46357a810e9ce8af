#include "core/spawn/readoption.hpp"

#include "core/model/hub_model.hpp"
#include "core/spawn/spawn_flow.hpp"

#include <limits>

namespace hubd::core::spawn {

namespace {

nlohmann::json parse_object(const std::string& text) {
  auto v = nlohmann::json::parse(text, nullptr, false);
  return v.is_object() ? v : nlohmann::json::object();
}

struct recorded {
  server_key key;
  model::server_ptr record;
};

}  // namespace

void claim_recorded_servers(const std::shared_ptr<spawn_env>& env) {
  // The model is read first; the table's lock is taken only to claim.
  std::vector<recorded> active;
  auto& m = env->deps.model;
  for (const auto& u : m.list_users(0, std::numeric_limits<std::size_t>::max()))
    for (const auto& s : m.servers_of(u->name))
      if (s->started || s->pending) active.push_back({{u->name, s->name}, s});
  std::lock_guard lk(env->mutex);
  for (auto& [k, s] : active) {
    if (env->servers.count(k)) continue;  // claimed already, or a spawn of this run
    auto cfg = lifecycle_config_of(env->settings, k.first, k.second, env->pre_spawn.size());
    auto flow = std::make_shared<spawn_flow>(env, k, lifecycle::claimed(cfg));
    flow->set_saved_record(parse_object(s->state), s->started && !s->pending, s->url.value_or(""));
    env->servers[k] = server_entry{flow, server_phase::stopping, cfg.prefix, s->url.value_or("")};
    env->claimed.push_back(flow);
  }
}

void adopt_claimed_servers(const std::shared_ptr<spawn_env>& env) {
  claim_recorded_servers(env);
  std::vector<std::function<void()>> waiting;
  std::vector<std::shared_ptr<spawn_flow>> todo;
  {
    std::lock_guard lk(env->mutex);
    todo.swap(env->claimed);
    env->routes_open = true;
    waiting.swap(env->deferred_routes);
  }
  for (auto& f : todo) f->adopt();
  for (auto& w : waiting) w();
}

}  // namespace hubd::core::spawn
