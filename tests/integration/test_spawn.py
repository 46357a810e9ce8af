"""Server lifecycle end to end: a real hubd, the local spawner running the real jupyterhub-singleuser
(Debian's jupyterhub package), and a real configurable-http-proxy that hubd starts itself.

Everything binds loopback on free ports; every wait is bounded."""
import os
import re
import shutil
import signal
import time

import pytest
import requests

from hubd_harness import HubProcess, free_port, logged_in, wait_until

ADMIN_TOKEN = "spawn-test-admin-token-0123456789"
PROXY_TOKEN = "spawn-test-proxy-token-0123456789"
SINGLEUSER = shutil.which("jupyterhub-singleuser")
CHP = shutil.which("configurable-http-proxy")

pytestmark = pytest.mark.skipif(not SINGLEUSER or not CHP,
                                reason="needs jupyterhub-singleuser and configurable-http-proxy")


def spawn_config(workdir, proxy_port, api_port, extra_jh="", spawner="", http_timeout=40, slow_spawn_timeout=10):
    return f'''
[JupyterHub]
proxy_class = "configurable-http-proxy"
bind_url = "http://127.0.0.1:{proxy_port}"
slow_spawn_timeout = {slow_spawn_timeout}
last_activity_interval = 1
{extra_jh}

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN_TOKEN}"

[[JupyterHub.services]]
name = "grades"
url = "http://127.0.0.1:{api_port}"

[ConfigurableHTTPProxy]
api_url = "http://127.0.0.1:{api_port}"
check_routes_interval = 1

[Spawner]
poll_interval = 1
start_timeout = 30
http_timeout = {http_timeout}
{spawner}

[plugins.local]
home_dir_template = "{workdir}/users/{{username}}"
term_timeout = 3
'''


def make_hub(extra_jh="", spawner="", workdir=None, port=None, ports=None, http_timeout=40, slow_spawn_timeout=10):
    import tempfile
    workdir = workdir or tempfile.mkdtemp(prefix="hubd-spawn-")
    proxy_port, api_port = ports or (free_port(), free_port())
    hub = HubProcess(spawn_config(workdir, proxy_port, api_port, extra_jh, spawner, http_timeout, slow_spawn_timeout), workdir=workdir, port=port,
                     env={"CONFIGPROXY_AUTH_TOKEN": PROXY_TOKEN})
    hub.proxy_url = f"http://127.0.0.1:{proxy_port}"
    hub.proxy_api = f"http://127.0.0.1:{api_port}/api/routes"
    hub.ports = (proxy_port, api_port)
    return hub


def start_hub(hub):
    """Starts hubd and waits until the CHP it starts has the hub route (the API answers a bit earlier)."""
    hub.start(timeout=40)

    def hub_routed():
        try:
            return "/" in routes(hub)
        except (requests.RequestException, AssertionError):
            return False
    wait_until(hub_routed, 30, "the proxy to have the hub route")
    return hub


def admin(hub, method, path, **kw):
    return hub.api(method, path, token=ADMIN_TOKEN, **kw)


