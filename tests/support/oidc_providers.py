"""Two real OpenID Connect providers on loopback, for authenticator tests (see oidc/README.md).

    with start_provider("node", tmp_path, ["http://127.0.0.1:8000/hub/oauth_callback"]) as op:
        op.issuer                       # discovery at op.issuer + "/.well-known/openid-configuration"
        r = provider_login(requests.Session(), hub_url + "hub/oauth_login", "alice", "alice-pw")

kind "node" is panva's oidc-provider (tests/support/oidc/node, strict about the specs); kind
"glewlwyd" is the Debian Glewlwyd server (tests/support/oidc/glewlwyd/seed.py writes its config),
a product whose answers differ from the specs in ways a client has to cope with.

Users alice/alice-pw (groups hub-users, hub-admins) and bob/bob-pw (hub-users); client
hub-client/hub-secret. A provider that cannot run here makes the calling test skip."""
import base64
import functools
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ports import free_port  # noqa: E402
from waiting import wait_until  # noqa: E402

__all__ = ["KINDS", "CLIENT_ID", "CLIENT_SECRET", "USERS", "Provider", "LoginRefused", "start_provider",
           "provider_fixture", "provider_login", "unavailable_reason", "jwt_parts"]

KINDS = ("node", "glewlwyd")
CLIENT_ID = "hub-client"
CLIENT_SECRET = "hub-secret"
USERS = {"alice": ("alice-pw", ["hub-users", "hub-admins"]), "bob": ("bob-pw", ["hub-users"])}
SCOPES = "openid profile email groups"

_HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oidc")
NODE_DIR = os.path.join(_HERE, "node")
GLEWLWYD_SEED = os.path.join(_HERE, "glewlwyd", "seed.py")

START_TIMEOUT = 10
STOP_TIMEOUT = 5
# Every answer read from a provider is small; a bound keeps a broken one from hanging a test.
HTTP_TIMEOUT = 10


class LoginRefused(AssertionError):
    """The provider did not accept the user's credentials (its status and body are kept)."""

    def __init__(self, message, response):
        super().__init__(message)
        self.response = response


def unavailable_reason(kind):
    """None when `kind` can run here, else why not (the text a skip shows)."""
    if kind == "node":
        if not shutil.which("node"):
            return "node is not installed (the oidc-provider test OP needs Node.js >= 20)"
        version = _node_version()
        # oidc-provider 9 uses crypto.hash, which Node.js has since 20.12.
        if version < (20, 12):
            return f"node {'.'.join(map(str, version))} is too old for oidc-provider 9 (needs >= 20.12)"
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "oidc-provider")):
            return f"oidc-provider is not installed: run `npm ci` in {NODE_DIR} (scripts/dev.sh test does)"
        return None
    if kind == "glewlwyd":
        if not shutil.which("glewlwyd"):
            return "glewlwyd is not installed (apt-get install glewlwyd; scripts/dev.sh test does)"
        if not shutil.which("openssl"):
            return "openssl is not installed (Glewlwyd's signing key is made with it)"
        return None
    raise ValueError(f"unknown provider kind {kind!r}: expected one of {KINDS}")


@functools.lru_cache(maxsize=1)
def _node_version():
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout
        return tuple(int(x) for x in out.strip().lstrip("v").split(".")[:2])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return (0, 0)


def jwt_parts(token):
    """(header, payload) of a JWT, decoded but not verified."""
    head, payload, _sig = token.split(".")
    return _b64url_json(head), _b64url_json(payload)


def _b64url_json(s):
    return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))


SHM = "/dev/shm"
SHM_PREFIX = "oidc-glewlwyd-"


def _sweep_orphaned_db_dirs():
    """Removes the Glewlwyd databases left on the tmpfs by test processes that were killed before
    stop() ran (each folder is named after the process that made it)."""
    for name in os.listdir(SHM):
        if not name.startswith(SHM_PREFIX):
            continue
        try:
            owner = int(name[len(SHM_PREFIX):].split("-", 1)[0])
        except ValueError:
            continue
        if owner != os.getpid() and _process_gone(owner):
            shutil.rmtree(os.path.join(SHM, name), ignore_errors=True)


