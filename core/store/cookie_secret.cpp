#include "core/store/cookie_secret.hpp"

#include "core/store/crypto.hpp"

#include <spdlog/spdlog.h>
#include <sodium.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace hubd::core::store {
namespace {

constexpr std::size_t secret_bytes = 32;

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string mode_text(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

result<cookie_secret> generate(const std::filesystem::path& file) {
  cookie_secret out{random_bytes(secret_bytes), "new", false};
  const std::string text = to_hex(out.secret) + "\n";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(errno == EROFS || errno == EACCES ? errc::read_only : errc::io,
                      "cannot create cookie_secret_file " + file.string() + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ok && ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(file.c_str());
    return make_error(errc::io, "cannot write cookie_secret_file " + file.string() + ": " + std::strerror(saved));
  }
  spdlog::info("store: wrote a new cookie secret to {}", file.string());
  return out;
}

}  // namespace

result<cookie_secret> load_cookie_secret(const std::filesystem::path& file, const char* env_value) {
  if (env_value && *env_value) {
    cookie_secret out{{}, "env", false};
    if (!from_hex(trim(env_value), out.secret) || out.secret.empty())
      return make_error(errc::invalid, "JPY_COOKIE_SECRET is not hex-encoded (generate one with `openssl rand -hex 32`)");
    return out;
  }
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    if (errno == ENOENT) return generate(file);
    return make_error(errc::io, "cannot read cookie_secret_file " + file.string() + ": " + std::strerror(errno));
  }
  if (st.st_mode & 0007)
    return make_error(errc::invalid, "cookie_secret_file " + file.string() +
                                         " can be read or written by anybody (mode " + mode_text(st.st_mode) +
                                         "); run `chmod 600 " + file.string() + "`");
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(errc::io, "cannot read cookie_secret_file " + file.string() + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = trim(ss.str());
  cookie_secret out{{}, "file", (st.st_mode & 0070) != 0};
  if (text.empty())
    return make_error(errc::invalid, "cookie_secret_file " + file.string() + " is empty; delete it to have a new one generated");
  if (!from_hex(text, out.secret) && !from_base64(text, out.secret))
    return make_error(errc::invalid, "cookie_secret_file " + file.string() +
                                         " holds neither hex nor base64 (generate one with `openssl rand -hex 32`)");
  if (out.group_accessible)
    spdlog::warn("store: cookie_secret_file {} is accessible to its group (mode {})", file.string(), mode_text(st.st_mode));
  return out;
}

result<cookie_secret> load_cookie_secret(const std::filesystem::path& file) {
  return load_cookie_secret(file, std::getenv("JPY_COOKIE_SECRET"));
}

}  // namespace hubd::core::store
