"""Server sharing through the REST API against a real hubd."""
import pytest

import openapi_schema
from hubd_harness import HubProcess

ADMIN = "shares-admin-token-0123456789"

CONFIG = f'''
[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[[JupyterHub.load_roles]]
name = "sharer"
scopes = ["shares!user", "read:users:name", "read:groups:name"]
users = ["owner"]
'''

ENVELOPE = {"Accept": "application/jupyterhub-pagination+json"}


@pytest.fixture(scope="module")
def hub():
    h = HubProcess(CONFIG)
    h.start()
    assert h.api("POST", "/users", token=ADMIN, json_body={"usernames": ["owner", "friend", "stranger"]}).status_code == 201
    assert h.api("POST", "/groups/pals", token=ADMIN, json_body={"users": ["stranger"]}).status_code == 201
    h.tokens = {n: h.api("POST", f"/users/{n}/tokens", token=ADMIN, json_body={}).json()["token"]
                for n in ("owner", "friend", "stranger")}
    yield h
    h.stop()


def as_(hub, who, method, path, body=None, **kw):
    return hub.api(method, path, token=hub.tokens[who], json_body=body, **kw)


def test_share_default_server_with_a_user(hub):
    # Before sharing, friend has no access to owner's server.
    assert "access:servers!server=owner/" not in as_(hub, "friend", "GET", "/user").json()["scopes"]
    r = as_(hub, "owner", "POST", "/shares/owner/", {"user": "friend"})
    assert r.status_code == 200, r.text
    share = r.json()
    openapi_schema.validate(share, "Share")
    assert share["kind"] == "user" and share["user"] == {"name": "friend"} and share["group"] is None
    assert share["scopes"] == ["access:servers!server=owner/"]
    assert share["server"]["user"] == {"name": "owner"} and share["server"]["name"] == ""
    assert share["server"]["url"] == "/user/owner/"
    # Effective at once for friend's live token.
    assert "access:servers!server=owner/" in as_(hub, "friend", "GET", "/user").json()["scopes"]
    r = as_(hub, "owner", "GET", "/shares/owner")
    assert r.status_code == 200 and r.json()["_pagination"]["total"] == 1
    openapi_schema.validate_list(r.json()["items"], "Share")
    r = as_(hub, "friend", "GET", "/users/friend/shared")
    assert r.status_code == 200 and [s["server"]["user"]["name"] for s in r.json()["items"]] == ["owner"]
    r = as_(hub, "friend", "GET", "/users/friend/shared/owner/")
    assert r.status_code == 200 and r.json()["user"] == {"name": "friend"}
    # The recipient may leave.
    assert as_(hub, "friend", "DELETE", "/users/friend/shared/owner/").status_code == 204
    assert "access:servers!server=owner/" not in as_(hub, "friend", "GET", "/user").json()["scopes"]


def test_group_share_and_revocation(hub):
    r = as_(hub, "owner", "POST", "/shares/owner/", {"group": "pals"})
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "group" and r.json()["group"] == {"name": "pals"}
    assert "access:servers!server=owner/" in as_(hub, "stranger", "GET", "/user").json()["scopes"]
    r = hub.api("GET", "/groups/pals/shared", token=ADMIN)
    assert r.status_code == 200 and r.json()["_pagination"]["total"] == 1
    # PATCH without scopes revokes everything.
    r = as_(hub, "owner", "PATCH", "/shares/owner/", {"group": "pals"})
    assert r.status_code == 200 and r.json() == {}
    assert "access:servers!server=owner/" not in as_(hub, "stranger", "GET", "/user").json()["scopes"]
    as_(hub, "owner", "POST", "/shares/owner/", {"user": "friend"})
    assert as_(hub, "owner", "DELETE", "/shares/owner/").status_code == 204
    assert as_(hub, "owner", "GET", "/shares/owner/").json()["items"] == []


def test_share_permission_and_bad_input(hub):
    # friend holds no `shares` on owner's server.
    assert as_(hub, "friend", "POST", "/shares/owner/", {"user": "stranger"}).status_code in (403, 404)
    # Granting a scope the owner does not hold on the server.
    r = as_(hub, "owner", "POST", "/shares/owner/", {"user": "friend", "scopes": ["admin:servers"]})
    assert r.status_code == 403 and "admin:servers" in r.json()["message"]
    for bad in ({}, {"user": "friend", "group": "pals"}, {"user": "friend", "extra": 1},
                {"user": "friend", "scopes": ["read:nothing"]},
                {"user": "friend", "scopes": ["access:servers!server=other/"]},
                {"user": "ghost"}):
        r = as_(hub, "owner", "POST", "/shares/owner/", bad)
        assert r.status_code == 400, (bad, r.text)
    assert as_(hub, "owner", "POST", "/shares/owner/nosuch", {"user": "friend"}).status_code == 404
    assert hub.api("POST", "/shares/owner", token=ADMIN).status_code == 405
    assert as_(hub, "owner", "GET", "/shares/owner/").json()["items"] == []


def test_share_codes(hub):
    r = as_(hub, "owner", "POST", "/share-codes/owner/", {"expires_in": 3600})
    assert r.status_code == 200, r.text
    code = r.json()
    assert code["id"].startswith("sc_") and code["code"] and code["accept_url"].startswith("/hub/accept-share?code=")
    assert code["full_accept_url"] is None and code["exchange_count"] == 0
    r = as_(hub, "owner", "GET", "/share-codes/owner/")
    assert r.status_code == 200 and [c["id"] for c in r.json()["items"]] == [code["id"]]
    openapi_schema.validate_list(r.json()["items"], "ShareCode")
    assert "code" not in r.json()["items"][0]
    for bad in ({"expires_in": 10}, {"expires_in": "soon"}, {"nope": 1}):
        assert as_(hub, "owner", "POST", "/share-codes/owner/", bad).status_code == 400
    r = as_(hub, "owner", "DELETE", "/share-codes/owner/", params={"id": "sc_999999"})
    assert r.status_code == 404 and "sc_999999" in r.json()["message"]
    assert as_(hub, "owner", "DELETE", "/share-codes/owner/", params={"code": "wrong"}).status_code == 404
    assert as_(hub, "owner", "DELETE", "/share-codes/owner/", params={"id": code["id"]}).status_code == 204
    assert as_(hub, "owner", "GET", "/share-codes/owner/").json()["items"] == []
