"""Black-box tests of core/api's hub, user and token endpoints against a real hubd."""
import pytest

from hubd_harness import HubProcess
import openapi_schema

ADMIN_TOKEN = "api-test-admin-token-0123456789"


@pytest.fixture(scope="module")
def hub():
    h = HubProcess(f'[[JupyterHub.services]]\nname = "admin-svc"\nadmin = true\napi_token = "{ADMIN_TOKEN}"\n')
    h.start()
    yield h
    h.stop()


def test_root_and_version_header(hub):
    r = hub.api("GET", "/")
    assert r.status_code == 200
    assert "version" in r.json()
    assert r.headers["X-JupyterHub-Version"]


def test_whoami_403_without_valid_token(hub):
    assert hub.api("GET", "/user").status_code == 403
    assert hub.api("GET", "/user", token="bogus-token").status_code == 403


def test_whoami_admin(hub):
    r = hub.api("GET", "/user", token=ADMIN_TOKEN)
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "admin-svc" and body["kind"] == "service"


def test_users_create_list_token(hub):
    r = hub.api("POST", "/users", token=ADMIN_TOKEN, json_body={"usernames": ["pyuser1", "pyuser2"]})
    assert r.status_code == 201, r.text
    for u in r.json():
        openapi_schema.validate(u, "User")
    r = hub.api("GET", "/users", token=ADMIN_TOKEN)
    assert r.status_code == 200
    names = [u["name"] for u in r.json()]
    assert "pyuser1" in names
    r = hub.api("POST", "/users/pyuser1/tokens", token=ADMIN_TOKEN, json_body={"note": "t"})
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    r = hub.api("GET", "/user", token=tok)
    assert r.status_code == 200 and r.json()["name"] == "pyuser1"
    assert hub.api("GET", "/users", token=tok).status_code == 403
    assert hub.api("GET", "/users/pyuser2", token=tok).status_code == 404


def test_bad_input(hub):
    r = hub.api("POST", "/users", token=ADMIN_TOKEN, data="{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {"status": 400, "message": "Invalid JSON in body of request"}
    assert hub.api("GET", "/users/..%2Fetc", token=ADMIN_TOKEN).status_code == 404