def routes(hub):
    r = requests.get(hub.proxy_api, headers={"Authorization": f"token {PROXY_TOKEN}"}, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def server_model(hub, user, name=""):
    r = admin(hub, "GET", f"/users/{user}")
    assert r.status_code == 200, r.text
    return r.json().get("servers", {}).get(name)


def start_and_wait(hub, user):
    r = admin(hub, "POST", f"/users/{user}/server")
    assert r.status_code in (201, 202), r.text
    wait_until(lambda: (server_model(hub, user) or {}).get("ready"), 90, f"{user}'s server to be ready")


def through_proxy(hub, path):
    try:
        return requests.get(hub.proxy_url + path, timeout=10, allow_redirects=False)
    except requests.RequestException:
        return None


def server_tokens(hub, user):
    r = admin(hub, "GET", f"/users/{user}/tokens")
    assert r.status_code == 200, r.text
    return [t for t in r.json()["api_tokens"] if t.get("note", "").startswith("Server at ")]


def process_gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie no one reaped yet is gone too
    except OSError:
        return True


def chp_pid(hub):
    pids = re.findall(r"proxy-started: configurable-http-proxy \(pid (\d+)\)", hub.log())
    assert pids, hub.log()
    return int(pids[-1])


@pytest.fixture(scope="module")
def hub():
    h = make_hub()
    start_hub(h)
    for user in ("alice", "carol", "dave"):
        r = admin(h, "POST", f"/users/{user}")
        assert r.status_code == 201, r.text
    yield h
    h.stop(timeout=40)
    assert routes_gone_after_stop(h)
    shutil.rmtree(h.workdir, ignore_errors=True)


def routes_gone_after_stop(h):
    # cleanup_proxy: the CHP hubd started is gone with it.
    try:
        requests.get(h.proxy_api, headers={"Authorization": f"token {PROXY_TOKEN}"}, timeout=2)
        return False
    except requests.RequestException:
        return True


def test_hub_route_and_proxy_reach_the_hub(hub):
    table = routes(hub)
    assert table["/"]["hub"] is True
    assert table["/"]["target"] == f"http://127.0.0.1:{hub.port}"
    r = through_proxy(hub, "/hub/api/")
    assert r is not None and r.status_code == 200 and "version" in r.json()
    # A service with a url gets its route, with JupyterHub's data.
    table = wait_until(lambda: (lambda t: t if "/services/grades" in t else None)(routes(hub)), 10, "the service route")
    assert table["/services/grades"]["service"] == "grades"
    assert table["/services/grades"]["target"] == hub.proxy_api.rsplit("/api/routes", 1)[0]


def test_start_reach_through_proxy_and_stop(hub):
    start_and_wait(hub, "alice")
    model = server_model(hub, "alice")
    assert model["url"] == "/user/alice/" and model["pending"] is None and model["started"]
    table = routes(hub)
    assert "/user/alice" in table, table
    assert table["/user/alice"]["user"] == "alice" and table["/user/alice"]["server_name"] == ""
    target = table["/user/alice"]["target"]
    assert target.startswith("http://127.0.0.1:")
    # The real jupyterhub-singleuser answers through the proxy: its API root needs no login...
    r = through_proxy(hub, "/user/alice/api")
    assert r is not None and r.status_code == 200, r and r.text
    assert "version" in r.json()
    # ...and its pages send the browser to hubd's OAuth authorize endpoint with the server's client.
    r = through_proxy(hub, "/user/alice/tree")
    assert r is not None and r.status_code == 302, r and r.text
    assert "/hub/api/oauth2/authorize" in r.headers["Location"]
    assert "client_id=jupyterhub-user-alice" in r.headers["Location"]
    # The server token exists while it runs, scoped like the server role.
    tokens = server_tokens(hub, "alice")
    assert len(tokens) == 1 and tokens[0]["note"] == "Server at /user/alice/"
    assert "access:servers!server=alice/" in tokens[0]["scopes"]
    assert "users:activity!user=alice" in tokens[0]["scopes"]
    # A second start is refused while it runs.
    r = admin(hub, "POST", "/users/alice/server")
    assert r.status_code == 400 and "already running" in r.json()["message"]

    r = admin(hub, "DELETE", "/users/alice/server")
    assert r.status_code in (202, 204), r.text
    wait_until(lambda: server_model(hub, "alice") is None, 60, "alice's server to stop")
    assert "/user/alice" not in routes(hub)
    assert server_tokens(hub, "alice") == []
    # The target no longer answers: the process is gone.
    with pytest.raises(requests.RequestException):
        requests.get(target + "/user/alice/api", timeout=2)
    # Stopping a stopped server is fine.
    assert admin(hub, "DELETE", "/users/alice/server").status_code == 204


def test_progress_stream_reports_ready(hub):
    import json
    import threading
    r = admin(hub, "GET", "/users/dave/server/progress")
    assert r.status_code == 400
    answers = []
    starter = threading.Thread(target=lambda: answers.append(admin(hub, "POST", "/users/dave/server")))
    starter.start()
    # While the spawn runs, the stream is live: events arrive one by one, before the server is ready.
    def progress_stream():
        r = hub.api("GET", "/users/dave/server/progress", token=ADMIN_TOKEN, stream=True)
        if r.status_code == 200:
            return r
        r.close()
    r = wait_until(progress_stream, 20, "dave's progress stream", interval=0.02)
    assert r.headers["Content-Type"].startswith("text/event-stream")
    events = []
    for line in r.iter_lines(decode_unicode=True):
        if not line or not line.startswith("data: "):
            continue
        ev = json.loads(line[len("data: "):])
        if not events:
            # The first event came while the server was still starting (it is not the final one).
            assert not ev.get("ready"), ev
            assert (server_model(hub, "dave") or {}).get("ready") is not True
        events.append(ev)
        if ev.get("ready") or ev.get("failed"):
            break
    r.close()
    starter.join(60)
    assert answers and answers[0].status_code in (201, 202), answers
    last = events[-1]
    assert last["ready"] is True and last["progress"] == 100 and last["url"] == "/user/dave/"
    assert len(events) >= 2
    # Once running, the stream is the ready event alone.
    r = admin(hub, "GET", "/users/dave/server/progress")
    assert r.status_code == 200 and '"ready": true' in r.text.replace('"ready":true', '"ready": true')
    wait_until(lambda: (server_model(hub, "dave") or {}).get("ready"), 30, "dave ready")
    assert admin(hub, "DELETE", "/users/dave/server").status_code in (202, 204)
    wait_until(lambda: server_model(hub, "dave") is None, 60, "dave's server to stop")


def test_killed_server_is_cleaned_up_and_can_start_again(hub):
    start_and_wait(hub, "carol")
    r = admin(hub, "GET", "/users/carol")
    pid = r.json()["servers"][""]["state"]["pid"]
    assert "/user/carol" in routes(hub)
    os.killpg(pid, signal.SIGKILL)
    wait_until(lambda: server_model(hub, "carol") is None, 20, "hubd to notice the dead server")
    wait_until(lambda: "/user/carol" not in routes(hub), 10, "the route to go")
    assert server_tokens(hub, "carol") == []
    assert "server-exited: server carol exited on its own" in hub.log()
    start_and_wait(hub, "carol")
    r = through_proxy(hub, "/user/carol/api")
    assert r is not None and r.status_code == 200
    assert admin(hub, "DELETE", "/users/carol/server").status_code in (202, 204)
    wait_until(lambda: server_model(hub, "carol") is None, 60, "carol's server to stop")


def test_killed_proxy_is_restarted_and_routes_come_back(hub):
    start_and_wait(hub, "alice")
    assert "/user/alice" in routes(hub)
    old = chp_pid(hub)
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: chp_pid(hub) != old, 20, "hubd to restart the proxy")

    def reachable():
        r = through_proxy(hub, "/user/alice/api")
        return r is not None and r.status_code == 200
    wait_until(reachable, 20, "alice's server to be reachable again")
    assert "/" in routes(hub)
    assert admin(hub, "DELETE", "/users/alice/server").status_code in (202, 204)
    wait_until(lambda: server_model(hub, "alice") is None, 60, "alice's server to stop")


