#include "state_cookie.hpp"

#include "encoding.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace generic_oauth {
namespace {

constexpr std::size_t iv_len = 12, tag_len = 16;

using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)>;

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("the system's random generator failed");
  return out;
}

const unsigned char* u(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

std::string random_token(std::size_t n) { return base64url_encode(random_bytes(n)); }

state_sealer::state_sealer() : key_(random_bytes(32)) {}
state_sealer::state_sealer(std::string key) : key_(std::move(key)) {
  if (key_.size() != 32) throw std::invalid_argument("state key must be 32 bytes");
}

std::string state_sealer::seal(const login_state& s) const {
  nlohmann::json j{{"s", s.state_id}, {"n", s.nonce}, {"v", s.code_verifier}, {"x", s.next},
                   {"r", s.redirect_uri}, {"t", s.issued_at}};
  std::string plain = j.dump();
  std::string iv = random_bytes(iv_len);
  std::string out = iv;
  out.resize(iv_len + plain.size() + tag_len);
  ctx_ptr ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data()) + iv_len;
  // The cookie's name is authenticated too: the value means nothing under another name.
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u(key_), u(iv)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(state_cookie_name.data()),
                        static_cast<int>(state_cookie_name.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), dst, &len, u(plain), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), dst + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_len, dst + plain.size()) != 1)
    throw std::runtime_error("sealing the login state failed");
  return base64url_encode(out);
}

std::optional<login_state> state_sealer::open(std::string_view cookie_value) const {
  if (cookie_value.size() > 4096) return std::nullopt;
  auto raw = base64url_decode(cookie_value);
  if (!raw || raw->size() < iv_len + tag_len + 2) return std::nullopt;
  std::size_t clen = raw->size() - iv_len - tag_len;
  std::string plain(clen, '\0');
  ctx_ptr ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  const auto* src = reinterpret_cast<const unsigned char*>(raw->data());
  std::string tag = raw->substr(iv_len + clen);
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u(key_), src) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(state_cookie_name.data()),
                        static_cast<int>(state_cookie_name.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len, src + iv_len,
                        static_cast<int>(clen)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_len, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &len) != 1)
    return std::nullopt;
  auto j = nlohmann::json::parse(plain, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  login_state s;
  try {
    s.state_id = j.at("s").get<std::string>();
    s.nonce = j.at("n").get<std::string>();
    s.code_verifier = j.at("v").get<std::string>();
    s.next = j.at("x").get<std::string>();
    s.redirect_uri = j.at("r").get<std::string>();
    s.issued_at = j.at("t").get<std::int64_t>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  return s;
}

std::string state_cookie_header(std::string_view value, std::string_view path, bool secure) {
  // SameSite=Lax: the provider's redirect back is a top-level GET, which Lax cookies accompany.
  return std::string(state_cookie_name) + "=" + std::string(value) + "; Path=" + std::string(path) +
         "; Max-Age=" + std::to_string(state_cookie_max_age) + "; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "");
}

std::string clear_state_cookie_header(std::string_view path, bool secure) {
  return std::string(state_cookie_name) + "=; Path=" + std::string(path) +
         "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "");
}

}  // namespace generic_oauth
