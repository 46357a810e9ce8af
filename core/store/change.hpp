#pragma once
// One durable change: an upsert of a row or the removal of one, by key. A mutation of the model
// produces a list of these; the writer commits many lists in one transaction.
#include "core/store/records.hpp"

#include <variant>

namespace hubd::core::store {

struct erase_user { std::int64_t id; };           // cascades: memberships, servers, tokens, codes, sessions, shares
struct erase_group { std::int64_t id; };          // cascades: memberships, group shares
struct erase_membership { membership_row key; };
struct erase_role { std::int64_t id; };           // cascades: assignments
struct erase_role_assignment { role_assignment_row key; };
struct erase_service { std::int64_t id; };        // cascades: tokens
struct erase_server { std::int64_t id; };         // cascades: shares, share codes
struct erase_token { std::int64_t id; };
struct erase_oauth_client { std::string identifier; };  // cascades: codes
struct erase_oauth_code { std::int64_t id; };
struct erase_session { std::string id; };
struct erase_share { std::int64_t id; };
struct erase_share_code { std::int64_t id; };
// Role assignments of a deleted holder (they have no foreign key: the holder kind varies).
struct erase_assignments_of { holder_kind kind; std::int64_t holder_id; };

using change = std::variant<user_row, erase_user, group_row, erase_group, membership_row, erase_membership,
                            role_row, erase_role, role_assignment_row, erase_role_assignment, service_row,
                            erase_service, server_row, erase_server, token_row, erase_token, oauth_client_row,
                            erase_oauth_client, oauth_code_row, erase_oauth_code, session_row, erase_session,
                            share_row, erase_share, share_code_row, erase_share_code, erase_assignments_of>;

}  // namespace hubd::core::store
