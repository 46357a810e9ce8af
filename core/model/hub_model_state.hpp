#pragma once
// The model's indexes (private to core/model). Every put/drop keeps the indexes of its own rows
// consistent; the hub_model mutations decide what to put and drop, and record the same rows for the
// store. What a deletion takes with it (the other rows that reference the dropped one) is decided
// once, beside these, in cascades.cpp.
#include "core/model/hub_model.hpp"

#include <map>
#include <set>
#include <unordered_map>

namespace hubd::core::model {

struct str_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using by_name = std::unordered_map<std::string, V, str_hash, std::equal_to<>>;
using oauth_code_ptr = std::shared_ptr<const oauth_code>;

struct hub_model::state {
  by_name<user_ptr> users;
  std::unordered_map<std::int64_t, user_ptr> users_by_id;
  std::vector<user_ptr> user_order;  // by id
  by_name<std::int64_t> cookie_ids;

  by_name<group_ptr> groups;
  std::unordered_map<std::int64_t, group_ptr> groups_by_id;
  std::vector<group_ptr> group_order;  // by id
  std::unordered_map<std::int64_t, std::map<std::int64_t, std::vector<std::string>>> members;  // group -> user -> sources
  std::unordered_map<std::int64_t, std::set<std::int64_t>> user_groups;                      // user -> groups

  by_name<role_ptr> roles;
  std::unordered_map<std::int64_t, role_ptr> roles_by_id;
  std::unordered_map<std::int64_t, std::vector<role_assignment>> assignments_by_role;
  std::map<std::pair<int, std::int64_t>, std::vector<role_assignment>> assignments_by_holder;

  by_name<service_ptr> services;
  std::unordered_map<std::int64_t, service_ptr> services_by_id;

  std::unordered_map<std::int64_t, server_ptr> servers;
  std::unordered_map<std::int64_t, std::map<std::string, std::int64_t, std::less<>>> servers_of_user;

  std::unordered_map<std::int64_t, token_ptr> tokens;
  by_name<token_ptr> tokens_by_digest;
  std::unordered_map<std::int64_t, std::set<std::int64_t>> tokens_of_user, tokens_of_service;

  by_name<oauth_client_ptr> clients;
  by_name<oauth_code_ptr> codes_by_digest;
  by_name<session_ptr> sessions;
  std::unordered_map<std::int64_t, share_ptr> shares;
  std::unordered_map<std::int64_t, share_code_ptr> share_codes;
  by_name<std::int64_t> share_code_by_digest;

  std::int64_t next_user = 1, next_group = 1, next_role = 1, next_service = 1, next_server = 1, next_token = 1,
               next_code = 1, next_share = 1, next_share_code = 1;

  void put_user(user_ptr u);
  void drop_user(std::int64_t id);
  void put_group(group_ptr g);
  void drop_group(std::int64_t id);
  bool add_membership(const membership& m);   // false when already there
  bool drop_membership(const membership& m);  // false when absent
  void put_role(role_ptr r);
  void drop_role(std::int64_t id);
  bool add_assignment(const role_assignment& a);
  bool drop_assignment(const role_assignment& a);
  void put_service(service_ptr s);
  void drop_service(std::int64_t id);
  void put_server(server_ptr s);
  void drop_server(std::int64_t id);
  void put_token(token_ptr t);
  void drop_token(std::int64_t id);
  void put_code(oauth_code_ptr c) { codes_by_digest[c->digest] = std::move(c); }
  void put_session(session_ptr s) { sessions[s->id] = std::move(s); }
  void put_share(share_ptr s) { shares[s->id] = std::move(s); }
  void put_share_code(share_code_ptr c);
  void drop_share_code(std::int64_t id);
  const std::vector<role_assignment>* holder_assignments(holder_kind k, std::int64_t id) const;
};

}  // namespace hubd::core::model
