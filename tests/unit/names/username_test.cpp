#include "core/names/username.hpp"

#include <catch2/catch.hpp>

#include <string>

using hubd::core::names::is_normalized;
using hubd::core::names::normalize_username;

namespace {

std::string norm(std::string_view raw) {
  auto r = normalize_username(raw);
  INFO("refused: " << r.error);
  REQUIRE(r.ok());
  return r.name;
}

std::string refused(std::string_view raw) {
  auto r = normalize_username(raw);
  INFO("accepted as: " << r.name);
  REQUIRE_FALSE(r.ok());
  CHECK(r.name.empty());
  CHECK(r.error.rfind("username ", 0) == 0);
  return r.error;
}

std::string utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

}  // namespace

TEST_CASE("names: ASCII names are lower-cased and otherwise kept") {
  CHECK(norm("alice") == "alice");
  CHECK(norm("CAROL") == "carol");
  CHECK(norm("Mixed.Case-Name_1@example.org") == "mixed.case-name_1@example.org");
  CHECK(norm("a b") == "a b");  // an inner U+0020 stays, as in JupyterHub
  CHECK(norm("...") == "...");
  CHECK(norm(".hidden") == ".hidden");
}

TEST_CASE("names: upper and lower case beyond ASCII are one name") {
  CHECK(norm("\u00c9LISE") == "\u00e9lise");  // ÉLISE
  CHECK(norm("\u00e9lise") == "\u00e9lise");
  CHECK(norm("\u0416\u0423\u041a") == "\u0436\u0443\u043a");  // Cyrillic ЖУК
}

TEST_CASE("names: NFC and NFD are one name, stored composed") {
  const std::string nfc = "ren\u00e9";
  const std::string nfd = "rene\u0301";
  CHECK(norm(nfd) == nfc);
  CHECK(norm(nfc) == nfc);
  CHECK(norm("RENE\u0301") == nfc);
  // Several combining marks in a non-canonical order end in canonical order: ậ two ways.
  CHECK(norm("a\u0302\u0323") == norm("a\u0323\u0302"));
  // A Hangul syllable from its jamo.
  CHECK(norm("\u1100\u1161") == "\uac00");
  // A combining mark that has no precomposed form stays, after its base.
  CHECK(norm("x\u0301") == "x\u0301");
}

TEST_CASE("names: full case folding, not lower-casing") {
  CHECK(norm("Stra\u00dfe") == "strasse");     // ß folds to ss, unlike Python's str.lower()
  CHECK(norm("STRASSE") == "strasse");
  CHECK(norm("\u1e9e") == "ss");               // capital sharp s
  CHECK(norm("\ufb01le") == "file");           // the fi ligature folds (a case folding, not NFKC)
  // Greek sigma: capital, medial and final are one letter.
  CHECK(norm("\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3") == "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c3");
  CHECK(norm("\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c2") == "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c3");
  CHECK(norm("\u2126") == "\u03c9");  // the ohm sign is omega (canonically equivalent)
  CHECK(norm("\u212a") == "k");       // the kelvin sign is k
}

TEST_CASE("names: Turkish dotted and dotless i follow the default (not Turkic) folding") {
  CHECK(norm("\u0130") == "i\u0307");  // İ: i with a combining dot above, not plain i
  CHECK(norm("\u0130") != norm("I"));
  CHECK(norm("I") == "i");
  CHECK(norm("\u0131") == "\u0131");  // ı stays its own letter
  CHECK(norm("\u0131") != norm("i"));
  CHECK(norm("i\u0307") == "i\u0307");
}

TEST_CASE("names: emoji and other symbols are letters like any other") {
  CHECK(norm("\U0001F600") == "\U0001F600");
  CHECK(norm("party\U0001F389") == "party\U0001F389");
  CHECK(norm("\u2764\ufe0f") == "\u2764\ufe0f");  // a variation selector is a mark, not a format character
  CHECK(norm("\U0001F44D\U0001F3FD") == "\U0001F44D\U0001F3FD");  // skin tone modifier
  CHECK(norm("\ue000") == "\ue000");  // private use: allowed
}

TEST_CASE("names: invisible formatting characters are refused, including emoji joiners") {
  for (char32_t cp : {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x202E, 0x202A, 0x2066, 0x061C, 0x200E, 0xE0001}) {
    INFO(std::hex << static_cast<unsigned>(cp));
    CHECK(refused("a" + utf8(cp) + "b").find("invisible formatting") != std::string::npos);
  }
  // The family emoji is three people joined by U+200D: refused with the rest of category Cf.
  refused("\U0001F468\u200D\U0001F469\u200D\U0001F467");
  CHECK(refused("admin\u202Enimda").find("U+202E") != std::string::npos);
}

