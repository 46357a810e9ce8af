#pragma once
// The narrow interface between the model and a database. The model loads everything once at start
// and afterwards only writes; a backend implements four calls. SQLite is the embedded default
// (sqlite_store.hpp); a PostgreSQL backend would implement the same class.
#include "core/store/change.hpp"
#include "core/store/result.hpp"

#include <span>
#include <vector>

namespace hubd::core::store {

struct snapshot {
  std::vector<user_row> users;
  std::vector<group_row> groups;
  std::vector<membership_row> memberships;
  std::vector<role_row> roles;
  std::vector<role_assignment_row> role_assignments;
  std::vector<service_row> services;
  std::vector<server_row> servers;
  std::vector<token_row> tokens;
  std::vector<oauth_client_row> oauth_clients;
  std::vector<oauth_code_row> oauth_codes;
  std::vector<session_row> sessions;
  std::vector<share_row> shares;
  std::vector<share_code_row> share_codes;
};

class store {
public:
  virtual ~store() = default;
  // Everything, for the model to build its in-memory state. Called at start and after a failed commit.
  virtual result<snapshot> load() = 0;
  // Apply every change in one transaction and make it durable before returning. All or nothing:
  // on error nothing of `changes` is in the database.
  virtual status commit(std::span<const change> changes) = 0;
  // "sqlite:///path/hub.sqlite" etc., for messages.
  virtual std::string describe() const = 0;
};

}  // namespace hubd::core::store
