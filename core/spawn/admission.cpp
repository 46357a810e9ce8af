#include "core/spawn/admission.hpp"

namespace hubd::core::spawn {

bool valid_server_name(std::string_view n) {
  if (n.empty() || n.size() > 30) return false;
  if (!(n.front() >= 'a' && n.front() <= 'z')) return false;
  if (n.back() == '-') return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return n.find("--") == std::string_view::npos;
}

admission admit_spawn(std::string_view user, std::string_view server_name, const spawn_limits& limits,
                      const spawn_counts& c, unsigned retry_seed) {
  const std::string who = server_name.empty() ? std::string(user) : std::string(user) + "/" + std::string(server_name);
  if (!server_name.empty()) {
    if (!limits.allow_named_servers) return {400, "Named servers are not enabled.", 0};
    if (!c.server_exists) {
      if (!valid_server_name(server_name)) return {400, "Invalid server_name", 0};
      if (limits.named_server_limit_per_user > 0 && c.user_named_servers >= limits.named_server_limit_per_user)
        return {400,
                "User " + std::string(user) + " already has the maximum of " +
                    std::to_string(limits.named_server_limit_per_user) + " named servers.  One must be deleted before a new server can be created",
                0};
    }
  }
  if (c.stop_pending) return {400, who + " is pending stop", 0};
  if (c.spawn_pending) return {202, who + " is already pending", 0};
  if (c.server_running) return {400, who + " is already running", 0};
  if (limits.concurrent_spawn_limit > 0 && c.pending_spawns >= limits.concurrent_spawn_limit)
    return {429, "Too many users trying to log in right now. Try again in a minute.",
            30 + static_cast<int>(retry_seed % 31)};
  if (limits.active_server_limit > 0 && c.active_servers >= limits.active_server_limit)
    return {429, "Active user limit exceeded. Try again in a few minutes.", 0};
  return {};
}

}  // namespace hubd::core::spawn
