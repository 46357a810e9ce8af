"""Every key `hubd generate-config` prints is honoured or refused.

KEYS maps each printed key to how this file proves it: a check that runs against a real hubd started
here with a non-default value (grouped so one hub serves many keys), a refusal (check-config or start-up
must fail naming the key and line), or, for keys whose behaviour needs a long-running setup another
integration test already builds (CHP, real single-user servers), the test function that proves it;
that reference is checked to exist. A printed key without an entry fails the walk.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest
import requests

sys.path.insert(0, os.path.dirname(__file__))
from hubd_harness import BUILD_DIR, HUBD, HubProcess, free_port, toml_str, wait_until  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE_AUTH = os.path.join(BUILD_DIR, "tests", "fixtures", "plugins", "fx_auth.so")
ADMIN = "config-keys-admin-token-0123456789"
CHP = subprocess.run(["sh", "-c", "command -v configurable-http-proxy"], capture_output=True).returncode == 0


# ---- the walk ------------------------------------------------------------------------------------

def printed_keys():
    out = subprocess.run([HUBD, "generate-config"], capture_output=True, text=True, check=True).stdout
    keys, section = [], None
    for line in out.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            section = m.group(1)
            continue
        if line.startswith("# [plugins.NAME]"):
            section = "plugins.NAME"
            continue
        m = re.match(r"^# \[\[(\w+)\.(\w+)\]\]", line)
        if m:
            keys.append(f"{m.group(1)}.{m.group(2)}")
            continue
        m = re.match(r"^# (\w+)(?: = |: not supported yet by hubd)", line)
        if m and section:
            keys.append(f"{section}.{m.group(1)}")
    return keys


def ref(test_file, test_name):
    """A test elsewhere in the repository: a pytest function (test_name) or a Catch2 TEST_CASE title."""
    return ("elsewhere", test_file, test_name)


SPAWN = "tests/integration/test_spawn.py"
# Keys this walk cannot yet prove here or point at a test for; the list is fixed so that a new key
# cannot join it silently.
GAPS = {
}

# "here:NAME" names a test function of this file; "refused": test_not_supported_yet.
KEYS = {
    # JupyterHub
    "JupyterHub.bind_url": "here:test_last_activity_interval",  # traffic goes through CHP on bind_url
    "JupyterHub.hub_bind_url": "here:test_hub_a_identity_and_limits",
    "JupyterHub.hub_connect_url": ref("tests/unit/spawn/spawn_settings_test.cpp", "hub API URL as servers reach it"),
    "JupyterHub.base_url": "here:test_hub_a_identity_and_limits",
    "JupyterHub.public_url": "here:test_hub_a_cookies",
    "JupyterHub.db_url": "here:test_data_dir",
    "JupyterHub.data_dir": "here:test_data_dir",
    "JupyterHub.cookie_secret_file": "here:test_data_dir",
    "JupyterHub.cookie_max_age_days": "here:test_hub_a_cookies",
    "JupyterHub.cookie_host_prefix_enabled": "here:test_hub_a_cookies",
    "JupyterHub.plugins_dir": "here:test_fixture_authenticator_logins",
    "JupyterHub.plugin_paths": "here:test_fixture_authenticator_logins",
    "JupyterHub.authenticator_class": "here:test_fixture_authenticator_logins",
    "JupyterHub.spawner_class": "here:test_refused_keys",
    "JupyterHub.proxy_class": "here:test_refused_keys",
    "JupyterHub.load_roles": "here:test_hub_a_identity_and_limits",
    "JupyterHub.load_groups": "here:test_hub_a_identity_and_limits",
    "JupyterHub.custom_scopes": "here:test_hub_a_identity_and_limits",
    "JupyterHub.services": "here:test_hub_a_identity_and_limits",
    "JupyterHub.extra_user_scopes": "here:test_hub_a_identity_and_limits",
    "JupyterHub.api_page_default_limit": "here:test_hub_a_identity_and_limits",
    "JupyterHub.api_page_max_limit": "here:test_hub_a_identity_and_limits",
    "JupyterHub.allow_named_servers": "here:test_user_redirect_limit_and_spawner_keys",
    "JupyterHub.named_server_limit_per_user": ref(SPAWN, "test_named_servers_and_limits"),
    "JupyterHub.concurrent_spawn_limit": ref(SPAWN, "test_named_servers_and_limits"),
    "JupyterHub.active_server_limit": ref(SPAWN, "test_named_servers_and_limits"),
    "JupyterHub.token_expires_in_max_seconds": "here:test_hub_a_identity_and_limits",
    "JupyterHub.oauth_token_expires_in": ref("tests/unit/oauth/oauth_test.cpp",
                                             "oauth_token_expires_in sets the lifetime of issued access tokens"),
    "JupyterHub.oauth_require_pkce": ref("tests/unit/oauth/oauth_test.cpp", "authorize: PKCE S256 and oauth_require_pkce"),
    "JupyterHub.default_url": "here:test_hub_a_cookies",
    "JupyterHub.redirect_to_server": "here:test_hub_a_cookies",
    "JupyterHub.shutdown_on_logout": "here:test_user_redirect_limit_and_spawner_keys",
    "JupyterHub.cleanup_servers": "here:test_shutdown_flags",
    "JupyterHub.cleanup_proxy": "here:test_shutdown_flags",
    "JupyterHub.admin_access": "here:test_user_redirect_limit_and_spawner_keys",
    "JupyterHub.authenticate_prometheus": "refused",
    "JupyterHub.activity_resolution": "here:test_hub_a_identity_and_limits",
    "JupyterHub.last_activity_interval": "here:test_last_activity_interval",
    "JupyterHub.slow_spawn_timeout": ref(SPAWN, "test_named_servers_and_limits"),
    "JupyterHub.slow_stop_timeout": "here:test_slow_stop_timeout",
    "JupyterHub.user_redirect_limit": "here:test_user_redirect_limit_and_spawner_keys",
    "JupyterHub.trust_user_provided_tokens": "here:test_refused_keys",
    "JupyterHub.ssl_cert": "here:test_refused_keys",
    "JupyterHub.ssl_key": "here:test_refused_keys",
    "JupyterHub.log_level": "here:test_hub_a_identity_and_limits",
    "JupyterHub.template_paths": "here:test_hub_a_cookies",
    "JupyterHub.io_threads": "here:test_refused_keys",
    "JupyterHub.plugin_threads": "here:test_refused_keys",
    "JupyterHub.max_body_size": "here:test_hub_a_identity_and_limits",
    "JupyterHub.max_header_size": "here:test_hub_a_identity_and_limits",
    "JupyterHub.request_timeout": "here:test_request_timeout",
    "JupyterHub.max_connections": ref("tests/unit/http/test_server.cpp", "connections beyond the cap get 503"),
    # Authenticator
    "Authenticator.admin_users": "here:test_hub_a_logins",
    "Authenticator.allowed_users": "here:test_hub_a_logins",
    "Authenticator.blocked_users": "here:test_hub_a_logins",
    "Authenticator.allow_all": "here:test_allow_all_and_existing_users",
    "Authenticator.allow_existing_users": "here:test_allow_all_and_existing_users",
    "Authenticator.enable_auth_state": "here:test_refused_keys",
    "Authenticator.manage_groups": "here:test_fixture_authenticator_logins",
    "Authenticator.manage_roles": ref("tests/integration/test_managed_roles.py",
                                      "test_managed_roles_replace_the_default_role_with_a_warning"),
    "Authenticator.keep_default_roles": ref("tests/integration/test_managed_roles.py", "test_keep_default_roles"),
    "Authenticator.reset_managed_roles_on_startup": "here:test_refused_keys",
    "Authenticator.auto_login": "here:test_auto_login",
    "Authenticator.auto_login_oauth2_authorize": "here:test_auto_login",
    "Authenticator.delete_invalid_users": "here:test_delete_invalid_users",
    "Authenticator.username_pattern": "here:test_hub_a_logins",
    "Authenticator.username_map": "here:test_hub_a_logins",
    "Authenticator.refresh_pre_spawn": ref("tests/integration/test_auth_refresh.py",
                                           "test_a_login_that_is_over_ends_the_sessions_and_refuses_api_and_spawn"),
    "Authenticator.refresh_pre_stop": ref("tests/integration/test_auth_refresh.py",
                                          "test_refresh_pre_spawn_and_pre_stop_and_the_spawner_sees_auth_state"),
    "Authenticator.auth_refresh_age": ref("tests/integration/test_auth_refresh.py",
                                          "test_page_request_refreshes_after_auth_refresh_age_and_not_before"),
    "Authenticator.login_throttle": ref("tests/security/test_login_throttling.py",
                                        "test_login_throttle_false_turns_it_off"),
    "Authenticator.login_failure_limit": ref("tests/security/test_login_throttling.py",
                                             "test_failed_logins_wait_a_backoff_that_ends_by_itself"),
    "Authenticator.login_max_backoff": ref("tests/security/test_login_throttling.py",
                                           "test_the_backoff_doubles_up_to_the_maximum"),
    # Spawner: one spawn of a server that reports its environment
    **{f"Spawner.{k}": "here:test_user_redirect_limit_and_spawner_keys" for k in (
        "cmd", "args", "environment", "env_keep", "default_url", "notebook_dir", "ip", "port", "debug",
        "disable_user_config", "mem_limit", "mem_guarantee", "cpu_limit", "cpu_guarantee",
        "oauth_client_allowed_scopes", "server_token_scopes", "options_form", "http_timeout")},
    "Spawner.start_timeout": ref(SPAWN, "test_server_that_never_answers_times_out_and_is_stopped"),
    "Spawner.poll_interval": ref(SPAWN, "test_killed_server_is_cleaned_up_and_can_start_again"),
    # ConfigurableHTTPProxy
    "ConfigurableHTTPProxy.api_url": "here:test_last_activity_interval",
    "ConfigurableHTTPProxy.auth_token": "here:test_last_activity_interval",
    "ConfigurableHTTPProxy.should_start": "here:test_refused_keys",
    "ConfigurableHTTPProxy.command": "here:test_last_activity_interval",
    "ConfigurableHTTPProxy.check_routes_interval": ref(SPAWN, "test_killed_proxy_is_restarted_and_routes_come_back"),
    "ConfigurableHTTPProxy.debug": "here:test_last_activity_interval",
    "ConfigurableHTTPProxy.pid_file": ref("tests/integration/test_no_orphans.py", "test_kill_9_then_restart_replaces_the_proxy"),
    # [plugins.NAME]
    "plugins.NAME.timeout": ref("tests/integration/test_internal_api.py", "test_timed_out_post_auth_refuses_the_login"),
    "plugins.NAME.roles": ref("tests/integration/test_internal_api.py", "test_internal_api_runs_under_the_plugins_roles"),
    "plugins.NAME.enabled": "here:test_plugin_enabled",
}


def test_every_printed_key_has_a_check():
    keys = printed_keys()
    assert len(keys) > 80, keys
    missing = [k for k in keys if k not in KEYS]
    assert not missing, f"keys printed by generate-config without a check here: {missing}"
    assert not [k for k in KEYS if k not in keys], "KEYS names keys generate-config no longer prints"
    here = {n for n, v in globals().items() if n.startswith("test_") and callable(v)}
    source_dir = os.path.abspath(os.path.join(HERE, "..", ".."))
    for key, how in KEYS.items():
        if isinstance(how, tuple):
            _, test_file, test_name = how
            with open(os.path.join(source_dir, test_file)) as f:
                src = f.read()
            found = re.search(rf"^def {re.escape(test_name)}\(", src, re.M) or f'TEST_CASE("{test_name}' in src
            assert found, f"{key}: {test_file} has no test {test_name}"
        elif how.startswith("here:"):
            assert how[5:] in here, f"{key}: no test {how[5:]} in this file"
        elif how == "gap":
            assert key in GAPS, key
        else:
            assert how == "refused", key
    assert set(GAPS) == {k for k, v in KEYS.items() if v == "gap"}


# ---- refusals (no hub start needed: check-config runs the same loader) ----------------------------

def check_config(text):
    d = tempfile.mkdtemp(prefix="hubd-keys-")
    path = os.path.join(d, "hub.toml")
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run([HUBD, "check-config", path], capture_output=True, text=True)


@pytest.mark.parametrize("section,key,value", [
    ("JupyterHub", "authenticate_prometheus", "false"),
])
def test_not_supported_yet(section, key, value):
    r = check_config(f"[{section}]\n# a comment first\n{key} = {value}\n")
    assert r.returncode != 0
    assert f"hub.toml:3: {section}.{key}: not supported yet by hubd" in r.stdout + r.stderr


def start_fails(config, needle):
    h = HubProcess(config)
    try:
        rc = h.start(expect_failure=True)
        assert rc not in (None, 0) and not isinstance(rc, HubProcess), "hubd started"
        assert needle in h.log(), h.log()
    finally:
        h.cleanup()


def test_refused_keys():
    # Aliases of JupyterHub class names: accepted for what hubd ships, refused naming the equivalent.
    assert check_config('[JupyterHub]\nspawner_class = "jupyterhub.spawner.LocalProcessSpawner"\n').returncode == 0
    r = check_config('[JupyterHub]\nspawner_class = "simple"\n')
    assert r.returncode != 0 and 'hub.toml:2: JupyterHub.spawner_class: "simple"' in r.stdout + r.stderr
    assert 'spawner_class = \\"local\\"' in r.stdout + r.stderr or 'spawner_class = "local"' in r.stdout + r.stderr
    # trust_user_provided_tokens: a short configured token is refused unless trusted
    svc = f'[[JupyterHub.services]]\nname = "s"\napi_token = "only-12-char"\n'
    r = check_config(svc)
    assert r.returncode != 0 and "JupyterHub.services[0].api_token: must be at least 16 characters" in r.stdout + r.stderr
    assert check_config("[JupyterHub]\ntrust_user_provided_tokens = true\n" + svc).returncode == 0
    # Start-up refusals naming the key.
    start_fails('[JupyterHub]\nproxy_class = "traefik"\n', "JupyterHub.proxy_class")
    start_fails('[JupyterHub]\nhub_bind_url = "https://127.0.0.1:1"\n', "https needs JupyterHub.ssl_cert and ssl_key")
    start_fails('[JupyterHub]\nssl_cert = "/nonexistent.pem"\nssl_key = "/nonexistent.key"\nhub_bind_url = "https://127.0.0.1:0"\n',
                "cannot listen")
    start_fails('[Authenticator]\nenable_auth_state = true\n', "Authenticator.enable_auth_state")
    # fx_auth has no load_managed_roles: resetting managed roles cannot work and stops start-up.
    start_fails(fx_config("manage_roles = true\nreset_managed_roles_on_startup = true"),
                "Authenticator.reset_managed_roles_on_startup")
    start_fails('[ConfigurableHTTPProxy]\nshould_start = false\n\n[JupyterHub]\nproxy_class = "configurable-http-proxy"\n',
                "ConfigurableHTTPProxy.auth_token")
    # io_threads and plugin_threads: the hub says how many it runs.
    h = HubProcess("[JupyterHub]\nio_threads = 3\nplugin_threads = 2\nlog_level = \"DEBUG\"\n")
    try:
        h.start()
        assert h.api("GET", "/").status_code == 200
    finally:
        h.cleanup()


# ---- hub A: identity, API limits, logins with the dummy authenticator -----------------------------

HUB_A = f'''
[JupyterHub]
base_url = "/jh/"
api_page_default_limit = 2
api_page_max_limit = 3
extra_user_scopes = ["read:groups"]
token_expires_in_max_seconds = 3600
max_body_size = 2000
max_header_size = 4096
log_level = "DEBUG"
activity_resolution = 0
load_groups = {{ crew = {{ users = ["alice"] }} }}

[JupyterHub.custom_scopes."custom:grades:read"]
description = "read grades"

[[JupyterHub.load_roles]]
name = "grader"
scopes = ["custom:grades:read"]
users = ["alice"]

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[Authenticator]
admin_users = ["boss"]
allowed_users = ["alice", "carol"]
blocked_users = ["mallory"]
username_pattern = "^[a-z][a-z0-9-]*$"
username_map = {{ "al" = "alice" }}
'''


@pytest.fixture(scope="module")
def hub_a():
    h = HubProcess(HUB_A, base_url="/jh/")
    h.start()
    yield h
    h.cleanup()


def xsrf_of(page):
    m = re.search(r'name="xsrf-token" content="([^"]*)"', page.text) or re.search(r'name="_xsrf" value="([^"]*)"', page.text)
    return m.group(1) if m else ""


def form_login(hub, user, password="x", prefix=None):
    s = requests.Session()
    base = prefix or hub.url
    page = s.get(base + "hub/login", timeout=10)
    xsrf = xsrf_of(page)
    r = s.post(base + "hub/login", data={"username": user, "password": password, "_xsrf": xsrf},
               allow_redirects=False, timeout=10)
    return s, r, page


def test_hub_a_identity_and_limits(hub_a):
    h = hub_a
    # base_url and hub_bind_url: the API answers under /jh/ on the configured port.
    root = requests.get(f"http://127.0.0.1:{h.port}/jh/hub/api/", timeout=5)
    assert root.status_code == 200
    # Item 4: the JupyterHub API version hubd implements, hubd's own separately, one value everywhere.
    body = root.json()
    assert body["version"] == "5.4.0" and body["hubd_version"] and body["hubd_version"] != body["version"]
    assert root.headers["X-JupyterHub-Version"] == "5.4.0"
    info = h.api("GET", "/info", token=ADMIN).json()
    assert info["version"] == "5.4.0" and info["hubd_version"] == body["hubd_version"]
    for name in ("u1", "u2", "u3", "u4"):
        assert h.api("POST", f"/users/{name}", token=ADMIN).status_code == 201
    env = {"Accept": "application/jupyterhub-pagination+json"}
    page = h.api("GET", "/users", token=ADMIN, headers=env).json()
    assert len(page["items"]) == 2  # api_page_default_limit
    page = h.api("GET", "/users?limit=100", token=ADMIN, headers=env).json()
    assert len(page["items"]) == 3  # api_page_max_limit
    # extra_user_scopes, load_groups, load_roles, custom_scopes, services
    assert "read:groups" in h.api("GET", "/roles/user", token=ADMIN).json()["scopes"]
    assert h.api("GET", "/groups/crew", token=ADMIN).json()["users"] == ["alice"]
    assert h.api("GET", "/roles/grader", token=ADMIN).json()["scopes"] == ["custom:grades:read"]
    assert h.api("GET", "/services/admin-svc", token=ADMIN).status_code == 200
    # token_expires_in_max_seconds
    r = h.api("POST", "/users/u1/tokens", token=ADMIN, json_body={"expires_in": 7200})
    assert r.status_code == 400, r.text
    assert h.api("POST", "/users/u1/tokens", token=ADMIN, json_body={"expires_in": 60}).status_code == 201
    # max_body_size / max_header_size
    assert h.api("POST", "/users", token=ADMIN, data="x" * 5000,
                 headers={"Content-Type": "application/json"}).status_code == 413
    assert h.api("GET", "/", headers={"X-Big": "y" * 6000}).status_code == 431
    # activity_resolution = 0: every use of a token records activity (the default waits 30 s)
    tok = h.api("POST", "/users/u2/tokens", token=ADMIN, json_body={}).json()["token"]
    stamps = []
    for _ in range(2):
        assert h.api("GET", "/user", token=tok).status_code == 200
        time.sleep(0.3)
        stamps.append(h.api("GET", "/users/u2/tokens", token=ADMIN).json()["api_tokens"][-1]["last_activity"])
        time.sleep(0.8)
    assert stamps[0] and stamps[1] and stamps[1] > stamps[0], stamps
    # log_level = DEBUG shows debug lines
    assert re.search(r"^\[D ", h.log(), re.M), h.log()[-2000:]


def test_hub_a_logins(hub_a):
    h = hub_a
    # username_pattern: the API names the bad name, the login page refuses it.
    r = h.api("POST", "/users/9lives", token=ADMIN)
    assert r.status_code == 400 and r.json()["message"] == "Invalid username: 9lives"
    r = h.api("POST", "/users", token=ADMIN, json_body={"usernames": ["ok-name", "Bad_Name!"]})
    assert r.status_code == 400 and "bad_name!" in r.json()["message"]
    _, r, _ = form_login(h, "9lives")
    assert r.status_code == 403
    # allowed_users / blocked_users / admin_users / username_map
    _, r, _ = form_login(h, "carol")
    assert r.status_code == 302
    _, r, _ = form_login(h, "dave")
    assert r.status_code == 403
    _, r, _ = form_login(h, "mallory")
    assert r.status_code == 403
    _, r, _ = form_login(h, "boss")
    assert r.status_code == 302
    assert h.api("GET", "/users/boss", token=ADMIN).json()["admin"] is True
    _, r, _ = form_login(h, "al")
    assert r.status_code == 302
    assert h.api("GET", "/users/al", token=ADMIN).status_code == 404
    assert h.api("GET", "/users/alice", token=ADMIN).status_code == 200
    # The refusal names the attempted user in the log.
    assert "login: refused for dave: not in allowed_users" in h.log()


def test_allow_all_and_existing_users():
    """Authenticator.allow_all and allow_existing_users (their own hubs: both change who is allowed)."""
    cfg = f'[Authenticator]\nallowed_users = ["alice"]\nallow_existing_users = true\n\n[[JupyterHub.services]]\nname = "a"\nadmin = true\napi_token = "{ADMIN}"\n'
    h = HubProcess(cfg)
    try:
        h.start()
        assert form_login(h, "zed")[1].status_code == 403
        assert h.api("POST", "/users/zed", token=ADMIN).status_code == 201
        assert form_login(h, "zed")[1].status_code == 302  # allow_existing_users
    finally:
        h.cleanup()
    h = HubProcess('[Authenticator]\nallowed_users = ["alice"]\nallow_all = true\n')
    try:
        h.start()
        assert form_login(h, "anyone")[1].status_code == 302  # allow_all
    finally:
        h.cleanup()


def test_hub_a_cookies(tmp_path):
    # An https public_url and cookie_host_prefix_enabled: Secure __Host- cookies (not sent back over
    # this test's plain http, so only the Set-Cookie lines are checked).
    h = HubProcess('[JupyterHub]\npublic_url = "https://hub.example.org/"\ncookie_host_prefix_enabled = true\n')
    try:
        h.start()
        page = requests.get(h.url + "hub/login", timeout=10)
        assert "Secure" in page.headers.get("Set-Cookie", "")
        xsrf_cookie = re.search(r"(_xsrf=[^;]*)", page.headers["Set-Cookie"]).group(1)
        r = requests.post(h.url + "hub/login", data={"username": "alice", "password": "x", "_xsrf": xsrf_of(page)},
                          headers={"Cookie": xsrf_cookie}, allow_redirects=False, timeout=10)
        assert r.status_code == 302, r.text
        cookies = r.headers.get("Set-Cookie", "")
        assert "__Host-jupyterhub-session-id" in cookies or "__Host-jupyterhub-hub-login" in cookies, cookies
        assert "Secure" in cookies
    finally:
        h.cleanup()
    templates = tmp_path / "templates"
    templates.mkdir()
    login = open(os.path.join(os.path.dirname(HERE), "..", "core", "web", "templates", "login.mustache")).read()
    (templates / "login.mustache").write_text("<p>custom login page marker</p>" + login)
    cfg = f'''
[JupyterHub]
cookie_max_age_days = 1
redirect_to_server = false
template_paths = [{toml_str(str(templates))}]
'''
    h = HubProcess(cfg)
    try:
        h.start()
        s, r, page = form_login(h, "alice")
        assert "custom login page marker" in page.text  # template_paths
        assert r.status_code == 302, r.text
        cookies = r.headers.get("Set-Cookie", "")
        assert "max-age=86400" in cookies.lower(), cookies  # cookie_max_age_days
        assert r.headers["Location"].endswith("/hub/home")  # redirect_to_server = false
    finally:
        h.cleanup()
    h = HubProcess('[JupyterHub]\ndefault_url = "/hub/token"\n')
    try:
        h.start()
        r = requests.get(h.url + "hub/", allow_redirects=False, timeout=5)
        assert r.headers["Location"] == "/hub/token"  # default_url
    finally:
        h.cleanup()


def test_data_dir(tmp_path):
    cfg = '[JupyterHub]\ndata_dir = "state"\ncookie_secret_file = "secrets/cookie"\n'
    h = HubProcess(cfg)
    try:
        h.start()
        state = os.path.join(h.workdir, "state")
        assert os.path.isfile(os.path.join(state, "jupyterhub.sqlite"))  # the harness's relative db_url
        assert os.path.isfile(os.path.join(state, "secrets", "cookie"))
        assert not os.path.exists(os.path.join(h.workdir, "jupyterhub.sqlite"))
    finally:
        h.cleanup()


def test_request_timeout():
    import socket
    h = HubProcess("[JupyterHub]\nrequest_timeout = 1\n")
    try:
        h.start()
        with socket.create_connection(("127.0.0.1", h.port), timeout=10) as c:
            c.sendall(b"GET /hub/api/ HTTP/1.1\r\nHost: x\r\n")  # never finishes the header
            t = time.time()
            data = c.recv(4096)
            while data and b"" != data:
                more = c.recv(4096)
                if not more:
                    break
                data += more
            assert time.time() - t < 5
    finally:
        h.cleanup()


# ---- the fixture authenticator: refusal messages, groups, plugin folders ---------------------------

def fx_config(extra_auth="", extra_plugin=""):
    return f'''
[JupyterHub]
plugin_paths = [{toml_str(FIXTURE_AUTH)}]
authenticator_class = "fx_auth"

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[Authenticator]
manage_groups = true
{extra_auth}

[plugins.fx_auth]
{extra_plugin}
'''


def test_fixture_authenticator_logins():
    h = HubProcess(fx_config())
    try:
        h.start()
        # The authenticator's refusal message reaches the page, escaped and capped.
        _, r, _ = form_login(h, "refuse-me")
        assert r.status_code == 403
        assert "&lt;b&gt;Account locked&lt;/b&gt; &amp; call &quot;IT&quot;" in r.text
        assert "<b>Account locked" not in r.text
        shown = re.search(r'data-testid="login-error">([^<]*)<', r.text).group(1)
        assert len(shown) < 260 and "x" * 150 in shown and "x" * 300 not in shown
        assert "login: refused for refuse-me: the authenticator said no" in h.log()
        # A long, control-character name is truncated and escaped in the log line.
        _, r, _ = form_login(h, "refuse-" + "\x1b[31m" + "y" * 100)
        assert r.status_code == 403
        assert "login: refused for refuse-\\x1b[31m" + "y" * 52 + "...:" in h.log()
        # manage_groups: groups set memberships; null leaves them; a missing list is a clear refusal.
        assert form_login(h, "gina")[1].status_code == 302
        assert h.api("GET", "/users/gina", token=ADMIN).json()["groups"] == ["fx-team"]
        assert h.api("POST", "/groups/extra/users", token=ADMIN, json_body={"users": ["nullgroups-nick"]}).status_code in (200, 404)
        h.api("POST", "/groups/extra", token=ADMIN)
        assert h.api("POST", "/groups/extra/users", token=ADMIN, json_body={"users": ["gina"]}).status_code == 200
        h.api("POST", "/users/nullgroups-nick", token=ADMIN)
        assert h.api("POST", "/groups/extra/users", token=ADMIN, json_body={"users": ["nullgroups-nick"]}).status_code == 200
        assert form_login(h, "nullgroups-nick")[1].status_code == 302
        assert h.api("GET", "/users/nullgroups-nick", token=ADMIN).json()["groups"] == ["extra"]
        _, r, _ = form_login(h, "nogroups-ned")
        assert r.status_code == 403, r.text
        assert "Authenticator.manage_groups is enabled" in r.text
        assert h.api("GET", "/users/nogroups-ned", token=ADMIN).status_code == 404
    finally:
        h.cleanup()
    # plugins_dir: the folder holding the fixture serves as well as plugin_paths does.
    h = HubProcess(fx_config().replace(f"plugin_paths = [{toml_str(FIXTURE_AUTH)}]", ""),
                   plugins_dir=os.path.dirname(FIXTURE_AUTH))
    try:
        h.start()
        assert form_login(h, "gina")[1].status_code == 302
    finally:
        h.cleanup()


def test_auto_login():
    # With a login URL of its own, /hub/login goes straight there (with next).
    h = HubProcess(fx_config("auto_login = true\nauto_login_oauth2_authorize = true",
                             'login_url = "https://idp.example.org/start"'))
    try:
        h.start()
        r = requests.get(h.url + "hub/login?next=/hub/token", allow_redirects=False, timeout=5)
        assert r.status_code == 302
        assert r.headers["Location"] == "https://idp.example.org/start?next=%2Fhub%2Ftoken"
        r = requests.get(h.url + "hub/api/oauth2/authorize?client_id=x&response_type=code", allow_redirects=False, timeout=5)
        assert r.status_code == 302 and r.headers["Location"].startswith("https://idp.example.org/start?next=")
    finally:
        h.cleanup()
    # Without one: the credentials are in the request (REMOTE_USER style), as JupyterHub.
    h = HubProcess(fx_config("auto_login = true"))
    try:
        h.start()
        r = requests.get(h.url + "hub/login", headers={"X-Remote-User": "rita"}, allow_redirects=False, timeout=5)
        assert r.status_code == 302, r.text
        assert h.api("GET", "/users/rita", token=ADMIN).status_code == 200
        r = requests.get(h.url + "hub/login", allow_redirects=False, timeout=5)
        assert r.status_code == 403
    finally:
        h.cleanup()
    # Without auto_login the page is shown.
    h = HubProcess(fx_config("", 'login_url = "https://idp.example.org/start"'))
    try:
        h.start()
        r = requests.get(h.url + "hub/login", allow_redirects=False, timeout=5)
        assert r.status_code == 200 and "https://idp.example.org/start" in r.text
    finally:
        h.cleanup()


def test_delete_invalid_users():
    workdir = tempfile.mkdtemp(prefix="hubd-keys-")
    h = HubProcess(fx_config(), workdir=workdir)
    h.start()
    for n in ("keep", "gone", "9bad"):
        assert h.api("POST", f"/users/{n}", token=ADMIN).status_code == 201
    h.stop()
    # Without delete_invalid_users: warned about, kept.
    cfg = fx_config('username_pattern = "^[a-z]"', 'add_user_refuses = ["gone"]')
    h = HubProcess(cfg, workdir=workdir)
    h.start()
    names = {u["name"] for u in h.api("GET", "/users", token=ADMIN).json()}
    assert {"keep", "gone", "9bad"} <= names
    assert "users: gone in the database is not a valid user" in h.log()
    assert "set Authenticator.delete_invalid_users = true" in h.log()
    h.stop()
    h = HubProcess(fx_config('username_pattern = "^[a-z]"\ndelete_invalid_users = true', 'add_user_refuses = ["gone"]'),
                   workdir=workdir)
    h.start()
    try:
        names = {u["name"] for u in h.api("GET", "/users", token=ADMIN).json()}
        assert "keep" in names and "gone" not in names and "9bad" not in names
        assert "users: deleting invalid user 9bad from the database" in h.log()
    finally:
        h.cleanup()


# ---- a spawned server that reports its environment; /hub/user/ redirect limit -----------------------

SERVER = r'''
import json, os, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
url = urllib.parse.urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
with open(os.environ["REPORT"], "w") as f:
    json.dump({"env": dict(os.environ), "argv": sys.argv}, f)
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
HTTPServer((url.hostname, url.port), H).serve_forever()
'''


def test_user_redirect_limit_and_spawner_keys(tmp_path):
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    report = tmp_path / "report.json"
    port = free_port()
    os.environ["HUBD_TEST_KEEP"] = "kept"
    cfg = f'''
[JupyterHub]
user_redirect_limit = 2
allow_named_servers = true
admin_access = true
shutdown_on_logout = true

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[Spawner]
cmd = [{toml_str(sys.executable)}]
args = [{toml_str(str(script))}, "--flag"]
environment = {{ REPORT = {toml_str(str(report))}, EXTRA = "e" }}
env_keep = ["PATH", "HUBD_TEST_KEEP"]
default_url = "/lab"
notebook_dir = {toml_str(str(tmp_path))}
ip = "127.0.0.1"
port = {port}
debug = true
disable_user_config = true
mem_limit = "1G"
mem_guarantee = "512M"
cpu_limit = 2
cpu_guarantee = 1
oauth_client_allowed_scopes = ["read:users:name"]
server_token_scopes = ["read:users:name!user=alice"]
options_form = "<input name='size'>"
http_timeout = 20
'''
    h = HubProcess(cfg)
    try:
        h.start()
        assert h.api("POST", "/users/alice", token=ADMIN).status_code == 201
        # options_form: the spawn page shows it instead of spawning; allow_named_servers: named pages exist
        s, r, _ = form_login(h, "alice")
        assert "<input name='size'>" in s.get(h.url + "hub/spawn", timeout=10).text
        assert "<input name='size'>" in s.get(h.url + "hub/spawn/alice/other", timeout=10).text
        r = h.api("POST", "/users/alice/server", token=ADMIN, json_body={"size": "s"})
        assert r.status_code in (201, 202), r.text
        wait_until(lambda: h.api("GET", "/users/alice", token=ADMIN).json()["servers"].get("", {}).get("ready"), 20,
                   "alice's server to be ready")
        rep = json.loads(report.read_text())
        env = rep["env"]
        # jupyterhub-idle-culler's feature detection: a hub >= 1.3 gets ?state= filters instead of
        # the whole user list every cycle; hubd answers them.
        version = tuple(int(x) for x in h.api("GET", "/").json()["version"].split(".")[:2])
        assert version >= (1, 3)
        ready = h.api("GET", "/users?state=ready", token=ADMIN).json()
        assert [u["name"] for u in ready] == ["alice"] and "" in ready[0]["servers"]
        assert "alice" not in [u["name"] for u in h.api("GET", "/users?state=inactive", token=ADMIN).json()]
        assert rep["argv"] == [str(script), "--flag"]  # cmd (python) runs args[0] with args[1:]
        assert env["EXTRA"] == "e" and env["HUBD_TEST_KEEP"] == "kept"
        assert env["JUPYTERHUB_DEFAULT_URL"] == "/lab" and env["JUPYTERHUB_ROOT_DIR"] == str(tmp_path)
        assert env["JUPYTERHUB_SERVICE_URL"].startswith(f"http://127.0.0.1:{port}/")  # ip + port
        assert env["JUPYTERHUB_DEBUG"] == "1" and env["JUPYTERHUB_DISABLE_USER_CONFIG"] == "1"
        assert env["MEM_LIMIT"] == "1G" and env["MEM_GUARANTEE"] == "512M"
        assert env["CPU_LIMIT"] == "2.0" and env["CPU_GUARANTEE"] == "1.0"
        assert "read:users:name" in env["JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES"]
        tok = requests.get(h.api_url + "/user", headers={"Authorization": "token " + env["JUPYTERHUB_API_TOKEN"]}, timeout=5)
        # server_token_scopes (plus the activity scopes every server token needs), not the server role's
        assert tok.status_code == 200 and "read:users:name!user=alice" in tok.json()["scopes"]
        assert not [x for x in tok.json()["scopes"] if x.startswith("access:servers")], tok.json()["scopes"]
        # user_redirect_limit: without a proxy every /user/ request comes back to the hub: 2 redirects, then 500.
        hops, url = 0, h.url + "hub/user/alice/tree"
        while True:
            r = s.get(url, allow_redirects=False, timeout=10)
            if r.status_code != 302:
                break
            url = requests.compat.urljoin(url, r.headers["Location"])
            if "/hub/user/" not in url:
                hops += 1
                assert f"redirects={hops}" in url
        assert r.status_code == 500 and "Redirect loop detected" in r.text
        assert hops == 2
        assert "pages: redirect loop detected for alice" in h.log()
        assert env["JUPYTERHUB_ADMIN_ACCESS"] == "1"  # admin_access
        # shutdown_on_logout: logging out stops the server.
        s.get(h.url + "hub/logout", timeout=10)
        wait_until(lambda: h.api("GET", "/users/alice", token=ADMIN).json()["servers"] == {}, 15,
                   "logging out to stop alice's server")
    finally:
        h.cleanup()


def pids_with_args(*needles):
    """Pids whose command line contains one of the needles (a port or a path unique to this test)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if any(n in cmd for n in needles) and "pytest" not in cmd:
            out.append(int(d))
    return out


