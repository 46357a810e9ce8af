#!/usr/bin/env python3
"""Prepares a private Glewlwyd (Debian package `glewlwyd`) in DIR as a test OpenID provider.

    OIDC_PORT=9080 HUB_REDIRECT_URI=http://127.0.0.1:8000/hub/oauth_callback python3 seed.py DIR
    glewlwyd --config-file DIR/glewlwyd.conf

Writes DIR/glewlwyd.conf, DIR/glewlwyd.db (sqlite; OIDC_DB_PATH puts it elsewhere, on a tmpfs say:
Glewlwyd commits every token, and each commit waits for the disk), DIR/key.pem and DIR/cert.pem (RS256 signing key,
kept when DIR already has one), and DIR/webapp (a copy of the login web app with a real config.json:
Debian's is a symlink to a directory, so the login page never starts). Prints the issuer,
http://127.0.0.1:OIDC_PORT/api/oidc. Knobs are environment variables; tests/support/oidc/README.md
lists them.

Glewlwyd keeps all of its configuration in the database: the OpenID Connect plugin instance, the
scopes, the users, the client and the grants below are rows written here."""
import base64
import gzip
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import string
import subprocess
import sys

SCHEMAS = ("/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz",
           # The docs may be stripped from the image (path-exclude); dbconfig-common's copy stays.
           "/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3")
WEBAPP = "/usr/share/glewlwyd/webapp"
MODULES = "/usr/lib/glewlwyd"

CLIENT_ID = "hub-client"
CLIENT_SECRET = "hub-secret"
SCOPES = ("openid", "profile", "email", "groups")
USERS = {
    "alice": ("alice-pw", "Alice", ["hub-users", "hub-admins"]),
    "bob": ("bob-pw", "Bob", ["hub-users"]),
}


def fail(message):
    print(f"seed.py: {message}", file=sys.stderr)
    sys.exit(2)


def env_int(name, default):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or int(raw) <= 0:
        fail(f"{name} must be a positive whole number of seconds, got {raw!r}")
    return int(raw)


def env_choice(name, default, choices):
    raw = os.environ.get(name, "") or default
    if raw not in choices:
        fail(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def glewlwyd_password(password, iterations=1000):
    """Glewlwyd's PBKDF2 format: base64(PBKDF2-HMAC-SHA256(password, salt, iterations, 32) + salt)
    with a 16-character alphanumeric salt (it is read back as a C string), and ",iterations" after
    it unless the count is Glewlwyd's default of 1000."""
    salt = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16)).encode()
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations, 32)
    encoded = base64.b64encode(digest + salt).decode()
    return encoded if iterations == 1000 else f"{encoded},{iterations}"


def schema_sql():
    for path in SCHEMAS:
        if os.path.exists(path):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as f:
                return f.read()
    fail("no Glewlwyd sqlite schema found (is the glewlwyd package installed?): looked at " + ", ".join(SCHEMAS))


def signing_key(workdir):
    key, pub = os.path.join(workdir, "key.pem"), os.path.join(workdir, "cert.pem")
    if not os.path.exists(key):
        subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
        os.chmod(key, 0o600)
    if not os.path.exists(pub):
        subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
    with open(key) as k, open(pub) as p:
        return k.read(), p.read()


def oidc_parameters(issuer, key, cert, at_ttl, rt_ttl, one_use, rolling):
    """The OpenID Connect plugin instance. What is left out keeps the plugin's default."""
    return {
        "iss": issuer,
        "jwt-type": "rsa",
        "jwt-key-size": "256",
        "key": key,
        "cert": cert,
        "access-token-duration": at_ttl,
        "refresh-token-duration": rt_ttl,
        "code-duration": 60,
        "refresh-token-rolling": rolling,
        "refresh-token-one-use": one_use,
        "client-refresh-token-one-use-parameter": "refresh-token-one-use",
        "allow-non-oidc": False,
        "auth-type-code-enabled": True,
        "auth-type-code-revoke-replayed": False,
        "auth-type-token-enabled": False,
        "auth-type-id-token-enabled": True,
        "auth-type-none-enabled": False,
        "auth-type-password-enabled": False,
        "auth-type-client-enabled": False,
        "auth-type-device-enabled": False,
        "auth-type-refresh-enabled": True,
        "scope": [],
        "additional-parameters": [],
        "claims": [
            {"name": "preferred_username", "user-property": "username", "type": "string", "mandatory": False,
             "on-demand": False, "scope": ["profile"]},
            {"name": "groups", "user-property": "groups", "type": "string", "mandatory": False,
             "on-demand": False, "scope": ["groups"]},
        ],
        "name-claim": "on-demand",
        "name-claim-scope": ["profile"],
        "email-claim": "on-demand",
        "email-claim-scope": ["email"],
        "scope-claim": "no",
        "address-claim": {"type": "no", "mandatory": False},
        "allowed-scope": list(SCOPES),
        "secret-type": "pairwise",
        "jwks-show": True,
        "request-parameter-allow": False,
        "pkce-allowed": True,
        "pkce-method-plain-allowed": False,
        "introspection-revocation-allowed": True,
        "introspection-revocation-auth-scope": [],
        "introspection-revocation-allow-target-client": True,
        "register-client-allowed": False,
        # Leaving session management on needs session-cookie-name and -expiration too, or the plugin
        # fails to load and every /api/oidc URL is a 404.
        "session-management-allowed": False,
        "front-channel-logout-allowed": False,
        "back-channel-logout-allowed": False,
        "encrypt-out-token-allow": False,
        "oauth-dpop-allowed": False,
        "resource-allowed": False,
        "oauth-rar-allowed": False,
        "oauth-par-allowed": False,
        "oauth-ciba-allowed": False,
    }


