/* A complete hubd authenticator in plain C99: accepts the users listed in its config section.
 *
 *   [JupyterHub]
 *   authenticator_class = "c-example"
 *
 *   [plugins.c-example]
 *   users = ["alice", "bob"]
 *   password = "s3cret"        # optional: without it any password is accepted
 *
 * Unknown config keys are rejected with a clear error. It completes every op synchronously, which is
 * allowed: complete() never re-enters the plugin. See README.md to build it out of tree.
 */
#include <hubd/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const hubd_host *g_host; /* valid from init until deinit */

/* ---- a tiny JSON reader: enough for flat objects of strings and string arrays ---- */

typedef struct {
  const char *p, *end;
} reader;

static void skip_ws(reader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t')) r->p++;
}

static bool expect(reader *r, char c) {
  skip_ws(r);
  if (r->p < r->end && *r->p == c) {
    r->p++;
    return true;
  }
  return false;
}

/* Reads a JSON string into a malloc'd NUL-terminated buffer (caller frees). \u escapes beyond ASCII
 * are kept as '?': user names here are compared byte for byte. */
static char *read_string(reader *r) {
  skip_ws(r);
  if (r->p >= r->end || *r->p != '"') return NULL;
  r->p++;
  char *out = malloc((size_t)(r->end - r->p) + 1);
  size_t n = 0;
  if (!out) return NULL;
  while (r->p < r->end && *r->p != '"') {
    char c = *r->p++;
    if (c == '\\') {
      if (r->p >= r->end) break;
      char e = *r->p++;
      switch (e) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'u': {
          unsigned v = 0;
          for (int i = 0; i < 4 && r->p < r->end; i++, r->p++) {
            char h = *r->p;
            v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
          }
          c = v < 0x80 ? (char)v : '?';
          break;
        }
        default: c = e; /* \" \\ \/ */
      }
    }
    out[n++] = c;
  }
  if (r->p >= r->end) {
    free(out);
    return NULL;
  }
  r->p++; /* closing quote */
  out[n] = '\0';
  return out;
}

static bool skip_value(reader *r, int depth) {
  skip_ws(r);
  if (r->p >= r->end || depth > 32) return false;
  char c = *r->p;
  if (c == '"') {
    char *s = read_string(r);
    free(s);
    return s != NULL;
  }
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    r->p++;
    if (expect(r, close)) return true;
    do {
      if (c == '{') {
        char *k = read_string(r);
        free(k);
        if (!k || !expect(r, ':')) return false;
      }
      if (!skip_value(r, depth + 1)) return false;
    } while (expect(r, ','));
    return expect(r, close);
  }
  while (r->p < r->end && strchr(",}] \n\r\t", *r->p) == NULL) r->p++; /* number, true, false, null */
  return true;
}

/* ---- the instance ---- */

typedef struct {
  char **users;
  size_t user_count;
  char *password; /* NULL: any password */
} example_auth;

static void free_auth(example_auth *a) {
  if (!a) return;
  for (size_t i = 0; i < a->user_count; i++) free(a->users[i]);
  free(a->users);
  free(a->password);
  free(a);
}

static void sink_write(hubd_sink *sink, const char *text) {
  if (sink && sink->write) {
    hubd_str s = {text, strlen(text)};
    sink->write(sink->ctx, s);
  }
}

static hubd_plugin_obj *auth_create(hubd_host_obj *host_obj, hubd_str config_json, hubd_sink *err) {
  (void)host_obj;
  example_auth *a = calloc(1, sizeof *a);
  reader r = {config_json.ptr, config_json.ptr + config_json.len};
  char msg[512];
  if (!a) return NULL;
  if (!expect(&r, '{')) goto bad_json;
  if (!expect(&r, '}')) {
    do {
      char *key = read_string(&r);
      if (!key || !expect(&r, ':')) {
        free(key);
        goto bad_json;
      }
      if (strcmp(key, "users") == 0) {
        free(key);
        if (!expect(&r, '[')) {
          sink_write(err, "[plugins.c-example] users: must be a list of user names");
          goto fail;
        }
        if (!expect(&r, ']')) {
          do {
            char *u = read_string(&r);
            char **grown = u ? realloc(a->users, (a->user_count + 1) * sizeof *grown) : NULL;
            if (!grown) {
              free(u);
              sink_write(err, "[plugins.c-example] users: must be a list of user names");
              goto fail;
            }
            a->users = grown;
            a->users[a->user_count++] = u;
          } while (expect(&r, ','));
          if (!expect(&r, ']')) goto bad_json;
        }
      } else if (strcmp(key, "password") == 0) {
        free(key);
        free(a->password);
        a->password = read_string(&r);
        if (!a->password) {
          sink_write(err, "[plugins.c-example] password: must be a string");
          goto fail;
        }
      } else {
        snprintf(msg, sizeof msg, "[plugins.c-example] unknown config key '%s' (known: users, password)", key);
        free(key);
        sink_write(err, msg);
        goto fail;
      }
    } while (expect(&r, ','));
    if (!expect(&r, '}')) goto bad_json;
  }
  if (a->user_count == 0 && g_host) {
    const char *warn = "c-example: no users configured; every login will be refused";
    hubd_str s = {warn, strlen(warn)};
    g_host->log(host_obj, HUBD_LOG_WARNING, s);
  }
  return (hubd_plugin_obj *)a;
bad_json:
  sink_write(err, "[plugins.c-example] config is not the expected JSON object");
fail:
  free_auth(a);
  return NULL;
}

