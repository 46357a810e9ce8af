"""No escalation through role grants.

A holder of only admin:roles and read:roles once granted a role with admin:users!user and
tokens!user to a group he belongs to, and then held admin:users!user=himself. A filter with no name
is bound to everyone a grant reaches (each member of a group), and the granter must hold the scopes
for each of them: for user, group and service grants, and for a role's new scopes."""
import pytest

from hubd_harness import HubProcess

ADMIN = "sec-roles-admin-token-0123456789"


@pytest.fixture(scope="module")
def hub():
    h = HubProcess(f'''
[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"
''')
    h.start()
    admin(h, "POST", "/users", {"usernames": ["mallory", "bob"]})
    admin(h, "POST", "/roles", {"name": "role-keeper", "scopes": ["admin:roles", "read:roles"]})
    admin(h, "POST", "/roles/role-keeper/users", {"users": ["mallory"]})
    admin(h, "POST", "/groups/team", {"users": ["mallory", "bob"]})
    admin(h, "POST", "/roles", {"name": "user-admin", "scopes": ["admin:users!user", "tokens!user"]})
    h.mallory = admin(h, "POST", "/users/mallory/tokens", {"note": "attacker"}).json()["token"]
    yield h
    h.stop()


def admin(hub, method, path, body=None):
    r = hub.api(method, path, token=ADMIN, json_body=body)
    assert r.status_code < 300, (method, path, r.status_code, r.text)
    return r


def as_mallory(hub, method, path, body=None):
    return hub.api(method, path, token=hub.mallory, json_body=body)


def mallory_scopes(hub):
    return set(as_mallory(hub, "GET", "/user").json()["scopes"])


def refused(r, *needles):
    assert r.status_code == 403, (r.status_code, r.text)
    msg = r.json()["message"]
    for n in needles:
        assert n in msg, msg


def test_granting_to_own_group_is_refused(hub):
    refused(as_mallory(hub, "POST", "/roles/user-admin/groups", {"groups": ["team"]}),
            "admin:users!user", "user mallory", "group team")
    assert "admin:users!user=mallory" not in mallory_scopes(hub)
    assert "user-admin" not in admin(hub, "GET", "/groups/team").json()["roles"]


def test_granting_to_himself_or_another_user_is_refused(hub):
    refused(as_mallory(hub, "POST", "/roles/user-admin/users", {"users": ["mallory"]}), "user mallory")
    refused(as_mallory(hub, "POST", "/roles/user-admin/users", {"users": ["bob"]}), "user bob")
    assert "admin:users!user=mallory" not in mallory_scopes(hub)


def test_granting_to_a_service_is_refused(hub):
    admin(hub, "POST", "/roles", {"name": "all-users-admin", "scopes": ["admin:users"]})
    refused(as_mallory(hub, "POST", "/roles/all-users-admin/services", {"services": ["admin-svc"]}),
            "service admin-svc")


def test_widening_a_role_his_group_holds_is_refused(hub):
    admin(hub, "POST", "/roles", {"name": "team-reader", "scopes": ["read:users:name"]})
    admin(hub, "POST", "/roles/team-reader/groups", {"groups": ["team"]})
    refused(as_mallory(hub, "PATCH", "/roles/team-reader", {"scopes": ["admin:users!user"]}), "user mallory")
    # tokens!user he holds for himself (self), not for bob, whom the group's grant reaches too
    refused(as_mallory(hub, "PATCH", "/roles/team-reader", {"scopes": ["tokens!user"]}),
            "user bob", "member of group team")
    assert admin(hub, "GET", "/roles/team-reader").json()["scopes"] == ["read:users:name"]
    assert "admin:users!user=mallory" not in mallory_scopes(hub)


def test_what_he_holds_he_may_still_grant(hub):
    admin(hub, "POST", "/roles", {"name": "role-reader", "scopes": ["read:roles"]})
    r = as_mallory(hub, "POST", "/roles/role-reader/groups", {"groups": ["team"]})
    assert r.status_code in (200, 201), r.text
    assert "role-reader" in admin(hub, "GET", "/groups/team").json()["roles"]
