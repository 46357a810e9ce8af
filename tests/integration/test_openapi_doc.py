"""docs/rest-api.openapi.yml describes exactly the REST API hubd serves.

Three checks: the routes registered in the sources (core/api, core/oauth) are the documented ones;
a real hubd's router knows every documented path with exactly the documented methods (its 405
answer lists the methods a path has); and real answers of a sweep over the API match the documented
status codes and schemas.
"""
import os
import re

import pytest

import openapi_schema
from hubd_harness import SOURCE_DIR, HubProcess

ROUTE_SOURCES = ["core/api", "core/oauth"]
METHODS = ("get", "post", "put", "patch", "delete", "head")


def normalize(template):
    """'/hub/api/users/{name}/servers/{server}' -> '/users/{}/servers/{}' (parameter names and the
    router's tail marker do not matter, only where parameters are)."""
    if template.startswith(openapi_schema.API_PREFIX):
        template = template[len(openapi_schema.API_PREFIX):]
    template = re.sub(r"\{[^}]*\}", "{}", template)
    return template if template not in ("", "/") else "/"


def registered_routes():
    """(METHOD, normalized path) of every router.add() call under ROUTE_SOURCES. A method or path
    given as a variable is resolved from the `for (const char* VAR : {...})` loop that binds it."""
    routes = set()
    add_call = re.compile(r'router\.add\(\s*("[A-Z]+"|\w+)\s*,\s*("[^"]*"|\w+)')
    loop = re.compile(r'for\s*\(\s*const\s+char\s*\*\s*(\w+)\s*:\s*\{((?:\s*"[^"]*"\s*,?)*)\}\s*\)')
    for folder in ROUTE_SOURCES:
        for fname in sorted(os.listdir(os.path.join(SOURCE_DIR, folder))):
            if not fname.endswith(".cpp"):
                continue
            text = open(os.path.join(SOURCE_DIR, folder, fname)).read()
            for m in add_call.finditer(text):
                values = []
                for arg in m.groups():
                    if arg.startswith('"'):
                        values.append([arg.strip('"')])
                        continue
                    bindings = [b for b in loop.finditer(text, 0, m.start()) if b.group(1) == arg]
                    assert bindings, f"{folder}/{fname}: cannot resolve {arg!r} in {m.group(0)}"
                    values.append(re.findall(r'"([^"]*)"', bindings[-1].group(2)))
                for method in values[0]:
                    for path in values[1]:
                        if path.startswith(openapi_schema.API_PREFIX):
                            routes.add((method, normalize(path)))
    return routes


def documented_routes():
    return {(method.upper(), normalize(path))
            for path, item in openapi_schema.spec()["paths"].items()
            for method in METHODS if method in item}


def test_source_parser_sees_the_route_files():
    # Guards the parse below against silently finding nothing (a renamed call, a moved folder).
    routes = registered_routes()
    assert ("GET", "/users/{}") in routes
    assert ("POST", "/users/{}/servers/{}") in routes        # registered in a loop over paths
    assert ("PATCH", "/shares/{}") in routes                 # registered in a loop over methods
    assert ("POST", "/oauth2/token") in routes
    assert len(routes) > 60


def test_every_registered_route_is_documented_and_nothing_else():
    registered, documented = registered_routes(), documented_routes()
    assert sorted(registered - documented) == [], "registered in hubd but missing in docs/rest-api.openapi.yml"
    assert sorted(documented - registered) == [], "documented but not registered in hubd"


