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

// fold: full case folding (the rule). keep: NFC and the refusals only, for a name an authority
// that tells case apart has already chosen (a PAM account's own name: Alice and alice may be two
// people there, and folding would give one of them the other's hub user).
enum class case_rule { fold, keep };

username_result normalize_username(std::string_view raw, case_rule cases = case_rule::fold);

// True when `name` is a valid name already in normal form (what the rule gives back unchanged).
bool is_normalized(std::string_view name, case_rule cases = case_rule::fold);

}  // namespace hubd::core::names
