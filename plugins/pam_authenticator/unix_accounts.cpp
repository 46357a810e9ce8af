#include "unix_accounts.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>

namespace hubd_pam {
namespace {

// Big enough for any sane entry; a group with thousands of members needs more and gets it.
constexpr std::size_t first_buffer = 16 * 1024;
constexpr std::size_t max_buffer = 16 * 1024 * 1024;

template <class Lookup>
std::optional<account> lookup_passwd(Lookup&& lookup) {
  for (std::size_t size = first_buffer; size <= max_buffer; size *= 4) {
    std::vector<char> buf(size);
    passwd pw{};
    passwd* found = nullptr;
    int rc = lookup(&pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE) continue;
    if (rc != 0 || !found) return std::nullopt;
    return account{found->pw_name, found->pw_uid, found->pw_gid};
  }
  return std::nullopt;
}

}  // namespace

std::optional<account> find_account(const std::string& name) {
  return lookup_passwd([&](passwd* pw, char* buf, std::size_t len, passwd** out) {
    return ::getpwnam_r(name.c_str(), pw, buf, len, out);
  });
}

std::optional<account> find_account(uid_t uid) {
  return lookup_passwd(
      [&](passwd* pw, char* buf, std::size_t len, passwd** out) { return ::getpwuid_r(uid, pw, buf, len, out); });
}

std::optional<gid_t> find_group(const std::string& name) {
  for (std::size_t size = first_buffer; size <= max_buffer; size *= 4) {
    std::vector<char> buf(size);
    group gr{};
    group* found = nullptr;
    int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
    if (rc == ERANGE) continue;
    if (rc != 0 || !found) return std::nullopt;
    return found->gr_gid;
  }
  return std::nullopt;
}

std::vector<gid_t> groups_of(const account& a) {
  int count = 64;
  std::vector<gid_t> gids(static_cast<std::size_t>(count));
  // -1 with count set to the number needed when the list is too short: try once more with that.
  for (int attempt = 0; attempt < 4; ++attempt) {
    int n = count;
    if (::getgrouplist(a.name.c_str(), a.gid, gids.data(), &n) >= 0) {
      gids.resize(static_cast<std::size_t>(n));
      return gids;
    }
    count = n > count ? n : count * 2;
    gids.resize(static_cast<std::size_t>(count));
  }
  return {a.gid};
}

}  // namespace hubd_pam
