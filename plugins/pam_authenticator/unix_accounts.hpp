#pragma once
// The system's user and group database (NSS: /etc/passwd and /etc/group, or LDAP/SSSD behind them),
// read with the reentrant calls only: authentications run concurrently on the plugin pool.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace hubd_pam {

struct account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;  // the primary group
};

std::optional<account> find_account(const std::string& name);
std::optional<account> find_account(uid_t uid);
std::optional<gid_t> find_group(const std::string& name);

// Every group the user is in, the primary one included (as JupyterHub's os.getgrouplist(name, pw_gid)).
std::vector<gid_t> groups_of(const account& a);

}  // namespace hubd_pam
