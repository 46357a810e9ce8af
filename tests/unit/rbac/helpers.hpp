#pragma once
// Shared fixtures for the rbac unit tests.
#include "core/rbac/rbac.hpp"

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace hubd::test::rbac {
using namespace hubd::core::rbac;

using strings = std::vector<std::string>;

// Group membership as a plain table.
struct fake_membership : membership_view {
  std::set<std::pair<std::string, std::string>> pairs;
  fake_membership(std::initializer_list<std::pair<std::string, std::string>> p) : pairs(p) {}
  bool is_member(std::string_view user, std::string_view group) const override {
    return pairs.count({std::string(user), std::string(group)}) > 0;
  }
};

inline const scope_table& table() {
  static const scope_table t;
  return t;
}

inline strings expanded(const strings& raw, const principal_ref& owner = principal_ref::none(),
                        const oauth_client_ref& client = {}) {
  return expand(table(), raw, owner, client).scopes.to_strings(table());
}

inline scope_set set_of(const strings& expanded_strings) {
  return scope_set::from_strings(table(), expanded_strings);
}

inline strings sorted(strings v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace hubd::test::rbac
