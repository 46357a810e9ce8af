"""Log in through the hub's login page as a browser does: GET the form, POST it back with its _xsrf
field, keep the cookies in a requests.Session."""
import re

import requests

_XSRF_FIELD = re.compile(r'name="_xsrf" value="([^"]+)"')


def xsrf_field(page_text):
    """The value of the _xsrf field of an HTML form (login, spawn, OAuth confirmation)."""
    m = _XSRF_FIELD.search(page_text)
    assert m, "the page has an _xsrf field"
    return m.group(1)


def post_login(root, user, password="x", session=None, next_url=None, timeout=60):
    """Submits the login form of the hub at `root` (".../" before "hub/login"); returns (session,
    response) with the redirect not followed, so a test can look at a refusal too."""
    s = session or requests.Session()
    url = root + "hub/login" + (f"?next={next_url}" if next_url else "")
    page = s.get(url, timeout=timeout)
    assert page.status_code == 200, f"GET {url}: {page.status_code} {page.text[:300]}"
    r = s.post(url, data={"username": user, "password": password, "_xsrf": xsrf_field(page.text)},
               allow_redirects=False, timeout=timeout)
    return s, r


def logged_in(root, user, password="x", **kw):
    """A session logged in as `user` (the login page answered with its redirect)."""
    s, r = post_login(root, user, password, **kw)
    assert r.status_code == 302, f"login of {user}: {r.status_code} {r.text[:300]}"
    return s
