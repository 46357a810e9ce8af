#pragma once
// Private to core/model: what every aggregate's file shares. A mutation runs `body(tx&)` under the
// exclusive lock; the tx applies to the indexes and records the same rows for the store, and the
// cascades (what a deletion takes with it) are the tx's erase_* calls, defined once in cascades.cpp.
#include "core/model/hub_model.hpp"
#include "core/model/hub_model_state.hpp"

#include <algorithm>

namespace hubd::core::model {

namespace detail {

inline error invalid(std::string m) { return store::make_error(errc::invalid, std::move(m)); }
inline error not_found(std::string m) { return store::make_error(errc::not_found, std::move(m)); }
inline error conflict(std::string m) { return store::make_error(errc::conflict, std::move(m)); }

// Names that end up in URLs and cookies: non-empty, at most 255 bytes, no '/', no control chars.
std::optional<error> check_name(std::string_view what, std::string_view name, bool allow_empty = false);
std::optional<error> check_json_object(std::string_view what, const std::string& text);
std::optional<error> check_source(std::string_view s);

template <class Map, class Key>
auto find_in(const Map& m, const Key& k) -> typename Map::mapped_type {
  auto it = m.find(k);
  return it == m.end() ? typename Map::mapped_type{} : it->second;
}

std::vector<std::string> merged(std::vector<std::string> a, const std::vector<std::string>& b);

inline bool expired(const opt_time& at, time_point now) { return at && *at <= now; }

// Every value of a map, ordered by a member (name, identifier, id).
template <class Map, class Key>
auto values_sorted(const Map& m, Key key) {
  std::vector<typename Map::mapped_type> out;
  out.reserve(m.size());
  for (const auto& kv : m) out.push_back(kv.second);
  std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) { return (*a).*key < (*b).*key; });
  return out;
}

// Rows offset..offset+limit of an ordered index (O(limit) whatever the offset).
template <class Ptr>
std::vector<Ptr> page_of(const std::vector<Ptr>& v, std::size_t offset, std::size_t limit) {
  if (offset >= v.size()) return {};
  const auto first = v.begin() + static_cast<std::ptrdiff_t>(offset);
  return std::vector<Ptr>(first, first + static_cast<std::ptrdiff_t>(std::min(limit, v.size() - offset)));
}

template <class Ptr>
void sort_by_id(std::vector<Ptr>& v) {
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
}

// 0 when there is no such holder.
std::int64_t holder_id(const hub_model::state& s, const holder_ref& h);
std::string holder_name(const hub_model::state& s, holder_kind k, std::int64_t id);
server_ptr server_of(const hub_model::state& s, std::string_view owner, std::string_view name);

}  // namespace detail

// A mutation in progress: applies to the state and records the same rows for the store.
struct hub_model::tx {
  state& s;
  std::vector<store::change> changes;
  std::vector<event> events;
  bool perm = false;

  template <class Row>
  std::shared_ptr<const Row> row(Row r) {
    changes.emplace_back(r);
    return std::make_shared<const Row>(std::move(r));
  }
  void emit(event e) { events.push_back(std::move(e)); }
  void add_member(const membership& m) {
    if (s.add_membership(m)) changes.emplace_back(m), perm = true;
  }
  void drop_member(const membership& m) {
    if (s.drop_membership(m)) changes.emplace_back(store::erase_membership{m}), perm = true;
  }
  void assign(const role_assignment& a) {
    if (s.add_assignment(a)) changes.emplace_back(a), perm = true;
  }
  void unassign(const role_assignment& a) {
    if (s.drop_assignment(a)) changes.emplace_back(store::erase_role_assignment{a}), perm = true;
  }
  void drop_token(std::int64_t id) {
    s.drop_token(id);
    changes.emplace_back(store::erase_token{id});
  }

  // Deletions with everything that goes with them, in memory and in the store (cascades.cpp).
  void erase_user(const user& u);
  void erase_group(const group& g);
  void erase_role(const role& r);
  void erase_service(const service& sv);
  void erase_server(const server& sv, std::string_view owner);
  void erase_oauth_client(const oauth_client& c);
};

template <class T, class F>
result<T> hub_model::mutate(completion done, F&& body) {
  std::unique_lock lock(mutex_);
  if (broken_) return store::make_error(errc::io, "the database failed and could not be reloaded; restart hubd");
  tx t{*state_, {}, {}, false};
  result<T> r = body(t);
  if (!r) return r;
  if (t.perm) generation_.fetch_add(1, std::memory_order_acq_rel);
  submit(lock, std::move(t.changes), std::move(t.events), std::move(done));
  return r;
}

}  // namespace hubd::core::model
