// RBAC hot paths. Targets: expanding a principal with 3 roles and 20 filtered scopes
// <= 5 us; an access check after precomputation <= 100 ns. Build Release to measure
// (bench/README-rbac.md has the command and the figures).
#include "core/rbac/rbac.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace rbac = hubd::core::rbac;

namespace {

struct no_groups : rbac::membership_view {
  bool is_member(std::string_view user, std::string_view group) const override {
    return user == "u3" && group == "g1";
  }
};

const rbac::scope_table& table() {
  static const rbac::scope_table t;
  return t;
}

// 3 roles: the default user role plus two roles holding 20 filtered scopes between them.
std::vector<std::string> three_roles() {
  std::vector<std::string> raw{"self"};
  const char* bases[] = {"read:users", "servers", "read:groups", "access:servers", "users:activity"};
  for (int i = 0; i < 20; ++i) {
    std::string base = bases[i % 5];
    std::string filter = i % 4 == 0 ? "!group=g" + std::to_string(i)
                         : i % 4 == 1 ? "!server=u" + std::to_string(i) + "/lab"
                                      : "!user=u" + std::to_string(i);
    if (base == "read:groups") filter = "!group=g" + std::to_string(i);
    raw.push_back(base + filter);
  }
  return raw;
}

void expand_strings(benchmark::State& state) {
  const auto raw = three_roles();
  const auto owner = rbac::principal_ref::user("alice");
  for (auto _ : state) benchmark::DoNotOptimize(rbac::expand(table(), raw, owner));
}
BENCHMARK(expand_strings);

// Roles parsed once (as the model keeps them), expanded per request.
void expand_parsed(benchmark::State& state) {
  const auto raw = three_roles();
  const auto parsed = rbac::parse_scopes(table(), raw);
  const auto owner = rbac::principal_ref::user("alice");
  for (auto _ : state) benchmark::DoNotOptimize(rbac::expand(table(), std::span<const rbac::raw_scope>(parsed), owner));
}
BENCHMARK(expand_parsed);

void check_exact_user(benchmark::State& state) {
  const auto held = rbac::expand(table(), three_roles(), rbac::principal_ref::user("alice")).scopes;
  const auto r = rbac::resource_ref::user("u2");
  no_groups m;
  for (auto _ : state) benchmark::DoNotOptimize(rbac::check(held, {rbac::id(rbac::builtin::read_users)}, r, &m));
}
BENCHMARK(check_exact_user);

void check_server_via_user(benchmark::State& state) {
  const auto held = rbac::expand(table(), three_roles(), rbac::principal_ref::user("alice")).scopes;
  const auto r = rbac::resource_ref::server("alice", "lab");
  no_groups m;
  for (auto _ : state) benchmark::DoNotOptimize(rbac::check(held, {rbac::id(rbac::builtin::servers)}, r, &m));
}
BENCHMARK(check_server_via_user);

void check_denied_via_groups(benchmark::State& state) {
  const auto held = rbac::expand(table(), three_roles(), rbac::principal_ref::user("alice")).scopes;
  const auto r = rbac::resource_ref::user("nobody");
  no_groups m;
  for (auto _ : state) benchmark::DoNotOptimize(rbac::check(held, {rbac::id(rbac::builtin::read_users)}, r, &m));
}
BENCHMARK(check_denied_via_groups);

void check_unfiltered(benchmark::State& state) {
  const auto held = rbac::expand(table(), std::vector<std::string>{"admin:users", "read:hub"}, {}).scopes;
  const auto r = rbac::resource_ref::none();
  for (auto _ : state) benchmark::DoNotOptimize(rbac::check(held, {rbac::id(rbac::builtin::read_hub)}, r, nullptr));
}
BENCHMARK(check_unfiltered);

void intersect_token(benchmark::State& state) {
  const auto owner = rbac::expand(table(), three_roles(), rbac::principal_ref::user("alice")).scopes;
  const auto token = rbac::expand(table(), std::vector<std::string>{"read:users", "servers!user=alice"},
                                  rbac::principal_ref::user("alice")).scopes;
  no_groups m;
  for (auto _ : state) benchmark::DoNotOptimize(rbac::intersect(token, owner, &m));
}
BENCHMARK(intersect_token);

}  // namespace

BENCHMARK_MAIN();