def write_database(path, params, redirect_uris, preconsent):
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path)
    try:
        # Written once and thrown away with the folder: no need to wait for the disk on each statement.
        db.execute("PRAGMA synchronous=OFF")
        db.executescript("BEGIN;\n" + schema_sql() + "\nCOMMIT;")
        with db:
            db.execute("INSERT INTO g_plugin_module_instance (gpmi_module, gpmi_name, gpmi_display_name, gpmi_parameters) "
                       "VALUES ('oidc', 'oidc', 'OpenID Connect', ?)", (json.dumps(params),))
            # The user database module returns only the properties its data-format lists.
            row = db.execute("SELECT gumi_parameters FROM g_user_module_instance WHERE gumi_name='database'").fetchone()
            user_module = json.loads(row[0])
            user_module["data-format"]["groups"] = {"multiple": True, "read": True, "write": True,
                                                    "profile-read": True, "profile-write": False}
            db.execute("UPDATE g_user_module_instance SET gumi_parameters=? WHERE gumi_name='database'",
                       (json.dumps(user_module),))
            # A scope that needs the password makes the login page ask for it.
            db.execute("UPDATE g_scope SET gs_password_required=1 WHERE gs_name='openid'")
            for scope in SCOPES[1:]:
                db.execute("INSERT INTO g_scope (gs_name, gs_display_name, gs_description, gs_password_required, "
                           "gs_password_max_age) VALUES (?, ?, ?, 1, 0)", (scope, scope, f"OpenID Connect {scope}"))
            for scope in SCOPES:
                db.execute("INSERT OR IGNORE INTO g_user_scope (gus_name) VALUES (?)", (scope,))
            for name, (password, display, groups) in USERS.items():
                cur = db.execute("INSERT INTO g_user (gu_username, gu_name, gu_email, gu_enabled) VALUES (?, ?, ?, 1)",
                                 (name, display, f"{name}@example.test"))
                uid = cur.lastrowid
                db.execute("INSERT INTO g_user_password (gu_id, guw_password) VALUES (?, ?)",
                           (uid, glewlwyd_password(password)))
                for scope in SCOPES:
                    db.execute("INSERT INTO g_user_scope_user (gu_id, gus_id) "
                               "SELECT ?, gus_id FROM g_user_scope WHERE gus_name=?", (uid, scope))
                for g in groups:
                    db.execute("INSERT INTO g_user_property (gu_id, gup_name, gup_value) VALUES (?, 'groups', ?)",
                               (uid, g))
                if preconsent:
                    # What the consent page's "Grant access" stores: the client may have these scopes.
                    for scope in SCOPES:
                        db.execute("INSERT INTO g_client_user_scope (gs_id, gcus_username, gcus_client_id) "
                                   "SELECT gs_id, ?, ? FROM g_scope WHERE gs_name=?", (name, CLIENT_ID, scope))
            cur = db.execute("INSERT INTO g_client (gc_client_id, gc_name, gc_description, gc_confidential, gc_password, "
                             "gc_enabled) VALUES (?, 'JupyterHub', 'hubd under test', 1, ?, 1)",
                             (CLIENT_ID, glewlwyd_password(CLIENT_SECRET)))
            cid = cur.lastrowid
            properties = [("redirect_uri", u) for u in redirect_uris]
            properties += [("authorization_type", t) for t in ("code", "refresh_token", "delete_token")]
            # Without this property the token exchange fails with 403 unauthorized_client.
            properties += [("token_endpoint_auth_method", m) for m in ("client_secret_basic", "client_secret_post")]
            for name, value in properties:
                db.execute("INSERT INTO g_client_property (gc_id, gcp_name, gcp_value) VALUES (?, ?, ?)",
                           (cid, name, value))
    finally:
        db.close()