static void auth_destroy(hubd_plugin_obj *self) { free_auth((example_auth *)self); }

static void complete_str(hubd_op *op, hubd_status status, const char *json) {
  hubd_str s = {json, strlen(json)};
  g_host->complete(op, status, s);
}

/* Appends s as a JSON string literal to out (capacity cap); false if it does not fit. */
static bool json_quote(char *out, size_t cap, const char *s) {
  size_t n = strlen(out);
  if (n + 1 >= cap) return false;
  out[n++] = '"';
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char buf[8];
    const char *piece = buf;
    if (c == '"' || c == '\\') {
      buf[0] = '\\';
      buf[1] = (char)c;
      buf[2] = 0;
    } else if (c < 0x20) {
      snprintf(buf, sizeof buf, "\\u%04x", c);
    } else {
      buf[0] = (char)c;
      buf[1] = 0;
    }
    size_t len = strlen(piece);
    if (n + len + 2 >= cap) return false;
    memcpy(out + n, piece, len);
    n += len;
  }
  out[n++] = '"';
  out[n] = 0;
  return true;
}

/* [pool] input {"username": ..., "password": ...} */
static void auth_authenticate(hubd_plugin_obj *self, hubd_host_obj *host_obj, hubd_op *op, hubd_str input) {
  const example_auth *a = (const example_auth *)self;
  reader r = {input.ptr, input.ptr + input.len};
  char *username = NULL, *password = NULL;
  (void)host_obj;
  if (!expect(&r, '{')) {
    complete_str(op, HUBD_FAILED, "{\"status_code\":400,\"message\":\"login data is not a JSON object\"}");
    return;
  }
  if (!expect(&r, '}')) {
    do {
      char *key = read_string(&r);
      if (!key || !expect(&r, ':')) {
        free(key);
        break;
      }
      if (strcmp(key, "username") == 0 && !username) {
        username = read_string(&r);
      } else if (strcmp(key, "password") == 0 && !password) {
        password = read_string(&r);
      } else if (!skip_value(&r, 0)) {
        free(key);
        break;
      }
      free(key);
    } while (expect(&r, ','));
  }
  bool ok = username && username[0];
  if (ok) {
    bool listed = false;
    for (size_t i = 0; i < a->user_count && !listed; i++) listed = strcmp(a->users[i], username) == 0;
    ok = listed && (!a->password || (password && strcmp(a->password, password) == 0));
  }
  if (ok) {
    char result[1024] = "{\"name\":";
    if (json_quote(result, sizeof result - 2, username)) {
      strcat(result, "}");
      complete_str(op, HUBD_OK, result);
    } else {
      complete_str(op, HUBD_DENIED, "{\"message\":\"user name too long\"}");
    }
  } else {
    complete_str(op, HUBD_DENIED, "{\"message\":\"Invalid username or password\"}");
  }
  free(username);
  free(password);
}

/* ---- descriptors ---- */

static const hubd_authenticator_vtbl example_vtbl = {
    .struct_size = sizeof(hubd_authenticator_vtbl),
    .flags = HUBD_FLAG_CONCURRENT, /* the instance is read-only after create */
    .create = auth_create,
    .destroy = auth_destroy,
    .authenticate = auth_authenticate,
    /* every other slot: NULL, hubd's defaults apply */
};

static const void *example_factory(const char *id) {
  return strcmp(id, HUBD_FACTORY_AUTHENTICATOR) == 0 ? (const void *)&example_vtbl : NULL;
}

static const hubd_plugin_desc example_desc = {
    .struct_size = sizeof(hubd_plugin_desc),
    .kind = HUBD_KIND_AUTHENTICATOR,
    .name = "c-example",
    .version = "1.0.0",
    .description = "accepts the users listed in [plugins.c-example] (plain C example)",
    .get_factory = example_factory,
};

static const hubd_plugin_desc *const example_plugins[] = {&example_desc};

static bool example_init(const hubd_host *host, hubd_sink *err) {
  if (!host || host->abi_major != HUBD_ABI_MAJOR || !HUBD_HAS(host, hubd_host, complete)) {
    sink_write(err, "c-example: unsupported host table");
    return false;
  }
  g_host = host;
  return true;
}

static void example_deinit(void) { g_host = NULL; }

static const hubd_plugin_entry example_entry = {
    .struct_size = sizeof(hubd_plugin_entry),
    .abi_major = HUBD_ABI_MAJOR,
    .abi_minor = HUBD_ABI_MINOR,
    .library_name = "c_authenticator",
    .library_version = "1.0.0",
    .init = example_init,
    .deinit = example_deinit,
    .plugin_count = 1,
    .plugins = example_plugins,
};

HUBD_EXPORT const hubd_plugin_entry *hubd_plugin_entry_v1(void) { return &example_entry; }
