#pragma once
// Error values for the store and the model: mutations and I/O report failures as values (never
// exceptions), each naming what was wrong, so io threads can turn them into JSON errors directly.
#include <string>
#include <utility>
#include <variant>

namespace hubd::core::store {

enum class errc {
  invalid,        // bad input (a name that breaks a rule, a malformed value) -> HTTP 400
  not_found,      // the named entity does not exist -> HTTP 404
  conflict,       // unique name taken, entity already exists -> HTTP 409
  io,             // the database could not be read or written
  disk_full,      // SQLITE_FULL or a file size limit
  read_only,      // the file or its folder cannot be written
  not_a_database, // the file is not SQLite or is corrupted
  needs_upgrade,  // schema older than this hubd: run `hubd upgrade-db`
  too_new,        // schema newer than this hubd knows
  crypto,         // missing key, wrong key, corrupted ciphertext
  closed,         // the writer is shut down or failed earlier
};

struct error {
  errc code;
  std::string message;
};

const char* errc_name(errc c);

template <class T>
class result {
public:
  result(T value) : v_(std::move(value)) {}
  result(error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const error& err() const { return std::get<1>(v_); }

private:
  std::variant<T, error> v_;
};

template <>
class result<void> {
public:
  result() = default;
  result(error e) : e_(std::move(e)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const error& err() const { return e_; }

private:
  error e_{errc::io, {}};
  bool ok_ = true;
};

using status = result<void>;

inline error make_error(errc c, std::string message) { return error{c, std::move(message)}; }

}  // namespace hubd::core::store
