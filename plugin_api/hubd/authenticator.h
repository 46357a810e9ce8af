/* hubd plugin ABI v1: authenticators ("hubd.authenticator/1"), JupyterHub's Authenticator class.
 *
 * One instance per hub. Ops take JSON input and complete with JSON; field names follow JupyterHub so
 * its documentation carries over. Every op completes exactly once; a crash, timeout, malformed JSON
 * or misbehaviour denies the login (fail closed). hubd keeps the login pipeline order to itself:
 * authenticate -> normalize_username -> validate_username -> check_blocked -> check_allowed ->
 * is_admin -> post_auth hooks.
 */
#ifndef HUBD_AUTHENTICATOR_H
#define HUBD_AUTHENTICATOR_H

#include "hubd/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hubd_authenticator_vtbl {
  uint32_t struct_size;
  uint32_t flags; /* HUBD_FLAG_CONCURRENT: ops may run concurrently on one instance (PAM-style) */

  /* [pool] Create the instance. config_json is the [plugins.NAME] section as a JSON object (hubd's
   * own keys removed), borrowed. On failure return NULL and write the reason (naming the config key)
   * into err. Required. */
  hubd_plugin_obj *(*create)(hubd_host_obj *host_obj, hubd_str config_json, hubd_sink *err);
  /* [pool] Destroy the instance; called once, when it has no outstanding op (or at shutdown). Required. */
  void (*destroy)(hubd_plugin_obj *self);

  /* Ops (hubd_op_fn, [pool]). Input and result JSON are listed per op.
   * authenticate: input {"username", "password", ...login form fields}; complete HUBD_OK with an auth
   *   model {"name": str, "admin"?: bool, "auth_state"?: {}, "groups"?: [str], "roles"?: [..]}, or
   *   HUBD_DENIED (result may be {"message": "..."}). Required. */
  hubd_op_fn authenticate;
  /* refresh_user: input {"user": {user model}, "auth_state": {}|null}; result true (still valid),
   *   false (this login is over: the user must log in again) or a partial auth model
   *   {"auth_state"?, "groups"?, "admin"?} that hubd stores before the request goes on. HUBD_FAILED or
   *   a timeout is transient: the login stays and a later request asks again. Called when the user
   *   was last refreshed more than Authenticator.auth_refresh_age seconds ago, and before a spawn or
   *   stop with refresh_pre_spawn / refresh_pre_stop; hubd runs one refresh per user at a time. */
  hubd_op_fn refresh_user;
  /* check_allowed / check_blocked / is_admin: input {"username", "auth_model"}; result true|false. */
  hubd_op_fn check_allowed;
  hubd_op_fn check_blocked;
  hubd_op_fn is_admin;
  /* pre_spawn_start: input {"user", "spawner": {spawner context}}; result {} or a patch
   *   {"env": {...}, "args": [...], "user_options": {...}}. */
  hubd_op_fn pre_spawn_start;
  /* post_spawn_stop: input {"user", "spawner"}; result ignored, errors only logged. */
  hubd_op_fn post_spawn_stop;
  /* add_user / delete_user: input {"user": {user model}}; result ignored. */
  hubd_op_fn add_user;
  hubd_op_fn delete_user;
  /* load_managed_roles: input {}; result {"roles": [role models]}. */
  hubd_op_fn load_managed_roles;
  /* handle_request: an extra HTTP route under /hub/ (see routes). input {"method", "path", "query",
   *   "headers": {}, "body", "cookies": {}}; result {"status": int, "headers": {}, "body": str} or
   *   {"redirect": url} or {"auth_model": {...}, "next": url} to log a user in (OAuth callbacks). */
  hubd_op_fn handle_request;

  /* [pool] Ask the plugin to finish op early (timeout, shutdown). The plugin still completes it, with
   * HUBD_CANCELLED or its real result. */
  void (*cancel_op)(hubd_plugin_obj *self, hubd_op *op);
  /* [pool] Deliver an event the plugin posted with host->post_event. */
  void (*on_event)(hubd_plugin_obj *self, hubd_host_obj *host_obj, uint64_t event_id);

  /* Sink functions: [any], quick, no I/O. Each writes its answer into out and returns true, or returns
   * false for "use hubd's default" (JupyterHub's default behaviour). */
  /* normalize_username: username in, normalized name out. hubd then applies Unicode NFC and refuses
   * control characters, surrounding whitespace, '/', "." and ".." in what is written here, keeping
   * its case; when this returns false, hubd's whole rule applies (with full case folding). */
  bool (*normalize_username)(hubd_plugin_obj *self, hubd_str username, hubd_sink *out);
  /* validate_username: returns true when valid; may write the reason into reason when invalid.
   * NULL means JupyterHub's default rule. */
  bool (*validate_username)(hubd_plugin_obj *self, hubd_str username, hubd_sink *reason);
  /* login_url / logout_url: base_url in ("/hub/"), the URL out. */
  bool (*login_url)(hubd_plugin_obj *self, hubd_str base_url, hubd_sink *out);
  bool (*logout_url)(hubd_plugin_obj *self, hubd_str base_url, hubd_sink *out);

  /* Extra routes served by handle_request, relative to /hub/ ("oauth_callback", "oauth_login"),
   * NULL-terminated, static storage. NULL when there are none. */
  const char *const *routes;

  /* ---- ABI 1.1 ---- */
  /* logout: input {"user": {user model}, "auth_state": {}|null} when a user logs out, before hubd ends
   *   the browser session (e.g. to revoke a refresh token at the identity provider). auth_state is
   *   null unless Authenticator.enable_auth_state. Bounded by the plugin's timeout; the result is
   *   ignored and a failure is only logged: the logout always happens. */
  hubd_op_fn logout;
  /* append only */
} hubd_authenticator_vtbl;

#ifdef __cplusplus
}
#endif

#endif /* HUBD_AUTHENTICATOR_H */
