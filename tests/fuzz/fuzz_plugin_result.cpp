// libFuzzer target: what the host makes of a plugin's completion. The first byte picks the status
// the plugin completed with, the second the op whose result check applies; the rest is the result
// JSON. Whatever the bytes, the host must get an op_result (never an exception or a crash), a
// result it calls ok must have passed the op's check, and the HTTP status and message derived from
// it must be sane.
#include "core/plugins/detail/completion.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace plugins = hubd::core::plugins;
namespace detail = hubd::core::plugins::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static constexpr std::array<hubd_status, 7> statuses = {HUBD_OK,          HUBD_DENIED,      HUBD_FAILED, HUBD_CANCELLED,
                                                          HUBD_ERR_INVALID, HUBD_ERR_BUSY,    -1};
  static const std::array<plugins::result_validator, 6> checks = {
      detail::check_auth_model, detail::expect_bool, detail::expect_object_or_null,
      detail::check_start,      detail::check_poll,  plugins::result_validator{}};
  hubd_status status = statuses[data[0] % statuses.size()];
  const auto& check = checks[data[1] % checks.size()];
  std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);

  plugins::op_result r = detail::read_completion(status, text, check, "fuzz", "op");
  if (r.ok()) {
    if (status != HUBD_OK) __builtin_trap();
    if (check && !check(r.value).empty()) __builtin_trap();
  } else if (r.message.empty()) {
    __builtin_trap();  // every refusal says why
  }
  if (r.status == plugins::op_status::misbehaving && !r.value.is_null()) {
    // Only a result that parsed but failed its check keeps its value.
    if (status != HUBD_OK || !check) __builtin_trap();
  }
  int http = r.http_status();
  if (r.ok() ? http != 200 && (http < 400 || http > 599) : http < 400 || http > 599) __builtin_trap();
  (void)r.user_message();
  (void)plugins::to_string(r.status);
  // The authenticate adapter turns a bare name into {"name": ...}; what passed the check has a name.
  if (r.ok() && check == nullptr) return 0;
  if (r.ok() && data[1] % checks.size() == 0) {
    nlohmann::json model = r.value.is_string() ? nlohmann::json{{"name", r.value}} : r.value;
    if (!model["name"].is_string() || model["name"].get<std::string>().empty()) __builtin_trap();
  }
  return 0;
}
