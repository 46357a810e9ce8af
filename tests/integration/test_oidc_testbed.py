"""The test OpenID providers (tests/support/oidc_providers.py) behave as the authenticator tests
expect: driven directly as a client would, without hubd. Each case runs against both providers."""
import base64
import hashlib
import http.server
import json
import os
import secrets
import sys
import threading
import urllib.parse

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from oidc_providers import (CLIENT_ID, CLIENT_SECRET, KINDS, LoginRefused, jwt_parts,  # noqa: E402
                            provider_login, start_provider, unavailable_reason)
from waiting import wait_until  # noqa: E402

SCOPE = "openid profile email groups"
TIMEOUT = 10


@pytest.fixture(scope="module", autouse=True)
def some_provider_runs():
    """CTest's skip code when neither provider can run here: all skipped is not a pass."""
    if all(unavailable_reason(k) for k in KINDS):
        pytest.exit("no test OpenID provider can run here: " + "; ".join(unavailable_reason(k) for k in KINDS),
                    returncode=77)


class _Catcher(http.server.BaseHTTPRequestHandler):
    """Stands in for the hub: /login sends the browser to the provider, /callback shows what came back."""

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/login":
            target = urllib.parse.parse_qs(u.query)["to"][0]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"path": u.path, "query": dict(urllib.parse.parse_qsl(u.query))}).encode()
        self.send_response(200 if u.path == "/callback" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def catcher():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Catcher)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def callback(catcher):
    return catcher + "/callback"


@pytest.fixture(scope="module", params=KINDS)
def op(request, callback, tmp_path_factory):
    with start_provider(request.param, tmp_path_factory.mktemp(request.param), [callback]) as p:
        yield p


# -- a client's side of the flow --

def authorization_url(op, redirect_uri, state, nonce, **extra):
    q = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect_uri, "scope": SCOPE,
         "state": state, "nonce": nonce, **extra}
    return op.endpoint("authorization") + "?" + urllib.parse.urlencode(q)


def login(op, redirect_uri, user="alice", password="alice-pw", session=None, **extra):
    """Logs in at the provider and returns (code, nonce, callback query), stopping at the redirect."""
    state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
    r = provider_login(session or requests.Session(), authorization_url(op, redirect_uri, state, nonce, **extra),
                       user, password, stop_at=redirect_uri)
    assert r.status_code in (302, 303), r.text[:300]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))
    assert query["state"] == state
    return query["code"], nonce, query


def token(op, **form):
    return requests.post(op.endpoint("token"), auth=(CLIENT_ID, CLIENT_SECRET), data=form, timeout=TIMEOUT)


def exchange(op, code, redirect_uri, **extra):
    r = token(op, grant_type="authorization_code", code=code, redirect_uri=redirect_uri, **extra)
    assert r.status_code == 200, f"{r.status_code} {r.text[:300]}"
    return r.json()


def refresh(op, refresh_token):
    return token(op, grant_type="refresh_token", refresh_token=refresh_token)


def userinfo(op, access_token):
    return requests.get(op.endpoint("userinfo"), headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT)


def _b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verified_claims(op, id_token, nonce=None):
    """The id_token's claims once its signature checks out against the provider's current JWKS."""
    crypto = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    header, claims = jwt_parts(id_token)
    keys = {k["kid"]: k for k in requests.get(op.endpoint("jwks_uri"), timeout=TIMEOUT).json()["keys"]}
    assert header["kid"] in keys, f"kid {header['kid']} is not in the JWKS ({list(keys)})"
    jwk = keys[header["kid"]]
    signed = id_token.rsplit(".", 1)[0].encode()
    signature = _b64(id_token.rsplit(".", 1)[1])
    if header["alg"] == "RS256":
        public = rsa.RSAPublicNumbers(int.from_bytes(_b64(jwk["e"]), "big"),
                                      int.from_bytes(_b64(jwk["n"]), "big")).public_key()
        public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert header["alg"] == "ES256"
        public = crypto.EllipticCurvePublicNumbers(int.from_bytes(_b64(jwk["x"]), "big"),
                                                   int.from_bytes(_b64(jwk["y"]), "big"),
                                                   crypto.SECP256R1()).public_key()
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        public.verify(der, signed, crypto.ECDSA(hashes.SHA256()))
    assert claims["iss"] == op.issuer
    assert claims["aud"] == CLIENT_ID or CLIENT_ID in claims["aud"]
    if nonce is not None:
        assert claims["nonce"] == nonce
    return header, claims


# -- the tests --