def test_missing_command_fails_clearly_and_leaves_nothing():
    h = make_hub(spawner='cmd = ["hubd-no-such-command"]')
    start_hub(h)
    try:
        assert admin(h, "POST", "/users/bob").status_code == 201
        for _ in range(2):  # a failed spawn leaves nothing pending: the second try fails the same way
            r = admin(h, "POST", "/users/bob/server")
            assert r.status_code == 500, r.text
            assert 'command not found: "hubd-no-such-command"' in r.json()["message"]
            assert server_model(h, "bob") is None
            assert server_tokens(h, "bob") == []
            assert "/user/bob" not in routes(h)
        r = admin(h, "GET", "/users/bob/server/progress")
        assert r.status_code == 200 and '"failed": true' in r.text.replace('":true', '": true')
        # The pages say so too: the spawn page shows the error, spawn-pending the failed attempt.
        s = browser_login(h, "bob")
        r = s.get(h.proxy_url + "/hub/spawn", timeout=30)
        assert r.status_code == 500 and "command not found" in r.text, (r.status_code, r.text[:300])
        r = s.get(h.proxy_url + "/hub/spawn-pending/bob", timeout=30)
        assert r.status_code == 424 and "has failed" in r.text and "command not found" in r.text, r.text[:500]
        assert "spawn-failed: server bob failed to start" in h.log()
    finally:
        h.stop(timeout=40)
        shutil.rmtree(h.workdir, ignore_errors=True)


