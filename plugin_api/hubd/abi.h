/* hubd plugin ABI v1: the core types, the host table and the entry point.
 *
 * This header is C99 and includes only <stdint.h>, <stddef.h> and <stdbool.h>. It compiles as C99,
 * C++17 and C++20 with -Wall -Wextra -pedantic. See docs/plugins.md for the rules in prose.
 *
 * Versioning: a plugin library exports exactly one function, hubd_plugin_entry_v1 (the _v1 suffix is
 * the ABI major). HUBD_ABI_MINOR grows when something is appended. Every struct that crosses the
 * boundary starts with uint32_t struct_size; structs only ever grow at their end; a reader uses only
 * the fields that lie wholly inside the writer's struct_size (HUBD_HAS). A NULL or missing slot means
 * "not implemented".
 *
 * Thread tags. Every function pointer carries exactly one:
 *   [pool]  hubd calls it on a plugin-pool thread, never on an io thread. Calls into one instance are
 *           serialized unless its vtable sets HUBD_FLAG_CONCURRENT (then the instance must be
 *           thread-safe). Blocking is allowed but holds a pool thread.
 *   [any]   thread-safe, callable concurrently from any thread. Must not block.
 *   [brief] a plugin callback that hubd runs on its completion thread (never an io thread, never the
 *           pool). It only stores, signals or completes, then returns; it may call only [any] functions.
 *   [init]  only during init/deinit, on the main thread.
 *
 * Ownership. Inputs (hubd_str, const char *) are borrowed until the call returns: copy what you keep.
 * hubd copies everything a plugin hands it before the host function returns. Nobody frees memory the
 * other side allocated. Strings in descriptors (names, versions, ids) are static or live until deinit.
 */
#ifndef HUBD_ABI_H
#define HUBD_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HUBD_ABI_MAJOR 1
#define HUBD_ABI_MINOR 1

#if defined(_WIN32)
#define HUBD_EXPORT __declspec(dllexport)
#else
#define HUBD_EXPORT __attribute__((visibility("default")))
#endif

/* True when the struct *p, written by the other side with p->struct_size, contains field f. */
#define HUBD_HAS(p, T, f) ((p) != NULL && (size_t)(p)->struct_size >= offsetof(T, f) + sizeof(((T *)0)->f))

/* UTF-8 text with an explicit length, not necessarily NUL-terminated. Borrowed: valid until the call
 * it is passed to returns. JSON crosses the boundary as one top-level value in a hubd_str. */
typedef struct hubd_str {
  const char *ptr;
  size_t len;
} hubd_str;

/* Status of host calls and outcome of operations. Crosses as int32_t; an unknown value is an error. */
typedef int32_t hubd_status;
enum {
  HUBD_OK = 0,
  HUBD_DENIED = 1,    /* op outcome: the answer is no (login refused, user blocked) */
  HUBD_FAILED = 2,    /* op outcome: it went wrong; result_json describes it (status_code, message) */
  HUBD_CANCELLED = 3, /* op outcome: completed after cancel_op without a real result */
  HUBD_ERR_INVALID = 16,
  HUBD_ERR_WRONG_THREAD = 17,
  HUBD_ERR_UNSUPPORTED = 18,
  HUBD_ERR_STATE = 19, /* e.g. an op completed twice, or a call made too late */
  HUBD_ERR_BUSY = 20
};

/* Log levels (Python's numbers, as JupyterHub's log). */
enum { HUBD_LOG_DEBUG = 10, HUBD_LOG_INFO = 20, HUBD_LOG_WARNING = 30, HUBD_LOG_ERROR = 40 };

/* Plugin kinds. */
typedef int32_t hubd_kind;
enum { HUBD_KIND_AUTHENTICATOR = 1, HUBD_KIND_SPAWNER = 2, HUBD_KIND_HOOKS = 3 };

/* Vtable flags. */
enum { HUBD_FLAG_CONCURRENT = 1u << 0 };

/* hubd-owned pending operation. Valid until complete() is called on it (or, for an op that timed out,
 * until the plugin completes it late; that completion is counted and dropped). */
typedef struct hubd_op hubd_op;
/* hubd-owned instance handle, valid from create until destroy returns. */
typedef struct hubd_host_obj hubd_host_obj;
/* plugin-owned instance handle, opaque to hubd. */
typedef struct hubd_plugin_obj hubd_plugin_obj;

/* A host-owned output: the plugin calls write zero or more times; the pieces are concatenated and
 * copied by hubd before write returns. Valid until the call it is passed to returns. */
typedef struct hubd_sink {
  void *ctx;
  void (*write)(void *ctx, hubd_str piece); /* [any] */
} hubd_sink;

/* The host table, handed to init; valid until deinit returns. Functions marked "host_obj may be NULL"
 * accept NULL for calls made outside an instance (from init). */
