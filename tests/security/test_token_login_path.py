"""Credentials become a user by one path only.

POST /hub/api/users/{name}/tokens with {"auth": {...}} once called the authenticator's bare
authenticate and skipped blocked_users, allowed_users and username_pattern: a blocked user could
mint an API token with his password. Now it runs the login page's whole pipeline."""
import pytest

from hubd_harness import HubProcess

ADMIN = "sec-login-admin-token-0123456789"


@pytest.fixture(scope="module")
def hub():
    h = HubProcess(f'''
[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[Authenticator]
allowed_users = ["alice", "mallory"]
blocked_users = ["mallory"]
username_pattern = "^[a-z]+$"

[plugins.dummy]
password = "secret"
''')
    h.start()
    yield h
    h.stop()


def mint(hub, name, username=None, password="secret"):
    return hub.api("POST", f"/users/{name}/tokens",
                   json_body={"auth": {"username": username or name, "password": password}, "note": "cli"})


def users(hub):
    return {u["name"] for u in hub.api("GET", "/users", token=ADMIN).json()}


def test_allowed_user_mints_a_token_for_himself(hub):
    r = mint(hub, "alice")
    assert r.status_code == 201, r.text
    who = hub.api("GET", "/user", token=r.json()["token"])
    assert who.status_code == 200 and who.json()["name"] == "alice"


@pytest.mark.parametrize("name", ["mallory", "eve", "Bad1"])
def test_refused_logins_mint_nothing(hub, name):
    # blocked, not in allowed_users, not matching username_pattern: each refused as the login page refuses
    r = mint(hub, name)
    assert r.status_code == 403, r.text
    assert r.json()["status"] == 403
    assert "token" not in r.json()
    assert name.lower() not in users(hub) or name == "mallory"


def test_wrong_password_and_someone_elses_name(hub):
    assert mint(hub, "alice", password="nope").status_code == 403
    # alice's good credentials do not mint a token for another user
    r = mint(hub, "bob", username="alice")
    assert r.status_code == 403, r.text
