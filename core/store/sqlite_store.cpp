#include "core/store/sqlite_store.hpp"

#include "core/store/migrations.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace hubd::core::store {
namespace {

// ---- errors ----------------------------------------------------------------------------------

errc classify(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL: return errc::disk_full;
    case SQLITE_READONLY: return errc::read_only;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return errc::not_a_database;
    case SQLITE_CONSTRAINT: return errc::conflict;
    default: return errc::io;
  }
}

error sql_error(sqlite3* db, int rc, const std::filesystem::path& file, std::string_view what) {
  std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  errc c = classify(rc);
  if ((rc & 0xff) == SQLITE_IOERR && db && sqlite3_system_errno(db) != 0) {
    const int sys = sqlite3_system_errno(db);
    detail += std::string(" (") + std::strerror(sys) + ")";
    if (sys == EFBIG || sys == ENOSPC || sys == EDQUOT) c = errc::disk_full;
  }
  if (c == errc::disk_full) detail += "; the disk is full or a file size limit was reached, nothing of this change was saved";
  if ((rc & 0xff) == SQLITE_CANTOPEN) {
    const auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
    if (::access(dir.c_str(), W_OK) != 0 || (::access(file.c_str(), F_OK) == 0 && ::access(file.c_str(), W_OK) != 0))
      c = errc::read_only, detail += " (the file or its folder is not writable)";
  }
  if (c == errc::not_a_database) detail += " (is it a SQLite database? hubd will not touch it)";
  return make_error(c, file.string() + ": " + std::string(what) + ": " + detail);
}

// ---- binding rows ----------------------------------------------------------------------------

template <class T>
struct blob {
  T& v;
};
template <class T>
blob(T&) -> blob<T>;

template <class... A>
auto fields(A&&... a) {
  return std::tuple<A...>(std::forward<A>(a)...);
}

std::int64_t micros(time_point t) { return t.time_since_epoch().count(); }
time_point from_micros(std::int64_t v) { return time_point(std::chrono::microseconds(v)); }

std::string scopes_text(const std::vector<std::string>& v) { return nlohmann::json(v).dump(); }
std::vector<std::string> scopes_from(const char* text) {
  if (!text) return {};
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

principal_kind principal_kind_from(std::string_view s) {
  return s == "plugin" ? principal_kind::plugin : principal_kind::service;
}

holder_kind kind_from(std::string_view s) {
  if (s == "group") return holder_kind::group;
  if (s == "service") return holder_kind::service;
  return holder_kind::user;
}

struct binder {
  sqlite3_stmt* s;
  int i = 1;
  void operator()(std::int64_t v) { sqlite3_bind_int64(s, i++, v); }
  void operator()(bool v) { sqlite3_bind_int(s, i++, v ? 1 : 0); }
  void operator()(const std::string& v) { sqlite3_bind_text(s, i++, v.data(), static_cast<int>(v.size()), SQLITE_STATIC); }
  void operator()(const std::optional<std::string>& v) { v ? (*this)(*v) : null(); }
  void operator()(const std::optional<std::int64_t>& v) { v ? (*this)(*v) : null(); }
  void operator()(time_point v) { (*this)(micros(v)); }
  void operator()(const opt_time& v) { v ? (*this)(*v) : null(); }
  void operator()(const std::vector<std::string>& v) {
    const auto t = scopes_text(v);
    sqlite3_bind_text(s, i++, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
  }
  void operator()(holder_kind k) { sqlite3_bind_text(s, i++, holder_kind_name(k), -1, SQLITE_STATIC); }
  void operator()(principal_kind k) { sqlite3_bind_text(s, i++, principal_kind_name(k), -1, SQLITE_STATIC); }
  template <class T>
  void operator()(blob<T> b) {
    if constexpr (std::is_same_v<std::remove_const_t<T>, std::string>)
      sqlite3_bind_blob(s, i++, b.v.data(), static_cast<int>(b.v.size()), SQLITE_STATIC);
    else if (b.v) (*this)(blob{*b.v});
    else null();
  }
  void null() { sqlite3_bind_null(s, i++); }
};

struct reader {
  sqlite3_stmt* s;
  int i = 0;
  bool is_null() const { return sqlite3_column_type(s, i) == SQLITE_NULL; }
  std::string text() {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s, i));
    return std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
  }
  void operator()(std::int64_t& v) { v = sqlite3_column_int64(s, i++); }
  void operator()(bool& v) { v = sqlite3_column_int(s, i++) != 0; }
  void operator()(std::string& v) { v = text(), ++i; }
  void operator()(std::optional<std::string>& v) { is_null() ? (v.reset(), ++i) : (v = text(), ++i); }
  void operator()(std::optional<std::int64_t>& v) { is_null() ? (v.reset(), ++i) : (v = sqlite3_column_int64(s, i), ++i); }
  void operator()(time_point& v) { v = from_micros(sqlite3_column_int64(s, i++)); }
  void operator()(opt_time& v) { is_null() ? (v.reset(), ++i) : (v = from_micros(sqlite3_column_int64(s, i)), ++i); }
  void operator()(std::vector<std::string>& v) { v = scopes_from(reinterpret_cast<const char*>(sqlite3_column_text(s, i++))); }
  void operator()(holder_kind& k) { k = kind_from(text()), ++i; }
  void operator()(principal_kind& k) { k = principal_kind_from(text()), ++i; }
  template <class T>
  void operator()(blob<T> b) { (*this)(b.v); }
};

