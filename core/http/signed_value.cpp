#include "core/http/signed_value.hpp"

#include <sodium.h>

#include <charconv>
#include <stdexcept>

namespace hubd::core::http {

namespace {
constexpr auto future_slack = std::chrono::hours(24 * 31);

void append_field(std::string& out, std::string_view v) {
  out.append(std::to_string(v.size())).append(":").append(v).append("|");
}

// Reads "<len>:<value>|" from the front of s.
std::optional<std::string_view> take_field(std::string_view& s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 6) return std::nullopt;
  std::size_t len = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + colon, len);
  if (ec != std::errc() || p != s.data() + colon) return std::nullopt;
  if (s.size() < colon + 1 + len + 1 || s[colon + 1 + len] != '|') return std::nullopt;
  std::string_view v = s.substr(colon + 1, len);
  s.remove_prefix(colon + 1 + len + 1);
  return v;
}
}  // namespace

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64_encode(std::string_view bytes, bool urlsafe_no_padding) {
  int variant = urlsafe_no_padding ? sodium_base64_VARIANT_URLSAFE_NO_PADDING : sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), variant);
  out.resize(out.size() - 1);  // drop the terminating NUL libsodium writes
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, bool urlsafe_no_padding) {
  int variant = urlsafe_no_padding ? sodium_base64_VARIANT_URLSAFE_NO_PADDING : sodium_base64_VARIANT_ORIGINAL;
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &len, &end, variant) != 0 ||
      end != text.data() + text.size())
    return std::nullopt;
  out.resize(len);
  return out;
}

cookie_signer::cookie_signer(std::string secret) : secret_(std::move(secret)) {
  if (secret_.empty()) throw std::invalid_argument("cookie secret is empty");
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string cookie_signer::hmac_hex(std::string_view data) const {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(&st, sizeof st);
  char hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return std::string(hex, sizeof hex - 1);
}

std::string cookie_signer::sign(std::string_view name, std::string_view value,
                                std::chrono::system_clock::time_point now) const {
  auto ts = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string out = "2|1:0|";
  append_field(out, std::to_string(ts));
  append_field(out, name);
  append_field(out, base64_encode(value));
  out.append(hmac_hex(out));
  return out;
}

std::optional<std::string> cookie_signer::verify(std::string_view name, std::string_view signed_value,
                                                 std::chrono::seconds max_age,
                                                 std::chrono::system_clock::time_point now) const {
  if (signed_value.size() > 8192 || signed_value.substr(0, 2) != "2|") return std::nullopt;
  std::string_view rest = signed_value.substr(2);
  auto key_version = take_field(rest);
  auto ts_text = key_version ? take_field(rest) : std::nullopt;
  auto name_field = ts_text ? take_field(rest) : std::nullopt;
  auto value_field = name_field ? take_field(rest) : std::nullopt;
  if (!value_field) return std::nullopt;
  std::string_view signature = rest;
  std::string_view signed_part = signed_value.substr(0, signed_value.size() - signature.size());
  if (!constant_time_equals(signature, hmac_hex(signed_part))) return std::nullopt;
  if (*name_field != name) return std::nullopt;
  long long ts = 0;
  auto [p, ec] = std::from_chars(ts_text->data(), ts_text->data() + ts_text->size(), ts);
  if (ec != std::errc() || p != ts_text->data() + ts_text->size()) return std::nullopt;
  auto stamped = std::chrono::system_clock::time_point(std::chrono::seconds(ts));
  if (stamped < now - max_age || stamped > now + future_slack) return std::nullopt;
  return base64_decode(*value_field);
}

std::string cookie_signer::sign_urlsafe(std::string_view name, std::string_view value,
                                        std::chrono::system_clock::time_point now) const {
  return base64_encode(sign(name, value, now), true);
}

std::optional<std::string> cookie_signer::verify_urlsafe(std::string_view name, std::string_view token,
                                                         std::chrono::seconds max_age,
                                                         std::chrono::system_clock::time_point now) const {
  // tolerate padding a client may have added back
  while (!token.empty() && token.back() == '=') token.remove_suffix(1);
  auto raw = base64_decode(token, true);
  if (!raw) return std::nullopt;
  return verify(name, *raw, max_age, now);
}

}  // namespace hubd::core::http