# ---- the proxy: last_activity_interval; POST /shutdown's proxy and servers -----------------------

def proxied_hub(tmp_path, jupyterhub="", proxy=""):
    """A hub that starts CHP, with the reporting fake server as Spawner.cmd. Returns (hub, ports, script, report)."""
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    report = tmp_path / "report.json"
    proxy_port, api_port = free_port(), free_port()
    cfg = f'''
[JupyterHub]
proxy_class = "configurable-http-proxy"
bind_url = "http://127.0.0.1:{proxy_port}"
{jupyterhub}

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[ConfigurableHTTPProxy]
api_url = "http://127.0.0.1:{api_port}"
{proxy}

[Spawner]
cmd = [{toml_str(sys.executable)}, {toml_str(str(script))}]
environment = {{ REPORT = {toml_str(str(report))} }}
'''
    return HubProcess(cfg), proxy_port, api_port, script, report


@pytest.mark.skipif(not CHP, reason="needs configurable-http-proxy")
def test_last_activity_interval(tmp_path):
    h, proxy_port, api_port, script, report = proxied_hub(
        tmp_path, "last_activity_interval = 1",
        'auth_token = "config-keys-proxy-token-0123456789"\ncommand = ["configurable-http-proxy"]\n'
        'debug = true\ncheck_routes_interval = 3600')
    try:
        h.start()
        # auth_token and api_url: the proxy's API answers with that token on that port
        r = wait_until(lambda: requests.get(f"http://127.0.0.1:{api_port}/api/routes",
                                            headers={"Authorization": "token config-keys-proxy-token-0123456789"},
                                            timeout=5), 30, "the proxy's API to accept the token")
        assert r.status_code == 200
        assert h.api("POST", "/users/alice", token=ADMIN).status_code == 201
        assert h.api("POST", "/users/alice/server", token=ADMIN).status_code in (201, 202)
        wait_until(lambda: h.api("GET", "/users/alice", token=ADMIN).json()["servers"].get("", {}).get("ready"), 20,
                   "alice's server to be ready")
        before = h.api("GET", "/users/alice", token=ADMIN).json()["last_activity"]
        time.sleep(1.1)
        # Traffic through the proxy (CHP stamps the route); the route check is an hour away, so only
        # the last_activity_interval pass can copy the stamp.
        assert requests.get(f"http://127.0.0.1:{proxy_port}/user/alice/", timeout=5).status_code == 200
        after = wait_until(lambda: (lambda a: a if a != before else None)(
            h.api("GET", "/users/alice", token=ADMIN).json()["last_activity"]), 5, "the proxy's activity to be copied")
        assert after > (before or ""), (before, after)
        # ConfigurableHTTPProxy.command and debug: the process hubd started runs that command at debug level.
        pid = int(re.search(r"proxy-started: configurable-http-proxy \(pid (\d+)\)", h.log()).group(1))
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        assert any(a.endswith(b"configurable-http-proxy") for a in argv) and b"debug" in argv[argv.index(b"--log-level") + 1:][:1]
    finally:
        h.cleanup()