TEST_CASE("names: control characters are refused") {
  for (char32_t cp : {0x00, 0x01, 0x08, 0x09, 0x0A, 0x0D, 0x1B, 0x7F, 0x80, 0x85, 0x9F}) {
    INFO(std::hex << static_cast<unsigned>(cp));
    CHECK(refused("a" + utf8(cp) + "b").find("control characters") != std::string::npos);
  }
  CHECK(refused(std::string("a\0b", 3)).find("U+0000") != std::string::npos);
}

TEST_CASE("names: whitespace at either end, and any space but U+0020, are refused") {
  for (const char* s : {" alice", "alice ", "\talice", "alice\n", "\u00a0alice", "alice\u00a0", "\u3000alice",
                        "alice\u2028", "\u2003alice", " "})
    CHECK(refused(s).find("start or end with whitespace") != std::string::npos);
  for (char32_t cp : {0x00A0, 0x1680, 0x2000, 0x2007, 0x200A, 0x202F, 0x205F, 0x3000}) {
    INFO(std::hex << static_cast<unsigned>(cp));
    CHECK(refused("a" + utf8(cp) + "b").find("spaces other than U+0020") != std::string::npos);
  }
  CHECK(refused("a\u2029b").find("paragraph separators") != std::string::npos);
}

TEST_CASE("names: '.', '..', '/' and the empty name are refused") {
  CHECK(refused("").find("empty") != std::string::npos);
  CHECK(refused(".").find("\"..\"") != std::string::npos);
  CHECK(refused("..").find("\"..\"") != std::string::npos);
  CHECK(refused("a/b").find("'/'") != std::string::npos);
  refused("/");
  refused("../x");
  // A combining mark on a dot is a different name, not a way around the rule.
  CHECK(norm(".\u0301") == ".\u0301");
}

TEST_CASE("names: invalid UTF-8 is refused") {
  for (std::string s : {std::string("\xff"), std::string("a\xc3"), std::string("\xc0\xaf"),  // overlong '/'
                        std::string("\xe0\x80\xae"),                                       // overlong '.'
                        std::string("\xed\xa0\x80"),                                       // a surrogate
                        std::string("\xf4\x90\x80\x80"),                                   // past U+10FFFF
                        std::string("\x80"), std::string("ab\xe2\x82")}) {
    INFO(s.size());
    CHECK(refused(s).find("not valid UTF-8") != std::string::npos);
  }
}

TEST_CASE("names: unassigned code points and non-characters are refused") {
  CHECK(refused("a" + utf8(0x0378) + "b").find("unassigned") != std::string::npos);
  CHECK(refused("a" + utf8(0xFFFF)).find("U+FFFF") != std::string::npos);
  refused(utf8(0xFDD0));
  refused(utf8(0x10FFFE));
}

TEST_CASE("names: keeping case composes and refuses the same, and folds nothing") {
  using hubd::core::names::case_rule;
  auto keep = [](std::string_view raw) { return normalize_username(raw, case_rule::keep); };
  CHECK(keep("Alice").name == "Alice");
  CHECK(keep("RENE\u0301").name == "REN\u00c9");
  CHECK(keep("Stra\u00dfe").name == "Stra\u00dfe");
  CHECK(keep("\u2126").name == "\u03a9");  // canonical equivalents still become one
  for (const char* bad : {"..", ".", "a/b", " Alice", "Alice\u00a0", "a\u200db", "a\u202eb", "a\x01b", "\xff"})
    CHECK_FALSE(keep(bad).ok());
  CHECK(is_normalized("Alice", case_rule::keep));
  CHECK_FALSE(is_normalized("Alice"));
  CHECK_FALSE(is_normalized("Rene\u0301", case_rule::keep));
}

TEST_CASE("names: is_normalized says whether the rule gives the name back unchanged") {
  CHECK(is_normalized("alice"));
  CHECK(is_normalized("\u00e9lise"));
  CHECK_FALSE(is_normalized("\u00c9LISE"));
  CHECK_FALSE(is_normalized("rene\u0301"));
  CHECK_FALSE(is_normalized(".."));
  CHECK_FALSE(is_normalized(" x"));
}

// The rule is applied once at every entry and its result stored; applied again, to a stored name
// (the start-up check) or a name a plugin hands back, it must give the same name.
TEST_CASE("names: the rule is idempotent for every code point, alone and between letters") {
  std::size_t accepted = 0;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    for (const std::string& raw : {utf8(cp), "A" + utf8(cp) + "\u0301"}) {
      for (auto cases : {hubd::core::names::case_rule::fold, hubd::core::names::case_rule::keep}) {
        auto once = normalize_username(raw, cases);
        if (!once.ok()) continue;
        ++accepted;
        auto twice = normalize_username(once.name, cases);
        if (!twice.ok() || twice.name != once.name) {
          FAIL_CHECK("not idempotent at U+" << std::hex << static_cast<unsigned>(cp) << ": " << twice.error);
        }
      }
    }
  }
  CHECK(accepted > 400000);
}