template <class F>
struct apply_all {
  F f;
  template <class... A>
  void operator()(A&&... a) { (f(std::forward<A>(a)), ...); }
};

// ---- tables ----------------------------------------------------------------------------------

template <class Row>
struct table;

template <>
struct table<user_row> {
  static constexpr const char* name = "users";
  static constexpr const char* cols = "id,name,admin,created,last_activity,cookie_id,auth_state,user_info";
  static constexpr const char* key = "id";
  static auto of(auto& r) {
    return fields(r.id, r.name, r.admin, r.created, r.last_activity, r.cookie_id, blob{r.auth_state}, r.user_info);
  }
};
template <>
struct table<group_row> {
  static constexpr const char* name = "groups";
  static constexpr const char* cols = "id,name,properties";
  static constexpr const char* key = "id";
  static auto of(auto& r) { return fields(r.id, r.name, r.properties); }
};
template <>
struct table<membership_row> {
  static constexpr const char* name = "user_group_map";
  static constexpr const char* cols = "user_id,group_id,source";
  static constexpr const char* key = nullptr;  // every column is the key
  static auto of(auto& r) { return fields(r.user_id, r.group_id, r.from); }
};
template <>
struct table<role_row> {
  static constexpr const char* name = "roles";
  static constexpr const char* cols = "id,name,description,scopes,source,managed_by_auth";
  static constexpr const char* key = "id";
  static auto of(auto& r) { return fields(r.id, r.name, r.description, r.scopes, r.from, r.managed_by_auth); }
};
template <>
struct table<role_assignment_row> {
  static constexpr const char* name = "role_assignments";
  static constexpr const char* cols = "role_id,holder_kind,holder_id,source";
  static constexpr const char* key = nullptr;
  static auto of(auto& r) { return fields(r.role_id, r.kind, r.holder_id, r.from); }
};
template <>
struct table<service_row> {
  static constexpr const char* name = "services";
  static constexpr const char* cols =
      "id,name,admin,url,info,display,oauth_client_id,oauth_redirect_uri,oauth_allowed_scopes,oauth_no_confirm,"
      "from_config,created,last_activity,kind";
  static constexpr const char* key = "id";
  static auto of(auto& r) {
    return fields(r.id, r.name, r.admin, r.url, r.info, r.display, r.oauth_client_id, r.oauth_redirect_uri,
                  r.oauth_allowed_scopes, r.oauth_no_confirm, r.from_config, r.created, r.last_activity, r.kind);
  }
};
template <>
struct table<server_row> {
  static constexpr const char* name = "servers";
  static constexpr const char* cols = "id,user_id,name,display_name,url,started,last_activity,pending,state,user_options";
  static constexpr const char* key = "id";
  static auto of(auto& r) {
    return fields(r.id, r.user_id, r.name, r.display_name, r.url, r.started, r.last_activity, r.pending, r.state,
                  r.user_options);
  }
};
template <>
struct table<token_row> {
  static constexpr const char* name = "api_tokens";
  static constexpr const char* cols =
      "id,digest,prefix,user_id,service_id,scopes,created,expires_at,last_activity,note,session_id,client_id";
  static constexpr const char* key = "id";
  static auto of(auto& r) {
    return fields(r.id, blob{r.digest}, r.prefix, r.user_id, r.service_id, r.scopes, r.created, r.expires_at,
                  r.last_activity, r.note, r.session_id, r.client_id);
  }
};
template <>
struct table<oauth_client_row> {
  static constexpr const char* name = "oauth_clients";
  static constexpr const char* cols = "identifier,description,secret_digest,redirect_uri,allowed_scopes,created,owner";
  static constexpr const char* key = "identifier";
  static auto of(auto& r) {
    return fields(r.identifier, r.description, blob{r.secret_digest}, r.redirect_uri, r.allowed_scopes, r.created,
                  r.owner);
  }
};
template <>
struct table<oauth_code_row> {
  static constexpr const char* name = "oauth_codes";
  static constexpr const char* cols =
      "id,digest,client_id,user_id,scopes,redirect_uri,session_id,expires_at,code_challenge,code_challenge_method";
  static constexpr const char* key = "id";
  static auto of(auto& r) {
    return fields(r.id, blob{r.digest}, r.client_id, r.user_id, r.scopes, r.redirect_uri, r.session_id, r.expires_at,
                  r.code_challenge, r.code_challenge_method);
  }
};
template <>
struct table<session_row> {
  static constexpr const char* name = "sessions";
  static constexpr const char* cols = "id,user_id,created,last_activity";
  static constexpr const char* key = "id";
  static auto of(auto& r) { return fields(r.id, r.user_id, r.created, r.last_activity); }
};
template <>
struct table<share_row> {
  static constexpr const char* name = "shares";
  static constexpr const char* cols = "id,server_id,user_id,group_id,scopes,created";
  static constexpr const char* key = "id";
  static auto of(auto& r) { return fields(r.id, r.server_id, r.user_id, r.group_id, r.scopes, r.created); }
};
template <>
struct table<share_code_row> {
  static constexpr const char* name = "share_codes";
  static constexpr const char* cols = "id,server_id,digest,scopes,created,expires_at,exchange_count,last_exchanged_at";
  static constexpr const char* key = "id";
  static auto of(auto& r) {
    return fields(r.id, r.server_id, blob{r.digest}, r.scopes, r.created, r.expires_at, r.exchange_count,
                  r.last_exchanged_at);
  }
};

