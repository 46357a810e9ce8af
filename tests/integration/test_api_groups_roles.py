"""Black-box tests of the groups, services and roles endpoints against a real hubd:
success paths, permission failures with and without filters, and bad input."""
import pytest
import requests

import openapi_schema
from hubd_harness import HubProcess

ADMIN = "groups-roles-admin-token-0123456789"
GROUPER = "groups-roles-grouper-token-0123456789"  # groups!group=team-a only
ROLER = "groups-roles-roler-token-0123456789"      # admin:roles and read:users, nothing else

CONFIG = f'''
[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[[JupyterHub.services]]
name = "grouper"
api_token = "{GROUPER}"

[[JupyterHub.services]]
name = "roler"
api_token = "{ROLER}"

[[JupyterHub.load_roles]]
name = "team-a-manager"
scopes = ["groups!group=team-a", "read:groups!group=team-a", "list:groups!group=team-a"]
services = ["grouper"]

[[JupyterHub.load_roles]]
name = "role-maker"
scopes = ["admin:roles", "read:roles", "read:users"]
services = ["roler"]

[[JupyterHub.load_roles]]
name = "from-config"
scopes = ["read:hub"]
'''


@pytest.fixture(scope="module")
def hub():
    h = HubProcess(CONFIG)
    h.start()
    r = h.api("POST", "/users", token=ADMIN, json_body={"usernames": ["ann", "ben", "cat"]})
    assert r.status_code == 201, r.text
    yield h
    h.stop()


def api(hub, method, path, token=ADMIN, body=None, **kw):
    return hub.api(method, path, token=token, json_body=body, **kw)


# ---- groups ----

def test_group_lifecycle(hub):
    r = api(hub, "POST", "/groups/team-a", body={"users": ["ann"]})
    assert r.status_code == 201, r.text
    openapi_schema.validate(r.json(), "Group")
    assert r.json()["users"] == ["ann"]
    assert api(hub, "POST", "/groups/team-a").status_code == 409
    r = api(hub, "POST", "/groups/team-a/users", body={"users": ["ben", "Ben"]})
    assert r.status_code == 200 and r.json()["users"] == ["ann", "ben"]
    r = api(hub, "PUT", "/groups/team-a/properties", body={"lab": "x1"})
    assert r.status_code == 200 and r.json()["properties"] == {"lab": "x1"}
    r = api(hub, "DELETE", "/groups/team-a/users", body={"users": ["ann"]})
    assert r.status_code == 200 and r.json()["users"] == ["ben"]
    r = api(hub, "GET", "/groups/team-a")
    assert r.status_code == 200
    openapi_schema.validate(r.json(), "Group")
    # Membership shows on the user model at once.
    assert "team-a" in api(hub, "GET", "/users/ben").json()["groups"]


def test_bulk_create_and_listing(hub):
    r = api(hub, "POST", "/groups", body={"groups": ["bulk-1", "bulk-2"], "users": ["cat"]})
    assert r.status_code == 201, r.text
    assert [g["name"] for g in r.json()] == ["bulk-1", "bulk-2"]
    assert all(g["users"] == ["cat"] for g in r.json())
    # One existing group: those before it are created, then 409.
    r = api(hub, "POST", "/groups", body={"groups": ["bulk-3", "bulk-1", "bulk-4"]})
    assert r.status_code == 409
    assert api(hub, "GET", "/groups/bulk-3").status_code == 200
    assert api(hub, "GET", "/groups/bulk-4").status_code == 404
    r = api(hub, "GET", "/groups", headers={"Accept": "application/jupyterhub-pagination+json"},
            params={"limit": 2})
    assert r.status_code == 200
    body = r.json()
    assert len(body["items"]) == 2 and body["_pagination"]["total"] >= 4
    openapi_schema.validate_list(body["items"], "Group")
    for bad in ({"groups": []}, {"users": ["ann"]}, {"groups": ["x"], "extra": 1}, {"groups": ["y"], "users": ["nobody"]}):
        assert api(hub, "POST", "/groups", body=bad).status_code == 400, bad