def _process_gone(pid):
    """True once `pid` has exited: no such process, or a zombie waiting to be reaped (a zombie still
    answers kill -0, which made waiting for the exit take seconds)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    # The state follows the command name, which is in parentheses and may hold spaces.
    return stat[stat.rindex(")") + 2] == "Z"


class Provider:
    """A running provider. `kind`, `issuer`, `workdir`, `port`, `pid`, `client_id`, `client_secret`."""

    client_id = CLIENT_ID
    client_secret = CLIENT_SECRET

    def __init__(self, kind, workdir, redirect_uris, options):
        self.kind = kind
        self.workdir = str(workdir)
        self.redirect_uris = list(redirect_uris)
        self.options = options
        self.issuer = None
        self.port = None
        self.pid = None
        self._proc = None
        self._log = None
        self._discovery = None
        self._db_dir = None
        self.db_path = None

    # -- life cycle --

    def _start(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.log_path = os.path.join(self.workdir, f"{self.kind}.log")
        self._log = open(self.log_path, "ab")
        deadline = time.monotonic() + START_TIMEOUT
        try:
            if self.kind == "node":
                self._start_node(deadline)
            else:
                # Glewlwyd must be told its port; another process may take the free port first.
                for attempt in range(3):
                    self._start_glewlwyd()
                    if self._wait_for_discovery(deadline, fail_on_exit=attempt == 2):
                        break
                    self._reap()
                return
            self._wait_for_discovery(deadline)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, argv, env, cwd):
        # A test process killed outright (a CTest timeout) never runs stop(): the parent-death signal
        # then ends the provider instead of leaving it to PID 1.
        if shutil.which("setpriv"):
            argv = ["setpriv", "--pdeathsig", "TERM", "--", *argv]
        self._proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                      stderr=subprocess.STDOUT)
        self.pid = self._proc.pid

    def _reap(self):
        self._proc.wait(STOP_TIMEOUT)
        self._proc = None

    def _wait_for_discovery(self, deadline, fail_on_exit=True):
        """True once discovery answers; False when the process exited and fail_on_exit is off."""
        def answer():
            if self._proc.poll() is not None:
                if not fail_on_exit:
                    return "exited"
                raise RuntimeError(f"the {self.kind} provider exited with {self._proc.returncode}:\n{self.log()}")
            r = requests.get(self.issuer + "/.well-known/openid-configuration", timeout=2)
            return r.json() if r.status_code == 200 else None
        try:
            got = wait_until(answer, max(0.1, deadline - time.monotonic()), f"the {self.kind} provider's discovery")
        except AssertionError:
            raise RuntimeError(f"the {self.kind} provider did not answer discovery within {START_TIMEOUT}s:\n"
                               + self.log()) from None
        if got == "exited":
            return False
        self._discovery = got
        return True

    def _env(self):
        o = self.options
        env = dict(os.environ)
        env.update({
            "HUB_REDIRECT_URI": ",".join(self.redirect_uris),
            "OIDC_AT_TTL": str(int(o["at_ttl"])),
            "OIDC_RT_TTL": str(int(o["rt_ttl"])),
            "OIDC_PRECONSENT": "1" if o["preconsent"] else "0",
        })
        return env

    def _start_node(self, deadline):
        env = self._env()
        # Port 0: the server binds any free port and writes the issuer with it, so there is no race.
        env.update({"OIDC_PORT": "0", "OIDC_RT_ROTATE": "1" if self.options["rotate"] else "0",
                    "OIDC_SIGNING_ALG": self.options["alg"],
                    "OIDC_CLOCK_TOLERANCE": str(int(self.options["clock_tolerance"]))})
        issuer_file = os.path.join(self.workdir, "issuer")
        if os.path.exists(issuer_file):
            os.unlink(issuer_file)
        self._spawn(["node", os.path.join(NODE_DIR, "server.mjs"), self.workdir], env, NODE_DIR)

        def issuer_written():
            if self._proc.poll() is not None:
                raise RuntimeError(f"the node provider exited with {self._proc.returncode}:\n{self.log()}")
            if os.path.exists(issuer_file):
                with open(issuer_file) as f:
                    return f.read().strip()
            return None
        try:
            self.issuer = wait_until(issuer_written, max(0.1, deadline - time.monotonic()),
                                     "the node provider's issuer file")
        except AssertionError:
            raise RuntimeError(f"the node provider did not start within {START_TIMEOUT}s:\n{self.log()}") from None
        self.port = urllib.parse.urlsplit(self.issuer).port

    def _start_glewlwyd(self):
        if self.options["alg"] != "RS256":
            raise ValueError("the glewlwyd provider signs with RS256 only")
        self.port = free_port()
        env = self._env()
        # Glewlwyd commits every code and token to sqlite; on a disk each commit waits for fsync (a
        # tenth of a second on a busy machine), on a tmpfs it does not.
        if self._db_dir is None and os.path.isdir(SHM) and os.access(SHM, os.W_OK):
            _sweep_orphaned_db_dirs()
            self._db_dir = tempfile.mkdtemp(prefix=f"{SHM_PREFIX}{os.getpid()}-", dir=SHM)
        self.db_path = os.path.join(self._db_dir or self.workdir, "glewlwyd.db")
        env.update({"OIDC_DB_PATH": self.db_path,
                    "OIDC_PORT": str(self.port),
                    "OIDC_RT_ONE_USE": "always" if self.options["rotate"] else "never",
                    "OIDC_RT_ROLLING": "1" if self.options["rotate"] else "0"})
        seeded = subprocess.run([sys.executable, GLEWLWYD_SEED, self.workdir], env=env, capture_output=True,
                                text=True, timeout=30)
        if seeded.returncode != 0:
            raise RuntimeError(f"glewlwyd seed.py failed ({seeded.returncode}):\n{seeded.stdout}{seeded.stderr}")
        self.issuer = seeded.stdout.strip().splitlines()[-1]
        self._spawn(["glewlwyd", "--config-file", os.path.join(self.workdir, "glewlwyd.conf")], env, self.workdir)
        with open(os.path.join(self.workdir, "pid"), "w") as f:
            f.write(f"{self.pid}\n")

    def stop(self):
        """Stops the provider by its PID: SIGTERM, then SIGKILL after STOP_TIMEOUT seconds. A zombie
        counts as stopped (it is reaped right after). Safe to call again."""
        if self._proc is not None:
            pid = self._proc.pid
            if not _process_gone(pid):
                try:
                    os.kill(pid, signal.SIGTERM)
                    wait_until(lambda: _process_gone(pid), STOP_TIMEOUT, f"the {self.kind} provider to exit",
                               interval=0.01)
                except ProcessLookupError:
                    pass
                except AssertionError:
                    os.kill(pid, signal.SIGKILL)
            try:
                self._proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
            self._proc = None
        if self._log:
            self._log.close()
            self._log = None
        if self._db_dir:
            shutil.rmtree(self._db_dir, ignore_errors=True)
            self._db_dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- what a client needs --

    @property
    def discovery(self):
        """The discovery document read at start (endpoints do not change while it runs)."""
        return self._discovery

    def endpoint(self, name):
        """A discovery entry: endpoint("token") is discovery["token_endpoint"]."""
        return self._discovery[name if name.endswith(("_endpoint", "_uri")) else name + "_endpoint"]

    # -- changing the provider while it runs --

    def _hook(self, path, body):
        r = requests.post(f"{self.issuer}/_test/{path}", json=body, timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, f"test hook {path}: {r.status_code} {r.text[:300]}"
        return r.json()

    def _sql(self, statement, params=()):
        db = sqlite3.connect(self.db_path, timeout=5)
        try:
            with db:
                return db.execute(statement, params).rowcount
        finally:
            db.close()

    def set_groups(self, user, groups):
        """The user's groups from now on: the next refresh, userinfo and login show them."""
        if self.kind == "node":
            self._hook(f"users/{user}", {"groups": list(groups)})
            return
        self._sql("DELETE FROM g_user_property WHERE gu_id=(SELECT gu_id FROM g_user WHERE gu_username=?) "
                  "AND gup_name='groups'", (user,))
        for g in groups:
            self._sql("INSERT INTO g_user_property (gu_id, gup_name, gup_value) "
                      "SELECT gu_id, 'groups', ? FROM g_user WHERE gu_username=?", (g, user))

    def disable_user(self, user):
        """The user can no longer log in, and their refresh tokens stop working.

        Glewlwyd goes on refreshing the tokens of a disabled user, so here its tokens are disabled
        as well (what an administrator's session revocation does)."""
        if self.kind == "node":
            self._hook(f"users/{user}", {"disabled": True})
            return
        self._sql("UPDATE g_user SET gu_enabled=0 WHERE gu_username=?", (user,))
        self.revoke_refresh_tokens(user)

    def enable_user(self, user):
        """Undoes disable_user for new logins (revoked tokens stay revoked)."""
        if self.kind == "node":
            self._hook(f"users/{user}", {"disabled": False})
        else:
            self._sql("UPDATE g_user SET gu_enabled=1 WHERE gu_username=?", (user,))

    def revoke_refresh_tokens(self, user):
        """Every refresh token of `user` dies: the next refresh grant is refused (400)."""
        if self.kind == "node":
            self._hook(f"users/{user}/revoke_tokens", {})
        else:
            self._sql("UPDATE gpo_refresh_token SET gpor_enabled=0 WHERE gpor_username=?", (user,))

    def set_redirect_uris(self, uris):
        """The client's redirect URIs from now on, for a hub whose port is known only after the
        provider runs."""
        self.redirect_uris = list(uris)
        if self.kind == "node":
            self._hook("client", {"redirect_uris": self.redirect_uris})
            return
        self._sql("DELETE FROM g_client_property WHERE gc_id=(SELECT gc_id FROM g_client WHERE gc_client_id=?) "
                  "AND gcp_name='redirect_uri'", (CLIENT_ID,))
        for u in self.redirect_uris:
            self._sql("INSERT INTO g_client_property (gc_id, gcp_name, gcp_value) "
                      "SELECT gc_id, 'redirect_uri', ? FROM g_client WHERE gc_client_id=?", (u, CLIENT_ID))

    def rotate_keys(self):
        """A new signing key with a new kid; the old one leaves the JWKS. Returns the new kid."""
        if self.kind != "node":
            raise NotImplementedError(f"the {self.kind} provider cannot rotate its signing key while it runs")
        return self._hook("rotate_keys", {})["kid"]


