"""The credential lifecycle against a real hubd and a real authenticator plugin (fx_refresh_auth, whose
refresh_user follows the user's auth_state, which the tests set through PATCH /users/{name}): refresh
after Authenticator.auth_refresh_age on pages and API requests (and not before), a login that is
over (sessions end, API 403, spawn refused), a transient failure that keeps the login, one refresh
for concurrent requests, refresh_pre_spawn / refresh_pre_stop, the spawner's auth_state and the
authenticator's logout op."""
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from hubd_harness import BUILD_DIR, HUBD, HubProcess, logged_in, toml_str, wait_until

FIXTURE = os.path.join(BUILD_DIR, "tests", "fixtures", "plugins", "fx_refresh_auth.so")
ADMIN = "refresh-admin-token-0123456789abcdef"
AGE = 3  # Authenticator.auth_refresh_age of the shared hub
CRYPT_KEY = "a" * 64


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the stdlib's name)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server_url():
    """What the fixture spawner 'starts': a loopback HTTP server that answers the readiness check."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def hub(server_url):
    log_file = os.path.join(tempfile.mkdtemp(prefix="hubd-refresh-"), "calls.jsonl")
    config = f'''
[JupyterHub]
plugin_paths = [{toml_str(FIXTURE)}]
authenticator_class = "fx-refresh"
spawner_class = "fx-refresh-spawner"

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[Authenticator]
enable_auth_state = true
manage_groups = true
auth_refresh_age = {AGE}
refresh_pre_spawn = true
refresh_pre_stop = true

[plugins.fx-refresh]
log_file = {toml_str(log_file)}

[plugins.fx-refresh-spawner]
log_file = {toml_str(log_file)}
url = {toml_str(server_url)}
'''
    h = HubProcess(config, env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
    h.calls_file = log_file
    try:
        h.start()
        yield h
    finally:
        h.cleanup()


def calls(hub, user, op=None):
    try:
        with open(hub.calls_file) as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []
    return [c for c in lines if c["user"] == user and (op is None or c["op"] == op)] if user else \
        [c for c in lines if op is None or c["op"] == op]


def set_state(hub, user, state):
    r = hub.api("PATCH", f"/users/{user}", token=ADMIN, json_body={"auth_state": state})
    assert r.status_code == 200, r.text


def auth_state(hub, user):
    r = hub.api("GET", f"/users/{user}", token=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()["auth_state"]


def user_token(hub, user):
    if hub.api("GET", f"/users/{user}", token=ADMIN).status_code == 404:
        assert hub.api("POST", f"/users/{user}", token=ADMIN).status_code == 201
    r = hub.api("POST", f"/users/{user}/tokens", token=ADMIN, json_body={"note": "refresh test"})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def wait_for_refresh(hub, user, request, n=1, timeout=20):
    """Repeats `request` until the plugin saw the n-th refresh_user of `user`; returns the last answer."""
    answers = []

    def refreshed():
        answers.append(request())
        return len(calls(hub, user, "refresh_user")) >= n
    wait_until(refreshed, timeout, f"refresh number {n} of {user}")
    return answers[-1]


def test_page_request_refreshes_after_auth_refresh_age_and_not_before(hub):
    t0 = time.monotonic()
    s = logged_in(hub.url, "page-user")
    home = s.get(hub.url + "hub/home", allow_redirects=False)
    assert home.status_code == 200
    if time.monotonic() - t0 < AGE:  # a very slow machine (sanitizers) may already be past the age
        assert calls(hub, "page-user", "refresh_user") == [], "refreshed right after the login"
    set_state(hub, "page-user", {"refresh": "update", "count": 0, "groups": ["refreshed-team"]})

    last = wait_for_refresh(hub, "page-user", lambda: s.get(hub.url + "hub/home", allow_redirects=False))
    assert time.monotonic() - t0 >= AGE
    assert last.status_code == 200
    # The partial auth model was committed before the page answered: auth_state and groups.
    assert auth_state(hub, "page-user")["count"] == 1
    assert "refreshed-team" in hub.api("GET", "/users/page-user", token=ADMIN).json()["groups"]
    # Fresh again for another auth_refresh_age.
    assert s.get(hub.url + "hub/home", allow_redirects=False).status_code == 200
    assert len(calls(hub, "page-user", "refresh_user")) == 1


def test_api_token_request_refreshes_alike(hub):
    token = user_token(hub, "token-user")
    set_state(hub, "token-user", {"refresh": "update", "count": 0})
    # Never refreshed since hubd started (no login): the first request refreshes.
    r = hub.api("GET", "/user", token=token)
    assert r.status_code == 200 and r.json()["name"] == "token-user"
    t_first = time.monotonic()
    assert len(calls(hub, "token-user", "refresh_user")) == 1
    assert auth_state(hub, "token-user")["count"] == 1
    assert hub.api("GET", "/user", token=token).status_code == 200
    if time.monotonic() - t_first < AGE:
        assert len(calls(hub, "token-user", "refresh_user")) == 1, "refreshed again before auth_refresh_age"
    wait_for_refresh(hub, "token-user", lambda: hub.api("GET", "/user", token=token), n=2)
    assert time.monotonic() - t_first >= AGE
    assert auth_state(hub, "token-user")["count"] == 2


def test_a_login_that_is_over_ends_the_sessions_and_refuses_api_and_spawn(hub):
    s = logged_in(hub.url, "over-user")
    saved = dict(s.cookies)
    token = user_token(hub, "over-user")
    set_state(hub, "over-user", {"refresh": "over"})

    last = wait_for_refresh(hub, "over-user", lambda: s.get(hub.url + "hub/home", allow_redirects=False))
    assert last.status_code == 302
    assert "/hub/login?next=" in last.headers["Location"] and "expired=1" in last.headers["Location"]
    page = s.get(hub.url + last.headers["Location"].lstrip("/"), allow_redirects=False)
    assert page.status_code == 200 and "Your login has expired. Please log in again." in page.text
    # The old login cookie names nobody now, even sent again as it was.
    again = requests.get(hub.url + "hub/home", cookies=saved, allow_redirects=False)
    assert again.status_code == 302 and "expired=1" not in again.headers["Location"]
    assert "over-user" in hub.log() and "is over (refresh_user answered false): 1 browser session(s) ended" in hub.log()
    # API tokens stay (as in JupyterHub) but are refused while refresh_user says the login is over.
    r = hub.api("GET", "/user", token=token)
    assert r.status_code == 403
    assert r.json() == {"status": 403, "message": "auth has expired for over-user, login again"}
    assert hub.api("GET", "/users/over-user/tokens", token=ADMIN).json()["api_tokens"], "API tokens were revoked"
    # refresh_pre_spawn: the spawn is refused with the same message, and nothing was started.
    r = hub.api("POST", "/users/over-user/server", token=ADMIN)
    assert r.status_code == 403 and r.json()["message"] == "auth has expired for over-user, login again"
    assert calls(hub, "over-user", "start") == []
    # Logging in again starts a new login (auth_state from authenticate: valid).
    s2 = logged_in(hub.url, "over-user")
    assert s2.get(hub.url + "hub/home", allow_redirects=False).status_code == 200
    assert hub.api("GET", "/user", token=token).status_code == 200


def test_the_spawn_page_refuses_a_spawn_once_the_login_is_over(hub):
    s = logged_in(hub.url, "page-spawner")
    set_state(hub, "page-spawner", {"refresh": "over"})
    # Just logged in, so not due by age: refresh_pre_spawn asks, and the page shows the refusal.
    r = s.get(hub.url + "hub/spawn", allow_redirects=False)
    assert r.status_code == 403
    assert "auth has expired for page-spawner, login again" in r.text
    assert calls(hub, "page-spawner", "start") == []
    assert s.get(hub.url + "hub/home", allow_redirects=False).status_code == 302


def test_the_oauth_provider_refreshes_a_due_login_before_authorizing(hub):
    t0 = time.monotonic()
    s = logged_in(hub.url, "oauth-user")
    set_state(hub, "oauth-user", {"refresh": "over"})
    # Any request now would refresh; the authorize request must be the one that does.
    wait_until(lambda: time.monotonic() - t0 > AGE + 0.2, AGE + 5, "auth_refresh_age to pass")
    r = s.get(hub.url + "hub/api/oauth2/authorize?client_id=no-such-client&response_type=code", allow_redirects=False)
    # The login ended before the client was looked at: log in again (not "Invalid client_id").
    assert r.status_code == 302 and "/hub/login" in r.headers["Location"], (r.status_code, r.text[:200])
    assert len(calls(hub, "oauth-user", "refresh_user")) == 1


def test_a_transient_failure_keeps_the_login_and_is_asked_again_later(hub):
    s = logged_in(hub.url, "flaky-user")
    set_state(hub, "flaky-user", {"refresh": "transient"})
    last = wait_for_refresh(hub, "flaky-user", lambda: s.get(hub.url + "hub/home", allow_redirects=False))
    assert last.status_code == 200, "a transient failure logged the user out"
    t_fail = time.monotonic()
    assert s.get(hub.url + "hub/home", allow_redirects=False).status_code == 200
    if time.monotonic() - t_fail < 1:
        assert len(calls(hub, "flaky-user", "refresh_user")) == 1, "retried at once"
    last = wait_for_refresh(hub, "flaky-user", lambda: s.get(hub.url + "hub/home", allow_redirects=False), n=2)
    assert last.status_code == 200
    assert "refreshing the login of flaky-user failed, the login stays" in hub.log()
    assert "the provider is down" in hub.log()


def test_concurrent_requests_make_one_refresh(hub):
    token = user_token(hub, "busy-user")
    set_state(hub, "busy-user", {"refresh": "update", "count": 0, "delay_ms": 1500})
    answers = [None] * 6

    def one(i):
        answers[i] = hub.api("GET", "/user", token=token).status_code

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(answers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [200] * len(answers)
    assert len(calls(hub, "busy-user", "refresh_user")) == 1
    assert auth_state(hub, "busy-user")["count"] == 1


def test_refresh_pre_spawn_and_pre_stop_and_the_spawner_sees_auth_state(hub):
    token = user_token(hub, "spawn-user")
    hub.api("GET", "/user", token=token)  # the first request's refresh, out of the way
    set_state(hub, "spawn-user", {"refresh": "update", "count": 10})
    before = len(calls(hub, "spawn-user", "refresh_user"))
    r = hub.api("POST", "/users/spawn-user/server", token=ADMIN)
    assert r.status_code in (201, 202), r.text
    wait_until(lambda: hub.api("GET", "/users/spawn-user", token=ADMIN).json()["server"], 20, "the server")
    assert len(calls(hub, "spawn-user", "refresh_user")) == before + 1
    # The spawner's context carries the auth_state the refresh just stored (JupyterHub's auth_state_hook).
    starts = calls(hub, "spawn-user", "start")
    assert len(starts) == 1 and starts[0]["auth_state"]["count"] == 11
    # refresh_pre_stop: the user's own stop is refused once the login is over; an admin's goes on.
    set_state(hub, "spawn-user", {"refresh": "over"})
    n_stops = len(calls(hub, None, "stop"))
    r = hub.api("DELETE", "/users/spawn-user/server", token=token)
    assert r.status_code == 403 and r.json()["message"] == "auth has expired for spawn-user, login again"
    assert len(calls(hub, None, "stop")) == n_stops
    assert hub.api("GET", "/users/spawn-user", token=ADMIN).json()["server"], "stopped anyway"
    refreshes = len(calls(hub, "spawn-user", "refresh_user"))
    r = hub.api("DELETE", "/users/spawn-user/server", token=ADMIN)
    assert r.status_code in (202, 204), r.text
    wait_until(lambda: len(calls(hub, None, "stop")) > n_stops, 20, "the spawner's stop")
    assert calls(hub, None, "stop")[-1]["auth_state"] == {"refresh": "over"}  # the stop input carries it too
    assert len(calls(hub, "spawn-user", "refresh_user")) == refreshes + 1
    assert "user spawn-user may have stale auth info; stopping the default server anyway" in hub.log()


def test_logout_calls_the_authenticators_logout_with_auth_state(hub):
    s = logged_in(hub.url, "leaving-user")
    r = s.get(hub.url + "hub/logout", allow_redirects=False)
    assert r.status_code == 302
    out = calls(hub, "leaving-user", "logout")
    assert len(out) == 1 and out[0]["auth_state"] == {"refresh": "valid", "count": 0}
    assert s.get(hub.url + "hub/home", allow_redirects=False).status_code == 302


def test_auth_state_is_only_for_holders_of_admin_auth_state(hub):
    token = user_token(hub, "private-user")
    own = hub.api("GET", "/users/private-user", token=token)
    assert own.status_code == 200 and "auth_state" not in own.json()
    set_state(hub, "private-user", {"access_token": "for-the-spawner"})
    assert auth_state(hub, "private-user") == {"access_token": "for-the-spawner"}
    assert "auth_state" not in hub.api("GET", "/users/private-user", token=token).json()


def check_config(text):
    d = tempfile.mkdtemp(prefix="hubd-refresh-config-")
    path = os.path.join(d, "hub.toml")
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run([HUBD, "check-config", path], capture_output=True, text=True)


@pytest.mark.parametrize("line,message", [
    ("auth_refresh_age = -1", "hub.toml:2: Authenticator.auth_refresh_age: must be 0 (never refresh by age) or a number of seconds"),
    ('auth_refresh_age = "300"', "hub.toml:2: Authenticator.auth_refresh_age: must be an integer"),
    ("auth_refresh_age = 1.5", "hub.toml:2: Authenticator.auth_refresh_age: must be an integer"),
    ('refresh_pre_spawn = "yes"', "hub.toml:2: Authenticator.refresh_pre_spawn: must be true or false"),
    ("refresh_pre_stop = 1", "hub.toml:2: Authenticator.refresh_pre_stop: must be true or false"),
])
def test_bad_refresh_settings_are_refused_naming_the_key(line, message):
    r = check_config(f"[Authenticator]\n{line}\n")
    assert r.returncode != 0
    assert message in r.stdout + r.stderr


def test_good_refresh_settings_are_accepted():
    r = check_config("[Authenticator]\nauth_refresh_age = 0\nrefresh_pre_spawn = true\nrefresh_pre_stop = true\n")
    assert r.returncode == 0, r.stdout + r.stderr