def test_server_that_never_answers_times_out_and_is_stopped():
    # `sleep` runs but never listens: the readiness wait gives up after http_timeout and stops it.
    h = make_hub(spawner='cmd = ["sleep", "600"]', http_timeout=2)
    start_hub(h)
    try:
        assert admin(h, "POST", "/users/erin").status_code == 201
        r = admin(h, "POST", "/users/erin/server")
        assert r.status_code == 500, r.text
        assert "never answered within" in r.json()["message"]
        assert server_model(h, "erin") is None
        assert server_tokens(h, "erin") == []
        assert "started the server for erin as pid" in h.log()
        pid = int(re.findall(r"started the server for erin as pid (\d+)", h.log())[-1])
        wait_until(lambda: process_gone(pid), 10, "the never-answering process to be stopped")
    finally:
        h.stop(timeout=40)
        shutil.rmtree(h.workdir, ignore_errors=True)


def test_restart_readopts_running_servers():
    h = make_hub(extra_jh="cleanup_servers = false")
    start_hub(h)
    workdir, port, ports = h.workdir, h.port, h.ports
    try:
        assert admin(h, "POST", "/users/frank").status_code == 201
        start_and_wait(h, "frank")
        pid = admin(h, "GET", "/users/frank").json()["servers"][""]["state"]["pid"]
        h.stop(timeout=40)
        assert not process_gone(pid), "cleanup_servers = false keeps the server running"
        h2 = make_hub(extra_jh="cleanup_servers = false", workdir=workdir, port=port, ports=ports)
        start_hub(h2)
        try:
            model = server_model(h2, "frank")
            assert model and model["ready"], model
            wait_until(lambda: "/user/frank" in routes(h2), 10, "the re-adopted server's route")
            r = through_proxy(h2, "/user/frank/api")
            assert r is not None and r.status_code == 200
            assert "server-adopted: server frank still runs" in h2.log()
            assert admin(h2, "DELETE", "/users/frank/server").status_code in (202, 204)
            wait_until(lambda: server_model(h2, "frank") is None, 60, "frank's server to stop")
            wait_until(lambda: process_gone(pid), 15, "the re-adopted process to exit")
        finally:
            h2.stop(timeout=40)
    finally:
        if h.proc and h.proc.poll() is None:
            h.stop(timeout=40)
        shutil.rmtree(workdir, ignore_errors=True)


def browser_login(hub, user):
    """A browser-like session logged in to the hub through the proxy (form, XSRF, cookies)."""
    return logged_in(hub.proxy_url + "/", user, timeout=10)


