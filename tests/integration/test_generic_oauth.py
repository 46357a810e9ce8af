"""The generic-oauth authenticator against two real OpenID providers (tests/support/oidc_providers.py):
panva's oidc-provider ("node") and Debian's Glewlwyd. A real hubd logs people in through the
provider's own login form; nothing is mocked. Each module-scoped bed is one provider and one hub.

The hub binds port 0; its callback URL (guessed by the plugin from the Host header, as oauthenticator
does without oauth_callback_url) is registered at the provider once the hub's port is known."""
import html
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from hubd_harness import HubProcess, toml_str  # noqa: E402
from oidc_providers import CLIENT_ID, CLIENT_SECRET, KINDS, provider_login, start_provider, unavailable_reason  # noqa: E402

ADMIN = "generic-oauth-admin-token-0123456789"
CRYPT_KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
PLACEHOLDER = "http://127.0.0.1:1/hub/oauth_callback"  # replaced once the hub's port is known
REFUSED = "Sorry, you are not currently authorized to use this hub."


@pytest.fixture(scope="module", autouse=True)
def some_provider_runs():
    """CTest's skip code when neither provider can run here: all skipped is not a pass."""
    if all(unavailable_reason(k) for k in KINDS):
        pytest.exit("no test OpenID provider can run here: " + "; ".join(unavailable_reason(k) for k in KINDS),
                    returncode=77)


def hub_config(issuer, extra="", auth_extra=""):
    return f"""
[JupyterHub]
authenticator_class = "generic-oauth"

[Authenticator]
manage_groups = true
enable_auth_state = true
{auth_extra}

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = {toml_str(ADMIN)}

[plugins.generic-oauth]
client_id = {toml_str(CLIENT_ID)}
client_secret = {toml_str(CLIENT_SECRET)}
issuer = {toml_str(issuer)}
scope = ["openid", "profile", "email", "groups"]
username_claim = "preferred_username"
basic_auth = true
allowed_groups = ["hub-users"]
admin_groups = ["hub-admins"]
login_service = "Test IdP"
logout_redirect_url = "http://127.0.0.1:1/signed-out"
{extra}
"""


class Bed:
    def __init__(self, op, hub):
        self.op, self.hub = op, hub

    @property
    def callback(self):
        return self.hub.url + "hub/oauth_callback"

    def login(self, user, password=None, session=None, next_url=None):
        """(session, the hub's answer to the callback) after logging in at the provider's form."""
        s = session or requests.Session()
        url = self.hub.url + "hub/oauth_login" + (f"?next={urllib.parse.quote(next_url)}" if next_url else "")
        return s, provider_login(s, url, user, password or f"{user}-pw")

    def callback_url(self, user, session):
        """Logs in at the provider and returns the redirect to the hub's callback, not yet followed."""
        r = provider_login(session, self.hub.url + "hub/oauth_login", user, f"{user}-pw", stop_at=self.callback)
        return urllib.parse.urljoin(r.url, r.headers["Location"])

    def user(self, name):
        r = self.hub.api("GET", f"/users/{name}", token=ADMIN)
        assert r.status_code == 200, r.text
        return r.json()


def start_bed(kind, workdir, extra="", auth_extra="", issuer_suffix="", **provider_options):
    op = start_provider(kind, os.path.join(workdir, "op"), [PLACEHOLDER], **provider_options)
    os.makedirs(os.path.join(workdir, "hub"), exist_ok=True)
    hub = HubProcess(hub_config(op.issuer + issuer_suffix, extra, auth_extra), env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY},
                     workdir=os.path.join(workdir, "hub"))
    try:
        hub.start()
        op.set_redirect_uris([hub.url + "hub/oauth_callback"])
    except BaseException:
        hub.cleanup()
        op.stop()
        raise
    return Bed(op, hub)


def stop_bed(bed):
    bed.hub.cleanup()
    bed.op.stop()


@pytest.fixture(scope="module", params=KINDS)
def bed(request, tmp_path_factory):
    b = start_bed(request.param, str(tmp_path_factory.mktemp(f"oauth-{request.param}")))
    try:
        yield b
    finally:
        stop_bed(b)


