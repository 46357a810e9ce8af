"""OAuth client ids of user servers are unambiguous.

User "cx" with a named server "y" and user "cx-y" with a default server once shared one client id
(jupyterhub-user-cx-y): the later spawn took over the other's redirect URI and secret, and a link
with cx's redirect URI made cx-y's browser hand cx's server a code (no consent: "own server") that
it redeemed for access to cx-y's server. Now each server has its own client."""
import os
import re
import shutil
import tempfile

import pytest
import requests

from hubd_harness import HubProcess, logged_in, wait_until

ADMIN = "sec-oauth-admin-token-0123456789"
SINGLEUSER = shutil.which("jupyterhub-singleuser")
pytestmark = pytest.mark.skipif(not SINGLEUSER, reason="needs jupyterhub-singleuser")


@pytest.fixture(scope="module")
def hub():
    workdir = tempfile.mkdtemp(prefix="hubd-sec-oauth-")
    h = HubProcess(f'''
[JupyterHub]
allow_named_servers = true

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[Spawner]
start_timeout = 30
http_timeout = 30

[plugins.local]
home_dir_template = "{workdir}/users/{{username}}"
term_timeout = 3

[plugins.dummy]
password = "secret"
''', workdir=workdir)
    h.start()
    yield h
    h.stop(timeout=30)


def admin(hub, method, path, body=None):
    return hub.api(method, path, token=ADMIN, json_body=body)


def wait_ready(hub, user, name):
    def ready_server():
        server = admin(hub, "GET", f"/users/{user}").json().get("servers", {}).get(name, {})
        return server if server.get("ready") else None
    return wait_until(ready_server, 60, f"{user}/{name} to be ready")


def environ_of(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(kv.split("=", 1) for kv in f.read().decode().split("\0") if "=" in kv)


def login(hub, user):
    return logged_in(hub.url, user, "secret", timeout=10)


def authorize(session, hub, client_id, redirect_uri):
    return session.get(hub.url + "hub/api/oauth2/authorize",
                       params={"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code"},
                       allow_redirects=False, timeout=10)


def redeem(hub, client_id, secret, code, redirect_uri):
    return requests.post(hub.api_url + "/oauth2/token",
                         data={"grant_type": "authorization_code", "client_id": client_id, "client_secret": secret,
                               "code": code, "redirect_uri": redirect_uri}, timeout=10)


def code_of(r):
    m = re.search(r"[?&]code=([^&]+)", r.headers.get("Location", ""))
    return m.group(1) if m else None


def test_default_and_named_servers_do_not_share_a_client(hub):
    assert admin(hub, "POST", "/users", {"usernames": ["cx", "cx-y"]}).status_code == 201
    # The victim's server first; the attacker's named server spawns second and used to take over the client.
    assert admin(hub, "POST", "/users/cx-y/server").status_code in (201, 202)
    victim = environ_of(wait_ready(hub, "cx-y", "")["state"]["pid"])
    assert admin(hub, "POST", "/users/cx/servers/y").status_code in (201, 202)
    attacker = environ_of(wait_ready(hub, "cx", "y")["state"]["pid"])

    assert victim["JUPYTERHUB_CLIENT_ID"] != attacker["JUPYTERHUB_CLIENT_ID"]
    assert victim["JUPYTERHUB_CLIENT_ID"] == "jupyterhub-user-cx%2Dy"
    assert attacker["JUPYTERHUB_CLIENT_ID"] == "jupyterhub-user-cx-y"
    victim_cb = victim["JUPYTERHUB_OAUTH_CALLBACK_URL"]
    attacker_cb = attacker["JUPYTERHUB_OAUTH_CALLBACK_URL"]
    assert (victim_cb, attacker_cb) == ("/user/cx-y/oauth_callback", "/user/cx/y/oauth_callback")

    s = login(hub, "cx-y")
    # The attacker's link: the victim's client id, the attacker's redirect URI. No code goes anywhere.
    r = authorize(s, hub, victim["JUPYTERHUB_CLIENT_ID"], attacker_cb)
    assert r.status_code == 400, (r.status_code, r.headers.get("Location"))
    assert code_of(r) is None

    # The victim's own server still works: its redirect URI and its secret are its own.
    r = authorize(s, hub, victim["JUPYTERHUB_CLIENT_ID"], victim_cb)
    assert r.status_code == 302 and r.headers["Location"].startswith(victim_cb + "?"), r.headers.get("Location")
    code = code_of(r)
    # The attacker's server, with its own secret, cannot redeem the victim's code.
    bad = redeem(hub, attacker["JUPYTERHUB_CLIENT_ID"], attacker["JUPYTERHUB_API_TOKEN"], code, victim_cb)
    assert bad.status_code in (400, 401, 403), bad.text
    # The victim's server redeems a code with its own secret.
    code = code_of(authorize(s, hub, victim["JUPYTERHUB_CLIENT_ID"], victim_cb))
    ok = redeem(hub, victim["JUPYTERHUB_CLIENT_ID"], victim["JUPYTERHUB_API_TOKEN"], code, victim_cb)
    assert ok.status_code == 200, ok.text
    who = hub.api("GET", "/user", token=ok.json()["access_token"]).json()
    assert who["name"] == "cx-y"
    assert "access:servers!server=cx-y/" in who["scopes"]

    # Asking for the attacker's server as cx-y: that is a foreign server, so not silently granted.
    r = authorize(s, hub, attacker["JUPYTERHUB_CLIENT_ID"], attacker_cb)
    assert code_of(r) is None, r.headers.get("Location")
