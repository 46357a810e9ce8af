#pragma once
// What a handler answers, and the helpers that build the usual shapes.
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hubd::core::http {

class body_stream;

struct response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set: the body is sent chunk by chunk as the stream produces it (core/http/body_stream.hpp), and
  // `body` is ignored. In-process callers get the whole body once the stream closes.
  std::shared_ptr<body_stream> stream;

  // Replaces any header of that name (case-insensitive).
  void set_header(std::string_view name, std::string_view value);
  // Appends, for headers that repeat (Set-Cookie).
  void add_header(std::string_view name, std::string_view value);
  std::optional<std::string_view> header(std::string_view name) const;
  bool has_header(std::string_view name) const { return header(name).has_value(); }
};

// "Not Found" for 404; "Unknown" for codes without a phrase.
std::string_view reason_phrase(int status);

response json_response(int status, const nlohmann::json& body);
// Pre-serialized JSON text (for callers that render JSON themselves).
response json_text_response(int status, std::string body);
// {"status": N, "message": "..."}; the message defaults to the reason phrase.
response error_response(int status, std::string_view message = {});
response redirect_response(std::string_view location, int status = 302);
// text/plain with an empty body, as JupyterHub answers some 201/202/204.
response empty_response(int status);
response html_response(int status, std::string body);

}  // namespace hubd::core::http
