#include "core/store/crypto.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace hubd::core::store;

TEST_CASE("generate_token gives 32 lowercase hex characters, never twice the same") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto t = generate_token();
    REQUIRE(t.size() == 32);
    REQUIRE(t.find_first_not_of("0123456789abcdef") == std::string::npos);
    REQUIRE(seen.insert(t).second);
  }
}

TEST_CASE("random_string uses only [A-Za-z0-9]") {
  auto s = random_string(30);
  REQUIRE(s.size() == 30);
  REQUIRE(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos);
  REQUIRE(random_string(30) != s);
}

TEST_CASE("random_urlsafe is base64url without padding") {
  auto s = random_urlsafe(32);
  REQUIRE(s.size() == 43);
  REQUIRE(s.find_first_of("+/=") == std::string::npos);
  std::string raw;
  REQUIRE(from_base64(s, raw));
  REQUIRE(raw.size() == 32);
}

TEST_CASE("token_digest is deterministic, 32 bytes, and differs per secret") {
  REQUIRE(token_digest("abc").size() == 32);
  REQUIRE(token_digest("abc") == token_digest("abc"));
  REQUIRE(token_digest("abc") != token_digest("abd"));
  REQUIRE(token_prefix("abcdef") == "abcd");
  REQUIRE(token_prefix("ab") == "ab");
}

TEST_CASE("hex and base64 decoding reject bad input") {
  std::string out;
  REQUIRE(from_hex("00ff", out));
  REQUIRE(out == std::string("\x00\xff", 2));
  REQUIRE_FALSE(from_hex("0", out));
  REQUIRE_FALSE(from_hex("zz", out));
  REQUIRE(from_base64("aGk=", out));
  REQUIRE(out == "hi");
  REQUIRE(from_base64("aGk", out));
  REQUIRE_FALSE(from_base64("a$k=", out));
  REQUIRE(to_hex("hi") == "6869");
  REQUIRE(equal_constant_time("abc", "abc"));
  REQUIRE_FALSE(equal_constant_time("abc", "abd"));
  REQUIRE_FALSE(equal_constant_time("abc", "ab"));
}
