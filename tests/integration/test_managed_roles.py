"""Authenticator-managed roles and groups at login against a real hubd.

The roles come from the auth model: the fixture hook plugin fx_api_probe patches the auth model in
post_auth (`patch = {roles = [...]}`), as an authenticator returning roles would."""
import os

import pytest

from hubd_harness import BUILD_DIR, HubProcess, post_login

ADMIN = "managed-roles-admin-token-0123456789"
FIXTURE = os.path.join(BUILD_DIR, "tests", "fixtures", "plugins", "fx_api_probe.so")


def config(tmp_path, roles, keep_default=False, extra=""):
    return f'''
[JupyterHub]
plugin_paths = ["{FIXTURE}"]

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[Authenticator]
manage_roles = true
manage_groups = true
keep_default_roles = {"true" if keep_default else "false"}

[plugins.dummy]
groups = {{ alice = ["lab"], bob = ["lab"] }}

[plugins.fx_api_probe]
log = "{tmp_path}/probe.jsonl"
patch = {{ roles = {roles} }}
{extra}
'''


def login(hub, user):
    return post_login(hub.url, user)


def whoami(hub, session):
    return session.get(hub.api_url + "/user").json()


@pytest.fixture()
def make_hub(tmp_path):
    hubs = []

    def make(*args, **kw):
        h = HubProcess(config(tmp_path, *args, **kw))
        h.start()
        hubs.append(h)
        return h

    yield make
    for h in hubs:
        h.stop()


ANALYST = '[{name = "analyst", scopes = ["read:users:name"], description = "from the IdP"}]'
ANALYST_AND_USER = '[{name = "user"}, {name = "analyst", scopes = ["read:users:name"]}]'


def test_managed_roles_replace_the_default_role_with_a_warning(make_hub):
    hub = make_hub(ANALYST)
    assert "keep_default_roles" in hub.log() and "Authenticator.manage_roles" in hub.log()
    s, r = login(hub, "alice")
    assert r.status_code == 302, r.text
    me = hub.api("GET", "/users/alice", token=ADMIN).json()
    assert me["roles"] == ["analyst"]
    assert "holds no role granting 'self'" in hub.log() and "alice" in hub.log()
    role = hub.api("GET", "/roles/analyst", token=ADMIN).json()
    assert role["source"] == "authenticator" and role["description"] == "from the IdP"
    # Groups are managed too: the identity source's list.
    assert me["groups"] == ["lab"]


def test_listing_user_keeps_self(make_hub):
    hub = make_hub(ANALYST_AND_USER)
    s, r = login(hub, "bob")
    assert r.status_code == 302
    assert sorted(hub.api("GET", "/users/bob", token=ADMIN).json()["roles"]) == ["analyst", "user"]
    assert "access:servers!user=bob" in whoami(hub, s)["scopes"]
    assert "holds no role granting 'self'" not in hub.log()


def test_keep_default_roles(make_hub):
    hub = make_hub(ANALYST, keep_default=True)
    assert "leaves that user without 'self'" not in hub.log()
    s, r = login(hub, "carol")
    assert r.status_code == 302
    assert sorted(hub.api("GET", "/users/carol", token=ADMIN).json()["roles"]) == ["analyst", "user"]
    assert "holds no role granting 'self'" not in hub.log()


def test_rest_api_refuses_managed_changes_and_keeps_api_grants(make_hub):
    hub = make_hub(ANALYST_AND_USER)
    login(hub, "alice")
    r = hub.api("PATCH", "/roles/analyst", token=ADMIN, json_body={"description": "mine now"})
    assert r.status_code == 400 and "authenticator" in r.json()["message"]
    r = hub.api("DELETE", "/roles/analyst/users", token=ADMIN, json_body={"users": ["alice"]})
    assert r.status_code == 400 and "authenticator" in r.json()["message"]
    assert hub.api("DELETE", "/roles/analyst", token=ADMIN).status_code == 400
    # The group the authenticator fills is read-only through the API ...
    r = hub.api("POST", "/groups/lab/users", token=ADMIN, json_body={"users": ["alice"]})
    assert r.status_code == 400 and "managed by the authenticator" in r.json()["message"]
    # ... while an API-made role grant survives the next login (provenance).
    hub.api("POST", "/roles", token=ADMIN, json_body={"name": "extra", "scopes": ["read:hub"]})
    assert hub.api("POST", "/roles/extra/users", token=ADMIN, json_body={"users": ["alice"]}).status_code == 200
    login(hub, "alice")
    assert sorted(hub.api("GET", "/users/alice", token=ADMIN).json()["roles"]) == ["analyst", "extra", "user"]


def test_dropped_role_is_stripped_and_deleted(make_hub, tmp_path):
    hub = make_hub(ANALYST_AND_USER)
    login(hub, "dave")
    hub.stop()
    hub2 = HubProcess(config(tmp_path, '[{name = "user"}]'), workdir=hub.workdir)
    hub2.start()
    try:
        login(hub2, "dave")
        assert hub2.api("GET", "/users/dave", token=ADMIN).json()["roles"] == ["user"]
        # Nobody else held the managed role and the config does not define it: it is gone.
        assert hub2.api("GET", "/roles/analyst", token=ADMIN).status_code == 404
    finally:
        hub2.stop()


def test_invalid_managed_role_fails_the_login(make_hub):
    hub = make_hub('[{name = "user"}, {name = "bad", scopes = ["read:nothing"]}]')
    _, r = login(hub, "erin")
    assert r.status_code == 409
    assert hub.api("GET", "/roles/bad", token=ADMIN).status_code == 404


def startup_config(tmp_path, managed, reset):
    return f'''
[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[Authenticator]
manage_roles = true
keep_default_roles = true
reset_managed_roles_on_startup = {"true" if reset else "false"}

[plugins.dummy]
managed_roles = {managed}
'''


def test_load_managed_roles_at_startup_and_reset(tmp_path):
    first = '[{name = "graders", scopes = ["read:users:name"], users = ["gina", "hal"]}, {name = "old", scopes = ["read:hub"], users = ["gina"]}]'
    h = HubProcess(startup_config(tmp_path, first, reset=False))
    h.start()
    try:
        r = h.api("GET", "/roles/graders", token=ADMIN).json()
        assert r["source"] == "authenticator" and r["users"] == ["gina", "hal"]
        assert h.api("GET", "/roles/old", token=ADMIN).status_code == 200
    finally:
        h.stop()
    # The next start returns graders without hal and no longer returns old: with reset, both go.
    second = '[{name = "graders", users = ["gina"]}]'
    h2 = HubProcess(startup_config(tmp_path, second, reset=True), workdir=h.workdir)
    h2.start()
    try:
        r = h2.api("GET", "/roles/graders", token=ADMIN).json()
        assert r["users"] == ["gina"] and r["scopes"] == ["read:users:name"]  # left-out scopes are kept
        assert h2.api("GET", "/roles/old", token=ADMIN).status_code == 404
    finally:
        h2.stop()


def test_bad_managed_role_stops_startup(tmp_path):
    h = HubProcess(startup_config(tmp_path, '[{name = "bad", scopes = ["read:nothing"]}]', reset=False))
    assert h.start(expect_failure=True) != 0
    assert "load_managed_roles" in h.log() and "read:nothing" in h.log()