# Glewlwyd's static file server sends a file only when its extension has a type here.
MIME_TYPES = {".html": "text/html", ".css": "text/css", ".js": "application/javascript",
              ".json": "application/json", ".png": "image/png", ".jpg": "image/jpeg", ".svg": "image/svg+xml",
              ".ico": "image/x-icon", ".ttf": "font/ttf", ".woff": "font/woff", ".woff2": "font/woff2",
              ".otf": "font/otf", ".eot": "application/vnd.ms-fontobject"}


def libconfig_str(s):
    return json.dumps(s)


def write_config(workdir, db_path, port, log_level):
    mime = ",\n".join(f"  {{ extension = {libconfig_str(ext)}\n    mime_type = {libconfig_str(t)} }}"
                      for ext, t in MIME_TYPES.items())
    # No use_secure_connection key at all: when present, even as false, Glewlwyd looks for
    # certificate files and refuses to start without them.
    text = f"""# Written by seed.py for a test run; removed with its folder.
port={port}
bind_address="127.0.0.1"
external_url="http://127.0.0.1:{port}"
login_url="login.html"
api_prefix="api"
static_files_path={libconfig_str(os.path.join(workdir, "webapp"))}
allow_origin="*"
log_mode="console"
log_level={libconfig_str(log_level)}
cookie_secure=0
cookie_same_site="empty"
session_expiration=86400
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
add_x_frame_option_header_deny=true
max_post_size=65536
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="{MODULES}/user"
client_module_path="{MODULES}/client"
user_auth_scheme_module_path="{MODULES}/scheme"
plugin_module_path="{MODULES}/plugin"
hash_algorithm="SHA512"
database =
{{
  type = "sqlite3"
  path = {libconfig_str(db_path)}
}};
static_files_mime_types =
(
{mime}
);
"""
    with open(os.path.join(workdir, "glewlwyd.conf"), "w") as f:
        f.write(text)


def write_webapp(workdir):
    dest = os.path.join(workdir, "webapp")
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    # Copies, not symlinks: the static file server answers 404 for a symlink.
    shutil.copytree(WEBAPP, dest, symlinks=False,
                    ignore=lambda d, names: ["config.json"] if os.path.samefile(d, WEBAPP) else [])
    config = {
        "GlewlwydUrl": "./",
        "ProfileUrl": "profile.html",
        "AdminUrl": "index.html",
        "LoginUrl": "login.html",
        "CallbackPage": "callback.html",
        "PasswordMinLength": 8,
        "lang": ["en"],
        "defaultScheme": "",
        "pattern": {"user": [], "client": []},
        "sessionSchemes": [],
        "profilePicture": {},
        "register": [],
        "register-complete": [],
        "providerMainstreamList": [],
    }
    with open(os.path.join(dest, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


def main():
    if len(sys.argv) != 2:
        fail("usage: seed.py DIR")
    workdir = os.path.abspath(sys.argv[1])
    os.makedirs(workdir, exist_ok=True)
    port = env_int("OIDC_PORT", 0)
    if not port:
        fail("OIDC_PORT is required (Glewlwyd must know its URL before it starts)")
    at_ttl = env_int("OIDC_AT_TTL", 60)
    rt_ttl = env_int("OIDC_RT_TTL", 3600)
    preconsent = env_choice("OIDC_PRECONSENT", "1", ("0", "1")) == "1"
    one_use = env_choice("OIDC_RT_ONE_USE", "never", ("never", "always", "client-driven"))
    rolling = env_choice("OIDC_RT_ROLLING", "0", ("0", "1")) == "1"
    log_level = env_choice("GLEWLWYD_LOG_LEVEL", "WARNING", ("NONE", "ERROR", "WARNING", "INFO", "DEBUG"))
    redirect_uris = [u.strip() for u in os.environ.get("HUB_REDIRECT_URI",
                                                       "http://127.0.0.1:8000/hub/oauth_callback").split(",")
                     if u.strip()]
    issuer = f"http://127.0.0.1:{port}/api/oidc"

    key, cert = signing_key(workdir)
    db_path = os.path.abspath(os.environ.get("OIDC_DB_PATH") or os.path.join(workdir, "glewlwyd.db"))
    if not (os.environ.get("OIDC_KEEP_DB") == "1" and os.path.exists(db_path)):
        write_database(db_path, oidc_parameters(issuer, key, cert, at_ttl, rt_ttl, one_use, rolling),
                       redirect_uris, preconsent)
    write_config(workdir, db_path, port, log_level)
    write_webapp(workdir)
    print(issuer)


if __name__ == "__main__":
    main()
