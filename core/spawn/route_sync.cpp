#include "core/spawn/route_sync.hpp"

#include "core/http/io_pool.hpp"
#include "core/model/hub_model.hpp"
#include "core/spawn/env_contract.hpp"
#include "core/spawn/route_activity.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <set>

namespace hubd::core::spawn {

std::vector<proxy::route> wanted_routes(const spawn_env& env) {
  std::vector<proxy::route> out;
  if (!env.deps.hub_route.target.empty()) out.push_back(env.deps.hub_route);
  // Services with a url are routed at /services/NAME/ (JupyterHub's add_all_services).
  for (const auto& svc : env.deps.model.list_services()) {
    if (!svc->url || svc->url->empty()) continue;
    std::string target = *svc->url;
    while (!target.empty() && target.back() == '/') target.pop_back();
    out.push_back({env.settings.base_url + "services/" + escape_path(svc->name) + "/", target,
                   proxy::service_route_data(svc->name)});
  }
  std::lock_guard lk(env.mutex);
  for (const auto& [k, e] : env.servers)
    if (e.phase == server_phase::running && !e.target.empty())
      out.push_back({e.prefix, e.target, proxy::user_route_data(k.first, k.second)});
  return out;
}

void check_routes(const std::shared_ptr<spawn_env>& env, std::function<void(std::string)> done) {
  if (!env->deps.proxy) return boost::asio::post(env->deps.io.context(), [done] { done({}); });
  env->deps.proxy->get_all_routes([env, done](proxy::route_table current, std::string err) {
    if (!err.empty()) return done(err);
    std::set<std::string> pending;
    {
      std::lock_guard lk(env->mutex);
      for (const auto& [k, e] : env->servers)
        if (e.phase != server_phase::running) pending.insert(e.prefix);
    }
    auto plan = proxy::plan_route_sync(current, wanted_routes(*env), pending);
    if (plan.empty()) return done({});
    auto left = std::make_shared<std::atomic<std::size_t>>(plan.add.size() + plan.remove.size());
    auto errors = std::make_shared<std::string>();
    auto errors_mutex = std::make_shared<std::mutex>();
    auto step = [left, errors, errors_mutex, done](std::string e) {
      if (!e.empty()) {
        std::lock_guard lk(*errors_mutex);
        *errors += (errors->empty() ? "" : "; ") + e;
      }
      if (left->fetch_sub(1) == 1) done(*errors);
    };
    for (const auto& r : plan.add) {
      spdlog::warn("proxy-route-repaired: adding missing route {} -> {}", r.routespec, r.target);
      env->deps.proxy->add_route(r, step);
    }
    for (const auto& spec : plan.remove) {
      spdlog::warn("proxy-route-repaired: deleting stale route {}", spec);
      env->deps.proxy->delete_route(spec, step);
    }
  });
}

namespace {

// Proxy traffic as activity: newer route stamps go onto the server and its user.
void record_route_activity(model::hub_model& m, const proxy::route_table& table) {
  auto updates = activity_from_routes(table, model::now(), [&m](const std::string& u, const std::string& s)
                                                               -> std::optional<model::opt_time> {
    auto sv = m.find_server(u, s);
    if (!sv) return std::nullopt;
    return sv->last_activity;
  });
  for (const auto& a : updates) {
    model::server_patch p;
    p.last_activity = a.when;
    auto r = m.update_server(a.user, a.server, p, [](const model::status&) {});
    if (!r) spdlog::debug("spawn: recording activity of {}/{} failed: {}", a.user, a.server, r.err().message);
    if (auto u = m.find_user(a.user); u && (!u->last_activity || *u->last_activity < a.when)) {
      auto st = m.touch_user(a.user, a.when);
      if (!st) spdlog::debug("spawn: recording activity of {} failed: {}", a.user, st.err().message);
    }
  }
}

}  // namespace

// JupyterHub's update_last_activity, on its own interval (last_activity_interval), apart from the
// route check: the idle culler's view of who is busy depends on this cadence alone.
void update_route_activity(const std::shared_ptr<spawn_env>& env, std::function<void(std::string)> done) {
  if (!env->deps.proxy) return boost::asio::post(env->deps.io.context(), [done] { done({}); });
  env->deps.proxy->get_all_routes([env, done](proxy::route_table current, std::string err) {
    if (err.empty()) record_route_activity(env->deps.model, current);
    done(err);
  });
}

}  // namespace hubd::core::spawn
