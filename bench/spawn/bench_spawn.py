"""Spawn benchmark: N users start servers at once (real hubd, local spawner, real jupyterhub-singleuser,
real CHP started by hubd), then all stop at once. Reports wall time until every server answers through
the proxy (and until every stop finished) and hubd's own CPU seconds per spawn and per stop, read from
/proc/<hubd pid>/stat (utime + stime; the spawned servers are separate processes and not counted).

    HUBD_BUILD_DIR=build-release python3 bench/spawn/bench_spawn.py [--users 20]

Loopback only, free ports, every wait bounded."""
import argparse
import concurrent.futures
import os
import shutil
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
from test_spawn import ADMIN_TOKEN, make_hub, start_hub, admin, routes  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=180)
    args = ap.parse_args()
    names = [f"bench{i:02d}" for i in range(args.users)]
    hub = make_hub(extra_jh=f"concurrent_spawn_limit = {args.users}", slow_spawn_timeout=0.05)
    start_hub(hub)
    try:
        r = admin(hub, "POST", "/users", json_body={"usernames": names})
        assert r.status_code == 201, r.text
        pid = hub.proc.pid
        pool = concurrent.futures.ThreadPoolExecutor(args.users)

        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        codes = list(pool.map(lambda n: admin(hub, "POST", f"/users/{n}/server").status_code, names))
        assert all(c in (201, 202) for c in codes), codes
        pending = set(names)
        deadline = t0 + args.timeout
        while pending and time.monotonic() < deadline:
            for n in list(pending):
                try:
                    ok = requests.get(f"{hub.proxy_url}/user/{n}/api", timeout=5).status_code == 200
                except requests.RequestException:
                    ok = False
                if ok:
                    pending.discard(n)
            time.sleep(0.05)
        t_start = time.monotonic() - t0
        cpu_start = cpu_seconds(pid) - cpu0
        assert not pending, f"not ready after {args.timeout}s: {sorted(pending)}"

        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        codes = list(pool.map(lambda n: admin(hub, "DELETE", f"/users/{n}/server").status_code, names))
        assert all(c in (202, 204) for c in codes), codes
        while time.monotonic() < t1 + args.timeout:
            users = admin(hub, "GET", "/users?state=active").json()
            if not any(u["name"] in names for u in users):
                break
            time.sleep(0.05)
        t_stop = time.monotonic() - t1
        cpu_stop = cpu_seconds(pid) - cpu1
        assert not any(k.startswith("/user/bench") for k in routes(hub))

        n = args.users
        print(f"users: {n}")
        print(f"start: all answering through the proxy after {t_start:.2f} s; hubd CPU {cpu_start:.3f} s "
              f"= {1000 * cpu_start / n:.1f} ms per spawn")
        print(f"stop:  all stopped after {t_stop:.2f} s; hubd CPU {cpu_stop:.3f} s = {1000 * cpu_stop / n:.1f} ms per stop")
    finally:
        hub.stop(timeout=60)
        shutil.rmtree(hub.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
