"""Only a plugin's own internal API calls carry its provenance ("plugin:NAME").

A plugin's principal was once a service row flagged {"hubd_plugin": true} in its info, and anyone
allowed to create services (admin:services) could write that flag into a service of their own and
have its changes recorded as a plugin's. The principal kind is a database column now, set only at
start-up, and a plugin's calls carry it from inside the process."""
import json
import os

import pytest

from hubd_harness import BUILD_DIR, HubProcess, logged_in, wait_until

ADMIN = "sec-provenance-admin-token-0123456789"
BORROWER = "sec-provenance-borrower-token-0123456789"
PROBE = os.path.join(BUILD_DIR, "tests", "fixtures", "plugins", "fx_api_probe.so")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    log = str(tmp_path_factory.mktemp("probe") / "events.jsonl")
    h = HubProcess(f'''
[JupyterHub]
plugin_paths = ["{PROBE}"]

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[[JupyterHub.load_roles]]
name = "role-maker"
scopes = ["admin:roles", "read:roles", "read:hub"]

[plugins.fx_api_probe]
roles = ["role-maker"]
log = "{log}"
login_calls = [{{method = "POST", path = "/roles", body = {{name = "{{name}}-made-by-plugin", scopes = ["read:hub"]}}}}]
''')
    h.events = log
    h.start()
    yield h
    h.cleanup()


def test_a_service_flagged_in_its_info_makes_changes_as_itself(hub):
    r = hub.api("POST", "/services/borrower", token=ADMIN,
                json_body={"admin": True, "info": {"hubd_plugin": True}, "api_token": BORROWER})
    assert r.status_code == 201, r.text
    assert r.json()["info"] == {"hubd_plugin": True}
    r = hub.api("POST", "/roles", token=BORROWER, json_body={"name": "borrowed", "scopes": ["read:hub"]})
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "api"


def test_the_plugin_itself_still_records_its_provenance(hub):
    logged_in(hub.url, "alice")

    def answered():
        if not os.path.exists(hub.events):
            return None
        with open(hub.events) as f:
            calls = [json.loads(line) for line in f if line.strip()]
        return next((c for c in calls if c.get("call") == "POST /roles"), None)

    call = wait_until(answered, 10, "the plugin's POST /roles")
    assert call["status"] == 201, call
    assert call["body"]["source"] == "plugin:fx_api_probe"
    # ... and no service can take the plugin's principal over the network.
    r = hub.api("POST", "/services/fx_api_probe", token=ADMIN, json_body={"info": {"hubd_plugin": True}})
    assert r.status_code == 409, r.text