typedef struct hubd_host {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;

  /* [any] Write msg into hubd's log, attributed to the instance (host_obj may be NULL). Never log
   * secrets. */
  void (*log)(hubd_host_obj *host_obj, int32_t level, hubd_str msg);

  /* [any] Complete an op exactly once, now or later, from any thread. status is HUBD_OK, HUBD_DENIED,
   * HUBD_FAILED or HUBD_CANCELLED; result_json is borrowed and copied before return (an empty string
   * means "null"). The continuation is posted, never run inline, so the plugin may hold its own locks.
   * Returns HUBD_ERR_STATE (and logs) when the op was already completed or timed out. */
  hubd_status (*complete)(hubd_op *op, hubd_status status, hubd_str result_json);

  /* [any] A progress event for an op that reports progress (spawner start): 0..n times before complete.
   * event_json is copied ({"progress": 50, "message": "..."}, as JupyterHub's progress events). */
  hubd_status (*progress)(hubd_op *op, hubd_str event_json);

  /* [any] Ask hubd to call the instance's on_event(event_id) later on the pool. Dropped when the
   * instance is gone. */
  hubd_status (*post_event)(hubd_host_obj *host_obj, uint64_t event_id);

  /* [any] An extension table by versioned id (e.g. HUBD_EXT_HOST_API), or NULL if hubd lacks it.
   * The table is static and valid until deinit returns. */
  const void *(*get_extension)(const struct hubd_host *host, const char *id);

  /* [any] True on a hubd plugin-pool thread (for assertions). */
  bool (*is_pool_thread)(void);

  /* [any] Write the instance's config section ([plugins.NAME] without hubd's own keys) as a JSON
   * object into out. The same JSON create() received. */
  hubd_status (*get_config)(hubd_host_obj *host_obj, hubd_sink *out);

  /* [pool] Define a custom scope, as JupyterHub.custom_scopes does (rbac.md section 9): name is
   * "custom:..." and definition_json is {"description": "...", "subscopes": [...]}. Only during create,
   * before roles are loaded; later calls return HUBD_ERR_STATE. On any error the reason is written to
   * err (may be NULL) and start-up fails if the instance create fails because of it. */
  hubd_status (*register_scope)(hubd_host_obj *host_obj, hubd_str name, hubd_str definition_json, hubd_sink *err);

  /* append only */
} hubd_host;

/* One plugin inside a library. */
typedef struct hubd_plugin_desc {
  uint32_t struct_size;
  hubd_kind kind;          /* HUBD_KIND_* */
  const char *name;        /* registered name, as JupyterHub entry points: "dummy", "pam", "local" */
  const char *version;     /* the plugin's own version */
  const char *description; /* one line, for `hubd plugins` */
  /* [any] The vtable for a factory id ("hubd.authenticator/1", "hubd.spawner/1", "hubd.hooks/1"), or
   * NULL when this plugin does not provide it. The vtable is static. */
  const void *(*get_factory)(const char *factory_id);
  /* append only */
} hubd_plugin_desc;

/* What hubd_plugin_entry_v1 returns: static storage, valid while the library is loaded. */
typedef struct hubd_plugin_entry {
  uint32_t struct_size;
  uint16_t abi_major; /* HUBD_ABI_MAJOR the plugin was built with; must equal hubd's */
  uint16_t abi_minor; /* must be <= hubd's */
  const char *library_name;
  const char *library_version;
  /* [init] Once, before anything else in this library. host is valid until deinit returns. Return
   * false and write the reason into err to refuse loading. May be NULL. */
  bool (*init)(const hubd_host *host, hubd_sink *err);
  /* [init] Once, after every instance is destroyed. May be NULL. */
  void (*deinit)(void);
  uint32_t plugin_count;
  const hubd_plugin_desc *const *plugins; /* plugin_count pointers */
  /* append only */
} hubd_plugin_entry;

/* The op shape: a potentially slow call. [pool]. The plugin completes op exactly once via
 * host->complete, inside the call or later from any thread. input_json is borrowed until return. */
typedef void (*hubd_op_fn)(hubd_plugin_obj *self, hubd_host_obj *host_obj, hubd_op *op, hubd_str input_json);

/* Factory ids. */
#define HUBD_FACTORY_AUTHENTICATOR "hubd.authenticator/1"
#define HUBD_FACTORY_SPAWNER "hubd.spawner/1"
#define HUBD_FACTORY_HOOKS "hubd.hooks/1"

#define HUBD_ENTRY_SYMBOL "hubd_plugin_entry_v1"
typedef const hubd_plugin_entry *(*hubd_plugin_entry_fn)(void);

/* [init] The one exported symbol of a plugin library. Called once by hubd after dlopen; returns a
 * pointer to static storage. It must not do work: put that in init. */
HUBD_EXPORT const hubd_plugin_entry *hubd_plugin_entry_v1(void);

#ifdef __cplusplus
}
#endif

#endif /* HUBD_ABI_H */
