// Compiled as C++17 with -pedantic -Werror: the ABI headers and the SDK must work there too.
#include <hubd/sdk.hpp>

extern "C" int hubd_abi_cxx17_sizeof_host();
extern "C" int hubd_abi_cxx17_sizeof_host() {
  hubd_host h{};
  h.struct_size = sizeof h;
  return HUBD_HAS(&h, hubd_host, register_scope) ? static_cast<int>(sizeof(hubd_host)) : -1;
}
