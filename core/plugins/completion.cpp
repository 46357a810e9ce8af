#include "core/plugins/detail/completion.hpp"

namespace hubd::core::plugins {

using nlohmann::json;

std::string_view to_string(op_status s) {
  switch (s) {
    case op_status::ok: return "ok";
    case op_status::denied: return "denied";
    case op_status::failed: return "failed";
    case op_status::cancelled: return "cancelled";
    case op_status::timeout: return "timeout";
    case op_status::misbehaving: return "misbehaving";
  }
  return "unknown";
}

int op_result::http_status() const {
  if (value.is_object() && value.contains("status_code") && value["status_code"].is_number_integer()) {
    auto code = value["status_code"].get<std::int64_t>();
    if (code >= 400 && code <= 599) return static_cast<int>(code);
  }
  switch (status) {
    case op_status::ok: return 200;
    case op_status::denied: return 403;
    case op_status::timeout: return 504;
    default: return 500;
  }
}

std::string op_result::user_message() const {
  if (value.is_object() && value.contains("message") && value["message"].is_string())
    return value["message"].get<std::string>();
  switch (status) {
    case op_status::denied: return "Forbidden";
    case op_status::timeout: return "The plugin did not answer in time";
    default: return "Internal plugin error";
  }
}

namespace detail {

namespace {
op_status to_op_status(hubd_status s) {
  switch (s) {
    case HUBD_OK: return op_status::ok;
    case HUBD_DENIED: return op_status::denied;
    case HUBD_FAILED: return op_status::failed;
    case HUBD_CANCELLED: return op_status::cancelled;
    default: return op_status::misbehaving;
  }
}
}  // namespace

std::string parse_plugin_json(std::string_view text, json& out) {
  if (text.size() > max_plugin_json) return "larger than " + std::to_string(max_plugin_json) + " bytes";
  if (text.empty()) {
    out = nullptr;
    return {};
  }
  try {
    out = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
    out = nullptr;
    return e.what();
  }
  return {};
}

op_result read_completion(hubd_status status, std::string_view text, const result_validator& validate,
                          std::string_view plugin_name, std::string_view op_name) {
  op_result r;
  r.status = to_op_status(status);
  std::string who = "plugin '" + std::string(plugin_name) + "' ";
  if (r.status == op_status::misbehaving) {
    r.message = who + "completed " + std::string(op_name) + " with unknown status " + std::to_string(status);
  } else if (auto err = parse_plugin_json(text, r.value); !err.empty()) {
    r.status = op_status::misbehaving;
    r.value = nullptr;
    r.message = who + "returned malformed JSON from " + std::string(op_name) + ": " + err;
  } else if (r.status == op_status::ok && validate) {
    if (auto bad = validate(r.value); !bad.empty()) {
      r.status = op_status::misbehaving;
      r.message = who + "returned an invalid result from " + std::string(op_name) + ": " + bad;
    }
  } else if (r.status != op_status::ok) {
    r.message = who + std::string(to_string(r.status)) + " " + std::string(op_name);
    if (r.value.is_object() && r.value.contains("message") && r.value["message"].is_string())
      r.message += ": " + r.value["message"].get<std::string>();
  }
  return r;
}

std::string expect_bool(const json& v) { return v.is_boolean() ? "" : "expected true or false, got " + v.dump(); }

std::string expect_object_or_null(const json& v) {
  return v.is_object() || v.is_null() ? "" : "expected a JSON object, got " + v.dump();
}

std::string check_auth_model(const json& v) {
  if (v.is_string()) return v.get<std::string>().empty() ? "empty user name" : "";
  if (!v.is_object()) return "expected an auth model object, got " + v.dump();
  if (!v.contains("name") || !v["name"].is_string() || v["name"].get<std::string>().empty())
    return "the auth model has no non-empty string \"name\"";
  if (v.contains("admin") && !v["admin"].is_boolean() && !v["admin"].is_null()) return "\"admin\" must be a boolean";
  if (v.contains("groups") && !v["groups"].is_array() && !v["groups"].is_null()) return "\"groups\" must be a list";
  return "";
}

std::string check_start(const json& v) {
  if (v.is_string() && !v.get<std::string>().empty()) return "";
  if (v.is_object() && v.contains("url") && v["url"].is_string() && !v["url"].get<std::string>().empty()) return "";
  return "expected {\"url\": \"http://...\"}";
}

std::string check_poll(const json& v) {
  if (v.is_object() && v.contains("running") && v["running"].is_boolean()) return "";
  if (v.is_object() && v.contains("exit_status") && (v["exit_status"].is_number_integer() || v["exit_status"].is_null()))
    return "";
  return "expected {\"running\": true} or {\"exit_status\": n}";
}

}  // namespace detail
}  // namespace hubd::core::plugins
