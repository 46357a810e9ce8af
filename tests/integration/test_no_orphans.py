"""No process outlives what hubd knows: a real hubd, the local spawner running the real
jupyterhub-singleuser and the real configurable-http-proxy hubd starts.

Each test marks the server processes it causes (an environment variable the spawner passes on) and
finds the proxy by its API port on the command line, so what is left afterwards is found by PID
however the test ends; every process the test caused is killed by PID in its teardown."""
import os
import re
import signal
import shutil
import sys
import time
import uuid

import pytest
import requests

from hubd_harness import wait_until
from test_spawn import (ADMIN_TOKEN, CHP, PROXY_TOKEN, SINGLEUSER, admin, chp_pid, make_hub, process_gone,
                        read_environ, routes, server_model, start_hub, through_proxy)

SLOW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "slow_singleuser.py")

pytestmark = pytest.mark.skipif(not SINGLEUSER or not CHP,
                                reason="needs jupyterhub-singleuser and configurable-http-proxy")


def live_pids():
    for name in os.listdir("/proc"):
        if name.isdigit() and not process_gone(int(name)):
            yield int(name)


def pids_with_env(marker):
    """Processes whose environment holds HUBD_TEST_MARKER=marker (the servers of one test)."""
    out = []
    for pid in live_pids():
        try:
            if read_environ(pid).get("HUBD_TEST_MARKER") == marker:
                out.append(pid)
        except (OSError, UnicodeDecodeError):
            pass
    return out


def chp_pids(api_port):
    """configurable-http-proxy processes serving this test's API port."""
    out = []
    for pid in live_pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if any("configurable-http-proxy" in a for a in args) and "--api-port" in args and \
                args[args.index("--api-port") + 1] == str(api_port):
            out.append(pid)
    return out