def test_oauth_round_trip_through_the_proxy_and_other_users_get_403(hub):
    start_and_wait(hub, "alice")
    try:
        s = browser_login(hub, "alice")
        # The real singleuser sends the browser to hubd's authorize endpoint; hubd skips the confirm page
        # for the user's own server, the server exchanges the code with its token and sets its cookie.
        r = s.get(hub.proxy_url + "/user/alice/tree", timeout=30)
        assert r.status_code == 200, (r.status_code, r.url, r.text[:500])
        assert r.url == hub.proxy_url + "/user/alice/tree"
        assert any(h.status_code == 302 and "/hub/api/oauth2/authorize" in h.headers.get("Location", "")
                   for h in r.history), [h.headers.get("Location") for h in r.history]
        assert "jupyterhub-user-alice" in s.cookies.get_dict(), s.cookies.get_dict()
        # The server's API now knows the visitor through the cookie.
        r = s.get(hub.proxy_url + "/user/alice/api/contents", timeout=10)
        assert r.status_code == 200, r.text

        # Another user is refused by the hub at the authorize step.
        other = browser_login(hub, "mallory")
        r = other.get(hub.proxy_url + "/user/alice/tree", timeout=30)
        assert r.status_code == 403, (r.status_code, r.url, r.text[:300])
        assert "/hub/api/oauth2/authorize" in r.url

        # An admin grants that user access through the roles API: the same browser gets in at once,
        # without restarting the hub or the server.
        r = admin(hub, "POST", "/roles", json_body={"name": "alice-guests", "scopes": ["access:servers!user=alice"]})
        assert r.status_code == 201, r.text
        r = admin(hub, "POST", "/roles/alice-guests/users", json_body={"users": ["mallory"]})
        assert r.status_code in (200, 201), r.text
        r = other.get(hub.proxy_url + "/user/alice/tree", timeout=30)
        assert r.status_code == 200 and "/hub/api/oauth2/authorize" in r.url, (r.status_code, r.url)
        # Not the visitor's own server: the hub asks for confirmation first; the browser confirms.
        import html
        action = html.unescape(re.search(r'<form method="post" action="([^"]*)"', r.text).group(1))
        fields = [(n, html.unescape(v)) for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text)]
        from urllib.parse import urljoin
        r = other.post(urljoin(r.url, action or r.url), data=fields, timeout=30)
        assert r.status_code == 200, (r.status_code, r.url, r.text[:300])
        assert r.url == hub.proxy_url + "/user/alice/tree"
    finally:
        assert admin(hub, "DELETE", "/users/alice/server").status_code in (202, 204)
        wait_until(lambda: server_model(hub, "alice") is None, 60, "alice's server to stop")


def test_proxy_api(hub):
    r = admin(hub, "GET", "/proxy")
    assert r.status_code == 200, r.text
    assert r.json()["/"]["data"]["hub"] is True
    assert r.json()["/"]["target"] == f"http://127.0.0.1:{hub.port}"
    r = admin(hub, "GET", "/proxy", headers={"Accept": "application/jupyterhub-pagination+json"})
    assert r.status_code == 200 and r.json()["_pagination"]["total"] >= 1
    # A stale route hubd owns is removed by a resync; a missing hub route comes back.
    h = {"Authorization": f"token {PROXY_TOKEN}"}
    assert requests.post(hub.proxy_api + "/user/ghost", json={"target": "http://127.0.0.1:9", "jupyterhub": True},
                         headers=h, timeout=5).status_code == 201
    assert requests.delete(hub.proxy_api + "/", headers=h, timeout=5).status_code == 204
    assert admin(hub, "POST", "/proxy").status_code == 200
    table = routes(hub)
    assert "/user/ghost" not in table and "/" in table
    assert hub.api("GET", "/proxy").status_code == 403
    assert admin(hub, "PATCH", "/proxy", data="[]").status_code == 400


