"""JupyterHub's own Python clients (Debian's jupyterhub package: HubAuth, HubOAuth) against a real hubd.

The whoami service (services/whoami_service.py) runs as a *managed* service of hubd: hubd starts it
with its `command`, gives it the service environment, restarts it when it dies and stops it at shutdown.
There is no proxy here, so the browser reaches the service at its own loopback `url`, and the OAuth
redirect URI points there (`oauth_redirect_uri`, with the same value in the service's environment).
"""
import json
import os
import re
import signal
import time
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests

from hubd_harness import HubProcess, free_port, toml_str, wait_until, xsrf_field

ADMIN_TOKEN = "hub-auth-clients-admin-token-0123"
SERVICE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "services", "whoami_service.py")
PYTHON = "/usr/bin/python3"  # Debian's python, where the jupyterhub package lives


def hub_config(hub_port, svc_port, extra_services=""):
    svc_url = f"http://127.0.0.1:{svc_port}"
    # Without a proxy, HubOAuth must send browsers to the hub's own origin (JUPYTERHUB_HOST), and hubd's
    # redirect back must name the service's origin (oauth_redirect_uri = JUPYTERHUB_OAUTH_CALLBACK_URL).
    hub_origin = f"http://127.0.0.1:{hub_port}"
    return f"""
[JupyterHub.custom_scopes."custom:whoami:read"]
description = "Read what the whoami service knows."

[[JupyterHub.load_roles]]
name = "whoami-users"
scopes = ["access:services!service=whoami", "custom:whoami:read"]
users = ["carol"]

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = {toml_str(ADMIN_TOKEN)}

[[JupyterHub.services]]
name = "whoami"
url = {toml_str(svc_url)}
command = [{toml_str(PYTHON)}, {toml_str(SERVICE_SCRIPT)}]
cwd = "."
oauth_redirect_uri = {toml_str(svc_url + "/services/whoami/oauth_callback")}
oauth_client_allowed_scopes = ["custom:whoami:read"]
environment = {{ JUPYTERHUB_HOST = {toml_str(hub_origin)}, JUPYTERHUB_OAUTH_CALLBACK_URL = {toml_str(svc_url + "/services/whoami/oauth_callback")}, WHOAMI_EXTRA = "from config" }}
{extra_services}
[Authenticator]
admin_users = ["dana"]

[plugins.dummy]
password = "secret"
"""


class Whoami:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/services/whoami/"

    def get(self, path="", token=None, session=None, **kw):
        headers = {"Authorization": f"token {token}"} if token else {}
        return (session or requests).get(self.base + path, headers=headers, timeout=10, **kw)

    def env(self):
        r = self.get("env")
        return r.json() if r.status_code == 200 else None


@pytest.fixture(scope="module")
def setup():
    hub_port, svc_port = free_port(), free_port()
    broken = '[[JupyterHub.services]]\nname = "broken"\ncommand = ["/nonexistent/hubd-no-such-command", "--flag"]\n'
    hub = HubProcess(hub_config(hub_port, svc_port, broken), env={"HUBD_TEST_PRIVATE": "must-not-leak"}, port=hub_port)
    svc = Whoami(svc_port)
    try:
        hub.start()
        wait_until(svc.env, what="the managed whoami service to answer")
        yield hub, svc
    finally:
        hub.stop()  # also stops the service (hubd's shutdown)


def user_token(hub, name):
    if hub.api("GET", f"/users/{name}", token=ADMIN_TOKEN).status_code == 404:
        assert hub.api("POST", f"/users/{name}", token=ADMIN_TOKEN).status_code == 201
    r = hub.api("POST", f"/users/{name}/tokens", token=ADMIN_TOKEN, json_body={"note": "hub auth test"})
    assert r.status_code == 201, r.text
    return r.json()["token"]


# ---- the managed service and its environment ---------------------------------------------------


