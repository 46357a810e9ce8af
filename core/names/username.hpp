#pragma once
// The one rule for user names: Unicode NFC with full case folding, so that names a person would
// read as the same (ÉLISE and élise, a precomposed and a decomposed é, Straße and STRASSE) are one
// account, and a refusal of what cannot be told apart or breaks a URL path: invalid UTF-8,
// control and invisible formatting characters (zero-width, bidirectional controls), any space but
// U+0020 and that one at either end, unassigned code points, '/', and the names "." and "..".
#include <string>
#include <string_view>

namespace hubd::core::names {

struct username_result {
  std::string name;   // the normalised name when ok()
  std::string error;  // why the name is refused, a sentence starting "username "
  bool ok() const { return error.empty(); }
};

username_result normalize_username(std::string_view raw);

// True when `name` is a valid name already in normal form (what the rule gives back unchanged).
bool is_normalized(std::string_view name);

}  // namespace hubd::core::names
