/* Compiled with -std=c99 -pedantic -Werror: the ABI headers must be plain C99. */
#include <hubd/plugin.h>

int hubd_abi_c99_sizeof_host(void);
int hubd_abi_c99_sizeof_host(void) {
  hubd_host h;
  h.struct_size = sizeof h;
  return HUBD_HAS(&h, hubd_host, register_scope) ? (int)sizeof(hubd_host) : -1;
}
