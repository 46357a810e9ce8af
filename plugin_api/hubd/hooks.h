/* hubd plugin ABI v1: hook sets ("hubd.hooks/1"), JupyterHub's post_auth_hook, pre_spawn_hook, ...
 *
 * A hook plugin is enabled by its config table [plugins.NAME]; process-wide, one instance. Hooks of
 * several plugins are chained in the configured order.
 *
 * Hook points (names are NUL-terminated ids):
 *   post_auth     input {"auth_model": {...}, "handler": {...}}  result {} or a patch of the auth model
 *   auth_state    input {"user", "auth_state"}                    result {} or a patch
 *   pre_spawn     input {"user", "spawner": {spawner context}}    result {} or {"env", "args", "user_options"}
 *   post_stop     input {"user", "spawner"}                       result ignored, errors only logged
 *   progress_ready input {"user", "spawner", "url"}               result ignored
 * Change events (delivered after the change is committed; result ignored, never block the change):
 *   user_created, user_deleted   input {"user": {user model}}
 *   group_members_changed        input {"group": str, "added": [str], "removed": [str]}
 *   role_changed                 input {"role": {role model}, "change": "created"|"updated"|"deleted"}
 *   server_started, server_stopped input {"user": str, "server_name": str, "url"?: str}
 */
#ifndef HUBD_HOOKS_H
#define HUBD_HOOKS_H

#include "hubd/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HUBD_HOOK_POST_AUTH "post_auth"
#define HUBD_HOOK_AUTH_STATE "auth_state"
#define HUBD_HOOK_PRE_SPAWN "pre_spawn"
#define HUBD_HOOK_POST_STOP "post_stop"
#define HUBD_HOOK_PROGRESS_READY "progress_ready"
#define HUBD_EVENT_USER_CREATED "user_created"
#define HUBD_EVENT_USER_DELETED "user_deleted"
#define HUBD_EVENT_GROUP_MEMBERS_CHANGED "group_members_changed"
#define HUBD_EVENT_ROLE_CHANGED "role_changed"
#define HUBD_EVENT_SERVER_STARTED "server_started"
#define HUBD_EVENT_SERVER_STOPPED "server_stopped"

typedef struct hubd_hooks_vtbl {
  uint32_t struct_size;
  uint32_t flags; /* HUBD_FLAG_CONCURRENT */

  /* [pool] As hubd_authenticator_vtbl.create. Required. */
  hubd_plugin_obj *(*create)(hubd_host_obj *host_obj, hubd_str config_json, hubd_sink *err);
  /* [pool] Once, with no outstanding op (or at shutdown). Required. */
  void (*destroy)(hubd_plugin_obj *self);

  /* The hook points this plugin subscribes to: NULL-terminated, static storage. An unknown name makes
   * the plugin fail to load. Required. */
  const char *const *hook_points;

  /* [pool] An op for one hook point: hook_point is one of hook_points (NUL-terminated, borrowed);
   * complete HUBD_OK with {} or a patch, HUBD_DENIED to refuse (post_auth: login refused), HUBD_FAILED
   * on error. Required. */
  void (*call)(hubd_plugin_obj *self, hubd_host_obj *host_obj, hubd_op *op, const char *hook_point,
               hubd_str input_json);

  /* [pool] Ask the plugin to finish op early; it still completes. */
  void (*cancel_op)(hubd_plugin_obj *self, hubd_op *op);
  /* [pool] Deliver an event posted with host->post_event. */
  void (*on_event)(hubd_plugin_obj *self, hubd_host_obj *host_obj, uint64_t event_id);
  /* append only */
} hubd_hooks_vtbl;

#ifdef __cplusplus
}
#endif

#endif /* HUBD_HOOKS_H */