@pytest.mark.skipif(not CHP, reason="needs configurable-http-proxy")
@pytest.mark.parametrize("body,proxy_survives,server_survives", [
    ({"proxy": False, "servers": False}, True, True),
    ({}, False, False),  # cleanup_proxy and cleanup_servers (true by default) decide
])
def test_shutdown_flags(tmp_path, body, proxy_survives, server_survives):
    h, proxy_port, api_port, script, report = proxied_hub(tmp_path)
    proxy_pid = server_url = None
    try:
        h.start()
        assert h.api("POST", "/users/alice", token=ADMIN).status_code == 201
        assert h.api("POST", "/users/alice/server", token=ADMIN).status_code in (201, 202)
        def reported():
            try:
                return json.loads(report.read_text())
            except (OSError, ValueError):  # not there yet, or half written
                return None
        server_url = wait_until(reported, 20, "the server's report")["env"]["JUPYTERHUB_SERVICE_URL"]
        r = h.api("POST", "/shutdown", token=ADMIN, json_body=body)
        assert r.status_code == 202
        h.proc.wait(20)

        def up(url):
            try:
                requests.get(url, timeout=2)
                return True
            except requests.RequestException:
                return False
        # What does not survive goes with hubd, a moment after it exits.
        wait_until(lambda: up(f"http://127.0.0.1:{proxy_port}/") == proxy_survives, 10, "the proxy to survive or go")
        wait_until(lambda: up(server_url) == server_survives, 10, "the server to survive or go")
    finally:
        h.cleanup()
        # Whatever survived on purpose goes now: only the processes this test started, by pid.
        for pid in pids_with_args(f"{proxy_port}", str(script)):
            try:
                os.kill(pid, 9)
            except OSError:
                pass


