#include "core/store/crypt_keeper.hpp"

#include "core/store/crypto.hpp"

#include <sodium.h>

#include <cstdlib>

namespace hubd::core::store {
namespace {

constexpr unsigned char format_v1 = 0x01;
constexpr std::size_t nonce_len = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t tag_len = crypto_aead_xchacha20poly1305_ietf_ABYTES;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string no_key_message() {
  return std::string("encryption is not available: ") + crypt_keeper::env_name +
         " is not set (set it to one or more 32-byte keys, hex or base64, separated by ';', "
         "e.g. `openssl rand -hex 32`)";
}

}  // namespace

crypt_keeper::~crypt_keeper() {
  for (auto& k : keys_) sodium_memzero(k.data(), k.size());
}

result<crypt_keeper> crypt_keeper::parse(std::string_view spec) {
  ensure_sodium();
  crypt_keeper keeper;
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto semi = spec.find(';', start);
    auto part = trim(spec.substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start));
    if (!part.empty()) parts.push_back(part);
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto part = parts[i];
    std::string raw;
    bool decoded = false;
    if (part.size() == 64) decoded = from_hex(part, raw);
    else if (part.size() == 44) decoded = from_base64(part, raw);
    else if (part.size() == 32) {
      raw = std::string(part);
      decoded = true;
    }
    if (!decoded || raw.size() != 32) {
      sodium_memzero(raw.data(), raw.size());
      return make_error(errc::crypto, std::string(env_name) + ": key " + std::to_string(i + 1) + " of " +
                                          std::to_string(parts.size()) + " (" + std::to_string(part.size()) +
                                          " characters) is not a 32-byte key, hex (64 characters) or base64 "
                                          "(44 characters) encoded");
    }
    std::array<unsigned char, 32> key{};
    std::copy(raw.begin(), raw.end(), key.begin());
    sodium_memzero(raw.data(), raw.size());
    keeper.keys_.push_back(key);
  }
  return keeper;
}

result<crypt_keeper> crypt_keeper::from_env() {
  const char* v = std::getenv(env_name);
  return parse(v ? std::string_view(v) : std::string_view());
}

result<std::string> crypt_keeper::encrypt(std::string_view plaintext) const {
  if (keys_.empty()) return make_error(errc::crypto, no_key_message());
  std::string out(1 + nonce_len + plaintext.size() + tag_len, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = format_v1;
  randombytes_buf(p + 1, nonce_len);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(p + 1 + nonce_len, &clen,
                                             reinterpret_cast<const unsigned char*>(plaintext.data()),
                                             plaintext.size(), p, 1, nullptr, p + 1, keys_.front().data());
  out.resize(1 + nonce_len + clen);
  return out;
}

result<std::string> crypt_keeper::open_with(std::size_t key, std::string_view ciphertext) const {
  const auto* p = reinterpret_cast<const unsigned char*>(ciphertext.data());
  std::string out(ciphertext.size() - 1 - nonce_len - tag_len, '\0');
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(out.data()), &mlen, nullptr,
                                                 p + 1 + nonce_len, ciphertext.size() - 1 - nonce_len, p, 1, p + 1,
                                                 keys_[key].data()) != 0)
    return make_error(errc::crypto, "authentication failed");
  out.resize(mlen);
  return out;
}

result<std::size_t> crypt_keeper::key_index(std::string_view ciphertext) const {
  if (keys_.empty()) return make_error(errc::crypto, no_key_message());
  if (ciphertext.size() < 1 + nonce_len + tag_len)
    return make_error(errc::crypto, "encrypted auth_state is corrupted: " + std::to_string(ciphertext.size()) +
                                        " bytes is shorter than any ciphertext");
  if (static_cast<unsigned char>(ciphertext[0]) != format_v1)
    return make_error(errc::crypto, "encrypted auth_state is corrupted: unknown format version " +
                                        std::to_string(static_cast<unsigned char>(ciphertext[0])));
  for (std::size_t i = 0; i < keys_.size(); ++i)
    if (open_with(i, ciphertext)) return i;
  return make_error(errc::crypto, "encrypted auth_state could not be decrypted with any of the " +
                                      std::to_string(keys_.size()) + " key(s) in " + env_name +
                                      " (wrong key, or the data is corrupted)");
}

result<std::string> crypt_keeper::decrypt(std::string_view ciphertext) const {
  auto idx = key_index(ciphertext);
  if (!idx) return idx.err();
  return open_with(idx.value(), ciphertext);
}

}  // namespace hubd::core::store