def test_named_servers_and_limits():
    h = make_hub(extra_jh="allow_named_servers = true\nnamed_server_limit_per_user = 1\n"
                          "concurrent_spawn_limit = 1\nactive_server_limit = 1", slow_spawn_timeout=0.05)
    start_hub(h)
    try:
        for u in ("gina", "hank"):
            assert admin(h, "POST", f"/users/{u}").status_code == 201
        assert admin(h, "POST", "/users/gina/servers/Bad_Name").json()["message"] == "Invalid server_name"
        r = admin(h, "POST", "/users/gina/servers/gpu", json_body={"user_options": {"size": "s"}})
        assert r.status_code == 202, r.text  # slow_spawn_timeout is tiny: answered while pending
        assert server_model(h, "gina", "gpu")["pending"] == "spawn"
        # Already pending: 202 again; a stop must wait; another user's spawn hits concurrent_spawn_limit.
        assert admin(h, "POST", "/users/gina/servers/gpu").status_code == 202
        r = admin(h, "DELETE", "/users/gina/servers/gpu")
        assert r.status_code == 400 and "pending spawn" in r.json()["message"]
        r = admin(h, "POST", "/users/hank/server")
        assert r.status_code == 429, r.text
        assert 30 <= int(r.headers["Retry-After"]) <= 60
        wait_until(lambda: (server_model(h, "gina", "gpu") or {}).get("ready"), 60, "gina/gpu ready")
        model = server_model(h, "gina", "gpu")
        assert model["url"] == "/user/gina/gpu/" and model["user_options"] == {"size": "s"}
        assert model["progress_url"] == "/hub/api/users/gina/servers/gpu/progress"
        assert "/user/gina/gpu" in routes(h)
        r = through_proxy(h, "/user/gina/gpu/api")
        assert r is not None and r.status_code == 200
        token = server_tokens(h, "gina")[0]
        assert token["note"] == "Server at /user/gina/gpu/"
        assert "access:servers!server=gina/gpu" in token["scopes"]
        # active_server_limit counts running servers hub-wide; the named-server limit is per user.
        r = admin(h, "POST", "/users/hank/server")
        assert r.status_code == 429 and "Active user limit" in r.json()["message"]
        r = admin(h, "POST", "/users/gina/servers/cpu")
        assert r.status_code == 400 and "maximum of 1 named servers" in r.json()["message"]
        # Stop and remove: the record goes too.
        r = admin(h, "DELETE", "/users/gina/servers/gpu", json_body={"remove": True})
        assert r.status_code in (202, 204), r.text
        wait_until(lambda: admin(h, "GET", "/users/gina/servers/gpu").status_code == 404, 30, "gina/gpu removed")
        assert "/user/gina/gpu" not in routes(h)
        assert admin(h, "DELETE", "/users/gina/server", json_body={"remove": True}).status_code == 400
        # Deleting a user stops every server of theirs first, named ones too.
        assert admin(h, "POST", "/users/hank/servers/lab").status_code in (201, 202)
        wait_until(lambda: (server_model(h, "hank", "lab") or {}).get("ready"), 90, "hank/lab ready")
        pid = admin(h, "GET", "/users/hank").json()["servers"]["lab"]["state"]["pid"]
        r = admin(h, "DELETE", "/users/hank")
        assert r.status_code == 204, r.text
        wait_until(lambda: process_gone(pid), 20, "hank/lab's process to stop")
        assert "/user/hank/lab" not in routes(h)
    finally:
        h.stop(timeout=40)
        shutil.rmtree(h.workdir, ignore_errors=True)


def test_port_in_use_fails_clearly():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        h = make_hub(spawner=f"port = {port}")
        start_hub(h)
        try:
            assert admin(h, "POST", "/users/ivy").status_code == 201
            r = admin(h, "POST", "/users/ivy/server")
            assert r.status_code == 500, r.text
            assert r.json()["message"] == f"port {port} on 127.0.0.1 is already in use"
            assert server_model(h, "ivy") is None and server_tokens(h, "ivy") == []
        finally:
            h.stop(timeout=40)
            shutil.rmtree(h.workdir, ignore_errors=True)