def test_login_lands_in_home(bed):
    s, r = bed.login("alice")
    assert r.status_code == 302, r.text[:500]
    # JupyterHub's default landing after a login: the spawn page, which starts the default server.
    assert urllib.parse.urlsplit(r.headers["Location"]).path == "/hub/spawn"
    # The state cookie is gone once the login is done.
    assert "oauthenticator-state=;" in r.headers.get("Set-Cookie", "")
    home = s.get(bed.hub.url + "hub/home", allow_redirects=False, timeout=10)
    assert home.status_code == 200 and "alice" in home.text


def test_next_is_kept_and_only_local(bed):
    _, r = bed.login("bob", next_url="/hub/token")
    assert r.status_code == 302 and urllib.parse.urlsplit(r.headers["Location"]).path == "/hub/token"
    _, r = bed.login("bob", next_url="https://evil.example/x")
    assert r.status_code == 302 and "evil" not in r.headers["Location"]


def test_login_page_button_names_the_provider(bed):
    r = requests.get(bed.hub.url + "hub/login", timeout=10)
    assert r.status_code == 200
    assert 'href="/hub/oauth_login"' in r.text and "Sign in with Test IdP" in r.text
    # The button carries next, as JupyterHub's login page does.
    r = requests.get(bed.hub.url + "hub/login?next=%2Fhub%2Ftoken", timeout=10)
    assert 'href="/hub/oauth_login?next=%2Fhub%2Ftoken"' in r.text
    # The form's password path is closed: people log in at the provider.
    r = requests.get(bed.hub.url + "hub/oauth_login", allow_redirects=False, timeout=10)
    assert r.status_code == 302
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)
    assert q["client_id"] == [CLIENT_ID] and q["code_challenge_method"] == ["S256"] and q["nonce"] and q["state"]
    assert q["redirect_uri"] == [bed.callback]


def test_groups_admin_and_auth_state_from_claims(bed):
    bed.login("alice")
    bed.login("bob")
    alice, bob = bed.user("alice"), bed.user("bob")
    assert alice["admin"] is True and sorted(alice["groups"]) == ["hub-admins", "hub-users"]
    assert bob["admin"] is False and bob["groups"] == ["hub-users"]
    state = alice["auth_state"]
    assert state is not None, "auth_state is stored for holders of admin:auth_state to read"
    for key in ("access_token", "refresh_token", "id_token", "expires_at", "scope", "token_response", "userinfo"):
        assert key in state, key
    assert state["userinfo"]["preferred_username"] == "alice"
    assert state["expires_at"] > time.time()
    assert "openid" in state["scope"]


def test_user_outside_allowed_groups_is_refused_with_the_message_shown(bed):
    bed.op.set_groups("bob", ["outsiders"])
    try:
        s, r = bed.login("bob")
        assert r.status_code == 403
        assert REFUSED in html.unescape(r.text)
        assert s.get(bed.hub.url + "hub/home", allow_redirects=False, timeout=10).status_code == 302
        assert "login of bob refused: in none of allowed_groups" in bed.hub.log()
    finally:
        bed.op.set_groups("bob", ["hub-users"])


def test_code_replay_is_refused(bed):
    s = requests.Session()
    callback = bed.callback_url("bob", s)
    state_cookie = s.cookies.get("oauthenticator-state")
    assert s.get(callback, allow_redirects=False, timeout=10).status_code == 302
    # The same code again, with the state cookie it was issued under: the provider refuses it.
    again = requests.Session()
    again.cookies.set("oauthenticator-state", state_cookie)
    r = again.get(callback, allow_redirects=False, timeout=20)
    assert r.status_code == 403, r.text[:500]
    assert "the identity provider refused the login" in html.unescape(r.text)
    assert "the token endpoint refused the code: HTTP" in bed.hub.log()


