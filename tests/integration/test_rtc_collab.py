"""The rtc_collab hook plugin against a real hubd (docs/rtc.md): collaborations made at login through
the internal API, under concurrency, with a second hook plugin that blocks on the internal API.

Runs hubd with the dummy authenticator as the identity source for groups ([plugins.dummy] groups) and
the fixture hook plugin fx_blocking_hook (tests/fixtures/plugins)."""
import concurrent.futures
import html
import json
import os
import re
import shutil
import time
import urllib.parse

import pytest
import requests

from hubd_harness import BUILD_DIR, HubProcess, free_port, logged_in as logged_in_at, post_login, wait_until, xsrf_field

ADMIN_TOKEN = "rtc-test-admin-token-0123456789abcdef"
FIXTURE = os.path.join(BUILD_DIR, "tests", "fixtures", "plugins", "fx_blocking_hook.so")
PLUGIN_SCOPES = ["admin:users", "admin:groups", "admin:roles", "read:roles", "admin:servers", "access:servers",
                 "tokens", "shares"]
COLLAB_SCOPES = ["access:servers!user={u}", "admin:servers!user={u}", "read:users!user={u}"]


def toml(value):
    """A TOML value: strings, numbers, booleans and lists as JSON writes them; tables inline."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return json.dumps(value)


def hub_config(groups, rtc=None, blocking=True, extra="", plugin_threads=4, roles=None):
    """hub.toml for one test: groups is the dummy authenticator's user -> groups table."""
    rtc_table = {"roles": ["rtc-plugin"], "timeout": 60, "group_prefix": "team-"}
    rtc_table.update(rtc or {})
    rtc_table = {k: v for k, v in rtc_table.items() if v is not None}  # None: leave the key out
    lines = [
        "[JupyterHub]",
        'authenticator_class = "dummy"',
        f"plugin_threads = {plugin_threads}",
        f"plugin_paths = [{toml(FIXTURE)}]" if blocking else "",
        extra,
        "[[JupyterHub.services]]",
        'name = "admin-svc"',
        "admin = true",
        f"api_token = {toml(ADMIN_TOKEN)}",
        "[[JupyterHub.load_roles]]",
        'name = "rtc-plugin"',
        f"scopes = {toml(PLUGIN_SCOPES)}",
        "[[JupyterHub.load_roles]]",
        'name = "probe"',
        'scopes = ["read:users"]',
        "[plugins.dummy.groups]",
    ]
    lines += [f"{toml(user)} = {toml(gs)}" for user, gs in groups.items()]
    if roles is not None:  # the dummy authenticator's user -> role names table
        lines.append("[plugins.dummy.auth_roles]")
        lines += [f"{toml(user)} = {toml(rs)}" for user, rs in roles.items()]
    lines.append("[plugins.rtc_collab]")
    lines += [f"{k} = {toml(v)}" for k, v in rtc_table.items()]
    if blocking:
        lines += ["[plugins.fx_blocking_hook]", 'roles = ["probe"]', "timeout = 60", "calls = 3"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def make_hub():
    hubs = []

    def start(config, workdir=None):
        h = HubProcess(config, workdir=workdir)
        hubs.append(h)
        h.start(timeout=60)
        return h

    yield start
    for h in hubs:
        h.stop()
    for h in hubs:  # after every stop: a restarted hub shares its predecessor's folder
        h.cleanup()


def login(hub, user):
    return post_login(hub.url, user, timeout=120)


def logged_in(hub, user):
    s, r = login(hub, user)
    assert r.status_code == 302, f"login of {user}: {r.status_code} {r.text[:300]}\n{hub.log()[-3000:]}"
    return s


def get(hub, path):
    r = hub.api("GET", path, token=ADMIN_TOKEN)
    assert r.status_code in (200, 404), f"GET {path}: {r.status_code} {r.text}"
    return r.json() if r.status_code == 200 else None


def all_of(hub, path):
    r = hub.api("GET", path, token=ADMIN_TOKEN)
    assert r.status_code == 200, r.text
    return r.json()


def scopes_of(session, hub):
    r = session.get(hub.api_url + "/user")
    assert r.status_code == 200, r.text
    return set(r.json()["scopes"])


def check_collaboration(hub, name, members):
    user, group = f"collab-{name}", f"collab-{name}"
    u = get(hub, f"/users/{user}")
    assert u is not None, f"collaborative user {user} exists"
    assert "collaborative" in u["groups"]
    assert "rtc-self" in u["roles"]
    g = get(hub, f"/groups/{group}")
    assert g is not None and sorted(g["users"]) == sorted(members)
    role = get(hub, f"/roles/collab-{name}")
    assert role is not None
    assert sorted(role["scopes"]) == sorted(s.format(u=user) for s in COLLAB_SCOPES)
    assert role["groups"] == [group]


def test_logins_make_collaborations(make_hub):
    hub = make_hub(hub_config({"alice": ["team-a", "staff"], "bob": ["team-a", "team-b"], "carol": ["team-b"],
                               "dave": ["staff"]}))
    sessions = {u: logged_in(hub, u) for u in ["alice", "bob", "carol", "dave"]}
    check_collaboration(hub, "a", ["alice", "bob"])
    check_collaboration(hub, "b", ["bob", "carol"])
    assert sorted(get(hub, "/groups/collaborative")["users"]) == ["collab-a", "collab-b"]
    # Real users hold the self role explicitly; dave, in no collaboration, is left alone.
    selfers = set(get(hub, "/roles/rtc-self")["users"])
    assert {"alice", "bob", "carol", "collab-a", "collab-b"} <= selfers and "dave" not in selfers
    # Members may use the collaborative server; others may not.
    assert "access:servers!user=collab-a" in scopes_of(sessions["alice"], hub)
    assert "access:servers!user=collab-b" not in scopes_of(sessions["alice"], hub)
    assert "access:servers!user=collab-a" not in scopes_of(sessions["dave"], hub)
    # A second login changes nothing and makes no duplicates.
    logged_in(hub, "alice")
    check_collaboration(hub, "a", ["alice", "bob"])
    names = [g["name"] for g in all_of(hub, "/groups")]
    assert len(names) == len(set(names))
    # The collaborative user cannot log in itself.
    _, r = login(hub, "collab-a")
    assert r.status_code == 403
    assert "rtc: login refused: 'collab-a' has the shape of a collaborative user" in hub.log()


# With the blocking hook and two pool threads, the pool is full of hooks waiting on the internal API;
# without it and with eight, the plugin's own logins race each other for the shared objects.
@pytest.mark.parametrize("blocking,threads", [(True, 2), (False, 8)])
def test_fifty_concurrent_logins_of_overlapping_collaborations(make_hub, blocking, threads):
    teams = 5
    users = [f"u{i:02d}" for i in range(50)]
    groups = {u: [f"team-t{i % teams}", f"team-t{(i + 1) % teams}"] for i, u in enumerate(users)}
    hub = make_hub(hub_config(groups, blocking=blocking, plugin_threads=threads, extra='log_level = "DEBUG"'))
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda u: (u, login(hub, u)[1].status_code), users))
    elapsed = time.monotonic() - start
    assert all(status == 302 for _, status in results), (results, hub.log()[-4000:])
    assert elapsed < 60, f"50 logins took {elapsed:.1f}s"
    for t in range(teams):
        members = [u for u, gs in groups.items() if f"team-t{t}" in gs]
        check_collaboration(hub, f"t{t}", members)
    assert sorted(get(hub, "/groups/collaborative")["users"]) == [f"collab-t{t}" for t in range(teams)]
    # Exactly the expected objects: no duplicates, nothing extra of the collaborative shape.
    group_names = [g["name"] for g in all_of(hub, "/groups")]
    assert len(group_names) == len(set(group_names))
    assert sorted(n for n in group_names if n.startswith("collab-")) == [f"collab-t{t}" for t in range(teams)]
    user_names = [u["name"] for u in all_of(hub, "/users")]
    assert len(user_names) == len(set(user_names))
    assert sorted(n for n in user_names if n.startswith("collab-")) == [f"collab-t{t}" for t in range(teams)]
    role_names = [r["name"] for r in all_of(hub, "/roles")]
    assert sorted(n for n in role_names if n.startswith("collab-")) == [f"collab-t{t}" for t in range(teams)]
    assert set(users) <= set(get(hub, "/roles/rtc-self")["users"])
    log = hub.log()
    assert "timed out" not in log
    assert "rtc: login of" not in log  # no unit failed
    for u in users if blocking else []:  # every login went through the hook that blocks on the internal API
        assert f"fx_blocking_hook: post_auth of {u} waited on 4 internal API calls" in log