def test_group_bad_input(hub):
    api(hub, "POST", "/groups/bad-input")
    assert api(hub, "POST", "/groups/bad-input/users", body={}).status_code == 400
    assert api(hub, "POST", "/groups/bad-input/users", body={"users": ["ghost"]}).status_code == 400
    assert api(hub, "POST", "/groups/bad-input/users", body={"users": "ann"}).status_code == 400
    assert api(hub, "PUT", "/groups/bad-input/properties", body=["not", "an", "object"]).status_code == 400
    r = hub.api("POST", "/groups/bad-input/users", token=ADMIN, data="{nope",
                headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["message"] == "Invalid JSON in body of request"
    assert api(hub, "POST", "/groups/no-such/users", body={"users": ["ann"]}).status_code == 404
    assert api(hub, "DELETE", "/groups/no-such").status_code == 404
    # The group never changed.
    assert api(hub, "GET", "/groups/bad-input").json()["users"] == []


def test_group_permissions_with_filters(hub):
    api(hub, "POST", "/groups/team-a")
    api(hub, "POST", "/groups/team-b")
    # groups!group=team-a: may change team-a's members, not team-b's (404, as if it did not exist).
    assert api(hub, "POST", "/groups/team-a/users", token=GROUPER, body={"users": ["cat"]}).status_code == 200
    assert api(hub, "POST", "/groups/team-b/users", token=GROUPER, body={"users": ["cat"]}).status_code == 404
    # No admin:groups at all: 403.
    assert api(hub, "POST", "/groups/team-c", token=GROUPER).status_code == 403
    assert api(hub, "DELETE", "/groups/team-a", token=GROUPER).status_code == 403
    # The listing is post-filtered.
    r = api(hub, "GET", "/groups", token=GROUPER)
    assert r.status_code == 200 and [g["name"] for g in r.json()] == ["team-a"]
    # No credentials: 403, never 401.
    assert hub.api("GET", "/groups").status_code == 403


def test_delete_group(hub):
    api(hub, "POST", "/groups/doomed", body={"users": ["ann"]})
    r = api(hub, "DELETE", "/groups/doomed")
    assert r.status_code == 204
    assert api(hub, "GET", "/groups/doomed").status_code == 404
    assert "doomed" not in api(hub, "GET", "/users/ann").json()["groups"]


# ---- services ----

def test_services(hub):
    r = api(hub, "GET", "/services")
    assert r.status_code == 200 and isinstance(r.json(), dict)
    assert {"admin-svc", "grouper", "roler"} <= set(r.json())
    for s in r.json().values():
        openapi_schema.validate(s, "Service")
    r = api(hub, "POST", "/services/runtime-svc", body={"url": "http://127.0.0.1:9/", "api_token": "runtime-svc-token-123"})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "runtime-svc"
    assert hub.api("GET", "/user", token="runtime-svc-token-123").json()["name"] == "runtime-svc"
    assert api(hub, "POST", "/services/runtime-svc").status_code == 409
    assert api(hub, "POST", "/services/bad", body={"command": ["sleep", "1"]}).status_code == 400
    assert api(hub, "POST", "/services/bad", body={"nope": 1}).status_code == 400
    assert api(hub, "DELETE", "/services/admin-svc").status_code == 405
    assert api(hub, "DELETE", "/services/runtime-svc").status_code == 200
    assert api(hub, "GET", "/services/runtime-svc").status_code == 404
    assert hub.api("GET", "/user", token="runtime-svc-token-123").status_code == 403
    # A non-admin may not create an admin service; allowed scopes beyond its own are refused.
    assert api(hub, "POST", "/services/x", token=ROLER).status_code == 403
    assert api(hub, "GET", "/services", token=GROUPER).status_code == 403


# ---- roles ----

def test_role_lifecycle_takes_effect_at_once(hub):
    tok = api(hub, "POST", "/users/cat/tokens", body={"note": "live"}).json()["token"]
    assert hub.api("GET", "/users", token=tok).status_code == 403
    r = api(hub, "POST", "/roles", body={"name": "user-lister", "scopes": ["list:users", "read:users:name"],
                                         "description": "list users"})
    assert r.status_code == 201, r.text
    openapi_schema.validate(r.json(), "Role")
    assert r.json()["source"] == "api"
    assert api(hub, "POST", "/roles/user-lister/users", body={"users": ["cat"]}).status_code == 200
    # The live token of cat (scope inherit) can list users now, without a restart or a new token.
    r = hub.api("GET", "/users", token=tok)
    assert r.status_code == 200 and {"ann", "ben", "cat"} <= {u["name"] for u in r.json()}
    r = api(hub, "GET", "/roles/user-lister")
    assert r.json()["users"] == ["cat"]
    openapi_schema.validate(r.json(), "Role")
    assert api(hub, "DELETE", "/roles/user-lister/users", body={"users": ["cat"]}).status_code == 200
    assert hub.api("GET", "/users", token=tok).status_code == 403
    r = api(hub, "PATCH", "/roles/user-lister", body={"description": "changed", "scopes": ["list:users"]})
    assert r.status_code == 200 and r.json()["scopes"] == ["list:users"]
    assert api(hub, "DELETE", "/roles/user-lister").status_code == 204
    assert api(hub, "GET", "/roles/user-lister").status_code == 404


def test_roles_listing_and_provenance(hub):
    r = api(hub, "GET", "/roles")
    assert r.status_code == 200
    by_name = {x["name"]: x for x in r.json()}
    for x in r.json():
        openapi_schema.validate(x, "Role")
    assert by_name["user"]["source"] == "default"
    assert by_name["from-config"]["source"] == "config"
    assert "admin:roles" in api(hub, "GET", "/roles/admin").json()["scopes"]
    # Config and default roles are changed in the config, not here.
    r = api(hub, "PATCH", "/roles/from-config", body={"description": "x"})
    assert r.status_code == 400 and "config" in r.json()["message"]
    assert api(hub, "DELETE", "/roles/from-config").status_code == 400
    assert api(hub, "DELETE", "/roles/user").status_code == 400
    assert api(hub, "PATCH", "/roles/user", body={"scopes": ["read:hub"]}).status_code == 400


def test_role_bad_input(hub):
    assert api(hub, "POST", "/roles", body={"name": "Bad Name", "scopes": []}).status_code == 400
    r = api(hub, "POST", "/roles", body={"name": "bad-scope", "scopes": ["read:nothing"]})
    assert r.status_code == 400 and "read:nothing" in r.json()["message"]
    assert api(hub, "POST", "/roles", body={"name": "bad-filter", "scopes": ["read:users!bogus=x"]}).status_code == 400
    assert api(hub, "POST", "/roles", body={"name": "extra-key", "scopes": [], "users": ["ann"]}).status_code == 400
    assert api(hub, "POST", "/roles", body={"name": "from-config", "scopes": []}).status_code == 409
    api(hub, "POST", "/roles", body={"name": "assign-me", "scopes": ["read:hub"]})
    # Any unknown name: 404 naming it, and nothing applied.
    r = api(hub, "POST", "/roles/assign-me/users", body={"users": ["ann", "ghost"]})
    assert r.status_code == 404 and "ghost" in r.json()["message"]
    assert api(hub, "GET", "/roles/assign-me").json()["users"] == []
    assert api(hub, "POST", "/roles/assign-me/groups", body={"groups": ["no-such-group"]}).status_code == 404
    assert api(hub, "POST", "/roles/no-such-role/users", body={"users": ["ann"]}).status_code == 404


def test_no_escalation_through_the_roles_api(hub):
    # roler holds admin:roles, read:roles and read:users, but not admin:users.
    r = api(hub, "POST", "/roles", token=ROLER, body={"name": "sneaky", "scopes": ["admin:users"]})
    assert r.status_code == 403 and "admin:users" in r.json()["message"]
    assert api(hub, "GET", "/roles/sneaky").status_code == 404
    r = api(hub, "POST", "/roles", token=ROLER, body={"name": "reader", "scopes": ["read:users!user=ann"]})
    assert r.status_code == 201, r.text
    # Assigning the admin role would hand out what roler does not hold.
    r = api(hub, "POST", "/roles/admin/users", token=ROLER, body={"users": ["ben"]})
    assert r.status_code == 403
    assert "ben" not in api(hub, "GET", "/roles/admin").json()["users"]
    # Without admin:roles at all: 403; without read:roles: 403.
    assert api(hub, "POST", "/roles", token=GROUPER, body={"name": "nope", "scopes": []}).status_code == 403
    assert api(hub, "GET", "/roles", token=GROUPER).status_code == 403
