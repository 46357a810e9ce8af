"""The shipped `pam` authenticator against the real PAM stack: Debian's `login` service, real pam_unix,
real local accounts and groups that this file creates (useradd, chpasswd, groupadd) and removes again,
and a real hubd started once for the whole file. Then a spawn with the local spawner in system-user
mode, JupyterHub's default deployment: the server must run with the account's uid, gid and groups.

Needs root (accounts, /etc/shadow, dropping privileges for the spawn) and the shadow tools; without
them the file exits with code 77, which CTest reports as skipped."""
import concurrent.futures
import grp
import html
import os
import pwd
import re
import secrets
import shutil
import subprocess

import pytest
import requests

from hubd_harness import HubProcess, post_login, toml_str, wait_until

SKIP_CODE = 77
ADMIN_TOKEN = "pam-test-admin-token-" + secrets.token_hex(8)
SUFFIX = secrets.token_hex(3)
# Names stay well under Linux's 32 characters and cannot clash with real accounts or a parallel run.
ADMINS, ALLOWED = f"hpadm{SUFFIX}", f"hpok{SUFFIX}"
USERS = {
    # role: (name, password, useradd arguments)
    "admin": (f"hp{SUFFIX}a", f"pw-{secrets.token_hex(6)}-ü!", ["-G", f"{ADMINS},{ALLOWED}"]),
    # The allowed group is this user's primary group only: JupyterHub counts it.
    "member": (f"hp{SUFFIX}m", f"pw-{secrets.token_hex(6)} spaced", ["-g", ALLOWED]),
    "outsider": (f"hp{SUFFIX}o", f"pw-{secrets.token_hex(6)}", []),
    "named": (f"hp{SUFFIX}n", f"pw-{secrets.token_hex(6)}", []),  # not in a group, in allowed_users
    "locked": (f"hp{SUFFIX}l", f"pw-{secrets.token_hex(6)}", ["-G", ALLOWED]),
    "expired": (f"hp{SUFFIX}e", f"pw-{secrets.token_hex(6)}", ["-G", ALLOWED]),  # chage -E 0: account expired
    "stale": (f"hp{SUFFIX}s", f"pw-{secrets.token_hex(6)}", ["-G", ALLOWED]),  # chage -d 0: must change password
    # pam_normalize_username: a second name on this account's uid (useradd -o) is ALIAS.
    "canonical": (f"hp{SUFFIX}k", f"pw-{secrets.token_hex(6)}", ["-G", ALLOWED]),
}
ALIAS = (f"hp{SUFFIX}q", f"pw-{secrets.token_hex(6)}")
WRONG_PASSWORD = f"not-the-password-{secrets.token_hex(6)}"
UNKNOWN_USER = f"hp{SUFFIX}x"
NOT_IN_GROUP = "You are not in a group allowed to use this hub."

# The stand-in single-user server: answers every GET with who it runs as. It binds the address hubd
# gave it in JUPYTERHUB_SERVICE_URL, so hubd's readiness check and the test both reach it.
IDENTITY_SERVER = """
import http.server, json, os, urllib.parse
url = urllib.parse.urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
who = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": sorted(os.getgroups()),
       "user": os.environ.get("USER"), "home": os.environ.get("HOME"), "cwd": os.getcwd(), "pid": os.getpid()}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(who).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer((url.hostname, url.port), H).serve_forever()
"""


