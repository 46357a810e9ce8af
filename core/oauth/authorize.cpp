#include "core/oauth/authorize.hpp"

#include "core/rbac/intersect.hpp"
#include "core/rbac/scope.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace hubd::core::oauth {
namespace {

std::vector<std::string> split_spaces(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '+')) ++i;
    auto j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '+') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

bool all_valid(const rbac::scope_table& table, const std::vector<std::string>& scopes) {
  try {
    rbac::validate_scopes(table, scopes);
    return true;
  } catch (const rbac::scope_not_found&) {
    return false;
  }
}

}  // namespace

std::string applies_to(std::string_view scope, std::string_view user) {
  auto bang = scope.find('!');
  if (bang == std::string_view::npos) return {};
  auto filter = scope.substr(bang + 1);
  auto eq = filter.find('=');
  auto kind = filter.substr(0, eq);
  auto value = eq == std::string_view::npos ? std::string_view() : filter.substr(eq + 1);
  if (kind == "user") return value == user || value.empty() ? "only you" : "user " + std::string(value);
  if (kind == "server") return "server " + std::string(value);
  if (kind == "group") return "users in group " + std::string(value);
  if (kind == "service") return "service " + std::string(value);
  return std::string(filter);
}

scope_decision decide_scopes(const rbac::scope_table& table, const model::hub_model& m, const model::oauth_client& client,
                             const rbac::oauth_client_ref& client_ref, std::string_view user, std::string_view scope_param,
                             const std::vector<std::string>& user_raw, const rbac::membership_view* membership) {
  scope_decision d;
  auto identify = rbac::raw_identify_scopes();
  auto access = rbac::access_scope_string(client_ref);
  std::vector<std::string> allowed = client.allowed_scopes;
  bool inherit_allowed = std::find(allowed.begin(), allowed.end(), "inherit") != allowed.end();

  auto requested = split_spaces(scope_param);
  requested.erase(std::remove(requested.begin(), requested.end(), "identify"), requested.end());
  if (split_spaces(scope_param).empty()) {
    requested = allowed;
  } else if (!all_valid(table, requested)) {
    // Legacy: a request made only of role names means those roles' scopes.
    std::vector<std::string> from_roles;
    for (const auto& name : requested) {
      auto role = m.find_role(name);
      if (!role) {
        d.error = "invalid_scope";
        d.error_description = "No such scopes: " + name;
        return d;
      }
      for (const auto& s : role->scopes) add_unique(from_roles, s);
    }
    requested = std::move(from_roles);
  }
  // Always asked for; with `inherit` allowed they are implied anyway.
  if (!inherit_allowed || !split_spaces(scope_param).empty()) {
    for (const auto& s : identify) add_unique(requested, s);
    if (!access.empty()) add_unique(requested, access);
  }
  for (const auto& s : identify) add_unique(allowed, s);
  if (!access.empty()) add_unique(allowed, access);

  auto owner = rbac::principal_ref::user(std::string(user));
  try {
    auto vs = rbac::resolve_requested(table, requested, allowed, owner, client_ref, membership);
    if (!vs.disallowed.empty()) {
      d.error = "invalid_scope";
      std::string list;
      for (const auto& s : vs.disallowed) list += (list.empty() ? "" : ", ") + s;
      d.error_description = "Client " + client.identifier + " is not allowed to request scopes: " + list;
      return d;
    }
  } catch (const rbac::scope_not_found& e) {
    d.error = "invalid_scope";
    d.error_description = e.what();
    return d;
  }
  d.requested = requested;

  // What the user can grant: own role scopes plus inherit plus the scopes every grant carries.
  std::vector<std::string> held = user_raw;
  add_unique(held, "inherit");
  for (const auto& s : identify) add_unique(held, s);
  if (!access.empty()) add_unique(held, access);
  try {
    auto narrowed = rbac::resolve_requested(table, requested, held, owner, client_ref, membership);
    d.granted = std::move(narrowed.allowed);
    d.not_held = std::move(narrowed.disallowed);
  } catch (const rbac::scope_not_found& e) {
    d.error = "invalid_scope";
    d.error_description = e.what();
  }
  return d;
}

nlohmann::json confirm_lines(const rbac::scope_table& table, const std::vector<std::string>& granted,
                             const rbac::oauth_client_ref& client_ref, std::string_view user) {
  std::set<std::string> hidden;
  auto owner = rbac::principal_ref::user(std::string(user));
  for (const auto& s : rbac::identify_scopes(table, owner).to_strings(table)) hidden.insert(s);
  for (const auto& s : rbac::raw_identify_scopes()) hidden.insert(s);
  auto access = rbac::access_scope_string(client_ref);
  if (!access.empty()) hidden.insert(access);

  auto lines = nlohmann::json::array();
  bool inherit = false;
  for (const auto& s : granted) {
    if (hidden.count(s)) continue;
    if (s == "inherit") {
      inherit = true;
      continue;
    }
    auto base = s.substr(0, s.find('!'));
    auto id = table.find(base);
    lines.push_back({{"scope", s},
                     {"description", id ? table.def(*id).description : s},
                     {"filter", applies_to(s, user)}});
  }
  if (inherit) {
    auto id = table.find("inherit");
    return nlohmann::json::array(
        {{{"scope", "inherit"}, {"description", id ? table.def(*id).description : "Everything that you can do."}, {"filter", ""}}});
  }
  if (lines.empty()) {
    auto id = table.find("(no_scope)");
    lines.push_back({{"scope", "(no_scope)"},
                     {"description", id ? table.def(*id).description : "Identify the owner of the requesting entity."},
                     {"filter", ""}});
  }
  return lines;
}

}  // namespace hubd::core::oauth
