#!/usr/bin/python3
"""Instructions per request of two hubd builds, counted by valgrind's callgrind: the same requests
against each build, one after the other, in one run. An instruction count does not move with the
load of a shared machine, so two builds can be compared on a machine that is busy; it leaves out
waits (fsync, locks, the network), which the wall-clock benchmarks of bench/ measure.

  bench/redesign/compare.py BASE_BUILD OTHER_BUILD... [--requests N]

Each BUILD is a Release build folder with bin/hubd (bench/README-redesign.md says how to make the
one of an older commit). Loopback only; every loop is a fixed number of requests.
"""
import argparse
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import requests

ADMIN = "bench-redesign-admin-token-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """hubd under callgrind with collection off until a scenario turns it on."""

    def __init__(self, build, workdir):
        self.build, self.workdir = build, workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = os.path.join(workdir, "hub.toml")
        with open(config, "w") as f:
            f.write(f'''[JupyterHub]
hub_bind_url = "http://127.0.0.1:{self.port}"
proxy_class = "none"
db_url = "sqlite:///{workdir}/hub.sqlite"
cookie_secret_file = "{workdir}/cookie_secret"

[[JupyterHub.services]]
name = "bench-admin"
admin = true
api_token = "{ADMIN}"
''')
        self.log = open(os.path.join(workdir, "hubd.log"), "wb")
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--dump-instr=no",
             f"--callgrind-out-file={workdir}/callgrind.out", os.path.join(build, "bin", "hubd"), "--config", config],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/hub/api/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"hubd under valgrind did not answer: {open(self.log.name).read()[-2000:]}")

    def api(self, method, path, token=ADMIN, **kw):
        return requests.request(method, self.url + "/hub/api" + path, headers={"Authorization": f"token {token}"},
                                timeout=120, **kw)

    def control(self, *args):
        subprocess.run(["callgrind_control", *args, str(self.proc.pid)], check=True, capture_output=True)

    def count(self, fn, n):
        """Instructions hubd ran (all threads) while fn() ran n times."""
        self.control("-z")
        self.control("-i", "on")
        for i in range(n):
            fn(i)
        self.control("-i", "off")
        before = set(glob.glob(self.workdir + "/callgrind.out*"))
        self.control("-d")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            new = set(glob.glob(self.workdir + "/callgrind.out*")) - before
            for path in new:
                text = open(path).read()
                # "totals:" is the cost of the dumped period ("summary:" may read 0 for a period dump).
                m = re.search(r"^totals: (\d+)", text, re.M)
                if m:
                    os.remove(path)
                    return int(m.group(1)) / n
            time.sleep(0.2)
        raise RuntimeError("callgrind wrote no dump")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def scenarios(hub, n):
    """name -> instructions per request (login: per login, its two requests together)."""
    out = {}
    r = hub.api("POST", "/users", json={"usernames": [f"b{i}" for i in range(1000)]})
    assert r.status_code == 201, r.text
    user_token = hub.api("POST", "/users/b1/tokens", json={}).json()["token"]
    assert hub.api("POST", "/groups/bench").status_code == 201

    def whoami(_):
        assert hub.api("GET", "/user", token=user_token).status_code == 200
    out["whoami (a user's token)"] = hub.count(whoami, n)

    def list_users(_):
        assert hub.api("GET", "/users?limit=200").status_code == 200
    out["GET /users?limit=200 (1000 users)"] = hub.count(list_users, max(1, n // 10))

    def member_add(i):
        r = hub.api("POST", "/groups/bench/users", json={"users": [f"b{i % 1000}"]})
        assert r.status_code == 200, r.text
    out["group member add"] = hub.count(member_add, n)

    def token_issue(i):
        assert hub.api("POST", f"/users/b{i % 1000}/tokens", json={}).status_code == 201
    out["token issue"] = hub.count(token_issue, n)

    def login(i):
        s = requests.Session()
        page = s.get(hub.url + "/hub/login", timeout=120)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        r = s.post(hub.url + "/hub/login", data={"username": f"login{i}", "password": "x", "_xsrf": xsrf},
                   allow_redirects=False, timeout=120)
        assert r.status_code == 302, r.status_code
    out["login (form GET + POST, dummy authenticator)"] = hub.count(login, max(1, n // 5))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("builds", nargs="+", help="Release build folders; ratios are against the first")
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    if len(args.builds) < 2:
        sys.exit("give at least two build folders")
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        sys.exit("needs valgrind (apt-get install valgrind)")
    results = []
    for build in args.builds:
        work = tempfile.mkdtemp(prefix="hubd-redesign-")
        hub = Hub(os.path.abspath(build), work)
        try:
            results.append(scenarios(hub, args.requests))
        finally:
            hub.stop()
            shutil.rmtree(work, ignore_errors=True)
    names = [os.path.basename(os.path.dirname(os.path.abspath(b))) or b for b in args.builds]
    print("| scenario | " + " | ".join(f"{n} instr/op" for n in names) + " | " +
          " | ".join(f"{n}/{names[0]}" for n in names[1:]) + " |")
    print("|---" * (2 * len(names)) + "|")
    for scenario, base in results[0].items():
        counts = [r[scenario] for r in results]
        ratios = [f"{c / base:.3f}" if base else "n/a" for c in counts[1:]]
        print(f"| {scenario} | " + " | ".join(f"{c:,.0f}" for c in counts) + " | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
