#pragma once
// The embedded SQLite backend. WAL journal with synchronous=FULL: a commit returns only after its
// WAL frames are fsync'ed, so a change acknowledged after commit() survives kill -9 and power loss;
// the single writer (batch_writer) turns that one fsync into many acknowledged changes.
#include "core/store/store.hpp"

#include <filesystem>
#include <memory>
#include <string>

struct sqlite3;

namespace hubd::core::store {

enum class open_mode {
  serve,    // create a missing/empty file at the latest version; refuse older or newer schemas
  upgrade,  // open any schema not newer than this hubd's, without migrating (upgrade-db, rotate-keys)
};

class sqlite_store final : public store {
public:
  static result<std::unique_ptr<sqlite_store>> open(const std::filesystem::path& file,
                                                     open_mode mode = open_mode::serve);
  // For tests of migrations: a new file with only migrations 1..version applied.
  static result<std::unique_ptr<sqlite_store>> create_at_version(const std::filesystem::path& file, int version);
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  int schema_version() const { return version_; }
  // Apply migrations up to `target` (forward only), each in its own transaction.
  status migrate(int target);
  status migrate();
  // A consistent copy next to the file: "<file>.<YYYY-mm-dd-HHMMSS>" (".N" appended if taken).
  result<std::filesystem::path> backup();
  // PRAGMA integrity_check; ok when SQLite answers "ok".
  status integrity_check();
  // Run one SQL statement (tests, tools). Not for the model: it goes through commit().
  status exec(const std::string& sql);

  result<snapshot> load() override;
  status commit(std::span<const change> changes) override;
  std::string describe() const override;
  const std::filesystem::path& file() const { return file_; }
  sqlite3* handle() { return db_; }

  struct statements;

private:
  sqlite_store(std::filesystem::path file, sqlite3* db);
  static result<std::unique_ptr<sqlite_store>> open_raw(const std::filesystem::path& file);
  status read_version();

  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  int version_ = 0;
  std::unique_ptr<statements> stmts_;
};

}  // namespace hubd::core::store
