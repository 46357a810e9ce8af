#include "core/store/crypto.hpp"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace hubd::core::store {

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) {
      std::fputs("hubd: libsodium could not be initialised (no secure randomness)\n", stderr);
      std::abort();
    }
  });
}

std::string random_bytes(std::size_t bytes) {
  ensure_sodium();
  std::string out(bytes, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string generate_token() { return to_hex(random_bytes(16)); }

std::string random_string(std::size_t n) {
  ensure_sodium();
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(n, '\0');
  for (auto& c : out) c = alphabet[randombytes_uniform(static_cast<std::uint32_t>(alphabet.size()))];
  return out;
}

std::string random_urlsafe(std::size_t bytes) { return to_base64url(random_bytes(bytes)); }

std::string token_digest(std::string_view secret) {
  ensure_sodium();
  std::string out(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), nullptr, 0);
  return out;
}

std::string token_prefix(std::string_view secret) { return std::string(secret.substr(0, 4)); }

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  out.pop_back();
  return out;
}

bool from_hex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  std::string buf(hex.size() / 2, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(buf.data()), buf.size(), hex.data(), hex.size(), nullptr,
                     &len, &end) != 0 ||
      end != hex.data() + hex.size() || len != buf.size())
    return false;
  out = std::move(buf);
  return true;
}

bool from_base64(std::string_view text, std::string& out) {
  const bool urlsafe = text.find_first_of("-_") != std::string_view::npos;
  const bool padded = !text.empty() && text.back() == '=';
  const int variant = urlsafe ? (padded ? sodium_base64_VARIANT_URLSAFE : sodium_base64_VARIANT_URLSAFE_NO_PADDING)
                              : (padded ? sodium_base64_VARIANT_ORIGINAL : sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  std::string buf(text.size() * 3 / 4 + 3, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(buf.data()), buf.size(), text.data(), text.size(), nullptr,
                        &len, &end, variant) != 0 ||
      end != text.data() + text.size())
    return false;
  buf.resize(len);
  out = std::move(buf);
  return true;
}

std::string to_base64url(std::string_view bytes) {
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

}  // namespace hubd::core::store