def test_discovery_names_every_endpoint_a_client_uses(op):
    d = op.discovery
    assert d["issuer"] == op.issuer
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "revocation_endpoint"):
        assert d[name].startswith(op.issuer + "/"), (name, d[name])
    if op.kind == "glewlwyd":
        assert urllib.parse.urlsplit(op.issuer).path == "/api/oidc"


def test_login_code_exchange_and_id_token_claims(op, callback):
    code, nonce, query = login(op, callback)
    if op.kind == "node":
        assert query["iss"] == op.issuer
    t = exchange(op, code, callback)
    assert t["token_type"].lower() == "bearer"
    assert t["refresh_token"] and t["access_token"] and int(t["expires_in"]) > 0
    assert set(SCOPE.split()) <= set(t["scope"].split())
    _, claims = verified_claims(op, t["id_token"], nonce)
    assert claims["preferred_username"] == "alice"
    assert claims["groups"] == ["hub-users", "hub-admins"]
    assert claims["email"] == "alice@example.test"
    info = userinfo(op, t["access_token"])
    assert info.status_code == 200 and info.json()["groups"] == ["hub-users", "hub-admins"]


def test_provider_login_follows_the_hub_redirects_both_ways(op, catcher, callback):
    state = secrets.token_urlsafe(8)
    start = catcher + "/login?" + urllib.parse.urlencode({"to": authorization_url(op, callback, state, "n")})
    r = provider_login(requests.Session(), start, "bob", "bob-pw")
    assert r.status_code == 200 and r.url.startswith(callback)
    assert r.json()["query"]["state"] == state and r.json()["query"]["code"]


def test_code_is_single_use(op, callback):
    code, _, _ = login(op, callback)
    exchange(op, code, callback)
    r = token(op, grant_type="authorization_code", code=code, redirect_uri=callback)
    assert 400 <= r.status_code < 500


def test_wrong_password_is_refused(op, callback):
    with pytest.raises(LoginRefused) as e:
        login(op, callback, user="bob", password="not-bobs")
    assert e.value.response.status_code == 401


def test_refresh(op, callback):
    code, _, _ = login(op, callback)
    t = exchange(op, code, callback)
    r = refresh(op, t["refresh_token"])
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert fresh["token_type"].lower() == "bearer" and fresh["access_token"] != t["access_token"]
    if op.kind == "node":
        assert fresh["refresh_token"] == t["refresh_token"]
        verified_claims(op, fresh["id_token"])
    else:
        # Glewlwyd's refresh answer has neither a refresh_token nor an id_token: keep the old one.
        assert "refresh_token" not in fresh and "id_token" not in fresh
    assert userinfo(op, fresh["access_token"]).json()["preferred_username"] == "alice"
    assert refresh(op, t["refresh_token"]).status_code == 200


