"""examples/service-custom-scopes (the C++ grades service) as a managed service of a real hubd:
custom scopes defined in the config decide what each caller may do, through tokens and through OAuth."""
import os
from urllib.parse import urljoin

import pytest
import requests

from hubd_harness import BUILD_DIR, HubProcess, free_port, toml_str, wait_until
from test_hub_auth_clients import confirm, follow, hub_login

GRADES = os.path.join(BUILD_DIR, "examples", "service-custom-scopes", "grades-service")
ADMIN_TOKEN = "custom-scopes-example-admin-token"


def config(hub_port, svc_port):
    svc = f"http://127.0.0.1:{svc_port}"
    callback = svc + "/services/grades/oauth_callback"
    # The same setup as docs/custom-scopes.md, plus what running without a proxy needs: the service is
    # reached at its own url, so the redirect URI and the hub's origin are given explicitly.
    return f"""
[JupyterHub.custom_scopes."custom:grades:read"]
description = "Read course grades."

[JupyterHub.custom_scopes."custom:grades:write"]
description = "Set course grades."
subscopes = ["custom:grades:read"]

[[JupyterHub.load_roles]]
name = "grader"
scopes = ["access:services!service=grades", "custom:grades:write"]
users = ["teacher"]

[[JupyterHub.load_roles]]
name = "student"
scopes = ["access:services!service=grades", "custom:grades:read!user"]
groups = ["students"]

[JupyterHub.load_groups.students]
users = ["sam", "sue"]

[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = {toml_str(ADMIN_TOKEN)}

[[JupyterHub.services]]
name = "grades"
url = {toml_str(svc)}
command = [{toml_str(GRADES)}]
oauth_client_allowed_scopes = ["custom:grades:read", "custom:grades:write"]
oauth_redirect_uri = {toml_str(callback)}
environment = {{ JUPYTERHUB_HOST = {toml_str(f"http://127.0.0.1:{hub_port}")}, JUPYTERHUB_OAUTH_CALLBACK_URL = {toml_str(callback)} }}

[plugins.dummy]
password = "secret"
"""


@pytest.fixture(scope="module")
def setup():
    if not os.access(GRADES, os.X_OK):
        pytest.fail(f"{GRADES} is not built (cmake --build <dir> --target grades-service)")
    hub_port, svc_port = free_port(), free_port()
    hub = HubProcess(config(hub_port, svc_port), port=hub_port)
    base = f"http://127.0.0.1:{svc_port}/services/grades/"
    try:
        hub.start()
        wait_until(lambda: requests.get(base, timeout=2, allow_redirects=False).status_code == 302,
                 what="the grades service")
        yield hub, base
    finally:
        hub.stop()


def token_for(hub, name):
    if hub.api("GET", f"/users/{name}", token=ADMIN_TOKEN).status_code == 404:
        assert hub.api("POST", f"/users/{name}", token=ADMIN_TOKEN).status_code == 201
    r = hub.api("POST", f"/users/{name}/tokens", token=ADMIN_TOKEN, json_body={"note": "grades test"})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def call(base, method, path, token, **kw):
    return requests.request(method, base + path, headers={"Authorization": f"token {token}"}, timeout=10, **kw)


def test_grader_sets_and_reads_grades(setup):
    hub, base = setup
    t = token_for(hub, "teacher")
    me = call(base, "GET", "", t).json()
    assert me["name"] == "teacher"
    assert "custom:grades:write" in me["scopes"] and "custom:grades:read" in me["scopes"]  # subscope expanded
    assert me["can"] == {"read own grade": True, "read all grades": True, "write all grades": True}
    for student, grade in (("sam", "A"), ("sue", "B")):
        r = call(base, "POST", f"grades/{student}", t, json={"grade": grade})
        assert r.status_code == 200, r.text
    assert call(base, "GET", "grades/sue", t).json()["grade"] == "B"
    assert call(base, "POST", "grades/sam", t, json={"grade": ""}).status_code == 400
    assert "teacher set the grade of sam to A" in hub.log()  # the service's stdout, in the hub log


def test_student_reads_only_own_grade(setup):
    hub, base = setup
    teacher = token_for(hub, "teacher")
    call(base, "POST", "grades/sam", teacher, json={"grade": "A"})
    t = token_for(hub, "sam")
    me = call(base, "GET", "", t).json()
    assert "custom:grades:read!user=sam" in me["scopes"]
    assert me["can"] == {"read own grade": True, "read all grades": False, "write all grades": False}
    assert call(base, "GET", "grades/sam", t).json() == {"student": "sam", "grade": "A"}
    r = call(base, "GET", "grades/sue", t)
    assert r.status_code == 403 and "custom:grades:read" in r.json()["message"]
    assert call(base, "POST", "grades/sam", t, json={"grade": "A+"}).status_code == 403


def test_user_without_roles_and_bad_tokens_are_refused(setup):
    hub, base = setup
    t = token_for(hub, "visitor")
    r = call(base, "GET", "", t)
    assert r.status_code == 403 and "access:services!service=grades" in r.json()["message"]
    assert call(base, "GET", "grades/sam", t).status_code == 403
    assert call(base, "GET", "", "no-such-token-1234").status_code == 403
    assert requests.get(base + "grades/sam", timeout=10).status_code == 403


def test_oauth_token_carries_the_intersection_of_custom_scopes(setup):
    hub, base = setup
    call(base, "POST", "grades/sue", token_for(hub, "teacher"), json={"grade": "C"})
    s = requests.Session()
    r = s.get(base, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and "/hub/api/oauth2/authorize?" in r.headers["Location"]
    page, _ = follow(s, urljoin(base, r.headers["Location"]))
    back = hub_login(hub, s, page, "sue")
    page = s.get(back, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.status_code
    assert "Read course grades." in page.text  # the custom scope's description on the confirm page
    r, hops = follow(s, confirm(s, page))
    assert r.status_code == 200, (r.text, hops)
    me = r.json()
    assert me["name"] == "sue"
    # requested (the client's allowed custom scopes) ∩ sue's own: read, filtered to herself; no write.
    assert "custom:grades:read!user=sue" in me["scopes"]
    assert not any(sc.startswith("custom:grades:write") for sc in me["scopes"])
    assert s.get(base + "grades/sue", timeout=10).json()["grade"] == "C"
    assert s.get(base + "grades/sam", timeout=10).status_code == 403
    # A cookie POST without X-Requested-With is refused (no cross-site form posts).
    assert s.post(base + "grades/sue", json={"grade": "A"}, timeout=10).status_code == 403