def start_provider(kind, workdir, redirect_uris, at_ttl=60, rt_ttl=3600, rotate=False, preconsent=True,
                   alg="RS256", clock_tolerance=0):
    """Starts a provider in `workdir` and returns it once its discovery document answers.

    redirect_uris: the client's allowed redirect URIs (a string or a list). at_ttl/rt_ttl: token
    lifetimes in whole seconds. rotate: a new refresh token on every refresh (with sliding expiry).
    preconsent: the client is already granted every scope; False shows the consent step.
    alg: the id_token signing algorithm, RS256 or (node only) ES256. clock_tolerance (node only):
    seconds an expired token is still accepted. Skips the calling test when `kind` cannot run here."""
    reason = unavailable_reason(kind)
    if reason:
        pytest.skip(reason)
    if isinstance(redirect_uris, str):
        redirect_uris = [redirect_uris]
    if alg not in ("RS256", "ES256"):
        raise ValueError(f"alg must be RS256 or ES256, not {alg!r}")
    p = Provider(kind, workdir, redirect_uris, {"at_ttl": at_ttl, "rt_ttl": rt_ttl, "rotate": rotate,
                                                "preconsent": preconsent, "alg": alg,
                                                "clock_tolerance": clock_tolerance})
    p._start()
    return p


def provider_fixture(kind=None, redirect_uris=("http://127.0.0.1:8000/hub/oauth_callback",), scope="module",
                     **options):
    """A pytest fixture running one provider for the whole module (scope). With kind None the fixture
    is parametrised over both kinds. Assign it in the test module: `op = provider_fixture()`."""
    params = list(KINDS) if kind is None else [kind]

    @pytest.fixture(scope=scope, params=params)
    def _provider(request, tmp_path_factory):
        p = start_provider(request.param, tmp_path_factory.mktemp(f"oidc-{request.param}"), list(redirect_uris),
                           **options)
        try:
            yield p
        finally:
            p.stop()
    return _provider


