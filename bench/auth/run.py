#!/usr/bin/python3
"""Identity benchmark (bench/README-auth.md): a real Release hubd with the generic-oauth authenticator
against the test OpenID provider oidc-provider (tests/support/oidc, kind "node"), on loopback.

    HUBD_BUILD_DIR=/path/to/release-build python3 bench/auth/run.py [logins] [refresh]
        [--logins 2000] [--clients 8] [--pairs 6] [--seconds 5]

logins:  full OIDC logins from --clients concurrent clients (one process each, a fresh browser per
         login: the hub's /hub/oauth_login, the provider's login form, the hub's callback, which
         exchanges the code, verifies the id_token and reads userinfo). Reports logins/s, hubd's CPU
         per login and the provider's CPU per login, each read as utime + stime of the process from
         /proc/PID/stat before and after.
refresh: the per-request cost of the refresh check when nothing needs refreshing. Two hubs from the
         same binary and the same config but for Authenticator.auth_refresh_age (a year: every
         request checks the user's stamp; 0: no check), a logged-in user's API token on each, then
         wrk GET /hub/api/user against one and the other in turn, --pairs times (order alternating).
         Reports each run's req/s and hubd CPU per request, the ratios pair by pair and the medians.

Bounded: a fixed number of logins (and a time limit), fixed wrk durations; every daemon binds
127.0.0.1, lives in a temp folder and is stopped by PID at the end."""
import argparse
import multiprocessing
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "support"))
from hubd_harness import HubProcess  # noqa: E402
from oidc_providers import provider_login, start_provider, unavailable_reason  # noqa: E402
from test_generic_oauth import ADMIN, CRYPT_KEY, PLACEHOLDER, hub_config  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
WHOAMI_LUA = os.path.join(HERE, "..", "api", "whoami.lua")
LOGIN_TIME_LIMIT = 600  # seconds: the login run stops here whatever is left


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def command_name(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def start_hub(op, workdir, auth_refresh_age=300):
    os.makedirs(workdir)
    # The integration tests' site: groups and admin from claims, auth_state kept (encrypted) for
    # spawners, the access log on.
    hub = HubProcess(hub_config(op.issuer, auth_extra=f"auth_refresh_age = {auth_refresh_age}"),
                     env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY},
                     workdir=workdir)
    hub.start()
    return hub


def callback(hub):
    return hub.url + "hub/oauth_callback"


def login_once(hub_url, user):
    """One full login as a fresh browser; None when the hub let the user in, else why not."""
    s = requests.Session()
    try:
        r = provider_login(s, hub_url + "hub/oauth_login", user, f"{user}-pw")
    except (AssertionError, requests.RequestException) as e:
        return f"{user}: {e}"
    if r.status_code != 302 or "jupyterhub-session-id" not in s.cookies:
        return f"{user}: the callback answered {r.status_code}: {r.text[:200]}"
    return None


def login_worker(args):
    hub_url, users, count, first, deadline = args
    done, failures = 0, []
    for i in range(first, first + count):
        if time.time() >= deadline:
            break
        why = login_once(hub_url, users[i % len(users)])
        done += 1
        if why:
            failures.append(why)
    return done, failures


def bench_logins(op, workdir, logins, clients, n_users):
    hub = start_hub(op, os.path.join(workdir, "hub-logins"))
    try:
        op.set_redirect_uris([callback(hub)])
        # The provider's PID is node's own (setpriv, which starts it, replaces itself with node).
        assert command_name(op.pid) == "node", command_name(op.pid)
        users = [f"bench-{i}" for i in range(n_users)]
        for u in users:
            op._hook(f"users/{u}", {"groups": ["hub-users"]})  # password: NAME-pw
        # Warm-up, not counted: discovery and the JWKS fetched, every user created in the hub.
        for u in users:
            why = login_once(hub.url, u)
            assert why is None, why
        share = [logins // clients + (1 if c < logins % clients else 0) for c in range(clients)]
        starts = [sum(share[:c]) for c in range(clients)]
        deadline = time.time() + LOGIN_TIME_LIMIT
        load = load_average()
        hub0, op0, cl0, t0 = cpu_seconds(hub.proc.pid), cpu_seconds(op.pid), children_cpu(), time.monotonic()
        with multiprocessing.Pool(clients) as pool:
            results = pool.map(login_worker, [(hub.url, users, share[c], starts[c], deadline) for c in range(clients)])
            pool.close()
            pool.join()
        wall = time.monotonic() - t0
        hub_cpu, op_cpu = cpu_seconds(hub.proc.pid) - hub0, cpu_seconds(op.pid) - op0
        # The clients are this process's children once joined (the two daemons are still running).
        client_cpu = children_cpu() - cl0
        done = sum(d for d, _ in results)
        failures = [f for _, fs in results for f in fs]
        ok = done - len(failures)
        print(f"== logins: {clients} clients, {ok} logins ({len(failures)} failed, {n_users} users), "
              f"load average before {load}")
        print(f"wall {wall:.2f} s = {ok / wall:.1f} logins/s")
        print(f"hubd CPU     {hub_cpu:.2f} s = {1000 * hub_cpu / max(ok, 1):.3f} ms per login")
        print(f"provider CPU {op_cpu:.2f} s = {1000 * op_cpu / max(ok, 1):.3f} ms per login")
        print(f"clients CPU  {client_cpu:.2f} s = {1000 * client_cpu / max(ok, 1):.3f} ms per login (Python requests)")
        for f in failures[:5]:
            print("failed:", f)
        return not failures and done == logins
    finally:
        hub.cleanup()


WRK_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)s")


