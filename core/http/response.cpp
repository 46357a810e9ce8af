#include "core/http/response.hpp"

#include "core/http/request.hpp"
#include "core/http/url_codec.hpp"

#include <nlohmann/json.hpp>

namespace hubd::core::http {

void response::set_header(std::string_view name, std::string_view value) {
  for (auto& [k, v] : headers) {
    if (iequals(k, name)) {
      v.assign(value);
      return;
    }
  }
  headers.emplace_back(std::string(name), std::string(value));
}

void response::add_header(std::string_view name, std::string_view value) {
  headers.emplace_back(std::string(name), std::string(value));
}

std::optional<std::string_view> response::header(std::string_view name) const { return find_header(headers, name); }

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

response json_text_response(int status, std::string body) {
  response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

response json_response(int status, const nlohmann::json& body) {
  // replace invalid UTF-8 instead of throwing: an answer must always go out
  return json_text_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

response error_response(int status, std::string_view message) {
  nlohmann::json j{{"status", status},
                   {"message", message.empty() ? std::string(reason_phrase(status)) : std::string(message)}};
  return json_response(status, j);
}

response redirect_response(std::string_view location, int status) {
  response r;
  r.status = status;
  r.headers.emplace_back("Location", std::string(location));
  r.headers.emplace_back("Content-Type", "text/plain");
  return r;
}

response empty_response(int status) {
  response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/plain");
  return r;
}

response html_response(int status, std::string body) {
  response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/html; charset=UTF-8");
  r.body = std::move(body);
  return r;
}

}  // namespace hubd::core::http
