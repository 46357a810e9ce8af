#include "process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace hubd_local_spawner {

namespace {

bool executable(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

// Fills a sockaddr for ip ("" or "0.0.0.0" means all interfaces); IPv6 when it contains ':'.
bool make_addr(const std::string& ip, int port, sockaddr_storage& ss, socklen_t& len) {
  std::memset(&ss, 0, sizeof ss);
  if (ip.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) != 1) return false;
    len = sizeof *a;
    return true;
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(static_cast<uint16_t>(port));
  if (ip.empty()) {
    a->sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (inet_pton(AF_INET, ip.c_str(), &a->sin_addr) != 1) {
    return false;
  }
  len = sizeof *a;
  return true;
}

int bind_socket(const std::string& ip, int port) {
  sockaddr_storage ss;
  socklen_t len = 0;
  if (!make_addr(ip, port, ss, len)) return -1;
  int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // Same option the single-user server sets, so a port in TIME_WAIT counts as free as it will for it.
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string resolve_command(const std::string& name, const std::string& path_var) {
  if (name.empty()) return {};
  if (name.find('/') != std::string::npos) return executable(name) ? name : std::string();
  std::stringstream ss(path_var.empty() ? std::string("/usr/local/bin:/usr/bin:/bin") : path_var);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) dir = ".";
    std::string p = dir + "/" + name;
    if (executable(p)) return p;
  }
  return {};
}

launched launch(const launch_spec& spec) {
  launched out;
  if (spec.argv.empty()) {
    out.error = "empty command";
    return out;
  }
  // Everything the child needs is built before fork: after fork only async-signal-safe calls.
  std::vector<char*> argv, envp;
  for (auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    out.error = std::string("pipe: ") + std::strerror(errno);
    return out;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    out.error = std::string("pipe: ") + std::strerror(errno);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return out;
  }
  const char* cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  pid_t pid = ::fork();
  if (pid < 0) {
    out.error = std::string("fork: ") + std::strerror(errno);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    return out;
  }
  if (pid == 0) {
    // Child: report the failing step as (step, errno) and exit 127.
    auto die = [&](int step) {
      int msg[2] = {step, errno};
      ssize_t ignored = ::write(err_pipe[1], msg, sizeof msg);
      (void)ignored;
      ::_exit(127);
    };
    ::setsid();
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(out_pipe[1], 2);
    // Nothing else of hubd's leaks into the server (sockets, the database, ...).
    ::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (spec.gid) {
      if (::setgroups(spec.groups.size(), spec.groups.data()) != 0) die(1);
      if (::setgid(*spec.gid) != 0) die(2);
    }
    if (spec.uid && ::setuid(*spec.uid) != 0) die(3);
    if (cwd && ::chdir(cwd) != 0) die(4);
    ::execve(argv[0], argv.data(), envp.data());
    die(5);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  int msg[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(err_pipe[0], msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
  ::close(err_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof msg)) {
    std::string step = msg[0] == 1   ? std::string("setgroups")
                       : msg[0] == 2 ? std::string("setgid")
                       : msg[0] == 3 ? std::string("setuid")
                       : msg[0] == 4 ? "chdir to " + spec.cwd
                                     : "exec " + spec.argv[0];
    out.error = step + ": " + std::strerror(msg[1]);
    ::close(out_pipe[0]);
    int st;
    ::waitpid(pid, &st, 0);
    return out;
  }
  out.pid = pid;
  out.output_fd = out_pipe[0];
  return out;
}

std::uint64_t process_start_time(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return 0;
  // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  // rest starts at field 3 (state); field 22 is starttime.
  for (int i = 3; i < 22; ++i) rest >> field;
  std::uint64_t start = 0;
  rest >> start;
  return start;
}

bool alive(pid_t pid, std::uint64_t start_time) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (std::getline(f, line)) {
    auto close = line.rfind(')');
    // A zombie has exited: it only waits to be reaped.
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') return false;
  }
  return start_time == 0 || process_start_time(pid) == start_time;
}

int free_port(const std::string& ip) {
  int fd = bind_socket(ip, 0);
  if (fd < 0) return 0;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int port = 0;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                    : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  ::close(fd);
  return port;
}

bool port_free(const std::string& ip, int port) {
  int fd = bind_socket(ip, port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

}  // namespace hubd_local_spawner