std::vector<std::string> split_cols(const char* cols) {
  std::vector<std::string> out;
  std::string cur;
  for (const char* p = cols; *p; ++p) {
    if (*p == ',') out.push_back(cur), cur.clear();
    else cur += *p;
  }
  out.push_back(cur);
  return out;
}

template <class Row>
std::string upsert_sql() {
  using T = table<Row>;
  const auto cols = split_cols(T::cols);
  std::string sql = std::string("INSERT ") + (T::key ? "" : "OR IGNORE ") + "INTO " + T::name + "(" + T::cols + ") VALUES(";
  for (std::size_t i = 0; i < cols.size(); ++i) sql += i ? ",?" : "?";
  sql += ")";
  if (T::key) {
    sql += std::string(" ON CONFLICT(") + T::key + ") DO UPDATE SET ";
    bool first = true;
    for (const auto& c : cols) {
      if (c == T::key) continue;
      sql += (first ? "" : ",") + c + "=excluded." + c;
      first = false;
    }
  }
  return sql;
}

// Erase statements, indexed like the change variant. Upserts use upsert_sql<Row>().
struct erase_sql_visitor {
    const char* operator()(const erase_user&) { return "DELETE FROM users WHERE id=?"; }
    const char* operator()(const erase_group&) { return "DELETE FROM groups WHERE id=?"; }
    const char* operator()(const erase_membership&) {
      return "DELETE FROM user_group_map WHERE user_id=? AND group_id=? AND source=?";
    }
    const char* operator()(const erase_role&) { return "DELETE FROM roles WHERE id=?"; }
    const char* operator()(const erase_role_assignment&) {
      return "DELETE FROM role_assignments WHERE role_id=? AND holder_kind=? AND holder_id=? AND source=?";
    }
    const char* operator()(const erase_service&) { return "DELETE FROM services WHERE id=?"; }
    const char* operator()(const erase_server&) { return "DELETE FROM servers WHERE id=?"; }
    const char* operator()(const erase_token&) { return "DELETE FROM api_tokens WHERE id=?"; }
    const char* operator()(const erase_oauth_client&) { return "DELETE FROM oauth_clients WHERE identifier=?"; }
    const char* operator()(const erase_oauth_code&) { return "DELETE FROM oauth_codes WHERE id=?"; }
    const char* operator()(const erase_session&) { return "DELETE FROM sessions WHERE id=?"; }
    const char* operator()(const erase_share&) { return "DELETE FROM shares WHERE id=?"; }
    const char* operator()(const erase_share_code&) { return "DELETE FROM share_codes WHERE id=?"; }
    const char* operator()(const erase_assignments_of&) {
      return "DELETE FROM role_assignments WHERE holder_kind=? AND holder_id=?";
    }
    const char* operator()(const auto&) { return nullptr; }
};
const char* erase_sql(const change& c) { return std::visit(erase_sql_visitor{}, c); }

