#include "core/rbac/access.hpp"

#include <algorithm>
#include <utility>

namespace hubd::core::rbac {

std::string resource_ref::describe() const {
  switch (kind) {
    case filter_kind::server: return "server=" + std::string(name) + "/" + std::string(server_name);
    case filter_kind::none: return "*";
    default: return std::string(to_string(kind)) + "=" + std::string(name);
  }
}

namespace {

// Orders a stored "USER/SERVER" value against the pieces (u, s) exactly as std::string's operator<
// orders it against u + "/" + s, without building that string.
int compare_server(std::string_view v, std::string_view u, std::string_view s) {
  std::string_view head = v.substr(0, u.size());
  if (int c = head.compare(u); c != 0) return c;
  if (v.size() == u.size()) return -1;
  auto a = static_cast<unsigned char>(v[u.size()]);
  auto b = static_cast<unsigned char>('/');
  if (a != b) return a < b ? -1 : 1;
  return v.substr(u.size() + 1).compare(s);
}

bool has_server_filter(std::span<const scope_filter> fs, std::string_view u, std::string_view s) {
  auto lo = std::lower_bound(fs.begin(), fs.end(), filter_kind::server,
                             [](const scope_filter& f, filter_kind k) { return f.kind < k; });
  auto hi = std::upper_bound(lo, fs.end(), filter_kind::server,
                             [](filter_kind k, const scope_filter& f) { return k < f.kind; });
  auto it = std::lower_bound(lo, hi, 0, [&](const scope_filter& f, int) { return compare_server(f.value, u, s) < 0; });
  return it != hi && compare_server(it->value, u, s) == 0;
}

bool member_of_filter_groups(std::span<const scope_filter> fs, std::string_view user, const membership_view* m) {
  if (!m) return false;
  for (const auto& f : fs)
    if (f.kind == filter_kind::group && m->is_member(user, f.value)) return true;
  return false;
}

}  // namespace

bool has_scope(const scope_set& held, scope_id base, const resource_ref& r, const membership_view* membership) {
  if (held.has_all(base)) return true;
  if (!held.has_any(base) || r.kind == filter_kind::none) return false;
  auto fs = held.filters(base);
  switch (r.kind) {
    case filter_kind::user:
      return held.has_filter(base, filter_kind::user, r.name) || member_of_filter_groups(fs, r.name, membership);
    case filter_kind::server:
      return has_server_filter(fs, r.name, r.server_name) || held.has_filter(base, filter_kind::user, r.name) ||
             member_of_filter_groups(fs, r.name, membership);
    case filter_kind::group:
    case filter_kind::service:
      return held.has_filter(base, r.kind, r.name);
    case filter_kind::none:
      break;
  }
  return false;
}

access_result check(const scope_set& held, std::span<const scope_id> required_any_of, const resource_ref& r,
                    const membership_view* membership) {
  bool filtered_elsewhere = false;
  for (scope_id s : required_any_of) {
    if (has_scope(held, s, r, membership)) return access_result::allowed;
    filtered_elsewhere = filtered_elsewhere || held.has_any(s);
  }
  return r.kind != filter_kind::none && filtered_elsewhere ? access_result::not_found : access_result::forbidden;
}

access_result check(const scope_set& held, std::initializer_list<scope_id> required_any_of, const resource_ref& r,
                    const membership_view* membership) {
  return check(held, std::span<const scope_id>(required_any_of.begin(), required_any_of.size()), r, membership);
}

std::string denied_message(const scope_table& table, access_result result, std::span<const scope_id> required_any_of) {
  if (result == access_result::not_found) return "No access to resources or resources not found";
  std::string list;
  for (scope_id s : required_any_of) list += (list.empty() ? "" : ", ") + table.name(s);
  return "Action is not authorized with current scopes; requires any of [" + list + "]";
}

bool usable_list_filters(const scope_set& held, scope_id base, std::initializer_list<filter_kind> kinds) {
  for (const auto& f : held.filters(base))
    if (std::find(kinds.begin(), kinds.end(), f.kind) == kinds.end()) return false;
  return true;
}

namespace {

template <std::size_t N>
std::uint32_t fields_from(const std::pair<builtin, std::uint32_t> (&map)[N], const scope_set& held,
                          const resource_ref& r, const membership_view* m) {
  std::uint32_t mask = 0;
  for (const auto& [scope, fields] : map)
    if (has_scope(held, id(scope), r, m)) mask |= fields;
  return mask;
}

template <std::size_t N>
bool filter_model(nlohmann::json& model, std::uint32_t mask, const std::pair<std::string_view, std::uint32_t> (&names)[N]) {
  if (!model.is_object()) return false;
  for (auto it = model.begin(); it != model.end();) {
    auto found = std::find_if(std::begin(names), std::end(names), [&](const auto& n) { return n.first == it.key(); });
    // Keys outside the table belong to no scope and are never shown.
    if (found == std::end(names) || !(mask & found->second)) it = model.erase(it);
    else ++it;
  }
  return !model.empty();
}

}  // namespace

std::uint32_t visible_user_fields(const scope_set& held, std::string_view user, const membership_view* membership) {
  using namespace user_field;
  static constexpr std::pair<builtin, std::uint32_t> map[] = {
      {builtin::read_users,
       kind | name | user_info | admin | roles | groups | server | pending | created | last_activity},
      {builtin::read_users_name, kind | name | user_info | admin},
      {builtin::read_users_groups, kind | name | groups},
      {builtin::read_users_activity, kind | name | last_activity},
      {builtin::read_servers, kind | name | servers},
      {builtin::read_roles_users, kind | name | roles | admin},
      {builtin::admin_auth_state, kind | name | auth_state},
  };
  return fields_from(map, held, resource_ref::user(user), membership);
}

std::uint32_t visible_group_fields(const scope_set& held, std::string_view group) {
  using namespace group_field;
  static constexpr std::pair<builtin, std::uint32_t> map[] = {
      {builtin::read_groups, kind | name | properties | users},
      {builtin::read_groups_name, kind | name},
      {builtin::read_roles_groups, kind | name | roles},
  };
  return fields_from(map, held, resource_ref::group(group), nullptr);
}

std::uint32_t visible_service_fields(const scope_set& held, std::string_view service) {
  using namespace service_field;
  static constexpr std::pair<builtin, std::uint32_t> map[] = {
      {builtin::read_services, kind | name | admin | url | prefix | command | pid | info | display},
      {builtin::read_services_name, kind | name | admin},
      {builtin::read_roles_services, kind | name | roles | admin},
  };
  return fields_from(map, held, resource_ref::service(service), nullptr);
}

bool can_read_server(const scope_set& held, std::string_view user, std::string_view server,
                     const membership_view* membership) {
  return has_scope(held, id(builtin::read_servers), resource_ref::server(user, server), membership);
}

bool can_read_server_state(const scope_set& held, std::string_view user, std::string_view server,
                           const membership_view* membership) {
  return has_scope(held, id(builtin::admin_server_state), resource_ref::server(user, server), membership);
}

bool filter_user_model(nlohmann::json& model, std::uint32_t mask) {
  using namespace user_field;
  static constexpr std::pair<std::string_view, std::uint32_t> names[] = {
      {"kind", kind}, {"name", name}, {"admin", admin}, {"user_info", user_info}, {"roles", roles},
      {"groups", groups}, {"server", server}, {"pending", pending}, {"created", created},
      {"last_activity", last_activity}, {"servers", servers}, {"auth_state", auth_state},
  };
  return filter_model(model, mask, names);
}

bool filter_group_model(nlohmann::json& model, std::uint32_t mask) {
  using namespace group_field;
  static constexpr std::pair<std::string_view, std::uint32_t> names[] = {
      {"kind", kind}, {"name", name}, {"users", users}, {"properties", properties}, {"roles", roles},
  };
  return filter_model(model, mask, names);
}

bool filter_service_model(nlohmann::json& model, std::uint32_t mask) {
  using namespace service_field;
  static constexpr std::pair<std::string_view, std::uint32_t> names[] = {
      {"kind", kind}, {"name", name}, {"admin", admin}, {"url", url}, {"prefix", prefix},
      {"command", command}, {"pid", pid}, {"info", info}, {"display", display}, {"roles", roles},
  };
  return filter_model(model, mask, names);
}

scope_set identity_render_scopes(const scope_table& table, const scope_set& held, const principal_ref& owner) {
  scope_set out = held;
  out.merge(identify_scopes(table, owner));
  return out;
}

}  // namespace hubd::core::rbac
