#pragma once
// A user's permissions as the pages and the OAuth provider need them: the raw role scopes (for
// the lenient resolution) and the expanded set including shares (for access checks).
#include "core/model/hub_model.hpp"
#include "core/rbac/expand.hpp"
#include "core/rbac/intersect.hpp"
#include "core/rbac/scope_set.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::web {

// rbac's view of live group membership, over the model.
class model_membership final : public rbac::membership_view {
public:
  explicit model_membership(const model::hub_model& m) : model_(m) {}
  bool is_member(std::string_view user, std::string_view group) const override { return model_.is_member(user, group); }

private:
  const model::hub_model& model_;
};

// Raw scopes of the user's roles (direct and through groups).
std::vector<std::string> user_raw_scopes(const model::hub_model& m, std::string_view user);

// Expanded roles plus shares. Invalid stored scopes are skipped, never granted.
rbac::scope_set user_scope_set(const model::hub_model& m, const rbac::scope_table& table, std::string_view user);

}  // namespace hubd::core::web