@pytest.mark.parametrize("on_empty", ["keep", "remove"])
def test_removal_at_the_identity_source_takes_effect_at_next_login(make_hub, on_empty):
    rtc = {"on_empty": on_empty}
    hub = make_hub(hub_config({"erin": ["team-r"], "frank": ["team-s"]}, rtc))
    erin = logged_in(hub, "erin")
    logged_in(hub, "frank")
    check_collaboration(hub, "r", ["erin"])
    assert "access:servers!user=collab-r" in scopes_of(erin, hub)
    workdir = hub.workdir
    hub.stop()
    # The identity source drops erin from team-r and frank from team-s (hub restarted, same database).
    hub = make_hub(hub_config({"erin": [], "frank": ["team-s2"]}, rtc), workdir=workdir)
    erin = logged_in(hub, "erin")
    assert "access:servers!user=collab-r" not in scopes_of(erin, hub)
    assert "collab-r" not in get(hub, "/users/erin")["groups"]
    logged_in(hub, "frank")
    check_collaboration(hub, "s2", ["frank"])
    if on_empty == "keep":
        assert get(hub, "/groups/collab-r")["users"] == []
        assert get(hub, "/users/collab-r") is not None
    else:
        assert get(hub, "/groups/collab-r") is None
        assert get(hub, "/users/collab-r") is None
        assert get(hub, "/roles/collab-r") is None
        assert get(hub, "/users/collab-s") is None


