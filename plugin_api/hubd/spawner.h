/* hubd plugin ABI v1: spawners ("hubd.spawner/1"), JupyterHub's Spawner class.
 *
 * One instance per (user, server name). Ops take the spawner context as JSON:
 * {"user": {user model}, "auth_state": {}|null, "server_name": str, "user_options": {}, "state": {},
 *  "env": {...}, "hub_url": str, "base_url": str, "api_token": str, "oauth_client_id": str, ...}
 * (secrets in it are never logged by either side). auth_state is the user's decrypted auth_state, as
 * JupyterHub's Spawner.auth_state_hook receives it (null without Authenticator.enable_auth_state).
 */
#ifndef HUBD_SPAWNER_H
#define HUBD_SPAWNER_H

#include "hubd/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hubd_spawner_vtbl {
  uint32_t struct_size;
  uint32_t flags; /* HUBD_FLAG_CONCURRENT */

  /* [pool] As hubd_authenticator_vtbl.create: config_json is the [plugins.NAME] section. Required. */
  hubd_plugin_obj *(*create)(hubd_host_obj *host_obj, hubd_str config_json, hubd_sink *err);
  /* [pool] Once, with no outstanding op (or at shutdown). Required. */
  void (*destroy)(hubd_plugin_obj *self);

  /* Ops (hubd_op_fn, [pool]).
   * start: input spawner context; 0..n host->progress events, then complete HUBD_OK with
   *   {"url": "http://127.0.0.1:PORT"} or HUBD_FAILED with {"status_code", "message", ...}. Required. */
  hubd_op_fn start;
  /* stop: input {"now": bool, "auth_state": {}|null} (the user's, as in the start context); result
   *   ignored. Required. */
  hubd_op_fn stop;
  /* poll: input {}; result {"running": true} or {"exit_status": int}. Required. */
  hubd_op_fn poll;
  /* options_form: input spawner context; result {"html": str}. */
  hubd_op_fn options_form;
  /* options_from_form: input {"form": {field: [values]}}; result {"user_options": {}}. */
  hubd_op_fn options_from_form;
  /* delete_forever: input spawner context; result ignored. */
  hubd_op_fn delete_forever;
  /* rename: input {"old_name", "new_name"}; result ignored. */
  hubd_op_fn rename;

  /* [pool] Ask the plugin to finish op early; it still completes (HUBD_CANCELLED or its result). */
  void (*cancel_op)(hubd_plugin_obj *self, hubd_op *op);
  /* [pool] Deliver an event posted with host->post_event. */
  void (*on_event)(hubd_plugin_obj *self, hubd_host_obj *host_obj, uint64_t event_id);

  /* [pool] Write the persistent state as a JSON object into out (hubd stores it). false: no state. */
  bool (*get_state)(hubd_plugin_obj *self, hubd_sink *state_json);
  /* [pool] Restore state saved by get_state (borrowed). false: state rejected. */
  bool (*load_state)(hubd_plugin_obj *self, hubd_str state_json);
  /* [pool] Forget state after the server stopped for good. */
  void (*clear_state)(hubd_plugin_obj *self);
  /* append only */
} hubd_spawner_vtbl;

#ifdef __cplusplus
}
#endif

#endif /* HUBD_SPAWNER_H */
