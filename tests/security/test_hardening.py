"""Hardening beyond what JupyterHub ships: a link on another site cannot start a server, every answer
says nosniff, and the _xsrf cookie is
SameSite=Lax and HttpOnly like the other login cookies.

In JupyterHub a cross-site GET to /hub/spawn starts the visitor's server (an attacker's page can
make every logged-in visitor spend a node). hubd starts a server from a GET only for the hub's own
links, typed URLs and bookmarks (Sec-Fetch-Site same-origin or none); a navigation from another site
(or from a sibling origin such as a user's server) gets the spawn form with its Start button."""
import re

import pytest

import requests

from hubd_harness import HubProcess, logged_in, post_login, wait_until, xsrf_field

ADMIN = "sec-hardening-admin-token-0123456789"


@pytest.fixture(scope="module")
def hub():
    # A server that never answers stays pending: enough to see whether a spawn started.
    h = HubProcess(f'''
[JupyterHub]
allow_named_servers = true

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[Spawner]
cmd = ["sleep", "600"]
start_timeout = 120
http_timeout = 120
''')
    h.start()
    yield h
    h.stop(timeout=30)


def servers(hub, user):
    r = hub.api("GET", f"/users/{user}", token=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()["servers"]


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_link_from_another_site_asks_before_starting(hub, site):
    user = "victim-" + site.replace("-", "")
    s = logged_in(hub.url, user)
    r = s.get(hub.url + "hub/spawn", allow_redirects=False, timeout=30,
              headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"})
    assert r.status_code == 200, (r.status_code, r.headers)
    assert 'data-testid="spawn-confirm"' in r.text
    assert 'data-testid="spawn-submit"' in r.text
    assert servers(hub, user) == {}, "a cross-site GET started a server"

    # The person clicks Start: the form's POST (same origin, with its _xsrf) starts it.
    r = s.post(hub.url + "hub/spawn", data={"_xsrf": xsrf_field(r.text)}, allow_redirects=False, timeout=30,
               headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"})
    assert r.status_code == 302 and "/hub/spawn-pending/" + user in r.headers["Location"], (r.status_code, r.text[:300])
    wait_until(lambda: "" in servers(hub, user), 10, f"{user}'s server to be pending")


@pytest.mark.parametrize("site", ["same-origin", "none", None])
def test_the_hubs_own_links_typed_urls_and_api_clients_still_start_at_once(hub, site):
    user = "starter-" + (site or "nofetch").replace("-", "")
    s = logged_in(hub.url, user)
    headers = {"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate"} if site else {}
    r = s.get(hub.url + "hub/spawn", allow_redirects=False, timeout=30, headers=headers)
    assert r.status_code == 302 and "/hub/spawn-pending/" + user in r.headers["Location"], (r.status_code, r.text[:300])
    wait_until(lambda: "" in servers(hub, user), 10, f"{user}'s server to be pending")


def test_every_answer_says_nosniff(hub):
    for path in ("hub/login", "hub/api/", "hub/static/css/hubd.css", "hub/no-such-page", "hub/api/users"):
        r = requests.get(hub.url + path, timeout=30)
        assert r.headers.get("X-Content-Type-Options") == "nosniff", (path, r.status_code, dict(r.headers))


def test_the_xsrf_cookie_is_samesite_lax_and_httponly(hub):
    page = requests.get(hub.url + "hub/login", timeout=30)
    xsrf = [c for c in page.raw.headers.getlist("Set-Cookie") if c.startswith("_xsrf=")]
    assert xsrf and all(re.search(r";\s*SameSite=Lax", c) and re.search(r";\s*HttpOnly", c) for c in xsrf), xsrf
    _, r = post_login(hub.url, "cookie-check")
    after = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("_xsrf=")]
    assert after and all(re.search(r";\s*SameSite=Lax", c) and re.search(r";\s*HttpOnly", c) for c in after), after