def sh(*cmd, input=None):
    r = subprocess.run(list(cmd), input=input, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"{' '.join(cmd)}: {r.returncode} {r.stderr}"
    return r


def remove_accounts():
    for name in [ALIAS[0]] + [n for n, _, _ in USERS.values()]:
        subprocess.run(["userdel", "-r", name], capture_output=True, timeout=60)
    for group in (ADMINS, ALLOWED):
        subprocess.run(["groupdel", group], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def accounts():
    if os.geteuid() != 0:
        pytest.exit("SKIPPED: creating system accounts and reading /etc/shadow needs root", returncode=SKIP_CODE)
    missing = [t for t in ("useradd", "userdel", "chpasswd", "groupadd", "groupdel", "passwd", "chage")
               if not shutil.which(t)]
    if missing or not os.path.exists("/etc/pam.d/login"):
        pytest.exit(f"SKIPPED: needs the shadow tools and Debian's /etc/pam.d/login (missing: {missing})",
                    returncode=SKIP_CODE)
    try:
        for group in (ADMINS, ALLOWED):
            sh("groupadd", group)
        for name, password, extra in USERS.values():
            sh("useradd", "-m", "-s", "/bin/sh", *extra, name)
        canonical = pwd.getpwnam(USERS["canonical"][0])
        # Listed after the canonical name in /etc/passwd: the uid's name stays the canonical one.
        sh("useradd", "-o", "-u", str(canonical.pw_uid), "-g", str(canonical.pw_gid), "-M", "-s", "/bin/sh", ALIAS[0])
        sh("chpasswd", input="".join(f"{n}:{p}\n" for n, p, _ in [*USERS.values(), (*ALIAS, None)]))
        sh("passwd", "-l", USERS["locked"][0])
        sh("chage", "-E", "0", USERS["expired"][0])
        sh("chage", "-d", "0", USERS["stale"][0])
        yield USERS
    finally:
        remove_accounts()


@pytest.fixture(scope="module")
def hub(accounts):
    config = f"""
[JupyterHub]
authenticator_class = "pam"
spawner_class = "local"
plugin_threads = 2

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = {toml_str(ADMIN_TOKEN)}

[Authenticator]
allowed_users = [{toml_str(USERS["named"][0])}]
# These tests send many wrong passwords on purpose; hubd's own throttle has its own tests.
login_throttle = false

[Spawner]
cmd = ["/usr/bin/python3", "-c", {toml_str(IDENTITY_SERVER)}]
start_timeout = 20
http_timeout = 20

[plugins.pam]
service = "login"
admin_groups = [{toml_str(ADMINS)}]
allowed_groups = [{toml_str(ALLOWED)}]

[plugins.local]
mode = "system-user"
term_timeout = 3
"""
    h = HubProcess(config)
    try:
        h.start()
        yield h
    finally:
        h.cleanup()


def login(hub, user, password):
    return post_login(hub.url, user, password)


def page_message(r):
    """The login page's text, with the escaping of its refusal message undone."""
    return html.unescape(r.text)


def admin(hub, method, path, **kw):
    return hub.api(method, path, token=ADMIN_TOKEN, **kw)


def test_right_password_logs_in_as_the_system_user(hub):
    name, password, _ = USERS["member"]
    s, r = login(hub, name, password)
    assert r.status_code == 302, r.text[:500]
    who = s.get(hub.api_url + "/user", timeout=10)
    assert who.status_code == 200 and who.json()["name"] == name
    assert who.json()["admin"] is False
    assert f"pam: authenticated '{name}' (service 'login')" in hub.log()


def test_wrong_password_is_refused_with_the_message(hub):
    name = USERS["member"][0]
    s, r = login(hub, name, WRONG_PASSWORD)
    assert r.status_code == 403
    assert "Invalid username or password" in page_message(r)
    assert "jupyterhub-hub-login" not in s.cookies
    assert f"pam: PAM authentication failed for '{name}' (service 'login'): Authentication failure" in hub.log()


def test_unknown_user_gets_the_same_answer(hub):
    s, r = login(hub, UNKNOWN_USER, "whatever-password")
    assert r.status_code == 403
    assert "Invalid username or password" in page_message(r)
    assert admin(hub, "GET", f"/users/{UNKNOWN_USER}").status_code == 404


def test_locked_account_is_refused(hub):
    name, password, _ = USERS["locked"]
    s, r = login(hub, name, password)
    assert r.status_code == 403
    assert "Invalid username or password" in page_message(r)
    assert admin(hub, "GET", f"/users/{name}").status_code == 404


@pytest.mark.parametrize("role, shown", [
    # Debian's common-account turns pam_unix's "account expired" into pam_deny's refusal.
    ("expired", "Your account may not log in here. Ask the hub's administrator."),
    ("stale", "Your password has expired. Change it (for example with passwd over ssh), then log in again."),
])
def test_check_account_refuses_after_the_right_password(hub, role, shown):
    # check_account (pam_acct_mgmt): the password is right, so the page may say why the account may not log in.
    name, password, _ = USERS[role]
    s, r = login(hub, name, password)
    assert r.status_code == 403
    assert shown in page_message(r)
    assert f"pam: PAM account check failed for '{name}' (service 'login')" in hub.log()
    assert admin(hub, "GET", f"/users/{name}").status_code == 404


def test_admin_by_admin_groups(hub):
    name, password, _ = USERS["admin"]
    s, r = login(hub, name, password)
    assert r.status_code == 302, r.text[:500]
    model = admin(hub, "GET", f"/users/{name}").json()
    assert model["admin"] is True
    assert s.get(hub.url + "hub/admin", timeout=10).status_code == 200


def test_outside_allowed_groups_is_refused_with_the_message(hub):
    name, password, _ = USERS["outsider"]
    s, r = login(hub, name, password)
    assert r.status_code == 403
    assert NOT_IN_GROUP in page_message(r)
    assert admin(hub, "GET", f"/users/{name}").status_code == 404


def test_allowed_users_still_admits_outside_the_groups(hub):
    # LocalAuthenticator.check_allowed: allowed_groups OR Authenticator.allowed_users.
    name, password, _ = USERS["named"]
    s, r = login(hub, name, password)
    assert r.status_code == 302, r.text[:500]
    assert admin(hub, "GET", f"/users/{name}").json()["admin"] is False


@pytest.mark.parametrize("auth, shown", [
    ({"password": "x"}, "Enter your user name"),
    ({"username": "USER", "password": ""}, "Enter your password"),
    ({"username": "USER", "password": "a\0b"}, "The user name or password contains a NUL character"),
    ({"username": "USER\0root", "password": "x"}, "The user name or password contains a NUL character"),
    ({"username": "u" * 20_000, "password": "x"}, "The user name is too long"),
    ({"username": "USER", "password": "p" * 20_000}, "The password is too long"),
    ({"username": ["USER"], "password": {"a": 1}}, "Invalid username or password"),
])
def test_bad_input_is_refused_before_pam(hub, auth, shown):
    # The token request with credentials runs the same login pipeline as the form, with JSON, which can
    # carry what a form body cannot (a NUL character, the wrong types).
    user = USERS["member"][0]
    auth = {k: (v.replace("USER", user) if isinstance(v, str) else v) for k, v in auth.items()}
    r = hub.api("POST", f"/users/{user}/tokens", json_body={"auth": auth})
    assert r.status_code == 403, r.text
    assert hub.proc.poll() is None
    wait_until(lambda: "before PAM: " + shown in hub.log(), 10, "the plugin's refusal in the log")


def test_empty_password_on_the_form(hub):
    s, r = login(hub, USERS["member"][0], "")
    assert r.status_code == 403
    assert "Enter your password" in page_message(r)


def test_failure_delay_does_not_hold_the_plugin_pool(hub):
    # The login stack asks for a delay after a failure (pam_faildelay: 3 s). It is honoured, but off hubd's
    # plugin pool (2 threads here): a right password answers while four wrong ones still wait.
    name, password, _ = USERS["member"]
    before = hub.log().count(f"PAM authentication failed for '{name}'")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        wrong = [pool.submit(login, hub, name, WRONG_PASSWORD) for _ in range(4)]
        wait_until(lambda: hub.log().count(f"PAM authentication failed for '{name}'") >= before + 4, 20,
                   "PAM to refuse the four wrong passwords")
        s, r = login(hub, name, password)
        answered_first = not any(f.done() for f in wrong)
        assert r.status_code == 302
        assert all(f.result()[1].status_code == 403 for f in wrong)
    assert answered_first, "the right password waited for the wrong ones' failure delay"


def identity(hub, name):
    """The stand-in server's answer: who the spawned process is. Its port is in the spawner's log line."""
    m = re.findall(rf"started the server for {re.escape(name)} as pid (\d+) on port (\d+)", hub.log())
    assert m, hub.log()[-3000:]
    pid, port = m[-1]
    r = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
    assert r.status_code == 200
    return int(pid), r.json()


def test_spawn_runs_as_the_system_user(hub):
    name, password, _ = USERS["admin"]
    s, r = login(hub, name, password)
    assert r.status_code == 302
    r = admin(hub, "POST", f"/users/{name}/server")
    assert r.status_code in (201, 202), r.text
    wait_until(lambda: (admin(hub, "GET", f"/users/{name}").json().get("servers", {}).get("") or {}).get("ready"),
               30, f"{name}'s server to be ready")
    account = pwd.getpwnam(name)
    pid, who = identity(hub, name)
    assert who["uid"] == who["euid"] == account.pw_uid
    assert who["gid"] == account.pw_gid
    wanted = {grp.getgrnam(g).gr_gid for g in (ADMINS, ALLOWED)}
    assert wanted <= set(who["groups"]) and 0 not in who["groups"], who  # the account's groups, none of root's
    assert who["user"] == name and who["home"] == account.pw_dir == who["cwd"]
    with open(f"/proc/{pid}/status") as f:
        uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
    assert {int(u) for u in uids} == {account.pw_uid}  # real, effective, saved and filesystem uid
    r = admin(hub, "DELETE", f"/users/{name}/server")
    assert r.status_code in (202, 204), r.text
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 20, "the server process to exit")


def test_a_hub_user_without_a_system_account_is_reported_at_start_up(hub):
    # LocalAuthenticator.add_user: every hub user must be a system user; hubd asks at start-up.
    ghost = f"hp{SUFFIX}g"
    r = admin(hub, "POST", f"/users/{ghost}")
    assert r.status_code == 201, r.text
    hub.stop()
    hub.start()
    assert re.search(rf"users: {ghost} in the database is not a valid user: the authenticator's add_user refused it: "
                     rf".*user {ghost} does not exist on the system", hub.log())
    assert admin(hub, "GET", f"/users/{ghost}").status_code == 200  # kept: delete_invalid_users is off


def test_no_password_in_the_log(hub):
    log = hub.log()
    for _, password, _ in USERS.values():
        assert password not in log
    assert WRONG_PASSWORD not in log


@pytest.mark.parametrize("line, needle", [
    ('servise = "login"', "[plugins.pam] unknown config key 'servise'"),
    ('encoding = "latin-1"', '[plugins.pam] encoding: only "utf8"'),
    ("create_system_users = true", "[plugins.pam] create_system_users: hubd does not create system users"),
    ("allowed_groups = \"staff\"", "[plugins.pam] allowed_groups: must be a list of Unix group names"),
])
def test_bad_config_stops_start_up_naming_the_key(accounts, line, needle):
    bad = HubProcess(f'[JupyterHub]\nauthenticator_class = "pam"\n\n[plugins.pam]\n{line}\n')
    try:
        code = bad.start(timeout=20, expect_failure=True)
        assert code not in (None, 0), bad.log()
        assert needle in bad.log()
    finally:
        bad.cleanup()


@pytest.fixture(scope="module")
def session_hub(accounts, tmp_path_factory):
    """A second hub, for the two keys that need a PAM service of their own.

    Debian's login session stack acts on the calling process, which is hubd (pam_loginuid, pam_limits,
    pam_keyinit): that is why open_sessions is off by default, and why this hub uses a service the test
    writes, whose session stack records what PAM ran (pam_exec) and otherwise is pam_unix's. The file is
    removed when the module ends; the first hub keeps Debian's login service."""
    service = f"hubd-test-{SUFFIX}"
    tmp = tmp_path_factory.mktemp("pam-sessions")
    record, script = tmp / "sessions.log", tmp / "record-session.sh"
    script.write_text(f'#!/bin/sh\necho "$PAM_TYPE $PAM_USER $PAM_SERVICE" >> {record}\n')
    script.chmod(0o755)
    path = f"/etc/pam.d/{service}"
    config = f"""
[JupyterHub]
authenticator_class = "pam"
spawner_class = "local"

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = {toml_str(ADMIN_TOKEN)}

[Spawner]
cmd = ["/usr/bin/python3", "-c", {toml_str(IDENTITY_SERVER)}]

[plugins.pam]
service = {toml_str(service)}
open_sessions = true
pam_normalize_username = true

[plugins.local]
mode = "system-user"
term_timeout = 3
"""
    h = None
    try:
        with open(path, "w") as f:
            f.write("# written by hubd's test_pam_authenticator.py, removed when it ends\n"
                    "auth     required pam_unix.so\n"
                    "account  required pam_unix.so\n"
                    f"session  required pam_exec.so {script}\n"
                    "session  required pam_unix.so\n")
        h = HubProcess(config)
        h.start()
        h.service, h.record = service, record
        yield h
    finally:
        if h:
            h.cleanup()
        if os.path.exists(path):
            os.remove(path)


def test_open_sessions_opens_at_spawn_and_closes_at_stop(session_hub):
    h, record, service = session_hub, session_hub.record, session_hub.service
    name, password, _ = USERS["member"]
    s, r = login(h, name, password)
    assert r.status_code == 302, r.text[:500]
    assert not record.exists()  # a login opens no session
    r = admin(h, "POST", f"/users/{name}/server")
    assert r.status_code in (201, 202), r.text
    wait_until(lambda: (admin(h, "GET", f"/users/{name}").json().get("servers", {}).get("") or {}).get("ready"),
               30, f"{name}'s server to be ready")
    assert record.read_text().splitlines() == [f"open_session {name} {service}"]
    assert f"pam: opened the PAM session for '{name}'" in h.log()
    pid, who = identity(h, name)
    assert who["uid"] == pwd.getpwnam(name).pw_uid
    r = admin(h, "DELETE", f"/users/{name}/server")
    assert r.status_code in (202, 204), r.text
    wait_until(lambda: len(record.read_text().splitlines()) == 2, 20, "PAM to close the session")
    assert record.read_text().splitlines()[1] == f"close_session {name} {service}"
    assert "disabling PAM sessions" not in h.log()


def test_pam_normalize_username_names_the_account_not_the_alias(session_hub):
    # JupyterHub's round trip (user name -> uid -> name): two names on one uid log in as one hub user.
    name, password = ALIAS
    s, r = login(session_hub, name, password)
    assert r.status_code == 302, r.text[:500]
    assert s.get(session_hub.api_url + "/user", timeout=10).json()["name"] == USERS["canonical"][0]
    assert admin(session_hub, "GET", f"/users/{name}").status_code == 404
    assert password not in session_hub.log() and USERS["member"][1] not in session_hub.log()
