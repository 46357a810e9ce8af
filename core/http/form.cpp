#include "core/http/form.hpp"

#include "core/http/url_codec.hpp"

namespace hubd::core::http {

std::optional<query_map> parse_form(std::string_view body) {
  query_map out;
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key, value;
    if (!percent_decode(pair.substr(0, eq), key, true)) return std::nullopt;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value, true)) return std::nullopt;
    if (!is_clean_text(key) || !is_clean_text(value)) return std::nullopt;
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

bool is_form_content_type(const request& req) {
  auto ct = req.header("content-type");
  if (!ct) return false;
  std::string_view v = *ct;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return iequals(v, "application/x-www-form-urlencoded");
}

}  // namespace hubd::core::http