def test_static_collaborations(make_hub):
    rtc = {"group_prefix": None, "collaborations": {"proj": ["oli", "pat"]}}
    hub = make_hub(hub_config({"oli": ["team-ignored"], "pat": []}, rtc))
    logged_in(hub, "oli")
    check_collaboration(hub, "proj", ["oli"])  # members join as they log in
    logged_in(hub, "pat")
    logged_in(hub, "quinn")  # not listed
    check_collaboration(hub, "proj", ["oli", "pat"])
    assert get(hub, "/groups/collab-ignored") is None  # no group_prefix: auth-model groups are not collaborations


def test_bad_collaborations_fail_alone_and_leave_nothing(make_hub):
    hub = make_hub(hub_config({"gina": ["team-Big Team", "team-ok", "team-taken"]}))
    r = hub.api("POST", "/users/collab-taken", token=ADMIN_TOKEN)  # a real user with the collaborative shape
    assert r.status_code == 201, r.text
    logged_in(hub, "gina")
    check_collaboration(hub, "ok", ["gina"])
    log = hub.log()
    assert "rtc: login of gina: collaboration Big Team: 'collab-Big Team' is not a valid user name" in log
    assert "rtc: login of gina: collaboration taken: user 'collab-taken' exists and is not collaborative" in log
    assert get(hub, "/groups/collab-taken") is None
    assert get(hub, "/roles/collab-taken") is None
    assert "collaborative" not in get(hub, "/users/collab-taken")["groups"]
    assert not [g for g in all_of(hub, "/groups") if "Big" in g["name"]]
    assert not [u for u in all_of(hub, "/users") if "big" in u["name"].lower()]


def test_sharing_groups_let_users_add_collaborators(make_hub):
    hub = make_hub(hub_config({}, {"sharing": True, "group_prefix": "team-"}, blocking=False))
    logged_in(hub, "hank")
    ivy = logged_in(hub, "ivy")
    g = get(hub, "/groups/server_sharing_hank")
    assert g is not None and g["users"] == []
    assert get(hub, "/roles/server_sharing_hank")["groups"] == ["server_sharing_hank"]
    assert "access:servers!user=hank" not in scopes_of(ivy, hub)
    # hank adds ivy through the Groups API with his own token: it works at once, without a restart.
    r = hub.api("POST", "/users/hank/tokens", token=ADMIN_TOKEN, json_body={"note": "rtc test"})
    assert r.status_code == 201, r.text
    hank_token = r.json()["token"]
    r = hub.api("POST", "/groups/server_sharing_hank/users", token=hank_token, json_body={"users": ["ivy"]})
    assert r.status_code == 200, r.text
    assert "access:servers!user=hank" in scopes_of(ivy, hub)
    # hank cannot edit ivy's sharing group.
    r = hub.api("POST", "/groups/server_sharing_ivy/users", token=hank_token, json_body={"users": ["hank"]})
    assert r.status_code in (403, 404)


def test_dummy_groups_reach_the_hub_with_manage_groups(make_hub):
    hub = make_hub(hub_config({"jo": ["team-x", "staff"]}, blocking=False,
                              extra="[Authenticator]\nmanage_groups = true\n"))
    logged_in(hub, "jo")
    groups = set(get(hub, "/users/jo")["groups"])
    # The authenticator's groups (the dummy authenticator's groups table reached the auth model) ...
    assert {"team-x", "staff"} <= groups
    # ... and the plugin's collaboration group beside them: memberships keep their source.
    assert "collab-x" in groups
    logged_in(hub, "jo")
    assert {"team-x", "staff", "collab-x"} <= set(get(hub, "/users/jo")["groups"])


