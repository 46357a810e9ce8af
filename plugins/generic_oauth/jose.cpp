#include "jose.hpp"

#include "encoding.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace generic_oauth {
namespace {

using json = nlohmann::json;

struct pkey_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

struct bn_free {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;

bn_ptr bn_of(const json& jwk, const char* member) {
  auto it = jwk.find(member);
  if (it == jwk.end() || !it->is_string()) return nullptr;
  auto bytes = base64url_decode(it->get<std::string>());
  if (!bytes || bytes->empty()) return nullptr;
  return bn_ptr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()), static_cast<int>(bytes->size()), nullptr));
}

// Builds an EVP_PKEY from the JWK's parameters (RSA n/e, EC P-256 x/y) with OpenSSL 3's
// provider API; nullptr for anything else.
pkey_ptr key_of(const json& jwk) {
  std::string kty = jwk.value("kty", "");
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (!bld) return nullptr;
  std::unique_ptr<OSSL_PARAM_BLD, void (*)(OSSL_PARAM_BLD*)> bld_guard(bld, OSSL_PARAM_BLD_free);
  const char* type = nullptr;
  bn_ptr n, e;
  std::string point;
  if (kty == "RSA") {
    n = bn_of(jwk, "n");
    e = bn_of(jwk, "e");
    if (!n || !e || BN_num_bits(n.get()) < 2048) return nullptr;  // RFC 7518 3.3: 2048 bits at least
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e.get()))
      return nullptr;
    type = "RSA";
  } else if (kty == "EC") {
    if (jwk.value("crv", "") != "P-256") return nullptr;
    auto x = jwk.contains("x") && jwk["x"].is_string() ? base64url_decode(jwk["x"].get<std::string>()) : std::nullopt;
    auto y = jwk.contains("y") && jwk["y"].is_string() ? base64url_decode(jwk["y"].get<std::string>()) : std::nullopt;
    if (!x || !y || x->size() != 32 || y->size() != 32) return nullptr;
    point = std::string(1, '\x04') + *x + *y;  // uncompressed SEC1 point
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
      return nullptr;
    type = "EC";
  } else {
    return nullptr;
  }
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  if (!params) return nullptr;
  std::unique_ptr<OSSL_PARAM, void (*)(OSSL_PARAM*)> params_guard(params, OSSL_PARAM_free);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  if (!ctx) return nullptr;
  std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> ctx_guard(ctx, EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) return nullptr;
  return pkey_ptr(key);
}

// JWS ES256 signatures are r||s, 32 bytes each; OpenSSL verifies DER.
std::optional<std::string> es256_to_der(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (!sig) return std::nullopt;
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!r || !s || !ECDSA_SIG_set0(sig, r, s)) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool verify_with(EVP_PKEY* key, std::string_view input, std::string_view sig) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  if (!md) return false;
  bool ok = EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

id_token_result failure(jws_error e, std::string message) {
  id_token_result r;
  r.error = e;
  r.message = std::move(message);
  return r;
}

std::optional<std::int64_t> int_claim(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  return clamp_seconds(*it);
}

}  // namespace

std::int64_t clamp_seconds(const json& number) {
  constexpr double limit = 9007199254740992.0;  // 2^53
  if (number.is_number_integer()) {
    if (number.is_number_unsigned()) return static_cast<std::int64_t>(std::min<std::uint64_t>(number.get<std::uint64_t>(), 1ull << 53));
    return std::clamp<std::int64_t>(number.get<std::int64_t>(), -(1ll << 53), 1ll << 53);
  }
  double d = number.is_number() ? number.get<double>() : 0.0;
  if (!(d == d)) return 0;  // NaN
  return static_cast<std::int64_t>(std::clamp(d, -limit, limit));
}

