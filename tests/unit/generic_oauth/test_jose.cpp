#include "jose.hpp"

#include "test_keys.hpp"

#include <catch2/catch.hpp>
#include <openssl/hmac.h>

#include <atomic>
#include <thread>

using generic_oauth::jws_error;
using generic_oauth::verify_id_token;
using nlohmann::json;

namespace {

constexpr std::int64_t now = 1'800'000'000;

json claims(json extra = json::object()) {
  json c{{"iss", "http://127.0.0.1:9000/api/oidc"}, {"aud", "hub-client"}, {"sub", "alice"},
         {"exp", now + 300}, {"iat", now - 5}, {"nonce", "n-123"}};
  c.merge_patch(extra);
  return c;
}

generic_oauth::id_token_expectations expect() {
  return {"http://127.0.0.1:9000/api/oidc", "hub-client", std::string("n-123"), now, 10};
}

const test_keys::key& rsa() {
  static auto k = test_keys::make_rsa("rsa-1");
  return k;
}
const test_keys::key& ec() {
  static auto k = test_keys::make_ec("ec-1");
  return k;
}
json jwks() { return json{{"keys", {test_keys::public_jwk(rsa()), test_keys::public_jwk(ec())}}}; }

std::string hs256(const json& header, const json& payload, const std::string& secret) {
  using generic_oauth::base64url_encode;
  std::string input = base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
  unsigned char mac[32];
  unsigned len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &len);
  return input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), len));
}

}  // namespace

TEST_CASE("an RS256 id_token signed by a key of the JWKS verifies", "[generic_oauth][jose]") {
  auto r = verify_id_token(test_keys::sign(rsa(), claims()), jwks(), expect());
  REQUIRE(r.ok());
  CHECK(r.claims["sub"] == "alice");
}

TEST_CASE("an ES256 id_token verifies (JWK x/y, raw r||s signature)", "[generic_oauth][jose]") {
  auto r = verify_id_token(test_keys::sign(ec(), claims()), jwks(), expect());
  REQUIRE(r.ok());
  CHECK(r.claims["nonce"] == "n-123");
}

TEST_CASE("an id_token without kid is checked against the keys of its type", "[generic_oauth][jose]") {
  auto token = test_keys::jws(json{{"alg", "RS256"}}, claims(), rsa());
  CHECK(verify_id_token(token, jwks(), expect()).ok());
}

TEST_CASE("a changed payload or a signature of another key is refused", "[generic_oauth][jose]") {
  auto token = test_keys::sign(rsa(), claims());
  auto dot1 = token.find('.'), dot2 = token.rfind('.');
  auto forged = token.substr(0, dot1 + 1) + generic_oauth::base64url_encode(claims({{"sub", "mallory"}}).dump()) +
                token.substr(dot2);
  CHECK(verify_id_token(forged, jwks(), expect()).error == jws_error::bad_signature);

  auto other = test_keys::make_rsa("rsa-1");  // same kid, different key
  CHECK(verify_id_token(test_keys::sign(other, claims()), jwks(), expect()).error == jws_error::bad_signature);

  auto ec_other = test_keys::make_ec("ec-1");
  CHECK(verify_id_token(test_keys::sign(ec_other, claims()), jwks(), expect()).error == jws_error::bad_signature);
}

TEST_CASE("an unknown kid is reported as such, so the caller can fetch the JWKS again", "[generic_oauth][jose]") {
  auto rotated = test_keys::make_rsa("rsa-2");
  auto r = verify_id_token(test_keys::sign(rotated, claims()), jwks(), expect());
  CHECK(r.error == jws_error::unknown_kid);
  CHECK(r.message.find("rsa-2") != std::string::npos);
  json both = jwks();
  both["keys"].push_back(test_keys::public_jwk(rotated));
  CHECK(verify_id_token(test_keys::sign(rotated, claims()), both, expect()).ok());
}

TEST_CASE("iss, aud, azp, exp, iat and nonce are checked with a small clock skew", "[generic_oauth][jose]") {
  auto bad = [](json extra) { return verify_id_token(test_keys::sign(rsa(), claims(std::move(extra))), jwks(), expect()); };
  CHECK(bad({{"iss", "http://127.0.0.1:9000"}}).error == jws_error::bad_claims);
  CHECK(bad({{"aud", "another-client"}}).error == jws_error::bad_claims);
  CHECK(bad({{"aud", {"another-client", "hub-client"}}}).error == jws_error::bad_claims);  // no azp
  CHECK(bad({{"aud", {"another-client", "hub-client"}}, {"azp", "hub-client"}}).ok());
  CHECK(bad({{"azp", "another-client"}}).error == jws_error::bad_claims);
  CHECK(bad({{"exp", now - 60}}).error == jws_error::bad_claims);
  CHECK(bad({{"exp", now - 5}}).ok());  // within the skew
  CHECK(bad({{"exp", nullptr}}).error == jws_error::bad_claims);
  CHECK(bad({{"iat", now + 120}}).error == jws_error::bad_claims);
  CHECK(bad({{"nonce", "n-other"}}).error == jws_error::bad_claims);
  CHECK(bad({{"nonce", nullptr}}).error == jws_error::bad_claims);
  auto no_nonce = expect();
  no_nonce.nonce.reset();  // a refresh answer's id_token has no nonce to match
  CHECK(verify_id_token(test_keys::sign(rsa(), claims({{"nonce", nullptr}})), jwks(), no_nonce).ok());
}

