#pragma once
// Keys made by OpenSSL in the test, their public JWKs, and JWS signing: what a provider does.
#include "encoding.hpp"

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace test_keys {

using json = nlohmann::json;

struct key {
  std::shared_ptr<EVP_PKEY> pkey;
  std::string alg;  // RS256 or ES256
  std::string kid;
};

inline std::string bn_bytes(const BIGNUM* bn, int pad = 0) {
  int len = pad ? pad : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(len), '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), len) != len) throw std::runtime_error("bn2bin");
  return out;
}

inline key make_rsa(std::string kid) {
  EVP_PKEY* p = EVP_RSA_gen(2048);
  if (!p) throw std::runtime_error("RSA keygen");
  return {std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free), "RS256", std::move(kid)};
}

inline key make_ec(std::string kid) {
  EVP_PKEY* p = EVP_EC_gen("P-256");
  if (!p) throw std::runtime_error("EC keygen");
  return {std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free), "ES256", std::move(kid)};
}

inline json public_jwk(const key& k) {
  using generic_oauth::base64url_encode;
  if (k.alg == "RS256") {
    BIGNUM *n = nullptr, *e = nullptr;
    EVP_PKEY_get_bn_param(k.pkey.get(), OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(k.pkey.get(), OSSL_PKEY_PARAM_RSA_E, &e);
    json j{{"kty", "RSA"}, {"kid", k.kid}, {"use", "sig"}, {"alg", "RS256"},
           {"n", base64url_encode(bn_bytes(n))}, {"e", base64url_encode(bn_bytes(e))}};
    BN_free(n);
    BN_free(e);
    return j;
  }
  BIGNUM *x = nullptr, *y = nullptr;
  EVP_PKEY_get_bn_param(k.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x);
  EVP_PKEY_get_bn_param(k.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y);
  json j{{"kty", "EC"}, {"kid", k.kid}, {"crv", "P-256"},
         {"x", base64url_encode(bn_bytes(x, 32))}, {"y", base64url_encode(bn_bytes(y, 32))}};
  BN_free(x);
  BN_free(y);
  return j;
}

inline std::string sign_with(const key& k, const std::string& input) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t len = 0;
  if (EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, k.pkey.get()) != 1 ||
      EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("sign init");
  std::string sig(len, '\0');
  if (EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("sign");
  EVP_MD_CTX_free(md);
  sig.resize(len);
  if (k.alg == "ES256") {  // DER -> r||s as JWS wants
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw = bn_bytes(ECDSA_SIG_get0_r(s), 32) + bn_bytes(ECDSA_SIG_get0_s(s), 32);
    ECDSA_SIG_free(s);
    return raw;
  }
  return sig;
}

inline std::string jws(const json& header, const json& payload, const key& k) {
  using generic_oauth::base64url_encode;
  std::string input = base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
  return input + "." + base64url_encode(sign_with(k, input));
}

inline std::string sign(const key& k, const json& payload) {
  return jws(json{{"alg", k.alg}, {"typ", "JWT"}, {"kid", k.kid}}, payload, k);
}

}  // namespace test_keys
