#include "core/store/crypt_keeper.hpp"

#include "core/store/crypto.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace hubd::core::store;

namespace {
std::string hex_key() { return to_hex(random_bytes(32)); }
std::string b64_key() {
  // JupyterHub's documented form: base64 (urlsafe, padded), 44 characters.
  auto s = to_base64url(random_bytes(32));
  return s + "=";
}
}  // namespace

TEST_CASE("encrypt then decrypt round trips, with hex and base64 keys") {
  for (const auto& key : {hex_key(), b64_key()}) {
    auto k = crypt_keeper::parse(key);
    REQUIRE(k);
    REQUIRE(k->enabled());
    auto c = k->encrypt(R"({"access_token":"x"})");
    REQUIRE(c);
    REQUIRE(c.value().find("access_token") == std::string::npos);
    auto p = k->decrypt(c.value());
    REQUIRE(p);
    REQUIRE(p.value() == R"({"access_token":"x"})");
  }
}

TEST_CASE("the same plaintext encrypts differently each time (random nonce)") {
  auto k = crypt_keeper::parse(hex_key());
  REQUIRE(k->encrypt("x").value() != k->encrypt("x").value());
}

TEST_CASE("rotation: the first key encrypts, every key decrypts") {
  const auto old_key = hex_key(), new_key = hex_key();
  auto old_keeper = crypt_keeper::parse(old_key);
  auto rotated = crypt_keeper::parse(new_key + ";" + old_key);
  REQUIRE(rotated->key_count() == 2);
  auto under_old = old_keeper->encrypt("secret").value();
  REQUIRE(rotated->decrypt(under_old).value() == "secret");
  REQUIRE(rotated->key_index(under_old).value() == 1);
  auto under_new = rotated->encrypt("secret").value();
  REQUIRE(rotated->key_index(under_new).value() == 0);
  // The old keeper alone cannot read what the new key wrote.
  REQUIRE_FALSE(old_keeper->decrypt(under_new));
}

TEST_CASE("a wrong key is a clear error, not a crash or garbage") {
  auto a = crypt_keeper::parse(hex_key());
  auto b = crypt_keeper::parse(hex_key());
  auto c = a->encrypt("secret").value();
  auto r = b->decrypt(c);
  REQUIRE_FALSE(r);
  REQUIRE(r.err().code == errc::crypto);
  REQUIRE(r.err().message.find("wrong key") != std::string::npos);
}

TEST_CASE("corrupted ciphertext is detected") {
  auto k = crypt_keeper::parse(hex_key());
  auto c = k->encrypt("secret").value();
  SECTION("a flipped byte") {
    c[c.size() / 2] ^= 0x01;
    REQUIRE_FALSE(k->decrypt(c));
  }
  SECTION("truncated") {
    auto r = k->decrypt(c.substr(0, 10));
    REQUIRE_FALSE(r);
    REQUIRE(r.err().message.find("corrupted") != std::string::npos);
  }
  SECTION("unknown format version") {
    c[0] = 0x7f;
    auto r = k->decrypt(c);
    REQUIRE_FALSE(r);
    REQUIRE(r.err().message.find("format version") != std::string::npos);
  }
  SECTION("empty") { REQUIRE_FALSE(k->decrypt("")); }
}

TEST_CASE("missing key: encryption unavailable with a message naming the variable") {
  auto k = crypt_keeper::parse("");
  REQUIRE(k);
  REQUIRE_FALSE(k->enabled());
  auto r = k->encrypt("x");
  REQUIRE_FALSE(r);
  REQUIRE(r.err().message.find("JUPYTERHUB_CRYPT_KEY") != std::string::npos);
  REQUIRE_FALSE(k->decrypt("x"));
  REQUIRE_FALSE(crypt_keeper::parse(" ; ;")->enabled());
}

TEST_CASE("malformed keys name their position, never their value") {
  const auto good = hex_key();
  auto r = crypt_keeper::parse(good + ";not-a-key");
  REQUIRE_FALSE(r);
  REQUIRE(r.err().message.find("key 2 of 2") != std::string::npos);
  REQUIRE(r.err().message.find("not-a-key") == std::string::npos);
  REQUIRE(r.err().message.find(good) == std::string::npos);
  REQUIRE_FALSE(crypt_keeper::parse(std::string(64, 'z')));  // 64 chars but not hex
  REQUIRE_FALSE(crypt_keeper::parse(std::string(44, '$')));  // 44 chars but not base64
  REQUIRE(crypt_keeper::parse(std::string(32, 'k')));        // a raw 32-byte key is accepted, as upstream
}

TEST_CASE("from_env reads JUPYTERHUB_CRYPT_KEY") {
  const auto key = hex_key();
  ::setenv("JUPYTERHUB_CRYPT_KEY", key.c_str(), 1);
  auto k = crypt_keeper::from_env();
  ::unsetenv("JUPYTERHUB_CRYPT_KEY");
  REQUIRE(k);
  REQUIRE(k->key_count() == 1);
  REQUIRE_FALSE(crypt_keeper::from_env()->enabled());
}
