// hubd plugin SDK for C++ plugin authors: header-only helpers over the C ABI (plugin.h).
// Optional: a plugin may use the C ABI directly. Nothing here crosses the boundary; it only keeps C++
// exceptions from unwinding into hubd (barriers), and wraps completions and the internal API.
#pragma once

#include "hubd/plugin.h"

#include <cstdio>
#include <exception>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace hubd::sdk {

inline hubd_str str(std::string_view s) noexcept { return hubd_str{s.data(), s.size()}; }
inline std::string_view view(hubd_str s) noexcept {
  return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view();
}

// Write a whole string into a host sink (the sink may be NULL: nothing happens).
inline void write(hubd_sink* sink, std::string_view s) noexcept {
  if (sink && sink->write) sink->write(sink->ctx, str(s));
}

// A plugin-side sink collecting what a host function writes (e.g. host->get_config).
class string_sink {
public:
  hubd_sink* get() noexcept { return &sink_; }
  const std::string& str() const noexcept { return out_; }

private:
  static void on_write(void* ctx, hubd_str piece) noexcept {
    try {
      static_cast<std::string*>(ctx)->append(view(piece));
    } catch (...) {
    }
  }
  std::string out_;
  hubd_sink sink_{&out_, &string_sink::on_write};
};

// JSON string literal for s (quotes included); enough for messages without a JSON library.
inline std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// A failure body as JupyterHub's HTTPError/SpawnException: {"status_code": N, "message": "..."}.
inline std::string error_json(int status_code, std::string_view message) {
  return "{\"status_code\":" + std::to_string(status_code) + ",\"message\":" + json_quote(message) + "}";
}

inline hubd_status complete(const hubd_host* host, hubd_op* op, hubd_status status, std::string_view json) noexcept {
  return host->complete(op, status, str(json));
}
inline hubd_status fail(const hubd_host* host, hubd_op* op, int status_code, std::string_view message) noexcept {
  try {
    return complete(host, op, HUBD_FAILED, error_json(status_code, message));
  } catch (...) {
    return complete(host, op, HUBD_FAILED, "{}");
  }
}

inline void log(const hubd_host* host, hubd_host_obj* obj, int32_t level, std::string_view msg) noexcept {
  if (host && host->log) host->log(obj, level, str(msg));
}

// Barrier for an op export: runs f(); an escaping exception completes the op as HUBD_FAILED (fail
// closed). If f already completed the op before throwing, hubd detects and logs the second completion.
template <class F>
void op_barrier(const hubd_host* host, hubd_op* op, F&& f) noexcept {
  try {
    std::forward<F>(f)();
  } catch (const std::exception& e) {
    fail(host, op, 500, std::string("plugin error: ") + e.what());
  } catch (...) {
    fail(host, op, 500, "plugin error: unknown exception");
  }
}

// Barrier for any other export: returns f()'s value, or fallback when f throws.
template <class R, class F>
R barrier(R fallback, F&& f) noexcept {
  try {
    return std::forward<F>(f)();
  } catch (...) {
    return fallback;
  }
}

// The internal API ("hubd.host.api/1") from C++.
struct api_response {
  int32_t status_code = 0;
  std::string body;  // JSON
};

// Starts a request; on_done(api_response) runs later, [brief], on hubd's completion thread. Returns the
// synchronous status (anything but HUBD_OK means on_done is never called).
template <class F>
hubd_status call_async(const hubd_host* host, hubd_host_obj* obj, std::string_view method, std::string_view path,
                       std::string_view body, F on_done) {
  auto api = static_cast<const hubd_host_api*>(host->get_extension(host, HUBD_EXT_HOST_API));
  if (!api || !HUBD_HAS(api, hubd_host_api, request) || !api->request) return HUBD_ERR_UNSUPPORTED;
  auto holder = std::make_unique<F>(std::move(on_done));
  hubd_api_callback cb = [](void* ud, int32_t status, hubd_str json) {
    std::unique_ptr<F> fn(static_cast<F*>(ud));
    try {
      (*fn)(api_response{status, std::string(view(json))});
    } catch (...) {
    }
  };
  hubd_status st = api->request(obj, str(method), str(path), str(body), cb, holder.get());
  if (st == HUBD_OK) holder.release();  // the callback owns it now
  return st;
}

// Blocks the calling [pool] thread until the internal API answers. Safe inside a hook: the internal
// API never needs the plugin pool, so this cannot deadlock (JupyterHub's hub does). Never call it from
// a [brief] callback. A synchronous refusal is reported as status 500 with a JSON message.
inline api_response call_sync(const hubd_host* host, hubd_host_obj* obj, std::string_view method,
                              std::string_view path, std::string_view body = {}) {
  auto promise = std::make_shared<std::promise<api_response>>();
  auto future = promise->get_future();
  hubd_status st = call_async(host, obj, method, path, body,
                              [promise](api_response r) { promise->set_value(std::move(r)); });
  if (st != HUBD_OK) {
    return api_response{500, "{\"status\":500,\"message\":\"internal API refused the request (hubd_status " +
                                 std::to_string(st) + ")\"}"};
  }
  return future.get();
}

}  // namespace hubd::sdk