def test_proxy_traffic_counts_as_activity(hub):
    start_and_wait(hub, "dave")
    try:
        before = server_model(hub, "dave")["last_activity"]
        user_before = admin(hub, "GET", "/users/dave").json()["last_activity"]
        time.sleep(1.1)
        r = through_proxy(hub, "/user/dave/api")
        assert r is not None and r.status_code == 200
        # CHP stamps the route; the next route check (check_routes_interval = 1 s) copies it.
        wait_until(lambda: server_model(hub, "dave")["last_activity"] > before, 10, "activity from proxy traffic")
        user_after = admin(hub, "GET", "/users/dave").json()["last_activity"]
        assert user_after and (user_before is None or user_after > user_before)
    finally:
        assert admin(hub, "DELETE", "/users/dave/server").status_code in (202, 204)
        wait_until(lambda: server_model(hub, "dave") is None, 60, "dave's server to stop")


def test_shutdown_stops_servers_and_the_proxy():
    h = make_hub()
    start_hub(h)
    try:
        assert admin(h, "POST", "/users/jo").status_code == 201
        start_and_wait(h, "jo")
        pid = admin(h, "GET", "/users/jo").json()["servers"][""]["state"]["pid"]
        proxy = chp_pid(h)
        assert h.stop(timeout=40) == 0, h.log()
        assert process_gone(pid), "cleanup_servers (default true) stops the server at shutdown"
        wait_until(lambda: process_gone(proxy), 10, "cleanup_proxy to stop CHP")
        assert "spawn: stopping 1 servers (JupyterHub.cleanup_servers)" in h.log()
    finally:
        h.stop(timeout=40)
        shutil.rmtree(h.workdir, ignore_errors=True)


def read_environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(kv.split("=", 1) for kv in f.read().decode().split("\0") if "=" in kv)


