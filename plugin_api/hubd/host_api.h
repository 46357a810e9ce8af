/* hubd plugin ABI v1: the internal API extension "hubd.host.api/1".
 *
 * An asynchronous, in-process call into hubd's REST API (the same router and RBAC checks), under the
 * plugin's own principal and the roles of its [plugins.NAME] roles key. Never over the network.
 * It never needs the plugin pool, so a [pool] hook may block waiting for it (the C++ SDK's call_sync)
 * without deadlock. Obtain it with host->get_extension(host, HUBD_EXT_HOST_API).
 */
#ifndef HUBD_HOST_API_H
#define HUBD_HOST_API_H

#include "hubd/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HUBD_EXT_HOST_API "hubd.host.api/1"

/* [brief] Called exactly once per accepted request, never before request() returned, on hubd's
 * completion thread. status_code is the HTTP status; response_json is the response body (JSON,
 * borrowed until return; errors are {"status": N, "message": "..."}). */
typedef void (*hubd_api_callback)(void *user_data, int32_t status_code, hubd_str response_json);

typedef struct hubd_host_api {
  uint32_t struct_size;
  /* [any] Start a request: method "GET"|"POST"|"PATCH"|"PUT"|"DELETE", path relative to the REST API
   * root ("/users/alice", as "/hub/api/users/alice"), body_json may be empty. All inputs are copied
   * before return. Returns HUBD_OK and later calls cb exactly once; any other status means cb is never
   * called (HUBD_ERR_INVALID for a bad method, path or handle). */
  hubd_status (*request)(hubd_host_obj *host_obj, hubd_str method, hubd_str path, hubd_str body_json,
                         hubd_api_callback cb, void *user_data);
  /* append only */
} hubd_host_api;

#ifdef __cplusplus
}
#endif

#endif /* HUBD_HOST_API_H */
