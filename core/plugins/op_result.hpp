#pragma once
// The result of one plugin operation, after hubd copied and validated it.
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace hubd::core::plugins {

enum class op_status {
  ok,           // value holds the validated result
  denied,       // the plugin said no; value may hold {"message": ...}
  failed,       // the plugin reported an error; value holds its error body ({"status_code", "message"})
  cancelled,    // completed as cancelled (after a timeout or shutdown)
  timeout,      // never completed in time; a late completion will be dropped
  misbehaving,  // malformed JSON, wrong shape, unknown status: logged as plugin-misbehaving
};

std::string_view to_string(op_status s);

struct op_result {
  op_status status = op_status::failed;
  nlohmann::json value;  // null unless the plugin returned something
  std::string message;   // why, when status != ok (safe to log; never contains secrets from the plugin)

  bool ok() const { return status == op_status::ok; }
  // The HTTP status an error should become: the plugin's status_code when it gave one, else 403 for
  // denied, 500 for the rest (fail closed).
  int http_status() const;
  // The message a user may see (the plugin's "message" when it gave one).
  std::string user_message() const;
};

using op_callback = std::function<void(op_result)>;
using progress_callback = std::function<void(nlohmann::json event)>;

// Checks a result's shape for one op; returns an error message when it does not fit.
using result_validator = std::function<std::string(const nlohmann::json&)>;

}  // namespace hubd::core::plugins
