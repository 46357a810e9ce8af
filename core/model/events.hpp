#pragma once
// What the model tells subscribers after a change is durable. Delivered on the writer's thread,
// in commit order, without any model lock held: a subscriber may read the model, and should hand
// real work to its own executor (the writer thread is the durability path for everyone).
#include <functional>
#include <string>
#include <vector>

namespace hubd::core::model {

enum class event_kind {
  user_created,
  user_deleted,
  user_renamed,           // user = new name, detail = old name
  group_created,
  group_deleted,
  group_members_changed,  // group, and user when a single user was added or removed
  role_changed,           // role created, changed, deleted, assigned or unassigned
  server_started,         // user, server
  server_stopped,         // user, server
};

const char* event_kind_name(event_kind k);

struct event {
  event_kind kind;
  std::string user;
  std::string group;
  std::string role;
  std::string server;
  // group_members_changed: "added" or "removed"; role_changed: "created", "updated", "deleted",
  // "assigned" or "unassigned"; user_renamed: the old name.
  std::string detail;
  std::vector<std::string> users;  // group_members_changed: every user added or removed
};

using subscriber = std::function<void(const event&)>;

}  // namespace hubd::core::model
