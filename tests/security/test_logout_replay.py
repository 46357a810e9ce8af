"""Incomplete logout: a copy of the login cookie taken before logout is dead after it.

In JupyterHub the login cookie names the user only, so a copy of it (from a shared machine, a
proxy log, a stolen backup) keeps working after the person logged out, until it expires. hubd's
login cookie names the browser session too, and logout ends that session: the copy names nobody.
The same person's other browsers stay logged in."""
import pytest
import requests

from hubd_harness import HubProcess, logged_in, post_login


@pytest.fixture(scope="module")
def hub():
    h = HubProcess("")
    h.start()
    yield h
    h.stop()


def whoami(hub, cookies):
    return requests.get(hub.url + "hub/api/user", cookies=cookies, timeout=30)


def home(hub, cookies):
    return requests.get(hub.url + "hub/home", cookies=cookies, allow_redirects=False, timeout=30)


def test_a_copied_login_cookie_is_dead_after_logout(hub):
    laptop = logged_in(hub.url, "replayed")
    phone = logged_in(hub.url, "replayed")
    copy = requests.utils.dict_from_cookiejar(laptop.cookies)
    assert whoami(hub, copy).json()["name"] == "replayed"
    assert home(hub, copy).status_code == 200

    r = laptop.get(hub.url + "hub/logout", allow_redirects=False, timeout=30)
    assert r.status_code == 302

    # Replaying every cookie the laptop had, the login cookie and the session cookie included.
    assert whoami(hub, copy).status_code == 403
    r = home(hub, copy)
    assert r.status_code == 302 and "/hub/login" in r.headers["Location"]

    # The phone's session is its own.
    assert phone.get(hub.url + "hub/api/user", timeout=30).json()["name"] == "replayed"


def test_a_new_login_gets_a_new_session(hub):
    first = logged_in(hub.url, "fixated")
    before = first.cookies.get("jupyterhub-session-id")
    # Logging in again with a session cookie planted in the browser does not adopt that session.
    planted = requests.Session()
    planted.cookies.set("jupyterhub-session-id", before, domain="127.0.0.1", path="/")
    _, r = post_login(hub.url, "fixated", session=planted)
    assert r.status_code == 302
    set_session = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("jupyterhub-session-id=")]
    assert len(set_session) == 1
    assert set_session[0].split(";", 1)[0] != "jupyterhub-session-id=" + before
