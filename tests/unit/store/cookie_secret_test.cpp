#include "core/store/cookie_secret.hpp"

#include "core/store/crypto.hpp"
#include "tests/unit/store/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sys/stat.h>

using namespace hubd::core::store;
namespace fs = std::filesystem;

namespace {
void write_file(const fs::path& p, const std::string& text, mode_t mode) {
  std::ofstream(p) << text;
  ::chmod(p.c_str(), mode);
}
}  // namespace

TEST_CASE("JPY_COOKIE_SECRET wins and must be hex") {
  hubd::test::temp_dir dir;
  auto r = load_cookie_secret(dir / "secret", "00ff00ff");
  REQUIRE(r);
  REQUIRE(r->from == "env");
  REQUIRE(r->secret == std::string("\x00\xff\x00\xff", 4));
  REQUIRE_FALSE(fs::exists(dir / "secret"));
  auto bad = load_cookie_secret(dir / "secret", "not hex");
  REQUIRE_FALSE(bad);
  REQUIRE(bad.err().message.find("JPY_COOKIE_SECRET") != std::string::npos);
}

TEST_CASE("a missing file is generated with 32 random bytes, hex, mode 0600, and read back") {
  hubd::test::temp_dir dir;
  const auto file = dir / "jupyterhub_cookie_secret";
  auto r = load_cookie_secret(file, nullptr);
  REQUIRE(r);
  REQUIRE(r->from == "new");
  REQUIRE(r->secret.size() == 32);
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  auto again = load_cookie_secret(file, nullptr);
  REQUIRE(again);
  REQUIRE(again->from == "file");
  REQUIRE(again->secret == r->secret);
}

TEST_CASE("a file readable by anybody is refused, with the fix in the message") {
  hubd::test::temp_dir dir;
  const auto file = dir / "secret";
  write_file(file, to_hex(random_bytes(32)) + "\n", 0644);
  auto r = load_cookie_secret(file, nullptr);
  REQUIRE_FALSE(r);
  REQUIRE(r.err().message.find("can be read or written by anybody") != std::string::npos);
  REQUIRE(r.err().message.find("chmod 600") != std::string::npos);
}

TEST_CASE("group bits only warn; legacy base64 is accepted; empty and garbage are refused") {
  hubd::test::temp_dir dir;
  const auto file = dir / "secret";
  write_file(file, "00112233", 0640);
  auto r = load_cookie_secret(file, nullptr);
  REQUIRE(r);
  REQUIRE(r->group_accessible);
  write_file(file, "aGVsbG8gd29ybGQ=", 0600);
  REQUIRE(load_cookie_secret(file, nullptr)->secret == "hello world");
  write_file(file, "\n", 0600);
  REQUIRE_FALSE(load_cookie_secret(file, nullptr));
  write_file(file, "!!!! not a secret", 0600);
  REQUIRE_FALSE(load_cookie_secret(file, nullptr));
}
