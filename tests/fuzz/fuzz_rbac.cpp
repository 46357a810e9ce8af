// libFuzzer target: the scope parser, expansion, intersection, checks, role validation and custom
// scope definitions must never crash, whatever the bytes. Errors must be exceptions of our types.
#include "core/rbac/rbac.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rbac = hubd::core::rbac;

namespace {
struct every_other : rbac::membership_view {
  bool is_member(std::string_view user, std::string_view group) const override {
    return (user.size() + group.size()) % 2 == 0;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  // Lines are scopes; a line starting with '{' is a custom scope table, '#' a role name.
  std::vector<std::string> scopes;
  std::vector<std::string> other;
  std::string custom, role_name = "fuzz-role";
  std::size_t start = 0;
  bool second = false;
  while (start <= input.size()) {
    auto end = input.find('\n', start);
    std::string line = input.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (line == "--") second = true;
    else if (!line.empty() && line[0] == '{') custom = line;
    else if (!line.empty() && line[0] == '#') role_name = line.substr(1);
    else (second ? other : scopes).push_back(line);
    if (end == std::string::npos) break;
    start = end + 1;
  }

  rbac::scope_table table;
  if (!custom.empty()) {
    auto j = nlohmann::json::parse(custom, nullptr, false);
    if (!j.is_discarded()) (void)table.add_custom_scopes(j);
  }
  (void)rbac::role_name_error(role_name);
  try {
    rbac::validate_role(table, rbac::role_def{role_name, "", scopes});
  } catch (const rbac::role_error&) {
  }
  (void)rbac::never_matching_filters(table, scopes, "role");
  every_other m;
  try {
    auto owner = rbac::principal_ref::user(role_name);
    auto a = rbac::expand(table, scopes, owner, rbac::oauth_client_ref::server(role_name, "x")).scopes;
    auto b = rbac::expand(table, other, rbac::principal_ref::service("s")).scopes;
    auto ab = rbac::intersect(a, b, &m);
    if (!(ab == rbac::intersect(b, a, &m))) __builtin_trap();
    auto strings = a.to_strings(table);
    if (!(rbac::scope_set::from_strings(table, strings) == a)) __builtin_trap();
    for (rbac::scope_id s : a.bases()) {
      (void)rbac::check(a, {s}, rbac::resource_ref::server(role_name, "x"), &m);
      (void)rbac::check(a, {s}, rbac::resource_ref::group(role_name), &m);
    }
    (void)rbac::resolve_token(table, other, owner, rbac::oauth_client_ref::service("s"), a, &m);
    (void)rbac::check_token_scopes(table, other, owner, {}, a, &m);
    (void)rbac::resolve_requested(table, other, scopes, owner, {}, &m);
  } catch (const rbac::scope_not_found&) {
  }
  return 0;
}