def test_every_operation_documents_its_answers():
    for path, item in openapi_schema.spec()["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                assert op.get("summary"), f"{method.upper()} {path}: no summary"
                assert op.get("responses"), f"{method.upper()} {path}: no responses"


def test_every_ref_resolves_and_no_flow_mapping_split():
    # A "{description: a, b}" in YAML silently becomes two keys; a dangling $ref only fails when a
    # test happens to reach it. Both are caught here for the whole file.
    doc = openapi_schema.spec()

    def resolve(ref):
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            assert isinstance(node, dict) and part in node, f"dangling $ref {ref}"
            node = node[part]

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    resolve(value)
                elif where != "/paths":
                    assert value is not None or key in ("default",), f"{where}/{key}: empty value"
                    assert " " not in str(key) or where.endswith("/properties"), f"{where}: key {key!r}"
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    walk(doc, "")


# ---- against a real hubd ----

ADMIN = "openapi-doc-admin-token-0123456789"
CONFIG = f'''
[[JupyterHub.services]]
name = "doc-admin"
admin = true
api_token = "{ADMIN}"

[[JupyterHub.services]]
name = "doc-web"
url = "http://127.0.0.1:9"

[JupyterHub.load_groups.doc-group]
users = ["doc-bob"]

[[JupyterHub.load_roles]]
name = "doc-role"
scopes = ["read:users:name"]
users = ["doc-bob"]
'''
ENVELOPE = {"Accept": "application/jupyterhub-pagination+json"}
SAMPLE = {"name": "doc-ann", "server": "srv", "owner": "doc-ann", "token_id": "a1", "token": "tok",
          "cookie_name": "jupyterhub-hub-login", "cookie_value": "v"}


@pytest.fixture(scope="module")
def hub():
    h = HubProcess(CONFIG)
    h.start()
    yield h
    h.stop()


def test_router_has_exactly_the_documented_methods_on_every_path(hub):
    # A method the path lacks makes the router answer 405 with Allow listing the path's methods,
    # before any handler or credential check runs; a path the router lacks answers 404 instead.
    for template, item in openapi_schema.spec()["paths"].items():
        documented = {m.upper() for m in METHODS if m in item}
        path = re.sub(r"\{([^}]*)\}", lambda m: SAMPLE[m.group(1)], template)
        probe = next(m for m in ("PUT", "PATCH", "POST", "DELETE", "GET") if m not in documented)
        r = hub.api(probe, path if path != "/" else "/")
        assert r.status_code == 405, f"{probe} {template} -> {r.status_code} {r.text}"
        allowed = {m.strip() for m in r.headers["Allow"].split(",")}
        assert allowed == documented, f"{template}: hubd allows {sorted(allowed)}, documented {sorted(documented)}"


def test_real_answers_match_the_documented_answers(hub):
    def call(method, path, body=None, headers=None, token=ADMIN):
        r = hub.api(method, path, token=token, json_body=body, headers=headers)
        openapi_schema.validate_answer(method, path, r)
        return r

    assert call("POST", "/users", {"usernames": ["doc-ann", "doc-bob"]}).status_code == 201
    tok = call("POST", "/users/doc-ann/tokens", {"note": "doc", "expires_in": 3600}).json()
    for path in ("/", "/info", "/user", "/users", "/users/doc-ann", "/users/doc-ann?include_stopped_servers",
                 "/users/doc-ann/server", "/users/doc-ann/tokens", f"/users/doc-ann/tokens/{tok['id']}",
                 "/groups", "/groups/doc-group", "/services", "/services/doc-web", "/services/doc-admin",
                 "/roles", "/roles/doc-role", "/roles/admin", "/shares/doc-ann", "/share-codes/doc-ann",
                 "/users/doc-bob/shared", "/groups/doc-group/shared"):
        assert call("GET", path).status_code == 200, path
    for path in ("/users", "/groups", "/roles", "/shares/doc-ann", "/users/doc-bob/shared"):
        assert "_pagination" in call("GET", path, headers=ENVELOPE).json()
    # The requester seen through its own token, a user's rather than a service's.
    assert call("GET", "/user", token=tok["token"]).json()["name"] == "doc-ann"

    assert call("POST", "/groups", {"groups": ["doc-g2"], "users": ["doc-ann"]}).status_code == 201
    assert call("POST", "/groups/doc-g2/users", {"users": ["doc-bob"]}).status_code == 200
    assert call("PUT", "/groups/doc-g2/properties", {"k": "v"}).status_code == 200
    assert call("DELETE", "/groups/doc-g2/users", {"users": ["doc-bob"]}).status_code == 200
    assert call("POST", "/roles", {"name": "doc-new", "scopes": ["read:users:name"]}).status_code == 201
    assert call("POST", "/roles/doc-new/groups", {"groups": ["doc-g2"]}).status_code == 200
    assert call("PATCH", "/roles/doc-new", {"description": "d"}).status_code == 200
    assert call("POST", "/services/doc-ext", {"url": "http://127.0.0.1:8"}).status_code == 201

    share = call("POST", "/shares/doc-ann/", {"user": "doc-bob"}).json()
    assert share["user"] == {"name": "doc-bob"} and share["server"]["name"] == ""
    assert call("GET", "/users/doc-bob/shared/doc-ann/").status_code == 200
    code = call("POST", "/share-codes/doc-ann/", {}).json()
    assert code["code"] and code["id"].startswith("sc_")
    assert call("GET", "/share-codes/doc-ann/", headers=ENVELOPE).json()["items"][0]["id"] == code["id"]
    assert call("DELETE", "/share-codes/doc-ann/").status_code == 204
    assert call("DELETE", "/users/doc-bob/shared/doc-ann/").status_code == 204

    share = call("POST", "/shares/doc-ann/", {"group": "doc-group", "scopes": ["access:servers!server=doc-ann/"]}).json()
    assert share["kind"] == "group"
    assert call("GET", "/groups/doc-group/shared/doc-ann/").status_code == 200
    assert call("PATCH", "/shares/doc-ann/", {"group": "doc-group", "scopes": ["access:servers!server=doc-ann/"]}).json() == {}

    assert call("POST", "/users/doc-cat").status_code == 201
    assert call("PATCH", "/users/doc-cat", {"admin": False}).status_code == 200
    assert call("POST", "/users/doc-cat/activity", {"last_activity": "2020-01-01T00:00:00Z"}).status_code == 200
    assert call("POST", "/users/doc-cat/admin-access").status_code == 403
    assert call("GET", "/users/doc-cat/servers/none").status_code == 404
    assert call("GET", "/users/doc-cat/server/progress").status_code in (200, 400)
    assert call("DELETE", "/users/doc-cat").status_code == 204
    assert call("GET", "/proxy").status_code == 200
    assert call("GET", "/proxy", headers=ENVELOPE).status_code == 200
    assert call("PATCH", "/proxy", {"api_url": 5}).status_code == 400
    assert call("GET", f"/authorizations/token/{tok['token']}").json()["name"] == "doc-ann"
    assert call("GET", "/authorizations/cookie/jupyterhub-hub-login/nonsense").status_code == 404
    r = hub.api("POST", "/oauth2/token", data={"grant_type": "authorization_code", "code": "nonsense"})
    openapi_schema.validate_answer("POST", "/oauth2/token", r)
    assert r.status_code in (400, 401) and r.json()["error"]

    # Errors have documented statuses and the {"status", "message"} body.
    assert call("GET", "/users/doc-nobody").status_code == 404
    assert call("POST", "/users", {"usernames": ["doc-ann"]}).status_code == 409
    assert call("POST", "/users", {"usernames": []}).status_code == 400
    assert call("GET", "/users", token="no-such-token").status_code == 403
    assert call("GET", "/users?state=nonsense").status_code == 400
    assert call("PATCH", "/roles/admin", {"scopes": []}).status_code == 400
    assert call("POST", "/authorizations/token").status_code == 404

    assert call("DELETE", "/roles/doc-new").status_code == 204
    assert call("DELETE", "/services/doc-ext").status_code == 200
    assert call("DELETE", "/groups/doc-g2").status_code == 204
    assert call("DELETE", f"/users/doc-ann/tokens/{tok['id']}").status_code == 204