def wrk_run(hub, token, seconds):
    """(requests, req/s, hubd CPU seconds) of one bounded wrk run."""
    pid = hub.proc.pid
    cpu0 = cpu_seconds(pid)
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", WHOAMI_LUA, hub.api_url + "/user"],
                         env={**os.environ, "TOKEN": token}, capture_output=True, text=True,
                         timeout=seconds + 30)
    cpu = cpu_seconds(pid) - cpu0
    m = WRK_REQUESTS.search(out.stdout)
    assert out.returncode == 0 and m, f"wrk: {out.returncode} {out.stdout} {out.stderr}"
    assert "Non-2xx" not in out.stdout, out.stdout
    n, secs = int(m.group(1)), float(m.group(2))
    return n, n / secs, cpu


def user_token(hub, user):
    why = login_once(hub.url, user)
    assert why is None, why
    r = hub.api("POST", f"/users/{user}/tokens", token=ADMIN, json_body={"note": "bench"})
    assert r.status_code in (200, 201), r.text
    token = r.json()["token"]
    r = hub.api("GET", "/user", token=token)
    assert r.status_code == 200 and r.json()["name"] == user, r.text
    return token


def bench_refresh(op, workdir, pairs, seconds):
    # auth_refresh_age: a year (the stamp is checked on every request and never due) against 0
    # (hubd never checks by age: the check is skipped before reading the clock or the stamps).
    hubs = {"check": start_hub(op, os.path.join(workdir, "hub-check"), auth_refresh_age=365 * 86400)}
    try:
        hubs["none"] = start_hub(op, os.path.join(workdir, "hub-none"), auth_refresh_age=0)
        op.set_redirect_uris([callback(h) for h in hubs.values()])
        tokens = {k: user_token(h, "alice") for k, h in hubs.items()}
        for k, h in hubs.items():
            wrk_run(h, tokens[k], 2)  # warm-up, not counted
        load = load_average()
        runs = {"check": [], "none": []}
        for p in range(pairs):
            order = ("check", "none") if p % 2 == 0 else ("none", "check")
            for k in order:
                runs[k].append(wrk_run(hubs[k], tokens[k], seconds))
        print(f"== refresh check: GET /hub/api/user with alice's token, wrk -t2 -c16 -d{seconds}s, "
              f"{pairs} pairs, load average before {load}, after {load_average()}")
        print("pair  check req/s  none req/s  ratio   check us/req  none us/req  diff us/req")
        ratios, diffs = [], []
        for p in range(pairs):
            (na, ra, ca), (nb, rb, cb) = runs["check"][p], runs["none"][p]
            ua, ub = 1e6 * ca / na, 1e6 * cb / nb
            ratios.append(ra / rb)
            diffs.append(ua - ub)
            print(f"{p:4d}  {ra:11.0f}  {rb:10.0f}  {ra / rb:5.3f}   {ua:12.2f}  {ub:11.2f}  {ua - ub:+11.2f}")
        med = {k: statistics.median(r[1] for r in v) for k, v in runs.items()}
        cpu = {k: statistics.median(1e6 * r[2] / r[0] for r in v) for k, v in runs.items()}
        print(f"median req/s: check {med['check']:.0f}, none {med['none']:.0f}; "
              f"ratio check/none pair by pair: median {statistics.median(ratios):.3f} "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
        print(f"median hubd CPU per request: check {cpu['check']:.2f} us, none {cpu['none']:.2f} us; "
              f"difference pair by pair: median {statistics.median(diffs):+.2f} us "
              f"(min {min(diffs):+.2f}, max {max(diffs):+.2f})")
        return True
    finally:
        for h in hubs.values():
            h.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="*", help="logins, refresh (default: both)")
    ap.add_argument("--logins", type=int, default=2000, help="logins measured (default 2000)")
    ap.add_argument("--clients", type=int, default=8, help="concurrent login clients (default 8)")
    ap.add_argument("--users", type=int, default=50, help="provider users the logins cycle through (default 50)")
    ap.add_argument("--pairs", type=int, default=6, help="wrk runs per hub in the refresh part (default 6)")
    ap.add_argument("--seconds", type=int, default=5, help="length of one wrk run (default 5)")
    args = ap.parse_args()
    parts = args.parts or ["logins", "refresh"]
    if set(parts) - {"logins", "refresh"}:
        ap.error(f"unknown part(s) {sorted(set(parts) - {'logins', 'refresh'})}: expected logins, refresh")
    reason = unavailable_reason("node")
    if reason:
        sys.exit(f"cannot run: {reason}")
    if "refresh" in parts and not shutil.which("wrk"):
        sys.exit("cannot run the refresh part: wrk is not installed (apt-get install wrk)")
    workdir = tempfile.mkdtemp(prefix="hubd-auth-bench-")
    ok = True
    try:
        # Access tokens outlive the run: no refresh is ever due because of them.
        with start_provider("node", os.path.join(workdir, "op"), [PLACEHOLDER], at_ttl=3600, rt_ttl=7200) as op:
            if "logins" in parts:
                ok = bench_logins(op, workdir, args.logins, args.clients, args.users) and ok
            if "refresh" in parts:
                ok = bench_refresh(op, workdir, args.pairs, args.seconds) and ok
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
