// The "pam" authenticator, JupyterHub's PAMAuthenticator (its default): checks a user name and password
// against the system's PAM stack ([plugins.pam] service, default "login"), then the account
// (check_account: pam_acct_mgmt), and takes admins and allowed users from Unix groups (admin_groups,
// allowed_groups; the primary group counts). With the local spawner in system-user mode, each user's
// server runs as their own system account: JupyterHub's default deployment.
//
// PAM blocks (password hashing, a directory service behind NSS, the stack's failure delay), so every
// PAM call runs on hubd's plugin pool, several at once (HUBD_FLAG_CONCURRENT): each call has its own
// PAM transaction, and pam_unix's authentication and account paths are reentrant. executor_threads
// bounds how many run at once (1 serialises them, for a stack with a module that is not reentrant).
// The failure delay is honoured off the pool (delayed_completions). Passwords are never logged and are
// wiped from the plugin's memory after use.
#include "delayed_completions.hpp"
#include "pam_transaction.hpp"
#include "settings.hpp"
#include "unix_accounts.hpp"

#include <hubd/sdk.hpp>

#include <nlohmann/json.hpp>

#include <security/pam_appl.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <semaphore>
#include <string>
#include <vector>

namespace {

using nlohmann::json;
namespace sdk = hubd::sdk;
using namespace hubd_pam;

const hubd_host* g_host = nullptr;

constexpr const char* invalid_login = "Invalid username or password";
// LOGIN_NAME_MAX; real names are far shorter. Longer input is refused before PAM sees it.
constexpr std::size_t max_username = 256;
// Linux-PAM's PAM_MAX_RESP_SIZE: pam_unix refuses longer passwords anyway.
constexpr std::size_t max_secret = PAM_MAX_RESP_SIZE;

struct pam_authenticator {
  hubd_host_obj* host_obj = nullptr;
  settings cfg;
  std::atomic<bool> sessions{false};  // open_sessions, until the first session error turns it off
  std::counting_semaphore<64> slots;  // executor_threads
  delayed_completions delayed;

  pam_authenticator(hubd_host_obj* h, settings s)
      : host_obj(h), cfg(std::move(s)), sessions(cfg.open_sessions), slots(cfg.executor_threads) {}

