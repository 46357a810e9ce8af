#pragma once
// Expanded scope sets of users, services and tokens, cached per principal and
// keyed by model.generation(): any role, membership, admin or share change bumps the generation,
// so a change is effective at once for every live token while an unchanged hub resolves nothing.
#include "core/model/hub_model.hpp"
#include "core/rbac/rbac.hpp"

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hubd::core::session {

// Live group membership from the model, for rbac's group filters.
class model_membership final : public rbac::membership_view {
public:
  explicit model_membership(const model::hub_model& model) : model_(model) {}
  bool is_member(std::string_view user, std::string_view group) const override;

private:
  const model::hub_model& model_;
};

// A principal's set and the same set plus its identify scopes (for rendering GET /user,
// the token's identity), computed together on a cache miss so whoami allocates nothing on a hit.
struct resolved_scopes {
  rbac::scope_set scopes;
  rbac::scope_set identity;
};
using resolved_ptr = std::shared_ptr<const resolved_scopes>;

// The OAuth client that issued `t`: the hub, one of the owner's servers, or a service.
rbac::oauth_client_ref token_client(const model::hub_model& model, const model::token& t,
                                    const rbac::principal_ref& owner);

// Uncached resolution (tests, and the cache's miss path). Expansion warnings are appended when asked
// for; stored scopes that no longer validate are skipped, never granted, and logged.
rbac::scope_set compute_user_scopes(const model::hub_model& model, const rbac::scope_table& table,
                                    std::string_view user, std::vector<std::string>* warnings = nullptr);
rbac::scope_set compute_service_scopes(const model::hub_model& model, const rbac::scope_table& table,
                                       std::string_view service, std::vector<std::string>* warnings = nullptr);

class permission_cache {
public:
  permission_cache(const model::hub_model& model, const rbac::scope_table& table);

  // The user's full set: roles (direct and through groups) plus shares. Null if no such user.
  resolved_ptr user_scopes(std::string_view user);
  // The same, never null: an empty set for a user that does not exist (pages that only test scopes).
  resolved_ptr held_by_user(std::string_view user);
  resolved_ptr service_scopes(std::string_view service);
  // What the token may do now: its stored scopes resolved against its owner's current set.
  // Null if the owner is gone.
  resolved_ptr token_scopes(const model::token& t);

  const rbac::membership_view& membership() const { return membership_; }
  void clear();

private:
  struct entry {
    std::uint64_t generation = 0;
    resolved_ptr value;
  };
  template <class F>
  resolved_ptr cached(const std::string& key, const rbac::principal_ref& owner, F&& compute);

  const model::hub_model& model_;
  const rbac::scope_table& table_;
  model_membership membership_;
  std::shared_mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace hubd::core::session
