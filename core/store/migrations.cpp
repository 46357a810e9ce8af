#include "core/store/migrations.hpp"

namespace hubd::core::store {
namespace {

// Timestamps are INTEGER microseconds since the epoch (naive UTC). JSON values are TEXT.
constexpr migration all[] = {
    {1, "initial schema: users, groups, roles, services, servers, tokens, OAuth, sessions",
     R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, admin INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL, last_activity INTEGER, cookie_id TEXT NOT NULL UNIQUE, auth_state BLOB);
CREATE TABLE groups (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, properties TEXT NOT NULL DEFAULT '{}');
CREATE TABLE user_group_map (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  source TEXT NOT NULL, PRIMARY KEY (group_id, user_id, source)) WITHOUT ROWID;
CREATE INDEX user_group_map_user ON user_group_map(user_id);
CREATE TABLE roles (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
  scopes TEXT NOT NULL DEFAULT '[]', source TEXT NOT NULL, managed_by_auth INTEGER NOT NULL DEFAULT 0);
CREATE TABLE role_assignments (
  role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  holder_kind TEXT NOT NULL CHECK (holder_kind IN ('user', 'group', 'service')),
  holder_id INTEGER NOT NULL, source TEXT NOT NULL,
  PRIMARY KEY (role_id, holder_kind, holder_id, source)) WITHOUT ROWID;
CREATE INDEX role_assignments_holder ON role_assignments(holder_kind, holder_id);
CREATE TABLE services (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, admin INTEGER NOT NULL DEFAULT 0, url TEXT,
  info TEXT NOT NULL DEFAULT '{}', display INTEGER NOT NULL DEFAULT 1, oauth_client_id TEXT,
  oauth_redirect_uri TEXT, oauth_allowed_scopes TEXT NOT NULL DEFAULT '[]',
  oauth_no_confirm INTEGER NOT NULL DEFAULT 0, from_config INTEGER NOT NULL DEFAULT 1,
  created INTEGER NOT NULL, last_activity INTEGER);
CREATE TABLE servers (
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL, display_name TEXT NOT NULL DEFAULT '', url TEXT, started INTEGER,
  last_activity INTEGER, pending TEXT, state TEXT NOT NULL DEFAULT '{}',
  user_options TEXT NOT NULL DEFAULT '{}', UNIQUE (user_id, name));
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, prefix TEXT NOT NULL,
  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
  service_id INTEGER REFERENCES services(id) ON DELETE CASCADE,
  scopes TEXT NOT NULL DEFAULT '[]', created INTEGER NOT NULL, expires_at INTEGER, last_activity INTEGER,
  note TEXT NOT NULL DEFAULT '', session_id TEXT, client_id TEXT NOT NULL DEFAULT 'jupyterhub',
  CHECK ((user_id IS NULL) <> (service_id IS NULL)));
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE INDEX api_tokens_service ON api_tokens(service_id);
CREATE TABLE oauth_clients (
  identifier TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', secret_digest BLOB,
  redirect_uri TEXT NOT NULL DEFAULT '', allowed_scopes TEXT NOT NULL DEFAULT '[]', created INTEGER NOT NULL);
CREATE TABLE oauth_codes (
  id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE,
  client_id TEXT NOT NULL REFERENCES oauth_clients(identifier) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  scopes TEXT NOT NULL DEFAULT '[]', redirect_uri TEXT NOT NULL, session_id TEXT, expires_at INTEGER NOT NULL);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created INTEGER NOT NULL, last_activity INTEGER);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX oauth_codes_user ON oauth_codes(user_id);
)sql"},
    {2, "server sharing (JupyterHub 5): shares and share codes",
     R"sql(
CREATE TABLE shares (
  id INTEGER PRIMARY KEY, server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
  group_id INTEGER REFERENCES groups(id) ON DELETE CASCADE,
  scopes TEXT NOT NULL DEFAULT '[]', created INTEGER NOT NULL,
  CHECK ((user_id IS NULL) <> (group_id IS NULL)), UNIQUE (server_id, user_id, group_id));
CREATE TABLE share_codes (
  id INTEGER PRIMARY KEY, server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
  digest BLOB NOT NULL UNIQUE, scopes TEXT NOT NULL DEFAULT '[]', created INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, exchange_count INTEGER NOT NULL DEFAULT 0, last_exchanged_at INTEGER);
)sql"},
    {3, "JupyterHub 6: user_info on users, PKCE on OAuth codes",
     R"sql(
ALTER TABLE users ADD COLUMN user_info TEXT;
ALTER TABLE oauth_codes ADD COLUMN code_challenge TEXT;
ALTER TABLE oauth_codes ADD COLUMN code_challenge_method TEXT;
)sql"},
    // Before version 4 a server's client id joined user and server with '-' unescaped, so user "cx"'s
    // server "y" and user "cx-y"'s default server shared "jupyterhub-user-cx-y", the later spawn taking
    // over the other's redirect URI and secret. Now '-' in a name is %2D. An old id with a '-' after the
    // prefix stays only when it is a named server's under the new rule too and its redirect URI shows
    // that server registered it; every other such client goes, with its codes and its OAuth tokens
    // (which may have been issued to the wrong server); its server registers again at its next start.
    // Every id with a '-' loses its OAuth tokens: visitors of those servers log in through OAuth again.
    {4, "unambiguous server OAuth client ids: owners of OAuth clients, ambiguous clients dropped",
     R"sql(
ALTER TABLE oauth_clients ADD COLUMN owner TEXT;
CREATE TEMP TABLE v4_split AS
  SELECT identifier, redirect_uri,
         substr(substr(identifier, 17), 1, instr(substr(identifier, 17), '-') - 1) AS u,
         substr(substr(identifier, 17), instr(substr(identifier, 17), '-') + 1) AS s
  FROM oauth_clients WHERE substr(identifier, 1, 16) = 'jupyterhub-user-' AND instr(substr(identifier, 17), '-') > 0;
CREATE TEMP TABLE v4_keep AS
  SELECT identifier, u, s FROM v4_split
  WHERE u <> '' AND s <> '' AND instr(s, '-') = 0 AND instr(u, '%') = 0 AND instr(s, '%') = 0
    AND substr(redirect_uri, -length('/user/' || u || '/' || s || '/oauth_callback')) =
        '/user/' || u || '/' || s || '/oauth_callback';
DELETE FROM oauth_codes WHERE client_id IN (SELECT identifier FROM v4_split);
DELETE FROM api_tokens WHERE client_id IN (SELECT identifier FROM v4_split);
DELETE FROM oauth_clients
  WHERE identifier IN (SELECT identifier FROM v4_split) AND identifier NOT IN (SELECT identifier FROM v4_keep);
UPDATE oauth_clients SET owner = (SELECT 'access:servers!server=' || k.u || '/' || k.s FROM v4_keep k
                                  WHERE k.identifier = oauth_clients.identifier)
  WHERE identifier IN (SELECT identifier FROM v4_keep);
DROP TABLE v4_split;
DROP TABLE v4_keep;
)sql"},
    // Before version 5 a plugin's principal was a service row whose JSON info said {"hubd_plugin": true},
    // which anyone allowed to change a service's info could also write. The kind is a column now, set
    // only at start-up for the configured plugins; no info flag is trusted, so every row starts as a
    // service and the next start marks the plugins again. The flag start-up wrote is dropped, and so
    // are the tokens it minted for those rows at every start: plugin calls need no token now.
    {5, "plugin principals: services.kind ('service' or 'plugin') instead of a flag in info",
     R"sql(
ALTER TABLE services ADD COLUMN kind TEXT NOT NULL DEFAULT 'service' CHECK (kind IN ('service', 'plugin'));
DELETE FROM api_tokens WHERE note = 'hubd internal API'
  AND service_id IN (SELECT id FROM services WHERE info = '{"hubd_plugin":true}');
UPDATE services SET info = '{}' WHERE info = '{"hubd_plugin":true}';
)sql"},
};

}  // namespace

std::span<const migration> migrations() { return all; }
int latest_schema_version() { return all[std::size(all) - 1].version; }

}  // namespace hubd::core::store
