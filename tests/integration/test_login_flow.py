"""Browser-style login against a real hubd: the form with XSRF, cookies, next, logout."""

import pytest
import requests

from hubd_harness import HubProcess, post_login


@pytest.fixture(scope="module")
def hub():
    h = HubProcess('[Authenticator]\nblocked_users = ["mallory"]\n\n[plugins.dummy]\npassword = "secret"\n')
    h.start()
    yield h
    h.stop()


def login(hub, user, password="secret", next_url=None):
    return post_login(hub.url, user, password, next_url=next_url)


def test_login_sets_scoped_httponly_cookies(hub):
    s, r = login(hub, "alice")
    assert r.status_code == 302
    cookies = r.headers.get("Set-Cookie", "")
    assert "jupyterhub-hub-login=" in cookies and "jupyterhub-session-id=" in cookies
    login_cookie = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("jupyterhub-hub-login=")][0]
    assert "HttpOnly" in login_cookie and "Path=/hub/" in login_cookie and "SameSite" in login_cookie
    me = s.get(hub.api_url + "/user").json()
    assert me["name"] == "alice" and me["kind"] == "user"
    assert "access:servers!user=alice" in me["scopes"]


def test_wrong_password_and_blocked_user_get_403(hub):
    _, r = login(hub, "bob", password="wrong")
    assert r.status_code == 403 and "Invalid username or password" in r.text
    _, r = login(hub, "mallory")
    assert r.status_code == 403


def test_post_without_xsrf_is_refused(hub):
    s = requests.Session()
    s.get(hub.url + "hub/login")
    r = s.post(hub.url + "hub/login", data={"username": "carol", "password": "secret"}, allow_redirects=False)
    assert r.status_code == 403
    assert "jupyterhub-hub-login" not in r.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/x", "%2F%2Fevil.example", "/\\evil.example"])
def test_open_redirects_land_on_the_hub(hub, target):
    _, r = login(hub, "dave", next_url=target)
    assert r.status_code == 302
    location = r.headers["Location"]
    assert "evil.example" not in location
    assert location.startswith("/") or location.startswith(hub.url)


def test_local_next_is_honoured(hub):
    _, r = login(hub, "erin", next_url="/hub/token")
    assert r.status_code == 302 and r.headers["Location"].endswith("/hub/token")


def test_cookie_api_post_needs_xsrf(hub):
    s, _ = login(hub, "frank")
    r = s.post(hub.api_url + "/users/frank/tokens", json={"note": "x"})
    assert r.status_code == 403


def test_logout_ends_the_session(hub):
    s, _ = login(hub, "grace")
    assert s.get(hub.api_url + "/user").status_code == 200
    r = s.get(hub.url + "hub/logout", allow_redirects=False)
    assert r.status_code == 302
    assert s.get(hub.api_url + "/user").status_code == 403
    assert s.get(hub.url + "hub/home", allow_redirects=False).status_code == 302
