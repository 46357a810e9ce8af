#pragma once
// Numbered, forward-only schema migrations. The schema version lives in `PRAGMA user_version`.
// A migration is never edited once released: a change to the schema is a new entry at the end.
#include <span>

namespace hubd::core::store {

struct migration {
  int version;              // the schema version after it ran
  const char* description;  // for logs and `hubd upgrade-db`
  const char* sql;          // one or more statements, run in one transaction
};

std::span<const migration> migrations();
int latest_schema_version();

}  // namespace hubd::core::store