def kill_pid(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


class Tracker:
    """The hubs and markers of one test; teardown stops each of them by PID."""

    def __init__(self):
        self.hubs, self.markers, self.api_ports, self.workdirs = [], [], [], []

    def hub(self, marker, spawner_cmd=None, extra_jh="", **kw):
        spawner = f'environment = {{ HUBD_TEST_MARKER = "{marker}" }}\n'
        if spawner_cmd:
            spawner += "cmd = [" + ", ".join(f'"{c}"' for c in spawner_cmd) + "]\n"
        h = make_hub(extra_jh=extra_jh, spawner=spawner, **kw)
        self.hubs.append(h)
        self.markers.append(marker)
        self.api_ports.append(h.ports[1])
        self.workdirs.append(h.workdir)
        return h

    def teardown(self):
        for h in self.hubs:
            if h.proc and h.proc.poll() is None:
                h.proc.kill()
                h.proc.wait()
        for m in set(self.markers):
            for pid in pids_with_env(m):
                kill_pid(pid)
        for port in set(self.api_ports):
            for pid in chp_pids(port):
                kill_pid(pid)
        for w in set(self.workdirs):
            shutil.rmtree(w, ignore_errors=True)


@pytest.fixture
def track():
    t = Tracker()
    yield t
    t.teardown()


def slow_cmd(seconds):
    # The local spawner adds --allow-root only when the command itself is a jupyter one.
    return [sys.executable, SLOW, str(seconds), SINGLEUSER] + (["--allow-root"] if os.geteuid() == 0 else [])


def spawned_pid(hub, user):
    pids = re.findall(rf"started the server for {user} as pid (\d+)", hub.log())
    return int(pids[-1]) if pids else None


def no_servers_recorded(hub, user):
    r = admin(hub, "GET", "/users")
    assert r.status_code == 200, r.text
    entry = next(u for u in r.json() if u["name"] == user)
    return entry["servers"] == {} and entry["server"] is None and entry["pending"] is None


def test_spawn_right_after_startup_is_kept_and_stops(track):
    marker = uuid.uuid4().hex
    h = track.hub(marker)
    start_hub(h)
    assert admin(h, "POST", "/users/early").status_code == 201
    assert h.stop(timeout=40) == 0, h.log()
    # The second start: the spawn arrives while the proxy starts and the adoption pass waits for it.
    h2 = track.hub(marker, workdir=h.workdir, port=h.port, ports=h.ports)
    h2.start(timeout=40, until_started=False)
    time.sleep(0.05)
    r = admin(h2, "POST", "/users/early/server")
    assert r.status_code in (201, 202), r.text
    wait_until(lambda: (server_model(h2, "early") or {}).get("ready"), 90, "early's server to be ready")
    pid = spawned_pid(h2, "early")
    assert pid and pids_with_env(marker) == [pid]
    log = h2.log()
    second_run = log[log.rindex(" starting with "):]
    assert second_run.index("spawn-requested: starting server early") < second_run.index("hubd is serving at"), \
        "the spawn was requested before the start-up pass (the case at hand)"
    # Several route checks later its route is still there, it answers through the proxy, and its
    # token still works.
    time.sleep(3)
    assert "/user/early" in routes(h2)
    r = through_proxy(h2, "/user/early/api")
    assert r is not None and r.status_code == 200
    token = read_environ(pid)["JUPYTERHUB_API_TOKEN"]
    r = requests.post(h2.api_url + "/users/early/activity", headers={"Authorization": f"token {token}"},
                      json={"last_activity": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "servers": {}},
                      timeout=10)
    assert r.status_code == 200, r.text
    assert "server-not-adopted" not in h2.log()
    r = admin(h2, "DELETE", "/users/early/server")
    assert r.status_code in (202, 204), r.text
    wait_until(lambda: server_model(h2, "early") is None, 60, "early's server to stop")
    wait_until(lambda: process_gone(pid), 15, "early's server process to exit")
    assert no_servers_recorded(h2, "early")
    assert h2.stop(timeout=40) == 0, h2.log()
    assert pids_with_env(marker) == [] and chp_pids(h2.ports[1]) == []


@pytest.mark.parametrize("how,cleanup_servers", [("SIGTERM", "true"), ("SIGTERM", "false"), ("SIGINT", "true"),
                                                 ("POST /shutdown", "true")])
def test_shutdown_during_a_pending_spawn_leaves_no_process(track, how, cleanup_servers):
    marker = uuid.uuid4().hex
    h = track.hub(marker, spawner_cmd=slow_cmd(30), extra_jh=f"cleanup_servers = {cleanup_servers}",
                  slow_spawn_timeout=0.5)
    start_hub(h)
    assert admin(h, "POST", "/users/slow").status_code == 201
    r = admin(h, "POST", "/users/slow/server")
    assert r.status_code == 202, r.text
    pid = wait_until(lambda: spawned_pid(h, "slow"), 20, "the slow server's process")
    assert not process_gone(pid)
    assert server_model(h, "slow")["pending"] == "spawn"
    proxy = chp_pid(h)
    if how == "POST /shutdown":
        r = admin(h, "POST", "/shutdown")
        assert r.status_code == 202, r.text
        h.proc.wait(40)
        assert h.stop() == 0, h.log()
    else:
        assert h.stop(sig=getattr(signal, how), timeout=40) == 0, h.log()
    assert process_gone(pid), "a pending spawn is stopped at shutdown"
    assert pids_with_env(marker) == []
    assert "spawn-cancelled: cancelling 1 pending spawns" in h.log()
    wait_until(lambda: process_gone(proxy), 10, "the proxy to stop")
    # The database agrees: the next start finds nothing to adopt and shows no server.
    h2 = track.hub(marker, workdir=h.workdir, port=h.port, ports=h.ports)
    start_hub(h2)
    assert no_servers_recorded(h2, "slow")
    assert "server-adopted" not in h2.log() and "server-not-adopted" not in h2.log()
    assert h2.stop(timeout=40) == 0, h2.log()
    assert pids_with_env(marker) == [] and chp_pids(h.ports[1]) == []


def test_kill_9_during_a_pending_spawn_then_restart_stops_that_server(track):
    marker = uuid.uuid4().hex
    h = track.hub(marker, spawner_cmd=slow_cmd(30), slow_spawn_timeout=0.5)
    start_hub(h)
    assert admin(h, "POST", "/users/crash").status_code == 201
    assert admin(h, "POST", "/users/crash/server").status_code == 202
    pid = wait_until(lambda: spawned_pid(h, "crash"), 20, "the slow server's process")
    # Its state (the pid) is on the pending record before it answers, so the next start can find it.
    wait_until(lambda: (server_model(h, "crash") or {}).get("state", {}).get("pid") == pid, 10,
             "the pending server's state")
    h.kill()
    assert not process_gone(pid), "a killed hubd leaves the pending server running (the case at hand)"
    h2 = track.hub(marker, workdir=h.workdir, port=h.port, ports=h.ports)
    start_hub(h2)
    wait_until(lambda: process_gone(pid), 20, "the half-started server to be stopped")
    wait_until(lambda: no_servers_recorded(h2, "crash"), 20, "crash's record to be cleared")
    assert "server-not-adopted: server crash was pending at shutdown; stopping it" in h2.log()
    assert h2.stop(timeout=40) == 0, h2.log()
    assert pids_with_env(marker) == [] and chp_pids(h.ports[1]) == []


def test_kill_9_then_restart_replaces_the_proxy(track):
    marker = uuid.uuid4().hex
    h = track.hub(marker, extra_jh="cleanup_servers = false")
    start_hub(h)
    api_port = h.ports[1]
    pid_file = os.path.join(h.workdir, "jupyterhub-proxy.pid")
    first_proxy = chp_pid(h)
    with open(pid_file) as f:
        assert int(f.read().strip()) == first_proxy
    assert admin(h, "POST", "/users/kay").status_code == 201
    r = admin(h, "POST", "/users/kay/server")
    assert r.status_code in (201, 202), r.text
    wait_until(lambda: (server_model(h, "kay") or {}).get("ready"), 90, "kay's server to be ready")
    server = spawned_pid(h, "kay")
    h.kill()
    assert chp_pids(api_port) == [first_proxy], "a killed hubd leaves its proxy (the case at hand)"

    h2 = track.hub(marker, extra_jh="cleanup_servers = false", workdir=h.workdir, port=h.port, ports=h.ports)
    start_hub(h2)
    assert process_gone(first_proxy), "the previous proxy is stopped"
    second_proxy = chp_pid(h2)
    assert second_proxy != first_proxy
    assert chp_pids(api_port) == [second_proxy]
    with open(pid_file) as f:
        assert int(f.read().strip()) == second_proxy
    assert "proxy-previous-found" in h2.log()
    # Routes work through the new proxy: the hub and the re-adopted server.
    wait_until(lambda: "/user/kay" in routes(h2), 15, "the re-adopted server's route")
    r = through_proxy(h2, "/user/kay/api")
    assert r is not None and r.status_code == 200
    r = through_proxy(h2, "/hub/api/")
    assert r is not None and r.status_code == 200
    assert admin(h2, "DELETE", "/users/kay/server").status_code in (202, 204)
    wait_until(lambda: server_model(h2, "kay") is None, 60, "kay's server to stop")
    wait_until(lambda: process_gone(server), 15, "kay's server process to exit")
    assert no_servers_recorded(h2, "kay")
    assert h2.stop(timeout=40) == 0, h2.log()
    wait_until(lambda: chp_pids(api_port) == [], 10, "the proxy to stop with hubd")
    assert not os.path.exists(pid_file), "a clean stop removes the pid file"
    assert pids_with_env(marker) == []
