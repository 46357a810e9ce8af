#pragma once
// The rows hubd keeps durable. The model holds exactly these (immutable, shared) in memory and the
// store writes them; they are plain values so a second backend needs nothing but this header.
// Ids are allocated by the model (it is the single writer of the state), never by the database.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hubd::core::store {

// Naive UTC, microsecond resolution (JupyterHub stores naive UTC datetimes).
using time_point = std::chrono::sys_time<std::chrono::microseconds>;
using opt_time = std::optional<time_point>;

// Where a group membership or a role assignment came from: "config",
// "authenticator", "api" or "plugin:NAME". Roles carry one too, plus "default".
using source = std::string;

struct user_row {
  std::int64_t id = 0;
  std::string name;
  bool admin = false;
  time_point created{};
  opt_time last_activity;
  std::string cookie_id;                    // random; identifies the login cookie's user
  std::optional<std::string> auth_state;    // ciphertext from crypt_keeper, never plaintext
  std::optional<std::string> user_info;     // JSON object text, or null
};

struct group_row {
  std::int64_t id = 0;
  std::string name;
  std::string properties = "{}";  // JSON object text
};

struct membership_row {
  std::int64_t user_id = 0;
  std::int64_t group_id = 0;
  source from;
  bool operator==(const membership_row&) const = default;
};

struct role_row {
  std::int64_t id = 0;
  std::string name;
  std::string description;
  std::vector<std::string> scopes;  // raw scopes as configured
  source from = "api";
  bool managed_by_auth = false;
};

enum class holder_kind { user, group, service };
const char* holder_kind_name(holder_kind k);

struct role_assignment_row {
  std::int64_t role_id = 0;
  holder_kind kind = holder_kind::user;
  std::int64_t holder_id = 0;
  source from;
  bool operator==(const role_assignment_row&) const = default;
};

// What a services row stands for: a configured or API-made service, or the principal of a plugin
// that acts through the internal API ([plugins.NAME] roles). Only start-up sets `plugin`: no API
// request can, so no service can borrow a plugin's provenance.
enum class principal_kind { service, plugin };
const char* principal_kind_name(principal_kind k);

struct service_row {
  std::int64_t id = 0;
  std::string name;
  principal_kind kind = principal_kind::service;
  bool admin = false;
  std::optional<std::string> url;
  std::string info = "{}";  // JSON object text
  bool display = true;
  std::optional<std::string> oauth_client_id;
  std::optional<std::string> oauth_redirect_uri;
  std::vector<std::string> oauth_allowed_scopes;
  bool oauth_no_confirm = false;
  bool from_config = true;
  time_point created{};
  opt_time last_activity;
};

struct server_row {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string name;  // "" for the default server
  std::string display_name;
  std::optional<std::string> url;
  opt_time started;
  opt_time last_activity;
  std::optional<std::string> pending;  // "spawn", "stop", "rename" or none
  std::string state = "{}";            // spawner state, JSON object text
  std::string user_options = "{}";     // JSON object text
};

struct token_row {
  std::int64_t id = 0;            // API id is "a<id>"
  std::string digest;             // token_digest(secret): 32 raw bytes
  std::string prefix;             // first 4 characters of the secret, for display
  std::optional<std::int64_t> user_id;     // exactly one of user_id / service_id
  std::optional<std::int64_t> service_id;
  std::vector<std::string> scopes;         // raw stored scopes
  time_point created{};
  opt_time expires_at;
  opt_time last_activity;
  std::string note;
  std::optional<std::string> session_id;
  std::string client_id = "jupyterhub";
};

struct oauth_client_row {
  std::string identifier;
  std::string description;
  std::optional<std::string> secret_digest;  // token_digest of the client secret
  std::string redirect_uri;
  std::vector<std::string> allowed_scopes;
  time_point created{};
  // Who registered it (the access scope of its server or service); null on rows from before
  // schema version 4. A registration by anyone else is refused.
  std::optional<std::string> owner;
};

struct oauth_code_row {
  std::int64_t id = 0;
  std::string digest;
  std::string client_id;
  std::int64_t user_id = 0;
  std::vector<std::string> scopes;
  std::string redirect_uri;
  std::optional<std::string> session_id;
  time_point expires_at{};
  std::optional<std::string> code_challenge;
  std::optional<std::string> code_challenge_method;  // "S256" or "plain"
};

struct session_row {
  std::string id;  // the jupyterhub-session-id cookie value
  std::int64_t user_id = 0;
  time_point created{};
  opt_time last_activity;
};

struct share_row {
  std::int64_t id = 0;
  std::int64_t server_id = 0;
  std::optional<std::int64_t> user_id;   // exactly one of user_id / group_id
  std::optional<std::int64_t> group_id;
  std::vector<std::string> scopes;
  time_point created{};
};

struct share_code_row {
  std::int64_t id = 0;  // API id is "sc_<id>"
  std::int64_t server_id = 0;
  std::string digest;
  std::vector<std::string> scopes;
  time_point created{};
  time_point expires_at{};
  std::int64_t exchange_count = 0;
  opt_time last_exchanged_at;
};

}  // namespace hubd::core::store