id_token_result verify_jws(std::string_view token, const key_set& keys) {
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return failure(jws_error::malformed, "the id_token is not a compact JWS (three parts)");
  auto header_raw = base64url_decode(token.substr(0, dot1));
  auto payload_raw = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto sig = base64url_decode(token.substr(dot2 + 1));
  if (!header_raw || !payload_raw || !sig) return failure(jws_error::malformed, "the id_token is not base64url");
  json header = json::parse(*header_raw, nullptr, false);
  json payload = json::parse(*payload_raw, nullptr, false);
  if (!header.is_object() || !payload.is_object())
    return failure(jws_error::malformed, "the id_token's header or payload is not a JSON object");
  std::string alg = header.value("alg", "");
  if (alg != "RS256" && alg != "ES256")
    return failure(jws_error::bad_alg, "the id_token is signed with '" + alg.substr(0, 20) + "'; only RS256 and ES256 are accepted");
  if (header.contains("crit")) return failure(jws_error::bad_alg, "the id_token has critical header parameters");
  std::string want_kty = alg == "RS256" ? "RSA" : "EC";
  std::optional<std::string> kid;
  if (auto it = header.find("kid"); it != header.end() && it->is_string()) kid = it->get<std::string>();

  std::string signature = *sig;
  if (alg == "ES256") {
    auto der = es256_to_der(*sig);
    if (!der) return failure(jws_error::bad_signature, "the id_token's ES256 signature is not 64 bytes");
    signature = *der;
  }
  std::string_view input = token.substr(0, dot2);
  bool candidate = false;
  for (const auto& m : keys.members()) {
    const json& jwk = m.jwk;
    if (!jwk.is_object() || jwk.value("kty", "") != want_kty) continue;
    if (kid && jwk.value("kid", "") != *kid) continue;
    if (jwk.contains("use") && jwk["use"] != "sig") continue;
    if (jwk.contains("alg") && jwk["alg"] != alg) continue;
    if (!m.key) continue;
    candidate = true;
    if (verify_with(m.key.get(), input, signature)) {
      id_token_result r;
      r.claims = std::move(payload);
      return r;
    }
  }
  if (!candidate)
    return failure(jws_error::unknown_kid, kid ? "no " + alg + " key with kid '" + kid->substr(0, 80) + "' in the provider's JWKS"
                                               : "no " + alg + " key in the provider's JWKS");
  return failure(jws_error::bad_signature, "the id_token's signature does not verify");
}

key_set::key_set(const json& jwks) {
  if (!jwks.is_object()) return;
  auto it = jwks.find("keys");
  if (it == jwks.end() || !it->is_array()) return;
  members_.reserve(it->size());
  for (const auto& jwk : *it) {
    member m{jwk, nullptr};
    // A member whose kty or crv is not a string is never usable; verification skips it.
    if (jwk.is_object()) {
      try {
        m.key = std::shared_ptr<evp_pkey_st>(key_of(jwk).release(), pkey_free{});
      } catch (const json::exception&) {
      }
    }
    members_.push_back(std::move(m));
  }
}

id_token_result verify_jws(std::string_view token, const json& jwks) { return verify_jws(token, key_set(jwks)); }

id_token_result verify_id_token(std::string_view token, const json& jwks, const id_token_expectations& expect) {
  return verify_id_token(token, key_set(jwks), expect);
}

id_token_result verify_id_token(std::string_view token, const key_set& keys, const id_token_expectations& expect) {
  auto r = verify_jws(token, keys);
  if (!r.ok()) return r;
  const json& c = r.claims;
  if (c.value("iss", json()) != json(expect.issuer))
    return failure(jws_error::bad_claims, "the id_token's issuer is not " + expect.issuer);
  bool aud_ok = false;
  std::size_t audiences = 0;
  if (auto it = c.find("aud"); it != c.end()) {
    if (it->is_string()) {
      aud_ok = *it == expect.client_id;
      audiences = 1;
    } else if (it->is_array()) {
      audiences = it->size();
      for (const auto& a : *it) aud_ok = aud_ok || a == expect.client_id;
    }
  }
  if (!aud_ok) return failure(jws_error::bad_claims, "the id_token is not meant for this client (aud)");
  // Core 3.1.3.7 points 4-5: with several audiences the authorized party must be us.
  if (auto it = c.find("azp"); it != c.end() || audiences > 1) {
    if (it == c.end() || *it != expect.client_id)
      return failure(jws_error::bad_claims, "the id_token's authorized party (azp) is not this client");
  }
  auto exp = int_claim(c, "exp");
  if (!exp) return failure(jws_error::bad_claims, "the id_token has no exp");
  if (*exp + expect.skew <= expect.now) return failure(jws_error::bad_claims, "the id_token has expired");
  auto iat = int_claim(c, "iat");
  if (!iat) return failure(jws_error::bad_claims, "the id_token has no iat");
  if (*iat > expect.now + expect.skew) return failure(jws_error::bad_claims, "the id_token was issued in the future (iat)");
  if (expect.nonce) {
    auto it = c.find("nonce");
    if (it == c.end() || !it->is_string() || *it != *expect.nonce)
      return failure(jws_error::bad_claims, "the id_token's nonce does not match this login");
  }
  return r;
}

}  // namespace generic_oauth