def test_singleuser_version_check_sees_a_modern_hub(hub_a, caplog):
    """jupyterhub-singleuser's own check (jupyterhub._version._check_version) against hubd's header:
    a single-user server of the release hubd implements logs no mismatch; the old 0.1.0 did."""
    try:
        from jupyterhub._version import _check_version
    except ImportError:
        pytest.skip("jupyterhub (the single-user package) is not installed")
    import logging
    log = logging.getLogger("singleuser-check")
    header = requests.get(f"http://127.0.0.1:{hub_a.port}/jh/hub/api/", timeout=5).headers["X-JupyterHub-Version"]
    with caplog.at_level(logging.WARNING, logger="singleuser-check"):
        _check_version(header, "5.4.2", log)
    assert not [r for r in caplog.records if "redirect loops" in r.getMessage()]
    with caplog.at_level(logging.WARNING, logger="singleuser-check"):
        _check_version("0.1.0", "5.4.2", log)
    assert [r for r in caplog.records if "redirect loops" in r.getMessage()]


def test_plugin_enabled(tmp_path):
    """[plugins.NAME] enabled = false keeps the table but does not run the hook plugin."""
    probe = os.path.join(BUILD_DIR, "tests", "fixtures", "plugins", "fx_api_probe.so")
    for enabled, runs in (("true", True), ("false", False)):
        cfg = (f'[JupyterHub]\nplugin_paths = [{toml_str(probe)}]\n\n[plugins.fx_api_probe]\n'
               f'enabled = {enabled}\nlog = {toml_str(str(tmp_path / "probe.log"))}\n')
        h = HubProcess(cfg)
        try:
            h.start()
            assert ("hook plugin fx_api_probe enabled" in h.log()) == runs, h.log()[-2000:]
        finally:
            h.cleanup()


