#pragma once
// Byte encodings the OAuth flow needs: base64url (JOSE, PKCE, the state cookie), base64 (HTTP Basic),
// percent-encoding (query strings and form bodies).
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace generic_oauth {

std::string base64url_encode(std::string_view bytes);
// Accepts unpadded and padded input; nullopt for any character outside the alphabet.
std::optional<std::string> base64url_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

// RFC 3986 unreserved characters stay, everything else becomes %XX (so it is also a valid form value).
std::string percent_encode(std::string_view s);
// '+' is a space (form encoding); nullopt for a broken %XX.
std::optional<std::string> percent_decode(std::string_view s);
// a=1&b=2 into a map; the first value of a repeated name wins; broken pairs are skipped.
std::map<std::string, std::string> parse_query(std::string_view query);
// name=value&... from pairs, each part percent-encoded.
std::string form_encode(const std::map<std::string, std::string>& fields);

}  // namespace generic_oauth