def test_env_contract_pre_spawn_hooks_and_server_events():
    import json
    import tempfile
    from hubd_harness import BUILD_DIR
    workdir = tempfile.mkdtemp(prefix="hubd-spawn-")
    log_file = os.path.join(workdir, "hook.log")
    fixture_dir = os.path.join(BUILD_DIR, "tests", "fixtures", "spawn_hooks")
    h = make_hub(workdir=workdir,
                 extra_jh=f'plugin_paths = ["{fixture_dir}"]',
                 spawner='environment = {HUBD_TEST_EXTRA = "from-config"}\ndefault_url = "/tree/{username}"\n'
                         'oauth_client_allowed_scopes = ["read:users:name!user"]')
    with open(h.config_path, "a") as f:
        f.write(f'\n[plugins.spawn_hook]\nlog_file = "{log_file}"\n')
    start_hub(h)

    def hook_lines():
        try:
            with open(log_file) as f:
                return [json.loads(line) for line in f]
        except OSError:
            return []
    try:
        for u in ("kim", "denied-user", "bad-patch"):
            assert admin(h, "POST", f"/users/{u}").status_code == 201
        start_and_wait(h, "kim")
        pid = admin(h, "GET", "/users/kim").json()["servers"][""]["state"]["pid"]
        env = read_environ(pid)
        token = env["JUPYTERHUB_API_TOKEN"]
        assert env["JPY_API_TOKEN"] == token
        assert env["JUPYTERHUB_API_URL"] == f"http://127.0.0.1:{h.port}/hub/api"
        assert env["JUPYTERHUB_ACTIVITY_URL"] == f"http://127.0.0.1:{h.port}/hub/api/users/kim/activity"
        assert env["JUPYTERHUB_CLIENT_ID"] == "jupyterhub-user-kim"
        assert env["JUPYTERHUB_USER"] == "kim" and env["JUPYTERHUB_SERVER_NAME"] == ""
        assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/user/kim/"
        assert env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == "/user/kim/oauth_callback"
        target = routes(h)["/user/kim"]["target"]
        assert env["JUPYTERHUB_SERVICE_URL"] == target + "/user/kim/"
        assert json.loads(env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"]) == ["access:servers!server=kim/", "access:servers!user=kim"]
        assert json.loads(env["JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES"]) == ["read:users:name!user"]
        assert env["JUPYTERHUB_DEFAULT_URL"] == "/tree/kim"
        assert env["JUPYTERHUB_BASE_URL"] == "/"
        assert env["HUBD_TEST_EXTRA"] == "from-config"
        assert env["PATH"] == os.environ["PATH"]  # env_keep
        assert env["HOME"].endswith("/users/kim")
        # The pre_spawn hook saw the context (with the token) and its patch reached the process.
        assert env["HUBD_HOOK_USER"] == "kim" and env["HUBD_HOOK_SAW_TOKEN"] == "yes"
        # The server token is the OAuth client secret and works against the hub as kim.
        r = h.api("GET", "/user", token=token)
        assert r.status_code == 200 and r.json()["name"] == "kim", r.text
        # The server token cannot do what kim's server role does not allow.
        assert h.api("GET", "/users", token=token).status_code == 403

        assert admin(h, "DELETE", "/users/kim/server").status_code in (202, 204)
        wait_until(lambda: server_model(h, "kim") is None, 60, "kim's server to stop")
        assert h.api("GET", "/user", token=token).status_code == 403  # revoked with the server
        # Change events are delivered asynchronously: server_stopped and post_stop may come in any order.
        wait_until(lambda: sorted(l["point"] for l in hook_lines() if l["user"] == "kim") ==
                 ["post_stop", "pre_spawn", "server_started", "server_stopped"], 10, "hook calls for kim")
        points = [l["point"] for l in hook_lines() if l["user"] == "kim"]
        assert points[:2] == ["pre_spawn", "server_started"], points
        started = [l for l in hook_lines() if l["point"] == "server_started"][0]
        assert started["server_name"] == "" and started["url"]

        # A denying hook fails the spawn with its status and message; a bad patch fails closed.
        r = admin(h, "POST", "/users/denied-user/server")
        assert r.status_code == 403 and "not in the spawn group" in r.json()["message"], r.text
        assert server_model(h, "denied-user") is None and server_tokens(h, "denied-user") == []
        r = admin(h, "POST", "/users/bad-patch/server")
        assert r.status_code == 500 and "bad patch" in r.json()["message"], r.text
        assert server_model(h, "bad-patch") is None
        assert "plugin-misbehaving: pre_spawn hook of plugin 'spawn_hook' returned a bad patch" in h.log()
    finally:
        h.stop(timeout=40)
        shutil.rmtree(workdir, ignore_errors=True)


def test_spawn_page_lands_on_the_notebook(hub):
    s = browser_login(hub, "lee")
    try:
        # /hub/spawn starts the server, spawn-pending sends the browser on once it is ready, and the
        # server's OAuth round trip ends on its tree page.
        r = s.get(hub.proxy_url + "/hub/spawn", timeout=60)
        via_pending = any("/hub/spawn-pending/lee" in h.headers.get("Location", "") for h in r.history)
        if "/hub/spawn-pending/" in r.url:  # not ready yet: the pending page follows progress
            wait_until(lambda: (server_model(hub, "lee") or {}).get("ready"), 90, "lee's server to be ready")
            r = s.get(r.url, timeout=60)
        assert r.status_code == 200, (r.status_code, r.url, r.text[:300])
        assert r.url.startswith(hub.proxy_url + "/user/lee/"), r.url
        assert via_pending
    finally:
        assert admin(hub, "DELETE", "/users/lee/server").status_code in (202, 204)
        wait_until(lambda: server_model(hub, "lee") is None, 60, "lee's server to stop")