void bind_erase(sqlite3_stmt* s, const change& c) {
  binder b{s};
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, erase_membership>) std::apply(apply_all<binder&>{b}, table<membership_row>::of(e.key));
        else if constexpr (std::is_same_v<E, erase_role_assignment>) std::apply(apply_all<binder&>{b}, table<role_assignment_row>::of(e.key));
        else if constexpr (std::is_same_v<E, erase_oauth_client>) b(e.identifier);
        else if constexpr (std::is_same_v<E, erase_session>) b(e.id);
        else if constexpr (std::is_same_v<E, erase_assignments_of>) b(e.kind), b(e.holder_id);
        else if constexpr (requires { e.id; }) b(e.id);
      },
      c);
}

std::string now_stamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d-%H%M%S", &tm);
  return buf;
}

}  // namespace

const char* principal_kind_name(principal_kind k) { return k == principal_kind::plugin ? "plugin" : "service"; }

const char* holder_kind_name(holder_kind k) {
  switch (k) {
    case holder_kind::group: return "group";
    case holder_kind::service: return "service";
    default: return "user";
  }
}

const char* errc_name(errc c) {
  switch (c) {
    case errc::invalid: return "invalid";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::io: return "io";
    case errc::disk_full: return "disk_full";
    case errc::read_only: return "read_only";
    case errc::not_a_database: return "not_a_database";
    case errc::needs_upgrade: return "needs_upgrade";
    case errc::too_new: return "too_new";
    case errc::crypto: return "crypto";
    case errc::closed: return "closed";
  }
  return "unknown";
}

// Prepared statements, one per SQL text, kept for the life of the connection.
struct sqlite_store::statements {
  sqlite3* db;
  std::vector<std::pair<std::string, sqlite3_stmt*>> cache;
  ~statements() {
    for (auto& [sql, s] : cache) sqlite3_finalize(s);
  }
  int get(const std::string& sql, sqlite3_stmt** out) {
    for (auto& [k, s] : cache)
      if (k == sql) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        *out = s;
        return SQLITE_OK;
      }
    const int rc = sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, out, nullptr);
    if (rc == SQLITE_OK) cache.emplace_back(sql, *out);
    return rc;
  }
};

sqlite_store::sqlite_store(std::filesystem::path file, sqlite3* db)
    : file_(std::move(file)), db_(db), stmts_(std::make_unique<statements>(statements{db, {}})) {}

sqlite_store::~sqlite_store() {
  stmts_.reset();
  if (db_) sqlite3_close_v2(db_);
}

