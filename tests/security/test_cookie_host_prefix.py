"""With JupyterHub.cookie_host_prefix_enabled the login cookie is __Host-jupyterhub-hub-login.

The pages once set it under that name while the REST API read only jupyterhub-hub-login, so every
action a page takes through the API (the token page, the admin page, starting a server) answered
403 to a logged-in browser. Now one session identification reads the cookie for both."""
import re

import pytest
import requests

from hubd_harness import HubProcess

LOGIN_COOKIE = "__Host-jupyterhub-hub-login"


class Browser:
    """A cookie jar that also sends Secure cookies over plain http (a __Host- cookie is always
    Secure; here TLS would only hide what the test is about)."""

    def __init__(self, root):
        self.root = root
        self.jar = {}
        self.set_cookie = {}  # name -> the Set-Cookie header that set it

    def send(self, method, path, headers=None, **kw):
        h = dict(headers or {})
        if self.jar:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        r = requests.request(method, self.root + path, headers=h, allow_redirects=False, timeout=30, **kw)
        for header in r.raw.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            self.set_cookie[name] = header
            if value and "Max-Age=0" not in header:
                self.jar[name] = value
            else:
                self.jar.pop(name, None)
        return r

    def login(self, user):
        page = self.send("GET", "hub/login")
        assert page.status_code == 200, page.text
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        return self.send("POST", "hub/login", data={"username": user, "password": "x", "_xsrf": xsrf})


@pytest.fixture(scope="module")
def hub():
    h = HubProcess('''
[JupyterHub]
cookie_host_prefix_enabled = true
''')
    h.start()
    yield h
    h.cleanup()


def logged_in(hub, user):
    b = Browser(hub.url)
    r = b.login(user)
    assert r.status_code == 302, r.text
    assert LOGIN_COOKIE in b.jar and "jupyterhub-hub-login" not in b.jar
    header = b.set_cookie[LOGIN_COOKIE]
    assert "Secure" in header and "Path=/;" in header + ";"
    return b


def test_the_api_knows_the_browser_the_pages_logged_in(hub):
    b = logged_in(hub, "alice")
    xsrf = b.jar["_xsrf"]
    # What the pages' scripts send: the cookies, the XSRF token, a cors fetch.
    r = b.send("GET", "hub/api/user", headers={"X-XSRFToken": xsrf, "Sec-Fetch-Mode": "cors"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "alice"
    # The token page's action.
    r = b.send("POST", "hub/api/users/alice/tokens", json={"note": "from the token page"},
               headers={"X-XSRFToken": xsrf, "Sec-Fetch-Mode": "cors"})
    assert r.status_code == 201, r.text
    assert r.json()["note"] == "from the token page"
    # The pages agree: the home page is served, not a redirect to the login page.
    assert b.send("GET", "hub/home").status_code == 200


def test_the_cookie_still_needs_the_xsrf_token(hub):
    b = logged_in(hub, "bob")
    r = b.send("POST", "hub/api/users/bob/tokens", json={"note": "forged"}, headers={"Sec-Fetch-Mode": "cors"})
    assert r.status_code == 403, r.text


def test_the_unprefixed_cookie_name_is_not_the_hubs(hub):
    b = logged_in(hub, "carol")
    b.jar["jupyterhub-hub-login"] = b.jar.pop(LOGIN_COOKIE)
    r = b.send("GET", "hub/api/user", headers={"X-XSRFToken": b.jar["_xsrf"], "Sec-Fetch-Mode": "cors"})
    assert r.status_code == 403, r.text