_REDIRECTS = (301, 302, 303, 307, 308)


def _origin(url):
    u = urllib.parse.urlsplit(url)
    return (u.scheme, u.netloc)


def provider_login(session, url, user, password, max_hops=12, stop_at=None):
    """Logs `user` in as a browser would, starting at `url` (the hub's login URL, or an authorization
    request). Follows redirects by hand; on the provider's pages it fills in the real login form
    (node: the HTML form; Glewlwyd: the JSON API its login page calls) and grants consent when asked.

    Returns the first response from outside the provider once the provider was reached: usually the
    hub's answer to its OAuth callback. With `stop_at` (a URL prefix, e.g. the redirect URI), returns
    instead the provider's redirect to it without following it. Raises LoginRefused when the
    credentials are refused, AssertionError when the flow goes nowhere within `max_hops` requests."""
    provider = None
    hops = 0

    def request(method, url, **kw):
        nonlocal hops
        hops += 1
        if hops > max_hops:
            raise AssertionError(f"login of {user} took more than {max_hops} requests (at {method} {url})")
        return session.request(method, url, allow_redirects=False, timeout=HTTP_TIMEOUT, **kw)

    r = request("GET", url)
    while True:
        here = r.url
        if provider is None and _looks_like_authorization_request(here):
            provider = _origin(here)
        elif provider is not None and _origin(here) != provider:
            return r
        if r.status_code in _REDIRECTS:
            target = urllib.parse.urljoin(here, r.headers["Location"])
            if stop_at and target.startswith(stop_at):
                return r
            if provider is None and _looks_like_authorization_request(target):
                provider = _origin(target)
            if provider is not None and _origin(target) == provider and _glewlwyd_login_page(target):
                r = _glewlwyd_login(session, request, target, user, password)
                continue
            # 307/308 repeat the method; the flows here only ever use them after GETs.
            r = request("GET", target)
            continue
        if provider is None:
            raise AssertionError(f"{url} led to {r.status_code} at {here} before reaching a provider: {r.text[:300]}")
        form = _node_form(r.text) if r.status_code in (200, 401) else None
        if form is None:
            raise AssertionError(f"the provider answered {r.status_code} at {here}: {r.text[:500]}")
        action, kind = form
        if kind == "login":
            if r.status_code == 401:
                raise LoginRefused(f"the provider refused the login of {user}", r)
            r = request("POST", urllib.parse.urljoin(here, action), data={"login": user, "password": password})
            if r.status_code == 401:
                raise LoginRefused(f"the provider refused the login of {user}", r)
        else:
            r = request("POST", urllib.parse.urljoin(here, action), data={"confirm": "yes"})


