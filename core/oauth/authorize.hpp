#pragma once
// The scope decision of the authorize step, apart from HTTP so it can be tested
// on its own: what was requested, whether the client may ask for it, what the user can grant,
// and what the confirm page shows.
#include "core/model/hub_model.hpp"
#include "core/rbac/expand.hpp"
#include "core/rbac/intersect.hpp"
#include "core/rbac/scope_table.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::oauth {

struct scope_decision {
  // invalid_scope: sent back to the client by redirect with `error`.
  std::optional<std::string> error;
  std::string error_description;
  std::vector<std::string> requested;  // after defaults, legacy roles, identify and access added
  std::vector<std::string> granted;    // narrowed to what the user holds: the code's scopes
  std::vector<std::string> not_held;   // requested but not held by the user (logged only)
};

// `scope_param` is the space-separated `scope` argument (may be empty). `user_raw` are the user's
// raw role scopes. `membership` may be null.
scope_decision decide_scopes(const rbac::scope_table& table, const model::hub_model& m, const model::oauth_client& client,
                             const rbac::oauth_client_ref& client_ref, std::string_view user, std::string_view scope_param,
                             const std::vector<std::string>& user_raw, const rbac::membership_view* membership);

// One line per scope the confirm page shows (identify and access scopes left out), as
// core/web/TEMPLATES.md's oauth.mustache expects: {"scope", "description", "filter"}.
nlohmann::json confirm_lines(const rbac::scope_table& table, const std::vector<std::string>& granted,
                             const rbac::oauth_client_ref& client_ref, std::string_view user);

// "Applies to …" text of a scope's filter: "only you", "user X", "server U/S", "users in group G",
// "service S"; "" when unfiltered.
std::string applies_to(std::string_view scope, std::string_view user);

}  // namespace hubd::core::oauth