def test_managed_service_gets_the_documented_environment(setup):
    hub, svc = setup
    info = svc.env()
    env = info["env"]
    assert env["JUPYTERHUB_SERVICE_NAME"] == "whoami"
    assert env["JUPYTERHUB_API_URL"] == hub.api_url
    assert env["JUPYTERHUB_BASE_URL"] == "/"
    assert env["JUPYTERHUB_CLIENT_ID"] == "service-whoami"
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/whoami/"
    assert env["JUPYTERHUB_SERVICE_URL"] == svc.base.split("/services/")[0]
    access = ["access:services", "access:services!service=whoami"]
    assert json.loads(env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"]) == access
    assert json.loads(env["JUPYTERHUB_OAUTH_SCOPES"]) == access
    assert json.loads(env["JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES"]) == ["custom:whoami:read"]
    # The service's `environment` overrides the derived callback URL (it is reached outside a proxy).
    assert env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == svc.base + "oauth_callback"
    assert env["JUPYTERHUB_USER"] == "" and env["JUPYTERHUB_SERVER_NAME"] == ""
    assert env["JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"] == "0"
    assert "JUPYTERHUB_ACTIVITY_URL" not in env
    # No api_token configured: hubd generated one (32 hex characters), also given as JPY_API_TOKEN.
    assert env["JUPYTERHUB_API_TOKEN"] == "<32 characters>" and env["JPY_API_TOKEN"] == "<32 characters>"
    assert info["cwd"] == os.path.realpath(hub.workdir)  # cwd "." is the config's folder
    assert "HUBD_TEST_PRIVATE" not in info["keys"]  # hubd's own environment stays private (env_keep only)
    assert "WHOAMI_EXTRA" in info["keys"] and "PATH" in info["keys"]  # the service's `environment`, and env_keep


def test_services_api_reports_command_and_pid(setup):
    hub, svc = setup
    r = hub.api("GET", "/services", token=ADMIN_TOKEN)
    assert r.status_code == 200
    services = r.json()
    assert services["whoami"]["command"] == [PYTHON, SERVICE_SCRIPT]
    assert services["whoami"]["pid"] == svc.env()["pid"]
    assert services["whoami"]["prefix"] == "/services/whoami/"
    assert services["admin-svc"]["command"] == [] and services["admin-svc"]["pid"] == 0  # external
    assert services["broken"]["command"] == ["/nonexistent/hubd-no-such-command", "--flag"]
    assert services["broken"]["pid"] == 0


def test_service_output_goes_to_the_hub_log(setup):
    hub, _ = setup
    wait_until(lambda: "[service whoami] whoami service listening on" in hub.log(), what="stdout in the log")
    wait_until(lambda: "[service whoami] whoami service stderr check" in hub.log(), what="stderr in the log")


def test_a_command_that_does_not_exist_is_logged_and_hubd_keeps_serving(setup):
    hub, _ = setup
    wait_until(lambda: "service-start-failed: service broken: cannot run /nonexistent/hubd-no-such-command" in hub.log(),
             what="the start failure in the log")
    assert "service-restarting: service broken starts again in" in hub.log()
    assert hub.proc.poll() is None
    assert hub.api("GET", "/").status_code == 200


# ---- HubAuth: token requests ----------------------------------------------------------------------


def test_hub_auth_plain_user_is_identified_but_has_no_access(setup):
    hub, svc = setup
    token = user_token(hub, "alice")
    r = svc.get("api/whoami", token=token)
    assert r.status_code == 200, r.text
    model = r.json()
    assert model["name"] == "alice" and model["kind"] == "user" and model["admin"] is False
    hub_model = hub.api("GET", "/user", token=token).json()
    assert sorted(model["scopes"]) == sorted(hub_model["scopes"])
    assert "access:servers!user=alice" in model["scopes"]
    assert not any(s.startswith("access:services") for s in model["scopes"])
    # The default access check (JUPYTERHUB_OAUTH_ACCESS_SCOPES) refuses her.
    assert svc.get("api/access", token=token).status_code == 403


def test_hub_auth_admin_has_access(setup):
    hub, svc = setup
    token = user_token(hub, "dana")
    r = svc.get("api/access", token=token)
    assert r.status_code == 200, r.text
    model = r.json()
    assert model["name"] == "dana" and model["admin"] is True
    assert "access:services" in model["scopes"] and "admin:users" in model["scopes"]
    assert sorted(model["scopes"]) == sorted(hub.api("GET", "/user", token=token).json()["scopes"])


def test_hub_auth_custom_role_gives_access_and_custom_scope(setup):
    hub, svc = setup
    token = user_token(hub, "carol")
    r = svc.get("api/access", token=token)
    assert r.status_code == 200, r.text
    model = r.json()
    assert model["name"] == "carol" and "whoami-users" in model.get("roles", ["whoami-users"])
    assert "access:services!service=whoami" in model["scopes"]
    assert "custom:whoami:read" in model["scopes"]
    assert "admin:users" not in model["scopes"]


def test_hub_auth_role_change_takes_effect(setup):
    hub, svc = setup
    token = user_token(hub, "erin")
    assert svc.get("api/access", token=token).status_code == 403
    # hubd's roles API (config roles are read-only there, so a new role), taking effect at once.
    r = hub.api("POST", "/roles", token=ADMIN_TOKEN,
                json_body={"name": "whoami-runtime", "scopes": ["access:services!service=whoami"]})
    assert r.status_code in (200, 201), r.text
    r = hub.api("POST", "/roles/whoami-runtime/users", token=ADMIN_TOKEN, json_body={"users": ["erin"]})
    assert r.status_code in (200, 201, 204), r.text
    assert "access:services!service=whoami" in hub.api("GET", "/user", token=token).json()["scopes"]
    # The service's HubAuth caches answers for 1 s (cache_max_age).
    wait_until(lambda: svc.get("api/access", token=token).status_code == 200, timeout=5, what="access after the role")


def test_hub_auth_bad_or_missing_token_is_403(setup):
    hub, svc = setup
    assert hub.api("GET", "/user", token="not-a-real-token-123").status_code == 403
    assert svc.get("api/whoami", token="not-a-real-token-123").status_code == 403
    assert svc.get("api/access", token="not-a-real-token-123").status_code == 403
    assert svc.get("api/whoami").status_code == 403


# ---- HubOAuth: the browser flow ------------------------------------------------------------------


def follow(session, url, hops=10):
    """Follow redirects by hand (requests would drop nothing, but we want to see each hop)."""
    seen = []
    for _ in range(hops):
        r = session.get(url, allow_redirects=False, timeout=10)
        seen.append((url, r.status_code))
        if r.status_code not in (301, 302, 303, 307):
            return r, seen
        url = urljoin(url, r.headers["Location"])
    raise AssertionError(f"too many redirects: {seen}")


def hub_login(hub, session, response, user):
    """`response` is the hub's login page (reached through next=...): post the form with its XSRF token."""
    r = session.post(response.url, data={"username": user, "password": "secret", "_xsrf": xsrf_field(response.text)},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    return urljoin(response.url, r.headers["Location"])


def confirm(session, page):
    """Accept the OAuth confirmation page: its form POSTs to the same URL with _xsrf and scopes."""
    scopes = re.findall(r'name="scopes" value="([^"]*)"', page.text)
    r = session.post(page.url, data={"_xsrf": xsrf_field(page.text), "scopes": scopes}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    return urljoin(page.url, r.headers["Location"])


def oauth_flow(hub, svc, user):
    """The browser flow through HubOAuth; returns (session, final response, callback URL)."""
    s = requests.Session()
    # 1. The service sends the browser to hubd's authorize endpoint, with a state cookie of its own.
    r = s.get(svc.base, allow_redirects=False, timeout=10)
    assert r.status_code == 302
    authorize = urljoin(svc.base, r.headers["Location"])
    parsed = urlparse(authorize)
    assert f"{parsed.scheme}://{parsed.netloc}{parsed.path}" == hub.url + "hub/api/oauth2/authorize"
    q = parse_qs(parsed.query)
    assert q["client_id"] == ["service-whoami"] and q["response_type"] == ["code"]
    assert q["redirect_uri"] == [svc.base + "oauth_callback"]
    state = q["state"][0]
    # 2. Not logged in: hubd's login page, then back to authorize.
    r, _ = follow(s, authorize)
    assert r.status_code == 200 and "/hub/login" in r.url
    back = hub_login(hub, s, r, user)
    r = s.get(back, allow_redirects=False, timeout=10)
    # 3. A service without oauth_no_confirm: the confirmation page, with the custom scope's description.
    assert r.status_code == 200, (r.status_code, r.headers.get("Location"))
    assert "Read what the whoami service knows." in r.text
    callback = confirm(s, r)
    cb = urlparse(callback)
    assert callback.startswith(svc.base + "oauth_callback?")
    assert parse_qs(cb.query)["state"] == [state]
    # 4. The service exchanges the code at /hub/api/oauth2/token, sets its cookie, redirects to itself.
    r, hops = follow(s, callback)
    assert r.status_code == 200, (r.status_code, r.text, hops)
    return s, r, callback


def test_hub_oauth_browser_flow(setup):
    hub, svc = setup
    s, r, callback = oauth_flow(hub, svc, "carol")
    model = r.json()
    assert model["name"] == "carol" and model["kind"] == "user"
    assert "access:services!service=whoami" in model["scopes"]
    assert "custom:whoami:read" in model["scopes"]
    assert "admin:users" not in model["scopes"]
    assert "service-whoami" in s.cookies.keys()
    # 5. The cookie alone is enough now.
    r = s.get(svc.base, allow_redirects=False, timeout=10)
    assert r.status_code == 200 and r.json()["name"] == "carol"
    # The code was single use: replaying the callback fails at the token endpoint.
    r = s.get(callback, allow_redirects=False, timeout=10)
    assert r.status_code >= 400


def test_hub_oauth_user_without_access_is_refused(setup):
    hub, svc = setup
    s = requests.Session()
    r = s.get(svc.base, allow_redirects=False, timeout=10)
    authorize = urljoin(svc.base, r.headers["Location"])
    r, _ = follow(s, authorize)
    back = hub_login(hub, s, r, "frank")
    r = s.get(back, allow_redirects=False, timeout=10)
    assert r.status_code == 403


# ---- restarts and shutdown ------------------------------------------------------------------------


def service_pid(hub, name):
    return hub.api("GET", f"/services/{name}", token=ADMIN_TOKEN).json()["pid"]


def test_killed_service_is_restarted(setup):
    hub, svc = setup
    old = service_pid(hub, "whoami")
    assert old > 0
    os.kill(old, signal.SIGKILL)
    new = wait_until(lambda: (lambda p: p if p not in (0, old) else None)(service_pid(hub, "whoami")),
                   what="a new pid for the whoami service")
    info = wait_until(svc.env, what="the restarted service to answer")
    assert info["pid"] == new
    assert f"service-exited: service whoami (pid {old}) exited with signal 9" in hub.log()
    token = user_token(hub, "dana")
    assert svc.get("api/access", token=token).status_code == 200


def test_shutdown_stops_the_managed_service():
    hub_port, svc_port = free_port(), free_port()
    hub = HubProcess(hub_config(hub_port, svc_port), port=hub_port)
    try:
        hub.start()
        svc = Whoami(svc_port)
        pid = wait_until(svc.env, what="the whoami service")["pid"]
        started = time.time()
        assert hub.stop() == 0
        assert time.time() - started < 10
        def gone():
            try:
                os.kill(pid, 0)
                return False
            except ProcessLookupError:
                return True
        wait_until(gone, timeout=5, what="the service process to be gone")
        assert f"service-stopping: service whoami (pid {pid}) with SIGTERM" in hub.log()
        assert "service-stopped: service whoami" in hub.log()
        # The same database again: a new generated token, and the OAuth client's secret follows it.
        hub = HubProcess(hub_config(hub_port, svc_port), workdir=hub.workdir, port=hub_port)
        hub.start()
        assert wait_until(svc.env, what="the service after the hub restart")["pid"] != pid
        _, r, _ = oauth_flow(hub, svc, "carol")
        assert r.json()["name"] == "carol"
    finally:
        hub.cleanup()


def test_managed_service_as_another_user_is_a_config_error():
    hub = HubProcess('[[JupyterHub.services]]\nname = "other"\ncommand = ["/bin/true"]\nuser = "no-such-user-x"\n')
    try:
        assert hub.start(expect_failure=True) == 1
        assert "JupyterHub.services[0].user" in hub.log() and "not supported" in hub.log()
    finally:
        hub.cleanup()
