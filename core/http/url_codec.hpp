#pragma once
// Percent-decoding and the text checks every decoded value from the wire goes through.
#include <string>
#include <string_view>

namespace hubd::core::http {

// Appends the decoded form of `in` to `out`. `plus_as_space` for query strings and form bodies.
// False on a malformed escape ("%4", "%zz").
bool percent_decode(std::string_view in, std::string& out, bool plus_as_space);

// Well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// What a decoded name or argument must be: valid UTF-8 without NUL.
inline bool is_clean_text(std::string_view s) {
  return s.find('\0') == std::string_view::npos && is_valid_utf8(s);
}

// Percent-encodes everything except RFC 3986 unreserved characters and those in `safe` (Python's
// urllib.parse.quote(in, safe=...)).
std::string percent_encode(std::string_view in, std::string_view safe = {});
// JupyterHub's url_escape_path: a user or server name in a URL path (/user/NAME/, redirect URIs).
// Keeps '@' and '~', so alice@example.com stays readable and matches what JupyterHub registers.
inline std::string url_escape_path(std::string_view name) { return percent_encode(name, "@~"); }

bool iequals(std::string_view a, std::string_view b);

}  // namespace hubd::core::http
