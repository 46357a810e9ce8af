"""The internal API for plugins and change events for hook plugins, against a real hubd.

The fixture plugin fx_api_probe (tests/fixtures/plugins) runs configured internal API calls inside
post_auth and logs every answer and every change event it receives to a JSON-lines file."""
import json
import os

import pytest

from hubd_harness import BUILD_DIR, HubProcess, post_login, wait_until

ADMIN_TOKEN = "internal-api-admin-token-0123456789"
FIXTURES = os.path.join(BUILD_DIR, "tests", "fixtures", "plugins", "fx_api_probe.so")


def config(log_path, roles='["user-maker"]', extra=""):
    return f'''
[JupyterHub]
plugin_paths = ["{FIXTURES}"]

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN_TOKEN}"

[[JupyterHub.load_roles]]
name = "user-maker"
scopes = ["admin:users", "read:groups"]

[plugins.fx_api_probe]
roles = {roles}
log = "{log_path}"
login_calls = [
  {{method = "GET", path = "/user"}},
  {{method = "POST", path = "/users/{{name}}-shadow"}},
  {{method = "GET", path = "/users/{{name}}-shadow"}},
  {{method = "POST", path = "/groups/{{name}}-team"}},
  {{method = "GET", path = "/users/no-such-user"}},
]
{extra}
'''


