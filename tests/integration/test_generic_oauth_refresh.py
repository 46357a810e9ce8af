"""The generic-oauth credential lifecycle against the two real OpenID providers: short-lived access
tokens refreshed by hubd's refresh_user calls (Authenticator.auth_refresh_age), refresh tokens that
rotate (with the providers' replay detection on), die when revoked, and groups that follow the
provider. Each bed is one provider and one hub; see test_generic_oauth.py for the login itself."""
import os
import sys
import threading
import urllib.parse

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from oidc_providers import KINDS, unavailable_reason  # noqa: E402
from test_generic_oauth import ADMIN, start_bed, stop_bed  # noqa: E402
from waiting import wait_until  # noqa: E402

AT_TTL = 2  # seconds: the plugin refreshes within a second of expiry (half the lifetime)
REFRESH = """auth_refresh_age = 1
refresh_pre_spawn = true"""


@pytest.fixture(scope="module", autouse=True)
def some_provider_runs():
    if all(unavailable_reason(k) for k in KINDS):
        pytest.exit("no test OpenID provider can run here: " + "; ".join(unavailable_reason(k) for k in KINDS),
                    returncode=77)


def bed_fixture(rotate):
    @pytest.fixture(scope="module", params=KINDS)
    def _bed(request, tmp_path_factory):
        b = start_bed(request.param, str(tmp_path_factory.mktemp(f"refresh-{request.param}")), auth_extra=REFRESH,
                      at_ttl=AT_TTL, rt_ttl=3600, rotate=rotate)
        try:
            yield b
        finally:
            stop_bed(b)
    return _bed


bed = bed_fixture(rotate=False)
rotating = bed_fixture(rotate=True)


def state_of(b, user):
    return b.user(user)["auth_state"]


def home(b, s):
    return s.get(b.hub.url + "hub/home", allow_redirects=False, timeout=20)


def refreshed(b, s, user, old_access_token, timeout=20):
    """Requests /hub/home until the hub holds a new access token for `user`; returns the auth_state."""
    def new_token():
        assert home(b, s).status_code == 200, "the login ended"
        st = state_of(b, user)
        return st if st["access_token"] != old_access_token else None
    return wait_until(new_token, timeout, f"a refreshed access token for {user}")


def test_an_expired_access_token_is_refreshed_on_a_later_request(bed):
    s, r = bed.login("alice")
    assert r.status_code == 302
    before = state_of(bed, "alice")
    after = refreshed(bed, s, "alice", before["access_token"])
    assert after["expires_at"] > before["expires_at"]
    assert after["token_response"]["access_token"] == after["access_token"]
    # Without rotation the refresh token stays: Glewlwyd's answer has none, oidc-provider's the same one.
    assert after["refresh_token"] == before["refresh_token"]
    assert after["id_token"]  # kept (Glewlwyd) or replaced by a verified new one (oidc-provider)
    assert "oauth: refreshed the tokens of alice" in bed.hub.log()
    assert home(bed, s).status_code == 200


def test_groups_changed_at_the_provider_follow_the_refresh(bed):
    s, _ = bed.login("bob")
    before = state_of(bed, "bob")["access_token"]
    bed.op.set_groups("bob", ["hub-users", "hub-admins"])
    try:
        refreshed(bed, s, "bob", before)
        wait_until(lambda: bed.user("bob")["admin"] and "hub-admins" in bed.user("bob")["groups"], 20,
                   "bob to be an admin by the refreshed groups")
    finally:
        bed.op.set_groups("bob", ["hub-users"])
    wait_until(lambda: home(bed, s).status_code == 200 and not bed.user("bob")["admin"], 20,
               "bob's admin flag to go with the group")


def test_a_revoked_refresh_token_ends_the_login_and_a_spawn_is_refused(bed):
    s, _ = bed.login("bob")
    bed.op.revoke_refresh_tokens("bob")

    def sent_to_login():
        r = home(bed, s)
        return r if r.status_code == 302 else None
    r = wait_until(sent_to_login, 20, "the next page to go to the login page")
    assert "/hub/login" in r.headers["Location"] and "expired=1" in r.headers["Location"]
    page = s.get(urllib.parse.urljoin(bed.hub.url, r.headers["Location"]), allow_redirects=False, timeout=10)
    assert "Your login has expired. Please log in again." in page.text
    assert "oauth: the provider refused to refresh the tokens of bob (HTTP 4" in bed.hub.log()
    # refresh_pre_spawn: a spawn asks again, and is refused with the message to log in again.
    r = bed.hub.api("POST", "/users/bob/server", token=ADMIN)
    assert r.status_code == 403 and "login again" in r.json()["message"], r.text
    # A new login works again.
    s2, r = bed.login("bob")
    assert r.status_code == 302 and home(bed, s2).status_code == 200


def test_rotation_with_concurrent_requests_keeps_the_session(rotating):
    b = rotating
    s, _ = b.login("alice")
    first = state_of(b, "alice")
    token = first["refresh_token"]
    # Several refresh rounds, each met by a burst of concurrent requests: with rotation and replay
    # detection at the provider, a replayed refresh token would end the whole chain.
    for _ in range(3):
        old = state_of(b, "alice")["access_token"]
        answers = []
        cookies = s.cookies.get_dict()

        def burst():
            r = requests.get(b.hub.url + "hub/home", cookies=cookies, allow_redirects=False, timeout=20)
            answers.append(r.status_code)
        threads = [threading.Thread(target=burst) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert answers == [200] * 6, answers
        refreshed(b, s, "alice", old)
    last = state_of(b, "alice")
    assert last["refresh_token"] != token, "the refresh token rotated"
    assert "(the refresh token rotated)" in b.hub.log()
    assert "the provider refused to refresh the tokens of alice" not in b.hub.log()
    assert home(b, s).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_an_expired_refresh_token_ends_the_login(kind, tmp_path):
    if unavailable_reason(kind):
        pytest.skip(unavailable_reason(kind))
    b = start_bed(kind, str(tmp_path), auth_extra=REFRESH, at_ttl=1, rt_ttl=3)
    try:
        s, r = b.login("alice")
        assert r.status_code == 302

        def sent_to_login():
            r = home(b, s)
            return r if r.status_code == 302 else None
        r = wait_until(sent_to_login, 20, "the login to end with its refresh token")
        assert "expired=1" in r.headers["Location"]
        assert "oauth: the provider refused to refresh the tokens of alice (HTTP 400" in b.hub.log()
    finally:
        stop_bed(b)