def test_wrong_state_is_refused(bed):
    s = requests.Session()
    callback = bed.callback_url("bob", s)
    u = urllib.parse.urlsplit(callback)
    q = dict(urllib.parse.parse_qsl(u.query))
    q["state"] = "x" + q["state"][1:]
    r = s.get(u._replace(query=urllib.parse.urlencode(q)).geturl(), allow_redirects=False, timeout=10)
    assert r.status_code == 400 and "OAuth state mismatch" in r.text
    # Without the browser's state cookie, the right state is refused too.
    r = requests.get(callback, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and "OAuth state missing from cookies" in r.text


def test_unknown_kid_after_key_rotation_is_fetched_again(bed):
    if bed.op.kind != "node":
        pytest.skip("only the node provider rotates its signing key while it runs")
    assert bed.login("alice")[1].status_code == 302
    bed.op.rotate_keys()
    _, r = bed.login("alice")
    assert r.status_code == 302, r.text[:500]
    assert "fetched the provider's JWKS again" in bed.hub.log()


def test_es256_id_tokens_and_an_issuer_typed_with_a_trailing_slash(tmp_path):
    if unavailable_reason("node"):
        pytest.skip(unavailable_reason("node"))
    # The issuer as an operator may type it: discovery drops the slash, iss must equal the document's.
    b = start_bed("node", str(tmp_path), issuer_suffix="/", alg="ES256")
    try:
        s, r = b.login("alice")
        assert r.status_code == 302, r.text[:500]
        header = b.user("alice")["auth_state"]["id_token"].split(".")[0]
        assert "ES256" in urllib.parse.unquote(__import__("base64").urlsafe_b64decode(header + "==").decode())
    finally:
        stop_bed(b)


@pytest.mark.parametrize("kind", KINDS)
def test_provider_down_gives_a_clear_page_and_the_hub_stays_up(kind, tmp_path):
    if unavailable_reason(kind):
        pytest.skip(unavailable_reason(kind))
    b = start_bed(kind, str(tmp_path))
    try:
        s = requests.Session()
        callback = b.callback_url("bob", s)
        b.op.stop()
        t0 = time.monotonic()
        r = s.get(callback, allow_redirects=False, timeout=30)
        assert time.monotonic() - t0 < 10
        assert r.status_code == 503 and "did not answer" in r.text
        assert b.hub.api("GET", "/").status_code == 200
        # A hub whose provider was never reached: the login cannot start, and says so.
        hub2 = HubProcess(hub_config(b.op.issuer), env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
        try:
            hub2.start()
            t0 = time.monotonic()
            r = requests.get(hub2.url + "hub/oauth_login", allow_redirects=False, timeout=30)
            assert time.monotonic() - t0 < 10
            assert r.status_code == 503 and "cannot be reached" in r.text
            assert "oauth: login cannot start: discovery at" in hub2.log()
            assert hub2.api("GET", "/").status_code == 200
        finally:
            hub2.cleanup()
    finally:
        stop_bed(b)


def test_logout_revokes_the_refresh_token_and_goes_to_logout_redirect_url(bed):
    s, r = bed.login("bob")
    assert r.status_code == 302
    refresh_token = bed.user("bob")["auth_state"]["refresh_token"]
    assert refresh_token
    r = s.get(bed.hub.url + "hub/logout", allow_redirects=False, timeout=20)
    assert r.status_code == 302 and r.headers["Location"] == "http://127.0.0.1:1/signed-out"
    assert s.get(bed.hub.url + "hub/home", allow_redirects=False, timeout=10).status_code == 302
    assert "oauth: revoked the refresh token of bob at logout" in bed.hub.log()
    # The provider no longer takes that refresh token.
    r = requests.post(bed.op.endpoint("token"), data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                      auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    assert r.status_code in (400, 401), r.text


def test_no_token_or_secret_in_the_log(bed):
    s, _ = bed.login("alice")
    state = bed.user("alice")["auth_state"]
    log = bed.hub.log()
    for secret in (state["access_token"], state["refresh_token"], CLIENT_SECRET):
        assert secret not in log


def test_wrong_client_secret_is_an_operator_facing_refusal_not_a_loop(bed, tmp_path):
    hub2 = HubProcess(hub_config(bed.op.issuer).replace(toml_str(CLIENT_SECRET), toml_str("not-the-secret")),
                      env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY}, workdir=str(tmp_path))
    try:
        hub2.start()
        bed.op.set_redirect_uris([bed.callback, hub2.url + "hub/oauth_callback"])
        s = requests.Session()
        r = provider_login(s, hub2.url + "hub/oauth_login", "bob", "bob-pw")
        assert r.status_code == 403, r.text[:500]
        assert "the hub's client settings may be wrong" in html.unescape(r.text)
        # The provider's status (Glewlwyd: a bare 400; oidc-provider: 401 invalid_client) is in the log.
        assert "oauth: the token endpoint refused the code: HTTP 4" in hub2.log()
        assert "not-the-secret" not in hub2.log()
    finally:
        hub2.cleanup()
        bed.op.set_redirect_uris([bed.callback])


class _Hostile(http.server.BaseHTTPRequestHandler):
    """An identity provider that answers its token endpoint with what the test asks for: a body over
    the plugin's size limit, a body that trickles in, or something that is not a token."""

    mode = "garbage"
    protocol_version = "HTTP/1.1"

    def _send(self, status, body, ctype="application/json", length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/.well-known/openid-configuration":
            doc = {"issuer": base, "authorization_endpoint": base + "/auth", "token_endpoint": base + "/token",
                   "userinfo_endpoint": base + "/me", "jwks_uri": base + "/jwks"}
            return self._send(200, json.dumps(doc).encode())
        self._send(404, b"{}")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        mode = type(self).mode
        if mode == "huge":
            return self._send(200, b'{"access_token": "' + b"x" * (2 << 20) + b'"}')
        if mode == "slow":
            # Headers at once, then a byte every half second: only a total timeout ends this.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(120):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
            return
        self._send(200, b"<html>surely not a token</html>", "text/html")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # the hub hanging up on a trickle is the point
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    hub = HubProcess(hub_config(issuer).replace('scope = ["openid", "profile", "email", "groups"]', 'scope = ["openid"]'),
                     env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY}, workdir=str(tmp_path_factory.mktemp("hostile")))
    try:
        hub.start()
        yield hub
    finally:
        hub.cleanup()
        server.shutdown()
        server.server_close()


def hostile_callback(hub):
    """A session with the hub's state cookie, and the callback URL the provider would send it to."""
    s = requests.Session()
    r = s.get(hub.url + "hub/oauth_login", allow_redirects=False, timeout=10)
    assert r.status_code == 302
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)["state"][0]
    return s, hub.url + "hub/oauth_callback?code=c&state=" + urllib.parse.quote(state)


@pytest.mark.parametrize("mode,status,message", [
    ("garbage", 502, "something that is not a token"),
    ("huge", 503, "did not answer"),
    ("slow", 503, "did not answer"),
])
def test_a_provider_answering_garbage_huge_or_slow_bodies_gets_a_clear_error_in_bounded_time(hostile, mode, status,
                                                                                             message):
    _Hostile.mode = mode
    s, callback = hostile_callback(hostile)
    result = {}

    def call():
        t0 = time.monotonic()
        result["r"] = s.get(callback, allow_redirects=False, timeout=30)
        result["elapsed"] = time.monotonic() - t0
    t = threading.Thread(target=call)
    t.start()
    try:
        # Meanwhile the hub answers others at once.
        t0 = time.monotonic()
        assert hostile.api("GET", "/").status_code == 200
        assert time.monotonic() - t0 < 2
    finally:
        t.join(30)
    r = result["r"]
    assert r.status_code == status and message in r.text, r.text[:500]
    assert result["elapsed"] < 10  # under hubd's 10 s op timeout: the plugin's own budget ended it
    log = hostile.log()
    if mode == "huge":
        assert "the answer is larger than 1048576 bytes" in log
    if mode == "slow":
        assert "no complete answer within" in log