def read_log(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def wait_for(pred, path, timeout=10):
    """The event log's lines once pred(lines) holds."""
    def matching():
        lines = read_log(path)
        return lines if pred(lines) else None
    return wait_until(matching, timeout, "the event log to match")


def login(hub, user):
    return post_login(hub.url, user)[1]


@pytest.fixture()
def hub(tmp_path):
    h = HubProcess(config(str(tmp_path / "events.jsonl")))
    h.events = str(tmp_path / "events.jsonl")
    h.start()
    yield h
    h.stop()


def calls(lines):
    return {l["call"]: l for l in lines if "call" in l}


def test_internal_api_runs_under_the_plugins_roles(hub):
    assert login(hub, "alice").status_code == 302
    got = calls(wait_for(lambda ls: "GET /users/no-such-user" in calls(ls), hub.events))
    me = got["GET /user"]
    assert me["status"] == 200
    assert me["body"]["kind"] == "service" and me["body"]["name"] == "fx_api_probe"
    assert "admin:users" in me["body"]["scopes"]
    assert got["POST /users/alice-shadow"]["status"] == 201
    assert got["POST /users/alice-shadow"]["body"]["name"] == "alice-shadow"
    assert got["GET /users/alice-shadow"]["status"] == 200
    # admin:groups is not among the plugin's scopes: the same check as over the network.
    assert got["POST /groups/alice-team"]["status"] == 403
    assert got["GET /users/no-such-user"]["status"] == 404
    assert got["GET /users/no-such-user"]["body"]["status"] == 404
    # What the plugin made is really there.
    r = hub.api("GET", "/users/alice-shadow", token=ADMIN_TOKEN)
    assert r.status_code == 200
    assert hub.api("GET", "/groups/alice-team", token=ADMIN_TOKEN).status_code == 404


def test_plugin_principal_is_a_hidden_service_with_its_roles(hub):
    r = hub.api("GET", "/services/fx_api_probe", token=ADMIN_TOKEN)
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["user-maker"]
    assert r.json()["display"] is False


def test_change_events_reach_hook_plugins(hub):
    assert hub.api("POST", "/users/evan", token=ADMIN_TOKEN).status_code == 201
    assert hub.api("POST", "/groups/crew", token=ADMIN_TOKEN).status_code == 201
    r = hub.api("POST", "/groups/crew/users", token=ADMIN_TOKEN, json_body={"users": ["evan"]})
    assert r.status_code == 200, r.text
    r = hub.api("DELETE", "/groups/crew/users", token=ADMIN_TOKEN, json_body={"users": ["evan"]})
    assert r.status_code == 200, r.text
    assert hub.api("DELETE", "/users/evan", token=ADMIN_TOKEN).status_code == 204

    def events(ls):
        return [(l["point"], l["input"]) for l in ls if "point" in l]

    lines = wait_for(lambda ls: any(p == "user_deleted" for p, _ in events(ls)), hub.events)
    ev = events(lines)
    created = [i for p, i in ev if p == "user_created" and i["user"]["name"] == "evan"]
    assert created and created[0]["user"]["admin"] is False
    members = [i for p, i in ev if p == "group_members_changed" and i["group"] == "crew"]
    assert {"group": "crew", "added": ["evan"], "removed": []} in members
    assert {"group": "crew", "added": [], "removed": ["evan"]} in members
    assert ("user_deleted", {"user": {"name": "evan"}}) in ev


def test_role_events_name_the_change(hub):
    body = {"name": "viewers", "scopes": ["read:users"], "description": "see users"}
    r = hub.api("POST", "/roles", token=ADMIN_TOKEN, json_body=body)
    assert r.status_code == 201, r.text
    lines = wait_for(lambda ls: any(l.get("point") == "role_changed" and l["input"]["role"]["name"] == "viewers"
                                    for l in ls), hub.events)
    ev = [l["input"] for l in lines if l.get("point") == "role_changed" and l["input"]["role"]["name"] == "viewers"]
    assert ev[0]["change"] == "created" and ev[0]["role"]["scopes"] == ["read:users"]


def test_plugin_without_roles_gets_a_clear_403(tmp_path):
    log = str(tmp_path / "events.jsonl")
    h = HubProcess(config(log, roles="[]"))
    h.start()
    try:
        assert login(h, "bob").status_code == 302
        got = calls(wait_for(lambda ls: "GET /users/no-such-user" in calls(ls), log))
        assert got["GET /user"]["status"] == 403
        assert "roles" in got["GET /user"]["body"]["message"]
        assert got["POST /users/bob-shadow"]["status"] == 403
    finally:
        h.stop()


def test_unknown_role_for_a_plugin_stops_start_up(tmp_path):
    h = HubProcess(config(str(tmp_path / "e.jsonl"), roles='["no-such-role"]'))
    assert h.start(expect_failure=True) != 0
    assert "plugins.fx_api_probe.roles" in h.log() and "no-such-role" in h.log()


def test_restart_keeps_the_plugin_principal_and_its_roles(tmp_path):
    log = str(tmp_path / "events.jsonl")
    h = HubProcess(config(log))
    h.start()
    h.stop()
    h.start()
    try:
        r = h.api("GET", "/services/fx_api_probe", token=ADMIN_TOKEN)
        assert r.status_code == 200 and r.json()["roles"] == ["user-maker"]
        assert login(h, "carol").status_code == 302
        got = calls(wait_for(lambda ls: "POST /users/carol-shadow" in calls(ls), log))
        assert got["POST /users/carol-shadow"]["status"] == 201
    finally:
        h.stop()


def test_timed_out_post_auth_refuses_the_login(tmp_path):
    log = str(tmp_path / "events.jsonl")
    h = HubProcess(config(log, extra="timeout = 0.3\npost_auth_delay = 2.0\n"))
    h.start()
    try:
        r = login(h, "slow")
        assert r.status_code == 500 and "Login failed" in r.text
        assert "did not complete post_auth within 300 ms" in h.log()
        assert "login: refused for slow" in h.log()
        # Refused means refused: no user, no session.
        assert h.api("GET", "/users/slow", token=ADMIN_TOKEN).status_code == 404
    finally:
        h.stop()


def test_failing_event_hook_changes_nothing_else(tmp_path):
    log = str(tmp_path / "events.jsonl")
    h = HubProcess(config(log, extra="fail_events = true\n"))
    h.start()
    try:
        assert h.api("POST", "/users/ivan", token=ADMIN_TOKEN).status_code == 201
        wait_for(lambda ls: any(l.get("point") == "user_created" for l in ls), log)
        wait_until(lambda: "hook plugin fx_api_probe failed on user_created" in h.log(), 5, "the hook's failure in the log")
        assert h.api("GET", "/users/ivan", token=ADMIN_TOKEN).status_code == 200
    finally:
        h.stop()


AUTH_TO_USER = f'''
[JupyterHub]
plugin_paths = ["{FIXTURES}"]

[Authenticator]
enable_auth_state = true

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN_TOKEN}"

[[JupyterHub.load_roles]]
name = "provisioner"
scopes = ["admin:users", "admin:auth_state", "admin:groups", "admin:roles", "read:roles", "read:hub"]

[plugins.fx_api_probe]
roles = ["provisioner"]
log = "LOG"
login_calls = [
  {{method = "POST", path = "/users", body = {{usernames = ["{{name}}-Twin"]}}}},
  {{method = "POST", path = "/groups/lab", body = {{}}}},
  {{method = "POST", path = "/groups/lab/users", body = {{users = ["{{name}}-twin"]}}}},
  {{method = "POST", path = "/roles", body = {{name = "lab-reader", scopes = ["read:hub"]}}}},
  {{method = "POST", path = "/roles/lab-reader/users", body = {{users = ["{{name}}-twin"]}}}},
  {{method = "PATCH", path = "/users/{{name}}-twin", body = {{auth_state = {{access_token = "from-the-idp"}}}}}},
  {{method = "GET", path = "/users/{{name}}-twin"}},
]
'''


def test_internal_api_covers_the_auth_to_user_path(tmp_path):
    # JupyterHub's auth_to_user: normalize the name, create the user, put it in its groups, grant its
    # roles, store auth_state, read the model back: here done by a plugin through the internal API.
    log = str(tmp_path / "events.jsonl")
    key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    h = HubProcess(AUTH_TO_USER.replace("LOG", log), env={"JUPYTERHUB_CRYPT_KEY": key})
    h.start()
    try:
        assert login(h, "kim").status_code == 302
        got = calls(wait_for(lambda ls: "GET /users/kim-twin" in calls(ls), log))
        assert got["POST /users"]["status"] == 201
        assert [u["name"] for u in got["POST /users"]["body"]] == ["kim-twin"]  # normalized
        assert got["POST /groups/lab/users"]["status"] == 200
        assert got["POST /roles"]["status"] == 201 and got["POST /roles"]["body"]["source"] == "plugin:fx_api_probe"
        assert got["POST /roles/lab-reader/users"]["status"] == 200
        assert got["PATCH /users/kim-twin"]["status"] == 200, got["PATCH /users/kim-twin"]
        model = got["GET /users/kim-twin"]["body"]
        assert model["groups"] == ["lab"] and sorted(model["roles"]) == ["lab-reader", "user"]
        assert model["auth_state"] == {"access_token": "from-the-idp"}
        # The membership and the grant record the plugin as their source (provenance).
        assert h.api("GET", "/roles/lab-reader", token=ADMIN_TOKEN).json()["users"] == ["kim-twin"]
    finally:
        h.stop()
