#pragma once
// Access checks on a principal's expanded set : the endpoint guard, the listing
// post-filter and field-level model filtering.
// A scope_set is the precomputed per-principal structure: build it once per request (or cache it
// per principal) and every check is a few array and binary-search lookups, no allocation.
#include "core/rbac/intersect.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace hubd::core::rbac {

// The resource an URL names. Views: the strings must outlive the check.
struct resource_ref {
  filter_kind kind = filter_kind::none;
  std::string_view name;    // user, group or service name; for a server: its owner
  std::string_view server_name;  // for a server: its name ('' = default server)

  static resource_ref none() { return {}; }
  static resource_ref user(std::string_view n) { return {filter_kind::user, n, {}}; }
  static resource_ref group(std::string_view n) { return {filter_kind::group, n, {}}; }
  static resource_ref service(std::string_view n) { return {filter_kind::service, n, {}}; }
  static resource_ref server(std::string_view u, std::string_view s) { return {filter_kind::server, u, s}; }
  std::string describe() const;  // "user=alice", "server=alice/x", "*"
};

enum class access_result : std::uint8_t { allowed, not_found, forbidden };

// Does `held` grant `base` on `r`? Group filters match users and servers whose (owning) user is a
// member (needs `membership`; nullptr = never). With r = none only the unfiltered scope passes.
bool has_scope(const scope_set& held, scope_id base, const resource_ref& r, const membership_view* membership);

// Any one of `required_any_of` is enough. not_found (404) when a resource is named and some
// required base is held with another filter; forbidden (403) otherwise.
access_result check(const scope_set& held, std::span<const scope_id> required_any_of, const resource_ref& r,
                    const membership_view* membership);
access_result check(const scope_set& held, std::initializer_list<scope_id> required_any_of, const resource_ref& r,
                    const membership_view* membership);
// The JSON error message for a failed check ("No access to resources or resources not found",
// "Action is not authorized with current scopes; requires any of [...]").
std::string denied_message(const scope_table& table, access_result result, std::span<const scope_id> required_any_of);

// Listing endpoints pass with the base present under any filter, then keep only the items for
// which has_scope() is true. `usable_list_filters` is false when a filter of another kind is held
// (GET /users refuses list:users filters other than user/group, GET /groups other than group: 403).
bool usable_list_filters(const scope_set& held, scope_id base, std::initializer_list<filter_kind> kinds);

// Field visibility. Bit masks of the model fields a caller may see on one resource.
namespace user_field {
enum : std::uint32_t {
  kind = 1u << 0, name = 1u << 1, admin = 1u << 2, user_info = 1u << 3, roles = 1u << 4, groups = 1u << 5,
  server = 1u << 6, pending = 1u << 7, created = 1u << 8, last_activity = 1u << 9, servers = 1u << 10,
  auth_state = 1u << 11,
};
}
namespace group_field {
enum : std::uint32_t { kind = 1u << 0, name = 1u << 1, users = 1u << 2, properties = 1u << 3, roles = 1u << 4 };
}
namespace service_field {
enum : std::uint32_t {
  kind = 1u << 0, name = 1u << 1, admin = 1u << 2, url = 1u << 3, prefix = 1u << 4, command = 1u << 5,
  pid = 1u << 6, info = 1u << 7, display = 1u << 8, roles = 1u << 9,
};
}

// `servers` is set when read:servers matches the user itself; the key is also shown when any single
// server passes can_read_server(), which the caller decides while adding servers.
std::uint32_t visible_user_fields(const scope_set& held, std::string_view user, const membership_view* membership);
std::uint32_t visible_group_fields(const scope_set& held, std::string_view group);
std::uint32_t visible_service_fields(const scope_set& held, std::string_view service);
bool can_read_server(const scope_set& held, std::string_view user, std::string_view server,
                     const membership_view* membership);
bool can_read_server_state(const scope_set& held, std::string_view user, std::string_view server,
                           const membership_view* membership);

// Remove from a rendered model every key the mask does not allow. Returns false (and leaves an empty
// object) when nothing is visible: the resource is then left out of lists.
bool filter_user_model(nlohmann::json& model, std::uint32_t mask);
bool filter_group_model(nlohmann::json& model, std::uint32_t mask);
bool filter_service_model(nlohmann::json& model, std::uint32_t mask);

// RequestIdentity: render the owner's model with this set (held + identify
// scopes); the `scopes` field still lists only `held`.
scope_set identity_render_scopes(const scope_table& table, const scope_set& held, const principal_ref& owner);

}  // namespace hubd::core::rbac
