"""Failed-login throttling (JupyterHub has none): after Authenticator.login_failure_limit failed
logins of one name from one address, the next attempt waits a backoff (429 with Retry-After) that
doubles from 1 s up to login_max_backoff; the token API's credentials count on the same counters,
another person (or the same person from another address) is not kept out, and the wait ends by
itself. login_throttle = false turns it off."""
import os
import subprocess
import tempfile

import pytest
import requests

from hubd_harness import HUBD, HubProcess, post_login, wait_until

CONFIG = '''
[Authenticator]
login_failure_limit = 2
login_max_backoff = 2
{extra}

[plugins.dummy]
password = "secret"
'''


@pytest.fixture(scope="module")
def hub():
    h = HubProcess(CONFIG.format(extra=""))
    h.start()
    yield h
    h.stop()


def login(hub, user, password, forwarded_for=None):
    s = requests.Session()
    if forwarded_for:
        s.headers["X-Forwarded-For"] = forwarded_for
    _, r = post_login(hub.url, user, password, session=s)
    return r


def mint(hub, user, password):
    return hub.api("POST", f"/users/{user}/tokens", json_body={"auth": {"username": user, "password": password}})


def test_failed_logins_wait_a_backoff_that_ends_by_itself(hub):
    assert login(hub, "alice", "wrong").status_code == 403
    assert login(hub, "alice", "wrong").status_code == 403
    r = login(hub, "alice", "secret")  # even the right password waits: nothing is tried
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    assert "Too many failed logins. Try again in 1 second." in r.text
    assert "alice" in r.text  # the form keeps the name
    # Another person, and alice from another address (behind the proxy on loopback), go on.
    assert login(hub, "bob", "secret").status_code == 302
    assert login(hub, "alice", "secret", forwarded_for="10.1.2.3").status_code == 302
    # The wait ends by itself, and the right password then logs alice in and clears her counters.
    wait_until(lambda: login(hub, "alice", "secret").status_code == 302, 5, "alice's wait to end")
    assert login(hub, "alice", "wrong").status_code == 403
    assert login(hub, "alice", "secret").status_code == 302
    assert "throttled a login as alice from 127.0.0.1 for 1 s after failed logins" in hub.log()
    assert "wrong" not in hub.log().split("throttled a login", 1)[1].split("\n", 1)[0]


def test_the_backoff_doubles_up_to_the_maximum(hub):
    assert login(hub, "carol", "wrong").status_code == 403
    assert login(hub, "carol", "wrong").status_code == 403
    wait_until(lambda: login(hub, "carol", "wrong").status_code == 403, 5, "carol's first wait to end")
    r = login(hub, "carol", "secret")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"  # doubled, and the maximum
    wait_until(lambda: login(hub, "carol", "wrong").status_code == 403, 5, "carol's second wait to end")
    r = login(hub, "carol", "secret")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"  # not beyond login_max_backoff


def test_the_token_api_counts_on_the_same_counters(hub):
    assert mint(hub, "dave", "wrong").status_code == 403
    assert login(hub, "dave", "wrong").status_code == 403
    r = mint(hub, "dave", "secret")
    assert r.status_code == 429, r.text
    assert r.json()["status"] == 429 and "Too many failed logins" in r.json()["message"]
    assert int(r.headers["Retry-After"]) >= 1
    assert login(hub, "dave", "secret").status_code == 429
    wait_until(lambda: mint(hub, "dave", "secret").status_code == 201, 5, "dave's wait to end")


def test_login_throttle_false_turns_it_off():
    h = HubProcess(CONFIG.format(extra="login_throttle = false"))
    try:
        h.start()
        for _ in range(5):
            assert login(h, "erin", "wrong").status_code == 403
        assert login(h, "erin", "secret").status_code == 302
    finally:
        h.stop()


@pytest.mark.parametrize("key,value,message", [
    ("login_failure_limit", "0", "must be at least 1"),
    ("login_max_backoff", "0", "must be at least 1 second"),
    ("login_failure_limit", '"many"', "must be an integer"),
    ("login_throttle", '"yes"', "must be true or false"),
])
def test_bad_values_are_refused_naming_the_key_and_line(key, value, message):
    d = tempfile.mkdtemp(prefix="hubd-throttle-")
    path = os.path.join(d, "hub.toml")
    with open(path, "w") as f:
        f.write(f"[Authenticator]\n{key} = {value}\n")
    r = subprocess.run([HUBD, "check-config", path], capture_output=True, text=True)
    assert r.returncode != 0
    assert "hub.toml:2" in r.stderr and f"Authenticator.{key}" in r.stderr and message in r.stderr, r.stderr
