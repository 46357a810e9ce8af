#pragma once
// One PAM transaction per call (pam_start .. pam_end), so calls on different threads share nothing:
// Linux-PAM keeps all state in the handle, and pam_unix's authentication and account paths use only
// reentrant lookups (pam_modutil_getpwnam/getspnam) and crypt_r.
#include <string>

namespace hubd_pam {

enum class stage { start, authenticate, account, session };

struct pam_outcome {
  int code = 0;            // PAM_SUCCESS or the PAM error of `where`
  stage where = stage::start;
  std::string error;       // pam_strerror's text; never holds the password
  unsigned delay_usec = 0;  // the failure delay the stack asked for (pam_faildelay, pam_unix)

  bool ok() const;
};

// The secrets the conversation hands out, in order, to the prompts that do not echo (a password, then
// a one-time password when the stack asks for a second one). Wiped when destroyed.
class secrets {
public:
  secrets(const std::string& password, const std::string& otp);
  ~secrets();
  secrets(const secrets&) = delete;
  secrets& operator=(const secrets&) = delete;

  const std::string& password() const { return password_; }
  const std::string& otp() const { return otp_; }

private:
  std::string password_;
  std::string otp_;
};

// pam_authenticate, then pam_acct_mgmt when check_account. The failure delay the stack requests is
// not slept here (that would hold a plugin-pool thread for seconds): it is reported in delay_usec for
// the caller to honour before answering. No pam_setcred: credentials belong to the process that will
// run as the user, and a stack's setcred (pam_group) may change the groups of hubd itself.
pam_outcome authenticate(const std::string& service, const std::string& user, const secrets& secret,
                         bool check_account);

// JupyterHub's open_sessions: pam_open_session / pam_close_session in a transaction of their own.
pam_outcome open_session(const std::string& service, const std::string& user);
pam_outcome close_session(const std::string& service, const std::string& user);

}  // namespace hubd_pam