SLOW_STOP = "import signal, time\nsignal.signal(signal.SIGTERM, lambda *a: (time.sleep(1.5), exit(0)))\n"


@pytest.mark.parametrize("timeout,status", [("0.1", 202), ("10", 204)])
def test_slow_stop_timeout(tmp_path, timeout, status):
    """A server that takes 1.5 s to stop: DELETE answers 202 past slow_stop_timeout, 204 within it."""
    script = tmp_path / "server.py"
    script.write_text(SLOW_STOP + SERVER)
    cfg = f'''
[JupyterHub]
slow_stop_timeout = {timeout}

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[Spawner]
cmd = [{toml_str(sys.executable)}, {toml_str(str(script))}]
environment = {{ REPORT = {toml_str(str(tmp_path / "report.json"))} }}
'''
    h = HubProcess(cfg)
    try:
        h.start()
        assert h.api("POST", "/users/alice", token=ADMIN).status_code == 201
        assert h.api("POST", "/users/alice/server", token=ADMIN).status_code in (201, 202)
        wait_until(lambda: h.api("GET", "/users/alice", token=ADMIN).json()["servers"].get("", {}).get("ready"), 20,
                   "alice's server to be ready")
        assert h.api("DELETE", "/users/alice/server", token=ADMIN).status_code == status
    finally:
        h.cleanup()