std::string sqlite_store::describe() const { return "sqlite:///" + file_.string(); }

status sqlite_store::exec(const std::string& sql) {
  char* msg = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg);
  if (msg) sqlite3_free(msg);
  if (rc != SQLITE_OK) return sql_error(db_, rc, file_, "executing SQL");
  return {};
}

result<std::unique_ptr<sqlite_store>> sqlite_store::open_raw(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    auto e = sql_error(db, rc, file, "cannot open the database");
    sqlite3_close_v2(db);
    return e;
  }
  sqlite3_extended_result_codes(db, 1);
  std::unique_ptr<sqlite_store> s(new sqlite_store(file, db));
  // The first read tells a non-SQLite file apart before anything is written to it.
  if (auto st = s->read_version(); !st) return st.err();
  for (const char* pragma : {"PRAGMA busy_timeout=5000", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON"}) {
    if (auto st = s->exec(pragma); !st) return st.err();
  }
  // journal_mode=WAL silently stays "delete" when the folder cannot hold the -wal file.
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, nullptr);
  std::string mode = sqlite3_step(q) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(q, 0)) : "";
  sqlite3_finalize(q);
  if (mode != "wal")
    return make_error(errc::read_only, file.string() + ": cannot switch to WAL journal (journal_mode is '" + mode +
                                           "'); is the folder writable?");
  return s;
}

status sqlite_store::read_version() {
  sqlite3_stmt* q = nullptr;
  int rc = sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &q, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    version_ = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return {};
  }
  auto e = sql_error(db_, rc, file_, "cannot read the schema version");
  sqlite3_finalize(q);
  return e;
}

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const std::filesystem::path& file, open_mode mode) {
  auto opened = open_raw(file);
  if (!opened) return opened.err();
  auto s = std::move(opened.value());
  const int latest = latest_schema_version();
  if (s->version_ > latest)
    return make_error(errc::too_new, file.string() + ": the database has schema version " +
                                         std::to_string(s->version_) + ", newer than this hubd knows (" +
                                         std::to_string(latest) + "); run a newer hubd, or restore a backup");
  if (s->version_ == 0) {
    // A brand-new (or empty) file. Refuse a file that holds tables of someone else's schema.
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(s->db_, "SELECT count(*) FROM sqlite_master", -1, &q, nullptr);
    const int tables = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
    sqlite3_finalize(q);
    if (tables != 0)
      return make_error(errc::not_a_database, file.string() +
                                                  ": has tables but no hubd schema version (a JupyterHub database, "
                                                  "or another program's?); hubd will not touch it");
    if (auto st = s->migrate(latest); !st) return st.err();
    spdlog::info("store: created {} at schema version {}", file.string(), latest);
    return s;
  }
  if (s->version_ < latest && mode == open_mode::serve)
    return make_error(errc::needs_upgrade, file.string() + ": the database has schema version " +
                                               std::to_string(s->version_) + " and this hubd needs " +
                                               std::to_string(latest) + "; run `hubd upgrade-db` (it backs up the "
                                               "file first)");
  spdlog::info("store: opened {} at schema version {}", file.string(), s->version_);
  return s;
}

result<std::unique_ptr<sqlite_store>> sqlite_store::create_at_version(const std::filesystem::path& file, int version) {
  auto opened = open_raw(file);
  if (!opened) return opened.err();
  if (auto st = opened.value()->migrate(version); !st) return st.err();
  return opened;
}

status sqlite_store::migrate() { return migrate(latest_schema_version()); }

status sqlite_store::migrate(int target) {
  for (const auto& m : migrations()) {
    if (m.version <= version_ || m.version > target) continue;
    const std::string sql = std::string("BEGIN IMMEDIATE;") + m.sql + "PRAGMA user_version=" +
                            std::to_string(m.version) + ";COMMIT;";
    if (auto st = exec(sql); !st) {
      exec("ROLLBACK");
      return make_error(st.err().code, st.err().message + " (migration " + std::to_string(m.version) + ": " +
                                           m.description + ")");
    }
    spdlog::info("store: migrated {} to schema version {}: {}", file_.string(), m.version, m.description);
    version_ = m.version;
  }
  return {};
}