def test_managed_roles_that_drop_user_keep_self_through_the_plugin(make_hub):
    # The identity source returns no roles for lee and nan: managed roles strip the default `user` role.
    hub = make_hub(hub_config({"lee": ["team-m"], "nan": []}, blocking=False, roles={"lee": [], "nan": []},
                              extra="[Authenticator]\nmanage_roles = true\n"))
    lee, nan = logged_in(hub, "lee"), logged_in(hub, "nan")
    roles = get(hub, "/users/lee")["roles"]
    assert "user" not in roles and "rtc-self" in roles
    scopes = scopes_of(lee, hub)
    assert {"read:users!user=lee", "access:servers!user=lee", "access:servers!user=collab-m"} <= scopes
    # nan is in no collaboration: the plugin leaves her alone, and managed roles left her without self.
    assert "access:servers!user=nan" not in scopes_of(nan, hub)
    logged_in(hub, "lee")  # the next login keeps it
    assert "rtc-self" in get(hub, "/users/lee")["roles"]
    assert "access:servers!user=lee" in scopes_of(lee, hub)


@pytest.mark.parametrize("key,value,message", [
    ("colaborations", {}, "[plugins.rtc_collab] colaborations: unknown key"),
    ("role_scopes", "access:servers", "[plugins.rtc_collab] role_scopes: must be a list of strings"),
    ("user_pattern", "collab", "[plugins.rtc_collab] user_pattern: must contain {name}"),
])
def test_bad_config_stops_the_start_with_a_clear_error(key, value, message):
    hub = HubProcess(hub_config({}, {key: value}, blocking=False))
    try:
        code = hub.start(timeout=60, expect_failure=True)
        assert code not in (None, 0)
        assert message in hub.log()
    finally:
        hub.cleanup()


# A stand-in single-user server: records the argv and environment it was started with, then idles.
# Only what pre_spawn gave the process matters here; the spawn itself may time out.
RECORDER = ("import json, os, sys, time\n"
            "path = os.path.join(os.environ['RTC_OUT_DIR'], os.environ['JUPYTERHUB_USER'] + '.json')\n"
            "open(path + '.tmp', 'w').write(json.dumps({'argv': sys.argv, 'env': dict(os.environ)}))\n"
            "os.rename(path + '.tmp', path)\n"
            "time.sleep(120)\n")


def test_pre_spawn_gives_collaborative_servers_the_settings(make_hub, tmp_path):
    out = tmp_path / "spawned"
    out.mkdir()
    spawner = "\n".join([
        "slow_spawn_timeout = 0.5",  # the stand-in never gets ready: answer 202 soon
        "[Spawner]",
        f"cmd = {toml(['python3', '-c', RECORDER])}",
        'args = ["--debug"]',
        "start_timeout = 30",
        f"environment = {{ RTC_OUT_DIR = {toml(str(out))} }}",
        "[plugins.local]",
        f"home_dir_template = {toml(str(tmp_path / 'home' / '{username}'))}",
    ])
    rtc = {"server_args": ["--LabApp.collaborative=True"], "server_env": {"HUBD_RTC": "1"}}
    hub = make_hub(hub_config({"kim": ["team-k"]}, rtc, blocking=False, extra=spawner))
    logged_in(hub, "kim")
    try:
        for user in ["collab-k", "kim"]:
            r = hub.api("POST", f"/users/{user}/server", token=ADMIN_TOKEN)
            assert r.status_code in (201, 202), r.text
        wait_until(lambda: len(list(out.glob("*.json"))) >= 2, 30, "both servers to record how they were started")
        started = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
        assert set(started) == {"collab-k", "kim"}, hub.log()[-3000:]
        argv = started["collab-k"]["argv"]
        assert "--debug" in argv and argv.count("--LabApp.collaborative=True") == 1  # appended to the args
        assert started["collab-k"]["env"].get("HUBD_RTC") == "1"
        assert "--LabApp.collaborative=True" not in started["kim"]["argv"]
        assert "HUBD_RTC" not in started["kim"]["env"]
        assert "rtc: server of collaborative user collab-k gets the collaboration settings" in hub.log()
    finally:
        for user in ["collab-k", "kim"]:
            hub.api("DELETE", f"/users/{user}/server", token=ADMIN_TOKEN)


# ---- access, for real: CHP, jupyterhub-singleuser, OAuth ----

SINGLEUSER = shutil.which("jupyterhub-singleuser")
CHP = shutil.which("configurable-http-proxy")
PROXY_TOKEN = "rtc-test-proxy-token-0123456789abcdef"