def _looks_like_authorization_request(url):
    # The hub's client id: the hub's own OAuth provider (its single-user servers log in through it)
    # sends authorization requests too, for other clients.
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return "response_type" in q and q.get("client_id") == [CLIENT_ID]


_FORM = re.compile(r'<form method="post" action="(/interaction/[A-Za-z0-9_-]+/(login|confirm))">')


def _node_form(html):
    m = _FORM.search(html)
    return (m.group(1), m.group(2)) if m else None


def _glewlwyd_login_page(url):
    u = urllib.parse.urlsplit(url)
    return u.path.endswith("/login.html") and "callback_url" in urllib.parse.parse_qs(u.query)


def _glewlwyd_login(session, request, login_url, user, password):
    """What Glewlwyd's login page (login.js) does: log in through its JSON API, grant the scopes not
    granted yet, then continue the authorization request with its `g_continue` flag."""
    u = urllib.parse.urlsplit(login_url)
    q = urllib.parse.parse_qs(u.query)
    base = f"{u.scheme}://{u.netloc}"
    client_id = q["client_id"][0]
    scope = q.get("scope", [SCOPES])[0]
    callback = q["callback_url"][0]
    r = request("POST", base + "/api/auth/", json={"username": user, "password": password})
    if r.status_code == 401:
        raise LoginRefused(f"the provider refused the login of {user}", r)
    assert r.status_code == 200, f"Glewlwyd login API: {r.status_code} {r.text[:300]}"
    # The scope list in this path is space-separated (a comma gets 401).
    r = request("GET", f"{base}/api/auth/grant/{urllib.parse.quote(client_id)}/{urllib.parse.quote(scope)}")
    assert r.status_code == 200, f"Glewlwyd grant check: {r.status_code} {r.text[:300]}"
    missing = [s["name"] for s in r.json().get("scope", []) if not s.get("granted")]
    if missing:
        r = request("PUT", f"{base}/api/auth/grant/{urllib.parse.quote(client_id)}/", json={"scope": scope})
        assert r.status_code == 200, f"Glewlwyd grant: {r.status_code} {r.text[:300]}"
    sep = "&" if "?" in callback else "?"
    return request("GET", urllib.parse.urljoin(base + "/", callback) + sep + "g_continue")
