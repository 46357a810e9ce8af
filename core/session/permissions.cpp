#include "core/session/permissions.hpp"

#include "core/model/oauth_client_id.hpp"

#include <spdlog/spdlog.h>

#include <mutex>

namespace hubd::core::session {

namespace {

// Bounds memory when principals churn (bulk user creation); a miss only costs a recomputation.
constexpr std::size_t max_cache_entries = 200'000;

void log_rbac_warnings(const std::vector<std::string>& warnings, std::string_view who) {
  // Debug: a miss happens once per principal and generation, and a busy hub changes generation
  // often; these repeat the same few configuration facts.
  for (const auto& w : warnings) spdlog::debug("api: rbac warning for {}: {}", who, w);
}

std::string owner_name_of(const model::hub_model& model, const model::token& t, rbac::principal_ref& ref) {
  if (t.user_id) {
    if (auto u = model.find_user(*t.user_id)) {
      ref = rbac::principal_ref::user(u->name);
      return u->name;
    }
  } else if (t.service_id) {
    for (const auto& s : model.list_services()) {
      if (s->id == *t.service_id) {
        ref = rbac::principal_ref::service(s->name);
        return s->name;
      }
    }
  }
  ref = rbac::principal_ref::none();
  return {};
}

}  // namespace

bool model_membership::is_member(std::string_view user, std::string_view group) const {
  return model_.is_member(user, group);
}

rbac::oauth_client_ref token_client(const model::hub_model& model, const model::token& t,
                                    const rbac::principal_ref& owner) {
  if (t.client_id.empty() || t.client_id == "jupyterhub") return rbac::oauth_client_ref::hub();
  // A server's client binds only for its own owner's tokens.
  if (owner.kind == rbac::principal_ref::kind_t::user)
    if (auto srv = model::parse_server_client_id(t.client_id); srv && srv->first == owner.name)
      return rbac::oauth_client_ref::server(owner.name, srv->second);
  for (const auto& s : model.list_services()) {
    if (s->oauth_client_id && *s->oauth_client_id == t.client_id) return rbac::oauth_client_ref::service(s->name);
  }
  // An unknown client binds nothing (a client deleted meanwhile has no tokens left anyway).
  return rbac::oauth_client_ref::hub();
}

rbac::scope_set compute_user_scopes(const model::hub_model& model, const rbac::scope_table& table,
                                    std::string_view user, std::vector<std::string>* warnings) {
  auto raw = model.user_role_scopes(user);
  rbac::expansion e;
  try {
    e = rbac::expand(table, raw, rbac::principal_ref::user(std::string(user)));
  } catch (const rbac::scope_not_found& ex) {
    // A role with a scope that is no longer defined grants nothing rather than failing every request.
    spdlog::warn("pages: ignoring invalid role scopes of user {}: {}", user, ex.what());
  }
  if (warnings) warnings->insert(warnings->end(), e.warnings.begin(), e.warnings.end());
  for (const auto& sh : model.shares_reaching_user(user)) {
    auto srv = model.find_server(sh->server_id);
    if (!srv) continue;
    auto owner = model.find_user(srv->user_id);
    if (!owner) continue;
    try {
      e.scopes.merge(rbac::expand_share_scopes(table, sh->scopes, owner->name, srv->name));
    } catch (const rbac::scope_not_found& ex) {
      spdlog::warn("pages: ignoring invalid share scopes for user {}: {}", user, ex.what());
    }
  }
  return std::move(e.scopes);
}

rbac::scope_set compute_service_scopes(const model::hub_model& model, const rbac::scope_table& table,
                                       std::string_view service, std::vector<std::string>* warnings) {
  std::vector<std::string> raw;
  for (const auto& r : model.roles_of(model::holder_kind::service, service))
    raw.insert(raw.end(), r->scopes.begin(), r->scopes.end());
  try {
    auto e = rbac::expand(table, raw, rbac::principal_ref::service(std::string(service)));
    if (warnings) warnings->insert(warnings->end(), e.warnings.begin(), e.warnings.end());
    return std::move(e.scopes);
  } catch (const rbac::scope_not_found& ex) {
    if (warnings) warnings->push_back(ex.what());
    return {};
  }
}

permission_cache::permission_cache(const model::hub_model& model, const rbac::scope_table& table)
    : model_(model), table_(table), membership_(model) {}

void permission_cache::clear() {
  std::unique_lock lock(mutex_);
  entries_.clear();
}

template <class F>
resolved_ptr permission_cache::cached(const std::string& key, const rbac::principal_ref& owner, F&& compute) {
  // Read the generation before computing: a change racing with the computation leaves the entry
  // tagged with the older generation, so the next request recomputes.
  const std::uint64_t gen = model_.generation();
  {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.generation == gen) return it->second.value;
  }
  std::optional<rbac::scope_set> set = compute();
  if (!set) return nullptr;
  auto value = std::make_shared<resolved_scopes>();
  value->identity = rbac::identity_render_scopes(table_, *set, owner);
  value->scopes = std::move(*set);
  std::unique_lock lock(mutex_);
  if (entries_.size() >= max_cache_entries) entries_.clear();
  auto& e = entries_[key];
  if (e.generation <= gen) e = entry{gen, value};
  return value;
}

resolved_ptr permission_cache::user_scopes(std::string_view user) {
  std::string key = "u:";
  key += user;
  auto ref = rbac::principal_ref::user(std::string(user));
  return cached(key, ref, [&]() -> std::optional<rbac::scope_set> {
    if (!model_.find_user(user)) return std::nullopt;
    std::vector<std::string> warnings;
    auto s = compute_user_scopes(model_, table_, user, &warnings);
    log_rbac_warnings(warnings, ref.describe());
    return s;
  });
}

resolved_ptr permission_cache::held_by_user(std::string_view user) {
  static const auto none = std::make_shared<const resolved_scopes>();
  auto r = user_scopes(user);
  return r ? r : none;
}

resolved_ptr permission_cache::service_scopes(std::string_view service) {
  std::string key = "s:";
  key += service;
  auto ref = rbac::principal_ref::service(std::string(service));
  return cached(key, ref, [&]() -> std::optional<rbac::scope_set> {
    if (!model_.find_service(service)) return std::nullopt;
    std::vector<std::string> warnings;
    auto s = compute_service_scopes(model_, table_, service, &warnings);
    log_rbac_warnings(warnings, ref.describe());
    return s;
  });
}

resolved_ptr permission_cache::token_scopes(const model::token& t) {
  rbac::principal_ref owner;
  std::string name = owner_name_of(model_, t, owner);
  if (name.empty()) return nullptr;
  std::string key = "t:" + std::to_string(t.id);
  return cached(key, owner, [&]() -> std::optional<rbac::scope_set> {
    resolved_ptr owner_set =
        owner.kind == rbac::principal_ref::kind_t::user ? user_scopes(name) : service_scopes(name);
    if (!owner_set) return std::nullopt;
    try {
      auto r = rbac::resolve_token(table_, t.scopes, owner, token_client(model_, t, owner), owner_set->scopes,
                                   &membership_);
      log_rbac_warnings(r.warnings, owner.describe());
      return std::move(r.scopes);
    } catch (const rbac::scope_not_found& ex) {
      // Stored scopes that are no longer valid (a custom scope removed from the config) grant nothing.
      spdlog::warn("api: token a{} of {} has scopes that are no longer valid: {}", t.id, owner.describe(), ex.what());
      return rbac::scope_set{};
    }
  });
}

}  // namespace hubd::core::session