def proxied_hub(groups, workdir):
    proxy_port, api_port = free_port(), free_port()
    extra = "\n".join([
        'proxy_class = "configurable-http-proxy"',
        f'bind_url = "http://127.0.0.1:{proxy_port}"',
        "slow_spawn_timeout = 30",
        "[ConfigurableHTTPProxy]",
        f'api_url = "http://127.0.0.1:{api_port}"',
        "[Spawner]",
        "start_timeout = 40",
        "http_timeout = 40",
        "[plugins.local]",
        f"home_dir_template = {toml(os.path.join(workdir, 'users', '{username}'))}",
        "term_timeout = 3",
    ])
    hub = HubProcess(hub_config(groups, blocking=False, extra=extra), workdir=workdir,
                     env={"CONFIGPROXY_AUTH_TOKEN": PROXY_TOKEN})
    hub.proxy_url = f"http://127.0.0.1:{proxy_port}"
    hub.start(timeout=60)
    routes_url = f"http://127.0.0.1:{api_port}/api/routes"

    def hub_routed():
        try:
            r = requests.get(routes_url, headers={"Authorization": f"token {PROXY_TOKEN}"}, timeout=5)
            return r.status_code == 200 and "/" in r.json()
        except requests.RequestException:
            return False
    wait_until(hub_routed, 30, "the proxy to route the hub")
    return hub


def browser(hub, user):
    return logged_in_at(hub.proxy_url + "/", user, timeout=60)


def open_server(hub, session, user):
    """Opens /user/USER/tree like a browser: through the OAuth authorize step, confirming it (another
    user's server asks for confirmation). Returns the final response."""
    r = session.get(hub.proxy_url + f"/user/{user}/tree", timeout=60)
    if r.status_code == 200 and 'action="' in r.text and "/oauth2/authorize" in r.url:
        action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', r.text).group(1))
        fields = [("_xsrf", xsrf_field(r.text))]
        fields += [("scopes", html.unescape(v)) for v in re.findall(r'name="scopes" value="([^"]+)"', r.text)]
        r = session.post(urllib.parse.urljoin(r.url, action), data=fields, timeout=60)
    return r


def start_server(hub, user):
    r = hub.api("POST", f"/users/{user}/server", token=ADMIN_TOKEN)
    assert r.status_code in (201, 202), r.text

    def ready():
        model = get(hub, f"/users/{user}") or {}
        return (model.get("servers", {}).get("") or {}).get("ready")
    wait_until(ready, 60, f"the server of {user} to be ready")


@pytest.mark.skipif(not SINGLEUSER or not CHP, reason="needs jupyterhub-singleuser and configurable-http-proxy")
def test_members_open_the_collaborative_server_and_others_get_403(tmp_path):
    workdir = str(tmp_path)
    hub = proxied_hub({"alice": ["team-a"], "bob": ["team-a"], "mallory": []}, workdir)
    try:
        alice, bob, mallory = (browser(hub, u) for u in ("alice", "bob", "mallory"))
        # mallory may not start it; alice, a member, starts it from the spawn page (admin:servers!user=collab-a).
        r = mallory.get(hub.proxy_url + "/hub/spawn/collab-a", timeout=60, allow_redirects=False)
        assert r.status_code in (403, 404), r.status_code
        r = alice.get(hub.proxy_url + "/hub/spawn/collab-a", timeout=60, allow_redirects=False)
        assert r.status_code in (200, 302), (r.status_code, r.text[:300])
        wait_until(lambda: ((get(hub, "/users/collab-a") or {}).get("servers", {}).get("") or {}).get("ready"), 60,
                   "the collaborative server to be ready")
        for member in (alice, bob):
            r = open_server(hub, member, "collab-a")
            assert r.status_code == 200 and r.url == hub.proxy_url + "/user/collab-a/tree", (r.status_code, r.url)
        r = open_server(hub, mallory, "collab-a")
        assert r.status_code == 403 and "/hub/api/oauth2/authorize" in r.url, (r.status_code, r.url)
    finally:
        hub.stop(timeout=40)
    # bob leaves team-a at the identity source; after his next login he is refused.
    hub = proxied_hub({"alice": ["team-a"], "bob": [], "mallory": []}, workdir)
    try:
        bob = browser(hub, "bob")
        start_server(hub, "collab-a")
        r = open_server(hub, bob, "collab-a")
        assert r.status_code == 403, (r.status_code, r.url)
        r = open_server(hub, browser(hub, "alice"), "collab-a")
        assert r.status_code == 200, (r.status_code, r.url)
    finally:
        hub.stop(timeout=40)
