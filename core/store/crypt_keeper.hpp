#pragma once
// auth_state encryption. Keys come from JUPYTERHUB_CRYPT_KEY in JupyterHub's format: one or more
// 32-byte keys, each hex (64 chars) or base64 (44 chars), separated by ';'. The first key encrypts;
// every key is tried to decrypt, so a new key can be put first and `hubd rotate-keys` run later.
// Ciphertext: version byte 0x01 | 24-byte nonce | XChaCha20-Poly1305 (IETF) ciphertext+tag.
// (Not Fernet: a database shared with Python JupyterHub would need its auth_state re-entered.)
#include "core/store/result.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::store {

class crypt_keeper {
public:
  static constexpr const char* env_name = "JUPYTERHUB_CRYPT_KEY";

  crypt_keeper() = default;  // no keys: encryption unavailable
  crypt_keeper(const crypt_keeper&) = default;
  crypt_keeper& operator=(const crypt_keeper&) = default;
  ~crypt_keeper();

  // Parse a JUPYTERHUB_CRYPT_KEY value. Empty (or only ';' and blanks) gives a keeper without keys.
  // A malformed key is an error naming its position, never its value.
  static result<crypt_keeper> parse(std::string_view spec);
  // From the environment variable (unset = no keys).
  static result<crypt_keeper> from_env();

  bool enabled() const { return !keys_.empty(); }
  std::size_t key_count() const { return keys_.size(); }

  result<std::string> encrypt(std::string_view plaintext) const;
  result<std::string> decrypt(std::string_view ciphertext) const;
  // Index of the key that decrypts `ciphertext`, or an error. rotate-keys re-encrypts unless 0.
  result<std::size_t> key_index(std::string_view ciphertext) const;

private:
  result<std::string> open_with(std::size_t key, std::string_view ciphertext) const;
  std::vector<std::array<unsigned char, 32>> keys_;
};

}  // namespace hubd::core::store