result<std::filesystem::path> sqlite_store::backup() {
  std::filesystem::path target = file_.string() + "." + now_stamp();
  for (int i = 1; std::filesystem::exists(target); ++i) target = file_.string() + "." + now_stamp() + "." + std::to_string(i);
  sqlite3* dst = nullptr;
  int rc = sqlite3_open_v2(target.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_backup* b = sqlite3_backup_init(dst, "main", db_, "main");
    if (!b) rc = sqlite3_errcode(dst);
    else {
      rc = sqlite3_backup_step(b, -1);
      sqlite3_backup_finish(b);
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
  }
  if (rc != SQLITE_OK) {
    auto e = sql_error(dst, rc, target, "cannot write the backup");
    sqlite3_close_v2(dst);
    std::filesystem::remove(target);
    return e;
  }
  sqlite3_close_v2(dst);
  spdlog::info("store: backed up {} to {}", file_.string(), target.string());
  return target;
}

status sqlite_store::integrity_check() {
  sqlite3_stmt* q = nullptr;
  int rc = sqlite3_prepare_v2(db_, "PRAGMA integrity_check", -1, &q, nullptr);
  if (rc != SQLITE_OK) return sql_error(db_, rc, file_, "integrity check");
  std::string answer;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (!answer.empty()) answer += "; ";
    answer += reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return sql_error(db_, rc, file_, "integrity check");
  if (answer != "ok") return make_error(errc::not_a_database, file_.string() + ": integrity check failed: " + answer);
  return {};
}

namespace {
template <class Row>
status load_table(sqlite3* db, const std::filesystem::path& file, std::vector<Row>& out) {
  const std::string sql = std::string("SELECT ") + table<Row>::cols + " FROM " + table<Row>::name;
  sqlite3_stmt* q = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr);
  if (rc != SQLITE_OK) return sql_error(db, rc, file, std::string("loading ") + table<Row>::name);
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    Row r;
    reader rd{q};
    std::apply(apply_all<reader&>{rd}, table<Row>::of(r));
    out.push_back(std::move(r));
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return sql_error(db, rc, file, std::string("loading ") + table<Row>::name);
  return {};
}
}  // namespace

result<snapshot> sqlite_store::load() {
  snapshot s;
  if (auto st = exec("BEGIN"); !st) return st.err();  // one consistent read
  status st;
  for (auto step : {+[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.users); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.groups); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.memberships); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.roles); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.role_assignments); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.services); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.servers); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.tokens); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.oauth_clients); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.oauth_codes); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.sessions); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.shares); },
                    +[](sqlite3* d, const std::filesystem::path& f, snapshot& s) { return load_table(d, f, s.share_codes); }}) {
    st = step(db_, file_, s);
    if (!st) break;
  }
  exec("COMMIT");
  if (!st) return st.err();
  return s;
}

status sqlite_store::commit(std::span<const change> changes) {
  if (changes.empty()) return {};
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st.err();
  for (const auto& c : changes) {
    sqlite3_stmt* s = nullptr;
    int rc = SQLITE_OK;
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (requires { table<V>::name; }) {
            static const std::string sql = upsert_sql<V>();
            rc = stmts_->get(sql, &s);
            if (rc != SQLITE_OK) return;
            binder b{s};
            std::apply(apply_all<binder&>{b}, table<V>::of(v));
          } else {
            rc = stmts_->get(erase_sql(c), &s);
            if (rc != SQLITE_OK) return;
            bind_erase(s, c);
          }
          rc = sqlite3_step(s);
          if (rc == SQLITE_DONE) rc = SQLITE_OK;
        },
        c);
    if (s) sqlite3_reset(s);
    if (rc != SQLITE_OK) {
      auto e = sql_error(db_, rc, file_, "cannot write a change");
      exec("ROLLBACK");
      return e;
    }
  }
  const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    auto e = sql_error(db_, rc, file_, "cannot commit");
    if (!sqlite3_get_autocommit(db_)) exec("ROLLBACK");
    return e;
  }
  return {};
}

}  // namespace hubd::core::store