def test_revoked_refresh_token_gets_400(op, callback):
    code, _, _ = login(op, callback)
    t = exchange(op, code, callback)
    r = requests.post(op.endpoint("revocation"), auth=(CLIENT_ID, CLIENT_SECRET),
                      data={"token": t["refresh_token"], "token_type_hint": "refresh_token"}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert refresh(op, t["refresh_token"]).status_code == 400


def test_revoke_refresh_tokens_of_a_user(op, callback):
    code, _, _ = login(op, callback, user="bob", password="bob-pw")
    t = exchange(op, code, callback)
    op.revoke_refresh_tokens("bob")
    r = refresh(op, t["refresh_token"])
    assert r.status_code == 400
    # Only a JSON error body from the strict provider; Glewlwyd's 400 is empty.
    assert (r.json()["error"] == "invalid_grant") if op.kind == "node" else (r.text == "")


def test_disabled_user_cannot_refresh_or_log_in(op, callback):
    code, _, _ = login(op, callback, user="bob", password="bob-pw")
    t = exchange(op, code, callback)
    op.disable_user("bob")
    try:
        assert refresh(op, t["refresh_token"]).status_code == 400
        with pytest.raises(LoginRefused):
            login(op, callback, user="bob", password="bob-pw")
    finally:
        op.enable_user("bob")
    login(op, callback, user="bob", password="bob-pw")


def test_changed_groups_show_on_refresh(op, callback):
    code, _, _ = login(op, callback, user="bob", password="bob-pw")
    t = exchange(op, code, callback)
    op.set_groups("bob", ["hub-users", "physics"])
    try:
        r = refresh(op, t["refresh_token"])
        assert r.status_code == 200
        assert userinfo(op, r.json()["access_token"]).json()["groups"] == ["hub-users", "physics"]
        if op.kind == "node":
            assert jwt_parts(r.json()["id_token"])[1]["groups"] == ["hub-users", "physics"]
    finally:
        op.set_groups("bob", ["hub-users"])


def test_pkce(op, callback):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code, _, _ = login(op, callback, code_challenge=challenge, code_challenge_method="S256")
    r = token(op, grant_type="authorization_code", code=code, redirect_uri=callback, code_verifier="x" * 50)
    assert 400 <= r.status_code < 500
    code, _, _ = login(op, callback, code_challenge=challenge, code_challenge_method="S256")
    exchange(op, code, callback, code_verifier=verifier)


def test_set_redirect_uris(op, catcher, callback):
    other = catcher + "/other_callback"
    op.set_redirect_uris([callback, other])
    try:
        code, _, _ = login(op, other)
        exchange(op, code, other)
    finally:
        op.set_redirect_uris([callback])


def test_key_rotation_changes_the_jwks_kid(op, callback):
    if op.kind != "node":
        with pytest.raises(NotImplementedError):
            op.rotate_keys()
        return
    code, _, _ = login(op, callback)
    t = exchange(op, code, callback)
    old_kid = jwt_parts(t["id_token"])[0]["kid"]
    new_kid = op.rotate_keys()
    kids = [k["kid"] for k in requests.get(op.endpoint("jwks_uri"), timeout=TIMEOUT).json()["keys"]]
    assert kids == [new_kid] and new_kid != old_kid
    r = refresh(op, t["refresh_token"])
    assert r.status_code == 200
    header, _ = verified_claims(op, r.json()["id_token"])
    assert header["kid"] == new_kid


@pytest.mark.parametrize("kind", KINDS)
def test_consent_expiry_and_stop(kind, callback, tmp_path):
    """Without pre-consent the login grants the scopes on the consent step; short TTLs expire the
    tokens; stop() ends the process."""
    with start_provider(kind, tmp_path, [callback], at_ttl=1, rt_ttl=3, preconsent=False) as p:
        code, _, _ = login(p, callback)
        t = exchange(p, code, callback)
        assert set(SCOPE.split()) <= set(t["scope"].split()), "the consent step granted every scope"
        assert jwt_parts(t["id_token"])[1]["groups"] == ["hub-users", "hub-admins"]
        wait_until(lambda: userinfo(p, t["access_token"]).status_code == 401, 5, "the access token to expire",
                   interval=0.2)
        # Without rotation a refresh does not extend the refresh token, so polling with it is fair.
        wait_until(lambda: refresh(p, t["refresh_token"]).status_code == 400, 6, "the refresh token to expire",
                   interval=0.2)
    assert not os.path.exists(f"/proc/{p.pid}"), "stop() ended and reaped the provider"
    with pytest.raises(requests.ConnectionError):
        requests.get(p.issuer + "/.well-known/openid-configuration", timeout=2)


@pytest.mark.parametrize("kind", KINDS)
def test_refresh_token_rotation_and_replay(kind, callback, tmp_path):
    with start_provider(kind, tmp_path, [callback], rotate=True) as p:
        code, _, _ = login(p, callback)
        t = exchange(p, code, callback)
        r = refresh(p, t["refresh_token"])
        assert r.status_code == 200
        rotated = r.json()["refresh_token"]
        assert rotated != t["refresh_token"]
        assert refresh(p, rotated).status_code == 200
        # A rotated-away token used again is a replay: refused.
        assert refresh(p, t["refresh_token"]).status_code == 400


def test_es256_signing(callback, tmp_path):
    with start_provider("node", tmp_path, [callback], alg="ES256") as p:
        code, nonce, _ = login(p, callback)
        header, claims = verified_claims(p, exchange(p, code, callback)["id_token"], nonce)
        assert header["alg"] == "ES256" and claims["preferred_username"] == "alice"


def test_error_answers_a_client_must_survive(op, callback):
    """The differences the README lists: Glewlwyd answers a wrong client secret like a dead refresh
    token (bare 400), and a bad access token with a bare 401."""
    code, _, _ = login(op, callback)
    t = exchange(op, code, callback)
    wrong = requests.post(op.endpoint("token"), auth=(CLIENT_ID, "not-the-secret"),
                          data={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]}, timeout=TIMEOUT)
    bad_token = userinfo(op, "not-a-token")
    assert bad_token.status_code == 401
    if op.kind == "node":
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        assert 'error="invalid_token"' in bad_token.headers["WWW-Authenticate"]
    else:
        assert wrong.status_code == 400 and wrong.text == ""
        assert "WWW-Authenticate" not in bad_token.headers and bad_token.text == ""
    assert refresh(op, t["refresh_token"]).status_code == 200, "a failed client authentication leaves the token alive"
