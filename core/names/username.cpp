#include "core/names/username.hpp"

#include <utf8proc.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace hubd::core::names {
namespace {

std::string code_point(utf8proc_int32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

username_result refuse(std::string why) { return {{}, "username " + std::move(why)}; }

// Unicode's White_Space property, which utf8proc has no table for: the space separators, the line
// and paragraph separators and the whitespace controls.
bool is_space(utf8proc_int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP: return true;
    default: return (cp >= 0x09 && cp <= 0x0D) || cp == 0x85;
  }
}

// Why one code point cannot be part of a name, or "" when it can.
std::string refusal(utf8proc_int32_t cp) {
  if (cp == '/') return "must not contain '/' (it would be a path in the server's URL)";
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CC: return "must not contain control characters (" + code_point(cp) + ")";
    // Zero-width spaces and joiners, the byte order mark, soft hyphens and the bidirectional
    // controls: invisible, so two names that look the same would be two accounts.
    case UTF8PROC_CATEGORY_CF: return "must not contain invisible formatting characters (" + code_point(cp) + ")";
    case UTF8PROC_CATEGORY_ZS:
      if (cp == ' ') return "";
      return "must not contain spaces other than U+0020 (" + code_point(cp) + ")";
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP: return "must not contain line or paragraph separators (" + code_point(cp) + ")";
    // Unassigned here may be assigned, with a case folding, in a later Unicode version: the
    // stored name would then no longer be in normal form.
    case UTF8PROC_CATEGORY_CN: return "must not contain unassigned or non-character code points (" + code_point(cp) + ")";
    default: return "";
  }
}

}  // namespace

username_result normalize_username(std::string_view raw, case_rule cases) {
  if (raw.empty()) return refuse("must not be empty");
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(raw.data());
  const auto size = static_cast<utf8proc_ssize_t>(raw.size());
  utf8proc_int32_t first = -1, last = -1;
  for (utf8proc_ssize_t at = 0; at < size;) {
    utf8proc_int32_t cp = -1;
    const auto n = utf8proc_iterate(bytes + at, size - at, &cp);
    if (n <= 0 || cp < 0) return refuse("is not valid UTF-8 (at byte " + std::to_string(at) + ")");
    if (first < 0) first = cp;
    last = cp;
    at += n;
  }
  // Before the per-character refusals, so a name padded with a no-break space is told it is padded.
  if (is_space(first) || is_space(last)) return refuse("must not start or end with whitespace");
  for (utf8proc_ssize_t at = 0; at < size;) {
    utf8proc_int32_t cp = -1;
    at += utf8proc_iterate(bytes + at, size - at, &cp);
    if (auto why = refusal(cp); !why.empty()) return refuse(std::move(why));
  }
  // Canonical composition (NFC, no compatibility mappings) of the fully case-folded text: the
  // folding happens on the decomposed form, so the result is composed and caseless in one pass.
  utf8proc_uint8_t* mapped = nullptr;
  int options = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
  if (cases == case_rule::fold) options |= UTF8PROC_CASEFOLD;
  const auto len = utf8proc_map(bytes, size, &mapped, static_cast<utf8proc_option_t>(options));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(mapped, &std::free);
  if (len < 0) return refuse(std::string("cannot be normalised: ") + utf8proc_errmsg(len));
  std::string name(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(len));
  // "." and ".." would make the server's URL /user/../ climb out of its own path.
  if (name == "." || name == "..") return refuse("must not be \".\" or \"..\"");
  return {std::move(name), {}};
}

bool is_normalized(std::string_view name, case_rule cases) {
  auto r = normalize_username(name, cases);
  return r.ok() && r.name == name;
}

}  // namespace hubd::core::names
