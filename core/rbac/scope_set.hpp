#pragma once
// An expanded, reduced scope set: JupyterHub's "parsed scopes" kept as the only representation.
// Dense by scope id: each base is absent, ALL (held unfiltered) or a sorted list of filters.
// Holding a base unfiltered absorbs its filtered variants (reduce), so a set is always reduced.
// This is also the per-principal precomputed structure the access checks run on.
#include "core/rbac/scope.hpp"

#include <compare>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::rbac {

struct scope_filter {
  filter_kind kind = filter_kind::none;
  std::string value;  // never empty; for server: "USER/SERVER"
  auto operator<=>(const scope_filter&) const = default;
  bool operator==(const scope_filter&) const = default;
};

class scope_set {
public:
  scope_set() = default;
  // Room for every base of a table, so adds never reallocate the dense array.
  void reserve(std::size_t bases) { entries_.reserve(bases); }

  void add_all(scope_id base);
  // kind none means unfiltered.
  void add(scope_id base, filter_kind kind, std::string value);
  void add(scope_id base, const scope_filter& f) { add(base, f.kind, f.value); }
  void merge(const scope_set& other);

  bool has_all(scope_id base) const { return state(base) == state_all; }
  // Present at all, with or without a filter (the listing pre-check).
  bool has_any(scope_id base) const { return state(base) != state_absent; }
  // The filters of a base held only filtered; empty when absent or ALL.
  std::span<const scope_filter> filters(scope_id base) const;
  bool has_filter(scope_id base, filter_kind kind, std::string_view value) const;

  bool empty() const;
  // Number of scope strings (ALL counts 1, each filter 1).
  std::size_t count() const;
  // Every present base id, ascending.
  std::vector<scope_id> bases() const;
  // Scope strings sorted as strings (what the REST API and `hubd scopes expand` print).
  std::vector<std::string> to_strings(const scope_table& table) const;
  // Parses already-expanded strings (no metascope resolution, no subscope closure, no bare filters).
  // Throws scope_not_found.
  static scope_set from_strings(const scope_table& table, std::span<const std::string> scopes);

  // true when every permission of *this is literally in other (same base ALL, or same filter).
  bool subset_of(const scope_set& other) const;
  bool operator==(const scope_set& other) const;

private:
  static constexpr std::uint8_t state_absent = 0, state_filtered = 1, state_all = 2;
  struct entry {
    std::uint8_t state = state_absent;
    std::vector<scope_filter> filters;  // sorted, unique; empty unless state_filtered
    bool operator==(const entry&) const = default;
  };
  std::uint8_t state(scope_id base) const { return base < entries_.size() ? entries_[base].state : state_absent; }
  entry& slot(scope_id base);

  std::vector<entry> entries_;
};

}  // namespace hubd::core::rbac