  void log(int level, const std::string& msg) const { sdk::log(g_host, host_obj, level, "pam: " + msg); }
};

pam_authenticator* self_of(hubd_plugin_obj* p) { return reinterpret_cast<pam_authenticator*>(p); }

// One of executor_threads' places for a PAM transaction, held for its duration.
class pam_slot {
public:
  explicit pam_slot(pam_authenticator& s) : s_(s) { s_.slots.acquire(); }
  ~pam_slot() { s_.slots.release(); }
  pam_slot(const pam_slot&) = delete;
  pam_slot& operator=(const pam_slot&) = delete;

private:
  pam_authenticator& s_;
};

// A name as it may appear in a log line: anyone can type anything into the form. JupyterHub cuts long
// names the same way ("first 16...(N chars)").
std::string loggable(const std::string& name) {
  std::string shown = name.size() > 32 ? name.substr(0, 16) : name;
  std::string out;
  for (unsigned char c : shown) {
    if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') {
      static constexpr char hex[] = "0123456789abcdef";
      out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (name.size() > 32) out += "...(" + std::to_string(name.size()) + " chars)";
  return "'" + out + "'";
}

const char* stage_name(stage s) {
  switch (s) {
    case stage::start: return "pam_start";
    case stage::authenticate: return "authentication";
    case stage::account: return "account check";
    case stage::session: return "session";
  }
  return "?";
}

// What the person at the login form is told. Before the password is known to be right, nothing that
// tells an existing account from an unknown one; after it, why the account may not log in.
std::string refusal_message(const pam_outcome& o) {
  if (o.where != stage::account) return invalid_login;
  switch (o.code) {
    case PAM_NEW_AUTHTOK_REQD:
      return "Your password has expired. Change it (for example with passwd over ssh), then log in again.";
    case PAM_ACCT_EXPIRED: return "Your account has expired. Ask the hub's administrator.";
    default: return "Your account may not log in here. Ask the hub's administrator.";
  }
}

// The name JupyterHub's normalize_username gives with pam_normalize_username: the account's own
// name, found through its uid (PAM may accept several spellings of one user).
std::optional<std::string> round_trip(const std::string& name) {
  auto a = find_account(name);
  if (!a) return std::nullopt;
  auto back = find_account(a->uid);
  return back ? back->name : a->name;
}

std::string normalized(const pam_authenticator& s, const std::string& name) {
  if (s.cfg.pam_normalize_username) {
    if (auto n = round_trip(name)) return *n;
    return name;
  }
  std::string lower = name;
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return lower;
}

// Whether the user is in one of `groups` (names). Unknown group names are logged and skipped, as
// JupyterHub's allowed_groups; with `strict` (admin_groups) they fail the check, as JupyterHub's
// admin check does: a typo must not silently take admin rights away.
struct membership {
  bool member = false;
  std::string error;  // set when the check could not be made
};

membership member_of(const pam_authenticator& s, const std::string& user, const std::vector<std::string>& groups,
                     const char* key, bool strict) {
  membership out;
  auto a = find_account(user);
  if (!a) {
    out.error = "no system user named " + loggable(user);
    return out;
  }
  auto mine = groups_of(*a);
  for (const auto& g : groups) {
    auto gid = find_group(g);
    if (!gid) {
      s.log(HUBD_LOG_ERROR, std::string(key) + ": no such group '" + g + "'");
      if (strict) {
        out.error = std::string(key) + ": no such group '" + g + "'";
        return out;
      }
      continue;
    }
    if (std::find(mine.begin(), mine.end(), *gid) != mine.end()) out.member = true;
  }
  return out;
}

std::string string_field(const json& data, const char* key, bool& bad_type) {
  auto it = data.find(key);
  if (it == data.end() || it->is_null()) return {};
  if (!it->is_string()) {
    bad_type = true;
    return {};
  }
  return it->get<std::string>();
}

// Form input that never reaches PAM, with the reason shown to the user; empty when it may go on.
std::string check_input(const std::string& user, const std::string& password, const std::string& otp) {
  if (user.empty()) return "Enter your user name";
  if (password.empty()) return "Enter your password";
  if (user.size() > max_username) return "The user name is too long";
  if (password.size() > max_secret || otp.size() > max_secret)
    return "The password is too long (at most " + std::to_string(max_secret) + " bytes)";
  if (user.find('\0') != std::string::npos || password.find('\0') != std::string::npos ||
      otp.find('\0') != std::string::npos)
    return "The user name or password contains a NUL character";
  return {};
}

void wipe(std::string& s) {
  if (!s.empty()) ::explicit_bzero(s.data(), s.size());
}

hubd_plugin_obj* create(hubd_host_obj* host_obj, hubd_str config_json, hubd_sink* err) noexcept {
  return sdk::barrier<hubd_plugin_obj*>(nullptr, [&]() -> hubd_plugin_obj* {
    auto text = sdk::view(config_json);
    json cfg = text.empty() ? json::object() : json::parse(text, nullptr, false);
    auto parsed = parse_settings(cfg);
    if (auto* e = std::get_if<std::string>(&parsed)) {
      sdk::write(err, *e);
      return nullptr;
    }
    auto s = std::make_unique<pam_authenticator>(host_obj, std::get<settings>(std::move(parsed)));
    // A group that does not exist yet may come from a directory service later: a warning, not an error.
    for (const auto* list : {&s->cfg.admin_groups, &s->cfg.allowed_groups})
      for (const auto& g : *list)
        if (!find_group(g))
          s->log(HUBD_LOG_WARNING, std::string(list == &s->cfg.admin_groups ? "admin_groups" : "allowed_groups") +
                                       ": no such group '" + g + "' (yet)");
    if (s->cfg.open_sessions)
      s->log(HUBD_LOG_WARNING, "open_sessions is on: the PAM session of service '" + s->cfg.service +
                                   "' runs in hubd's own process (JupyterHub's caveat); any session error turns it off");
    return reinterpret_cast<hubd_plugin_obj*>(s.release());
  });
}

void destroy(hubd_plugin_obj* self) noexcept { delete self_of(self); }

void authenticate(hubd_plugin_obj* p, hubd_host_obj*, hubd_op* op, hubd_str input) noexcept {
  sdk::op_barrier(g_host, op, [&] {
    auto* s = self_of(p);
    json data = json::parse(sdk::view(input), nullptr, false);
    if (!data.is_object()) {
      sdk::fail(g_host, op, 400, "login data is not a JSON object");
      return;
    }
    bool bad_type = false;
    std::string user = string_field(data, "username", bad_type);
    std::string password = string_field(data, "password", bad_type);
    std::string otp = string_field(data, "otp", bad_type);  // JupyterHub's request_otp field
    for (const char* k : {"password", "otp"})
      if (auto it = data.find(k); it != data.end() && it->is_string()) wipe(it->get_ref<std::string&>());
    // Copied, not moved: a moved-from short string may keep its characters in its own buffer.
    secrets secret(password, otp);
    wipe(password);
    wipe(otp);
    std::string why = bad_type ? std::string(invalid_login) : check_input(user, secret.password(), secret.otp());
    if (!why.empty()) {
      s->log(HUBD_LOG_WARNING, "login refused for " + loggable(user) + " before PAM: " + why);
      sdk::complete(g_host, op, HUBD_DENIED, json{{"message", why}}.dump());
      return;
    }

    pam_outcome o;
    {
      pam_slot slot(*s);
      o = hubd_pam::authenticate(s->cfg.service, user, secret, s->cfg.check_account);
    }
    if (!o.ok()) {
      s->log(HUBD_LOG_WARNING, std::string("PAM ") + stage_name(o.where) + " failed for " + loggable(user) + " (service '" +
                                   s->cfg.service + "'): " + o.error);
      std::string body = json{{"message", refusal_message(o)}}.dump();
      s->delayed.after(std::chrono::microseconds(o.delay_usec),
                       [op, body] { sdk::complete(g_host, op, HUBD_DENIED, body); });
      return;
    }

    const std::string name = normalized(*s, user);
    if (s->cfg.pam_normalize_username && !find_account(user)) {
      s->log(HUBD_LOG_ERROR, "pam_normalize_username: PAM accepted " + loggable(user) + " but the user database has no such user");
      sdk::fail(g_host, op, 500, "Login failed: the system does not know this user. Ask the hub's administrator.");
      return;
    }
    json model{{"name", name}};
    // JupyterHub's admin_groups are authoritative: a member is an admin, anyone else is not (admin_users,
    // which hubd checks, still make an admin).
    if (!s->cfg.admin_groups.empty()) {
      auto m = member_of(*s, name, s->cfg.admin_groups, "admin_groups", true);
      if (!m.error.empty()) {
        s->log(HUBD_LOG_ERROR, "admin group check failed for " + loggable(name) + ": " + m.error);
        sdk::fail(g_host, op, 500, "Login failed: the admin group check failed. Ask the hub's administrator.");
        return;
      }
      model["admin"] = m.member;
    }
    s->log(HUBD_LOG_INFO, "authenticated " + loggable(name) + " (service '" + s->cfg.service + "')");
    sdk::complete(g_host, op, HUBD_OK, model.dump());
  });
}

// LocalAuthenticator.check_allowed: a member of allowed_groups may log in. No allowed_groups: no opinion
// (null), hubd's own allow rules decide. Not a member: false, and hubd still admits whom its own allow
// configuration lists (allow_all, allowed_users, admin_users), as JupyterHub's check_allowed falls back
// to Authenticator.check_allowed.
void check_allowed(hubd_plugin_obj* p, hubd_host_obj*, hubd_op* op, hubd_str input) noexcept {
  sdk::op_barrier(g_host, op, [&] {
    auto* s = self_of(p);
    if (s->cfg.allowed_groups.empty()) {
      sdk::complete(g_host, op, HUBD_OK, "null");
      return;
    }
    json in = json::parse(sdk::view(input), nullptr, false);
    const std::string name = in.is_object() && in.contains("name") && in["name"].is_string() ? in["name"].get<std::string>() : "";
    auto m = member_of(*s, name, s->cfg.allowed_groups, "allowed_groups", false);
    if (!m.error.empty()) s->log(HUBD_LOG_WARNING, "allowed_groups: " + m.error);
    if (m.member) {
      sdk::complete(g_host, op, HUBD_OK, "true");
      return;
    }
    sdk::complete(g_host, op, HUBD_DENIED,
                  json{{"message", "You are not in a group allowed to use this hub. Ask the hub's administrator."}}.dump());
  });
}

std::string user_of(const json& in) {
  if (!in.is_object() || !in.contains("user")) return {};
  const auto& u = in["user"];
  if (u.is_string()) return u.get<std::string>();
  if (u.is_object() && u.contains("name") && u["name"].is_string()) return u["name"].get<std::string>();
  return {};
}

// open_sessions, as JupyterHub: a session error is logged and turns sessions off from then on; the spawn
// goes on either way.
void session_op(hubd_plugin_obj* p, hubd_op* op, hubd_str input, bool open) {
  sdk::op_barrier(g_host, op, [&] {
    auto* s = self_of(p);
    if (s->sessions.load()) {
      const std::string user = user_of(json::parse(sdk::view(input), nullptr, false));
      pam_outcome o;
      if (user.empty()) {
        o.code = PAM_USER_UNKNOWN;
        o.error = "no user in the spawn's input";
      } else {
        pam_slot slot(*s);
        o = open ? open_session(s->cfg.service, user) : close_session(s->cfg.service, user);
      }
      if (!o.ok()) {
        s->log(HUBD_LOG_WARNING, std::string("failed to ") + (open ? "open" : "close") + " the PAM session for " +
                                     loggable(user) + ": " + o.error);
        s->log(HUBD_LOG_WARNING, "disabling PAM sessions from now on");
        s->sessions = false;
      } else {
        s->log(HUBD_LOG_INFO, std::string(open ? "opened" : "closed") + " the PAM session for " + loggable(user));
      }
    }
    sdk::complete(g_host, op, HUBD_OK, open ? "{}" : "null");
  });
}

void pre_spawn_start(hubd_plugin_obj* p, hubd_host_obj*, hubd_op* op, hubd_str input) noexcept {
  session_op(p, op, input, true);
}
void post_spawn_stop(hubd_plugin_obj* p, hubd_host_obj*, hubd_op* op, hubd_str input) noexcept {
  session_op(p, op, input, false);
}

// LocalAuthenticator.add_user: a hub user must be a system user (hubd creates none).
void add_user(hubd_plugin_obj* p, hubd_host_obj*, hubd_op* op, hubd_str input) noexcept {
  sdk::op_barrier(g_host, op, [&] {
    (void)p;
    const std::string user = user_of(json::parse(sdk::view(input), nullptr, false));
    if (user.empty() || !find_account(user)) {
      sdk::fail(g_host, op, 400, "user " + user + " does not exist on the system (hubd's pam authenticator creates no system users)");
      return;
    }
    sdk::complete(g_host, op, HUBD_OK, "null");
  });
}

// The default (lower case) unless pam_normalize_username; then the account's own name, looked up in the
// user database (local files answer at once; a remote directory is what that option is for).
bool normalize_username(hubd_plugin_obj* p, hubd_str username, hubd_sink* out) noexcept {
  return sdk::barrier(false, [&] {
    auto* s = self_of(p);
    if (!s->cfg.pam_normalize_username) return false;
    sdk::write(out, normalized(*s, std::string(sdk::view(username))));
    return true;
  });
}

hubd_authenticator_vtbl make_vtbl() {
  hubd_authenticator_vtbl v{};
  v.struct_size = sizeof v;
  v.flags = HUBD_FLAG_CONCURRENT;  // one PAM transaction per call; settings read-only after create
  v.create = &create;
  v.destroy = &destroy;
  v.authenticate = &authenticate;
  v.check_allowed = &check_allowed;
  v.pre_spawn_start = &pre_spawn_start;
  v.post_spawn_stop = &post_spawn_stop;
  v.add_user = &add_user;
  v.normalize_username = &normalize_username;
  return v;
}
const hubd_authenticator_vtbl vtbl = make_vtbl();

const void* get_factory(const char* id) noexcept {
  return id && std::strcmp(id, HUBD_FACTORY_AUTHENTICATOR) == 0 ? &vtbl : nullptr;
}

const hubd_plugin_desc desc = {sizeof(hubd_plugin_desc), HUBD_KIND_AUTHENTICATOR, "pam", HUBD_VERSION,
                               "system users through PAM (JupyterHub's PAMAuthenticator)", &get_factory};
const hubd_plugin_desc* const plugin_list[] = {&desc};

bool init(const hubd_host* host, hubd_sink*) noexcept {
  g_host = host;
  return true;
}
void deinit() noexcept { g_host = nullptr; }

const hubd_plugin_entry entry = {sizeof(hubd_plugin_entry), HUBD_ABI_MAJOR, HUBD_ABI_MINOR, "hubd-pam-authenticator",
                                 HUBD_VERSION, &init, &deinit, 1, plugin_list};

}  // namespace

extern "C" HUBD_EXPORT const hubd_plugin_entry* hubd_plugin_entry_v1(void) { return &entry; }
