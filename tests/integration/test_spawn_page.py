"""The spawn page answers like JupyterHub's: within about a second it sends the browser to the
pending page while a slow server keeps starting (the REST API still waits slow_spawn_timeout).

A real hubd, the real configurable-http-proxy and the real jupyterhub-singleuser behind a start-up
delay (fixtures/slow_singleuser.py)."""
import re
import sys
import time

import pytest

from hubd_harness import wait_until
from test_no_orphans import kill_pid, pids_with_env, slow_cmd
from test_spawn import (CHP, SINGLEUSER, admin, browser_login, make_hub, process_gone, server_model, start_hub,
                        through_proxy)

pytestmark = pytest.mark.skipif(not SINGLEUSER or not CHP,
                                reason="needs jupyterhub-singleuser and configurable-http-proxy")

MARKER = "spawn-page-" + str(time.time_ns())


@pytest.fixture(scope="module")
def hub():
    spawner = f'environment = {{ HUBD_TEST_MARKER = "{MARKER}" }}\n' + \
        "cmd = [" + ", ".join(f'"{c}"' for c in slow_cmd(4)) + "]\n"
    h = make_hub(spawner=spawner, extra_jh="allow_named_servers = true")
    try:
        start_hub(h)
        for user in ("page-get", "page-post"):
            assert admin(h, "POST", f"/users/{user}").status_code == 201
        yield h
    finally:
        h.stop(timeout=40)
        for pid in pids_with_env(MARKER):
            kill_pid(pid)
        import shutil
        shutil.rmtree(h.workdir, ignore_errors=True)


def follow_to_the_server(hub, s, user, pending):
    assert server_model(hub, user)["pending"] == "spawn"
    r = s.get(hub.proxy_url + pending, timeout=10, allow_redirects=False)
    assert r.status_code == 200 and "progress" in r.text, r.text[:300]
    wait_until(lambda: (server_model(hub, user) or {}).get("ready"), 60, f"{user}'s server to be ready")
    r = s.get(hub.proxy_url + pending, timeout=10, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/user/{user}/"), (r.status_code, r.headers)
    r = through_proxy(hub, f"/user/{user}/api")
    assert r is not None and r.status_code == 200


def stop(hub, user):
    pid = server_model(hub, user)["state"]["pid"]
    assert admin(hub, "DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_until(lambda: server_model(hub, user) is None, 60, f"{user}'s server to stop")
    wait_until(lambda: process_gone(pid), 15, f"{user}'s server process to exit")


def test_get_spawn_redirects_to_pending_within_a_second(hub):
    s = browser_login(hub, "page-get")
    try:
        t0 = time.monotonic()
        r = s.get(hub.proxy_url + "/hub/spawn?next=/user/page-get/tree", timeout=10, allow_redirects=False)
        elapsed = time.monotonic() - t0
        assert r.status_code == 302, r.text[:300]
        assert elapsed < 1.5, f"the spawn page took {elapsed:.2f}s"
        location = r.headers["Location"]
        assert location.startswith("/hub/spawn-pending/page-get?next="), location
        follow_to_the_server(hub, s, "page-get", "/hub/spawn-pending/page-get")
    finally:
        stop(hub, "page-get")


def test_post_spawn_redirects_to_pending_within_a_second(hub):
    s = browser_login(hub, "page-post")
    try:
        home = s.get(hub.proxy_url + "/hub/home", timeout=10)
        xsrf = re.search(r'name="xsrf-token" content="([^"]+)"', home.text).group(1)
        t0 = time.monotonic()
        r = s.post(hub.proxy_url + "/hub/spawn/page-post", data={"_xsrf": xsrf, "size": "small"}, timeout=10,
                   allow_redirects=False)
        elapsed = time.monotonic() - t0
        assert r.status_code == 302, r.text[:300]
        assert elapsed < 1.5, f"the spawn form took {elapsed:.2f}s"
        assert r.headers["Location"] == "/hub/spawn-pending/page-post"
        # A second submit while pending is refused, as in JupyterHub.
        r = s.post(hub.proxy_url + "/hub/spawn/page-post", data={"_xsrf": xsrf}, timeout=10, allow_redirects=False)
        assert r.status_code == 400 and "is pending spawn" in r.text
        assert server_model(hub, "page-post")["user_options"] == {"size": ["small"]}
        follow_to_the_server(hub, s, "page-post", "/hub/spawn-pending/page-post")
    finally:
        stop(hub, "page-post")


def test_api_still_waits_slow_spawn_timeout(hub):
    # The REST API keeps its rule: 201 when ready within slow_spawn_timeout (10 s here; the server
    # needs about 4), even though the pages answer within a second.
    t0 = time.monotonic()
    r = admin(hub, "POST", "/users/page-get/server")
    elapsed = time.monotonic() - t0
    try:
        assert r.status_code == 201, r.text
        assert elapsed > 3, f"answered after {elapsed:.2f}s"
    finally:
        stop(hub, "page-get")
