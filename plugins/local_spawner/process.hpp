#pragma once
// Child-process plumbing of the local spawner: launch with fork/exec (async-signal-safe child side),
// signal a process group, check liveness of a re-adopted pid. No hubd types here.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hubd_local_spawner {

struct launch_spec {
  std::vector<std::string> argv;  // argv[0] is resolved against PATH by launch()
  std::vector<std::string> env;   // "KEY=value"
  std::string cwd;                // empty: inherit
  // Drop privileges to this identity in the child (system-user mode); nullopt: keep hubd's.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::vector<gid_t> groups;  // supplementary groups (from getgrouplist, computed before fork)
};

struct launched {
  pid_t pid = -1;
  int output_fd = -1;  // read end of the child's stdout+stderr
  std::string error;   // empty on success
};

// Finds `name` in `path_var` (a PATH value) unless it contains '/'. Empty when not executable.
std::string resolve_command(const std::string& name, const std::string& path_var);

// Starts the child in its own session (so its process group can be signalled as a whole). Reports
// an exec failure (ENOENT, EACCES, ...) synchronously through a close-on-exec pipe.
launched launch(const launch_spec& spec);

// Start time of `pid` in clock ticks since boot (/proc/PID/stat field 22); 0 when gone. Guards
// re-adoption against pid reuse.
std::uint64_t process_start_time(pid_t pid);

// True when pid exists and (if start_time != 0) is the same process.
bool alive(pid_t pid, std::uint64_t start_time);

// A free TCP port on ip (bind port 0 and read it back); 0 on failure.
int free_port(const std::string& ip);
// True when something can bind ip:port right now.
bool port_free(const std::string& ip, int port);

}  // namespace hubd_local_spawner
