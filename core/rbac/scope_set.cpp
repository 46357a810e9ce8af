#include "core/rbac/scope_set.hpp"

#include <algorithm>

namespace hubd::core::rbac {

scope_set::entry& scope_set::slot(scope_id base) {
  if (base >= entries_.size()) entries_.resize(static_cast<std::size_t>(base) + 1);
  return entries_[base];
}

void scope_set::add_all(scope_id base) {
  entry& e = slot(base);
  e.state = state_all;
  e.filters.clear();
}

void scope_set::add(scope_id base, filter_kind kind, std::string value) {
  if (kind == filter_kind::none) return add_all(base);
  entry& e = slot(base);
  if (e.state == state_all) return;
  e.state = state_filtered;
  scope_filter f{kind, std::move(value)};
  auto it = std::lower_bound(e.filters.begin(), e.filters.end(), f);
  if (it == e.filters.end() || *it != f) e.filters.insert(it, std::move(f));
}

void scope_set::merge(const scope_set& other) {
  for (scope_id b = 0; b < other.entries_.size(); ++b) {
    const entry& o = other.entries_[b];
    if (o.state == state_all) add_all(b);
    else if (o.state == state_filtered)
      for (const auto& f : o.filters) add(b, f.kind, f.value);
  }
}

std::span<const scope_filter> scope_set::filters(scope_id base) const {
  if (base >= entries_.size()) return {};
  return entries_[base].filters;
}

bool scope_set::has_filter(scope_id base, filter_kind kind, std::string_view value) const {
  auto fs = filters(base);
  auto it = std::lower_bound(fs.begin(), fs.end(), std::pair{kind, value}, [](const scope_filter& f, const auto& key) {
    if (f.kind != key.first) return f.kind < key.first;
    return std::string_view(f.value) < key.second;
  });
  return it != fs.end() && it->kind == kind && it->value == value;
}

bool scope_set::empty() const {
  return std::all_of(entries_.begin(), entries_.end(), [](const entry& e) { return e.state == state_absent; });
}

std::size_t scope_set::count() const {
  std::size_t n = 0;
  for (const auto& e : entries_) n += e.state == state_all ? 1 : e.filters.size();
  return n;
}

std::vector<scope_id> scope_set::bases() const {
  std::vector<scope_id> out;
  for (scope_id b = 0; b < entries_.size(); ++b)
    if (entries_[b].state != state_absent) out.push_back(b);
  return out;
}

std::vector<std::string> scope_set::to_strings(const scope_table& table) const {
  std::vector<std::string> out;
  out.reserve(count());
  for (scope_id b = 0; b < entries_.size(); ++b) {
    const entry& e = entries_[b];
    if (e.state == state_all) {
      out.push_back(table.name(b));
    } else {
      for (const auto& f : e.filters) {
        std::string s = table.name(b);
        s += '!';
        s += to_string(f.kind);
        s += '=';
        s += f.value;
        out.push_back(std::move(s));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

scope_set scope_set::from_strings(const scope_table& table, std::span<const std::string> scopes) {
  scope_set out;
  for (const auto& s : scopes) {
    raw_scope r = parse_scope(table, s);
    if (r.bare)
      throw scope_not_found("Unexpanded scope filter in '" + s + "': an expanded scope needs a filter value");
    out.add(r.base, r.kind, std::move(r.value));
  }
  return out;
}

bool scope_set::subset_of(const scope_set& other) const {
  for (scope_id b = 0; b < entries_.size(); ++b) {
    const entry& e = entries_[b];
    if (e.state == state_absent || other.has_all(b)) continue;
    if (e.state == state_all) return false;
    for (const auto& f : e.filters)
      if (!other.has_filter(b, f.kind, f.value)) return false;
  }
  return true;
}

bool scope_set::operator==(const scope_set& other) const {
  std::size_t n = std::max(entries_.size(), other.entries_.size());
  static const entry absent{};
  for (std::size_t b = 0; b < n; ++b) {
    const entry& x = b < entries_.size() ? entries_[b] : absent;
    const entry& y = b < other.entries_.size() ? other.entries_[b] : absent;
    if (!(x == y)) return false;
  }
  return true;
}

}  // namespace hubd::core::rbac
