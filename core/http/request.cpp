#include "core/http/request.hpp"

#include "core/http/cookies.hpp"
#include "core/http/url_codec.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace hubd::core::http {

std::optional<std::string_view> find_header(const header_list& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string_view> request::header(std::string_view name) const { return find_header(headers, name); }

std::optional<std::string_view> request::cookie(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (!iequals(k, "cookie")) continue;
    if (auto value = find_cookie(v, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string_view> request::query_arg(std::string_view name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::vector<std::string_view> request::query_args(std::string_view name) const {
  std::vector<std::string_view> out;
  auto [lo, hi] = query.equal_range(name);
  for (auto it = lo; it != hi; ++it) out.emplace_back(it->second);
  return out;
}

std::string_view request::param(std::string_view name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string_view{} : std::string_view(it->second);
}

std::string_view request::host() const { return header("host").value_or(std::string_view{}); }

bool request::parse_target() {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    // absolute-form ("GET http://host/path HTTP/1.1") is legal towards a server too
    auto absolute = boost::urls::parse_absolute_uri(target);
    if (!absolute) return false;
    parsed = *absolute;
  }
  const boost::urls::url_view& u = *parsed;
  std::string_view raw_path = u.encoded_path();
  // assign from a view (not `path = "/"`): GCC 12 -O3 reports a false -Wrestrict on the literal
  path.assign(raw_path.empty() ? std::string_view("/") : raw_path);
  query_string = u.has_query() ? std::string(u.encoded_query()) : std::string();
  query.clear();
  if (!u.has_query()) return true;
  for (auto p : u.encoded_params()) {
    std::string key, value;
    // '+' means space in query strings (HTML forms); Boost.URL already checked the escapes.
    if (!percent_decode(p.key, key, true) || !percent_decode(p.value, value, true)) return false;
    if (!is_clean_text(key) || !is_clean_text(value)) return false;
    query.emplace(std::move(key), std::move(value));
  }
  return true;
}

}  // namespace hubd::core::http
