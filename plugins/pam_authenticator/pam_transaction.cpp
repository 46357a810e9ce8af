#include "pam_transaction.hpp"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string_view>

namespace hubd_pam {
namespace {

void wipe(std::string& s) {
  if (!s.empty()) ::explicit_bzero(s.data(), s.size());
  s.clear();
}

struct conversation_state {
  const secrets* secret = nullptr;  // null: a session transaction, nothing to answer
  int answered = 0;                 // prompts without echo answered so far
  unsigned delay_usec = 0;
};

char* copy_for_pam(const std::string& s) {
  // PAM frees the responses with free().
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

void free_responses(pam_response* r, int n) {
  for (int i = 0; i < n; ++i) {
    if (r[i].resp) {
      ::explicit_bzero(r[i].resp, std::strlen(r[i].resp));
      std::free(r[i].resp);
    }
  }
  std::free(r);
}

// Answers each prompt that does not echo with the next secret and refuses a prompt it has no answer
// for (a stack asking for a third secret, or a new password: nobody is there to type one). Prompts that
// echo (a user name) get an empty answer: the name was given to pam_start. Messages are dropped.
int converse(int n, const pam_message** msgs, pam_response** out, void* data) noexcept {
  if (n <= 0 || n > PAM_MAX_NUM_MSG || !out) return PAM_CONV_ERR;
  auto* st = static_cast<conversation_state*>(data);
  auto* replies = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
  if (!replies) return PAM_BUF_ERR;
  for (int i = 0; i < n; ++i) {
    switch (msgs[i]->msg_style) {
      case PAM_PROMPT_ECHO_OFF: {
        const std::string* answer = nullptr;
        if (st && st->secret) {
          if (st->answered == 0) answer = &st->secret->password();
          else if (st->answered == 1 && !st->secret->otp().empty()) answer = &st->secret->otp();
        }
        if (!answer) {
          free_responses(replies, n);
          return PAM_CONV_ERR;
        }
        ++st->answered;
        replies[i].resp = copy_for_pam(*answer);
        if (!replies[i].resp) {
          free_responses(replies, n);
          return PAM_BUF_ERR;
        }
        break;
      }
      case PAM_PROMPT_ECHO_ON:
        replies[i].resp = copy_for_pam("");
        if (!replies[i].resp) {
          free_responses(replies, n);
          return PAM_BUF_ERR;
        }
        break;
      default:  // PAM_ERROR_MSG, PAM_TEXT_INFO: for a terminal; nobody reads them here
        break;
    }
  }
  *out = replies;
  return PAM_SUCCESS;
}

// Linux-PAM calls it after every pam_authenticate, also a successful one: only a failure's delay counts.
void record_delay(int status, unsigned usec, void* data) noexcept {
  auto* st = static_cast<conversation_state*>(data);
  if (st && status != PAM_SUCCESS) st->delay_usec = usec;
}

// pam_start loads the service's modules (dlopen) and pam_end unloads them (dlclose). glibc makes that
// thread-safe with a lock of the dynamic loader that ThreadSanitizer cannot see, so concurrent
// transactions read as a race on the loader's own memory. Loading and unloading one transaction at a
// time costs microseconds; the slow part, the conversation and the password check, still runs
// concurrently.
std::mutex module_loading;

class transaction {
public:
  transaction(const std::string& service, const std::string& user, conversation_state& st) {
    conv_.conv = &converse;
    conv_.appdata_ptr = &st;
    std::lock_guard lk(module_loading);
    code_ = ::pam_start(service.c_str(), user.c_str(), &conv_, &handle_);
    if (code_ == PAM_SUCCESS) {
      // Instead of sleeping inside pam_authenticate, Linux-PAM calls this with the delay it wanted.
      void (*fn)(int, unsigned, void*) = &record_delay;
      ::pam_set_item(handle_, PAM_FAIL_DELAY, reinterpret_cast<const void*>(fn));
    }
  }
  ~transaction() {
    std::lock_guard lk(module_loading);
    if (handle_) ::pam_end(handle_, last_);
  }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  // pam_outcome of the start, or of the step `f` runs.
  template <class F>
  bool step(stage where, pam_outcome& out, F&& f) {
    if (!handle_ || code_ != PAM_SUCCESS) {
      out.code = code_ == PAM_SUCCESS ? PAM_SYSTEM_ERR : code_;
      out.where = stage::start;
      out.error = handle_ ? ::pam_strerror(handle_, out.code) : "pam_start failed";
      return false;
    }
    last_ = f(handle_);
    out.code = last_;
    out.where = where;
    out.error = last_ == PAM_SUCCESS ? "" : ::pam_strerror(handle_, last_);
    return last_ == PAM_SUCCESS;
  }

private:
  pam_conv conv_{};
  pam_handle_t* handle_ = nullptr;
  int code_ = PAM_SYSTEM_ERR;
  int last_ = PAM_SUCCESS;
};

}  // namespace

bool pam_outcome::ok() const { return code == PAM_SUCCESS; }

secrets::secrets(const std::string& password, const std::string& otp) : password_(password), otp_(otp) {}
secrets::~secrets() {
  wipe(password_);
  wipe(otp_);
}

pam_outcome authenticate(const std::string& service, const std::string& user, const secrets& secret,
                         bool check_account) {
  conversation_state st;
  st.secret = &secret;
  pam_outcome out;
  {
    transaction t(service, user, st);
    if (t.step(stage::authenticate, out, [](pam_handle_t* h) { return ::pam_authenticate(h, PAM_DISALLOW_NULL_AUTHTOK); }) &&
        check_account)
      t.step(stage::account, out, [](pam_handle_t* h) { return ::pam_acct_mgmt(h, PAM_DISALLOW_NULL_AUTHTOK); });
  }
  out.delay_usec = st.delay_usec;
  return out;
}

namespace {
pam_outcome session_step(const std::string& service, const std::string& user, bool open) {
  conversation_state st;
  pam_outcome out;
  transaction t(service, user, st);
  t.step(stage::session, out, [open](pam_handle_t* h) { return open ? ::pam_open_session(h, 0) : ::pam_close_session(h, 0); });
  return out;
}
}  // namespace

pam_outcome open_session(const std::string& service, const std::string& user) { return session_step(service, user, true); }
pam_outcome close_session(const std::string& service, const std::string& user) { return session_step(service, user, false); }

}  // namespace hubd_pam