TEST_CASE("alg none, HS256 and other algorithms are refused", "[generic_oauth][jose]") {
  using generic_oauth::base64url_encode;
  std::string none = base64url_encode(json{{"alg", "none"}}.dump()) + "." + base64url_encode(claims().dump()) + ".";
  CHECK(verify_id_token(none, jwks(), expect()).error == jws_error::bad_alg);
  // HS256 "signed" with the public key as the secret: the classic key-confusion attack.
  std::string secret = test_keys::public_jwk(rsa())["n"];
  CHECK(verify_id_token(hs256(json{{"alg", "HS256"}, {"kid", "rsa-1"}}, claims(), secret), jwks(), expect()).error ==
        jws_error::bad_alg);
  // An RS256 header on an EC key's signature finds no RSA key to match.
  auto mixed = test_keys::jws(json{{"alg", "RS256"}, {"kid", "ec-1"}}, claims(), ec());
  CHECK(verify_id_token(mixed, jwks(), expect()).error == jws_error::unknown_kid);
}

TEST_CASE("malformed tokens are refused without a crash", "[generic_oauth][jose]") {
  for (std::string t : {"", "a", "a.b", "a.b.c.d", "!!!.???.###", "W10.W10.AA"})
    CHECK(verify_id_token(t, jwks(), expect()).error == jws_error::malformed);
  CHECK(verify_id_token("e30.e30.", jwks(), expect()).error == jws_error::bad_alg);  // {} names no algorithm
  CHECK(verify_id_token(test_keys::sign(rsa(), claims()), json::object(), expect()).error == jws_error::unknown_kid);
}

TEST_CASE("absurd numeric claims neither overflow nor pass", "[generic_oauth][jose]") {
  CHECK(generic_oauth::clamp_seconds(json(1e300)) == (1ll << 53));
  CHECK(generic_oauth::clamp_seconds(json(-1e300)) == -(1ll << 53));
  CHECK(generic_oauth::clamp_seconds(json(18446744073709551615ull)) == (1ll << 53));
  CHECK(generic_oauth::clamp_seconds(json(12.7)) == 12);
  auto r = verify_id_token(test_keys::sign(rsa(), claims({{"exp", 1e300}, {"iat", -1e300}})), jwks(), expect());
  CHECK(r.ok());  // far future, far past: valid, and no undefined conversion on the way
  CHECK(verify_id_token(test_keys::sign(rsa(), claims({{"exp", -1e300}})), jwks(), expect()).error == jws_error::bad_claims);
}

TEST_CASE("a key set imported once verifies every login's token, from several threads", "[generic_oauth][jose]") {
  json with_junk = jwks();
  // A member whose crv is not a string is unusable, not an exception; the others still work.
  with_junk["keys"].push_back(json{{"kty", "EC"}, {"kid", "junk"}, {"crv", 7}, {"x", "AA"}, {"y", "AA"}});
  const generic_oauth::key_set keys(with_junk);
  REQUIRE(keys.members().size() == 3);
  CHECK(keys.members()[2].key == nullptr);
  auto token = test_keys::sign(rsa(), claims());
  auto forged = token;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'A' ? 'B' : 'A';
  std::atomic<int> good{0}, refused{0};
  auto worker = [&] {
    for (int i = 0; i < 50; ++i) {
      if (verify_id_token(token, keys, expect()).ok()) ++good;
      if (!verify_id_token(forged, keys, expect()).ok()) ++refused;
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  CHECK(good == 100);
  CHECK(refused == 100);
  CHECK(verify_id_token(test_keys::sign(ec(), claims()), keys, expect()).ok());
  auto other = test_keys::make_rsa("rsa-1");  // the same kid, another key: the cached key decides
  CHECK(verify_id_token(test_keys::sign(other, claims()), keys, expect()).error == jws_error::bad_signature);
  CHECK(verify_id_token(test_keys::sign(rsa(), claims({{"nonce", "other"}})), keys, expect()).error == jws_error::bad_claims);
}
