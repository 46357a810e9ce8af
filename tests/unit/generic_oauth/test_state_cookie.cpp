#include "state_cookie.hpp"

#include <catch2/catch.hpp>

using generic_oauth::login_state;
using generic_oauth::state_sealer;

namespace {
login_state sample() { return {"state-1", "nonce-1", "verifier-1", "/hub/spawn", "http://127.0.0.1/hub/oauth_callback", 42}; }
}  // namespace

TEST_CASE("a sealed state opens with the same key, unchanged", "[generic_oauth][state]") {
  state_sealer s;
  auto opened = s.open(s.seal(sample()));
  REQUIRE(opened);
  CHECK(opened->state_id == "state-1");
  CHECK(opened->nonce == "nonce-1");
  CHECK(opened->code_verifier == "verifier-1");
  CHECK(opened->next == "/hub/spawn");
  CHECK(opened->issued_at == 42);
  CHECK(s.seal(sample()) != s.seal(sample()));  // a fresh IV each time
}

TEST_CASE("a changed, truncated or foreign state cookie does not open", "[generic_oauth][state]") {
  state_sealer s;
  std::string v = s.seal(sample());
  CHECK(v.find("nonce-1") == std::string::npos);  // nothing readable to the browser
  for (std::size_t i : {std::size_t(0), v.size() / 2, v.size() - 1}) {
    std::string t = v;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    CHECK_FALSE(s.open(t));
  }
  CHECK_FALSE(s.open(v.substr(0, v.size() - 4)));
  CHECK_FALSE(s.open(""));
  CHECK_FALSE(s.open("not base64 !"));
  state_sealer other;  // another hub process
  CHECK_FALSE(other.open(v));
}

TEST_CASE("the state cookie is HttpOnly, Lax, scoped to the hub and short-lived", "[generic_oauth][state]") {
  auto h = generic_oauth::state_cookie_header("V", "/hub/", true);
  CHECK(h == "oauthenticator-state=V; Path=/hub/; Max-Age=600; HttpOnly; SameSite=Lax; Secure");
  CHECK(generic_oauth::clear_state_cookie_header("/hub/", false).find("Max-Age=0") != std::string::npos);
}
