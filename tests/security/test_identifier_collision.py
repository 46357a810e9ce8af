"""Identifier collision: names a person reads as one are one account, and names that cannot be told
apart or that break a URL path cannot be made at all.

JupyterHub lower-cases with Python's str.lower() and stores NFC and NFD "rené" as two users; before
this, hubd lower-cased ASCII only, so "ÉLISE" and "élise" were two accounts, names padded with a
no-break space were accepted, and a user ".." got the server URL /user/../. Every name that enters
hubd (the login form, the REST API, the config, plugins through the REST API) now passes one rule:
Unicode NFC with full case folding, refusing invalid UTF-8, control and invisible formatting
characters, any space but an inner U+0020, '/', '.' and '..'."""
import html
import re
import sqlite3
from urllib.parse import quote

import pytest
import requests

from hubd_harness import HubProcess, logged_in, post_login, xsrf_field

ADMIN = "sec-names-admin-token-0123456789"

# Each padded, spaced, dotted or invisible name, and the fragment of the reason hubd gives.
REFUSED = [
    ("\u00a0bob", "start or end with whitespace"),
    ("bob\u00a0", "start or end with whitespace"),
    (" bob", "start or end with whitespace"),
    ("bob ", "start or end with whitespace"),
    ("bob\u00a0smith", "spaces other than U+0020"),
    ("bob\u3000smith", "spaces other than U+0020"),
    ("..", '"." or ".."'),
    (".", '"." or ".."'),
    ("a/b", "'/'"),
    ("a\x01b", "control characters"),
    ("a\x1b[31mb", "control characters"),
    ("a\u202eb", "invisible formatting characters (U+202E)"),
    ("a\u200bb", "invisible formatting characters (U+200B)"),
    ("a\u200db", "invisible formatting characters (U+200D)"),
]


# The config's names are written as an operator might: upper case, decomposed, with a sharp s;
# hubd stores them normalised, so the logins below match them.
CONFIG = f'''
[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"

[JupyterHub.load_groups]
team = ["CAROL"]

[Authenticator]
allowed_users = ["\u00c9LISE", "RENE\u0301", "Carol", "Stra\u00dfe"]
admin_users = ["ZO\u00cb"]
'''


@pytest.fixture(scope="module")
def hub():
    h = HubProcess(CONFIG)
    h.start()
    yield h
    h.cleanup()


def users(hub):
    r = hub.api("GET", "/users", token=ADMIN)
    assert r.status_code == 200, r.text
    return {u["name"]: u for u in r.json()}


def refusal(r, status=400):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["status"] == status and isinstance(body["message"], str), body
    return body["message"]


def test_config_names_are_normalised_and_work(hub):
    names = users(hub)
    # The config's ÉLISE, decomposed RENÉ, Carol, Straße and admin ZOË, as the hub stores them.
    for stored in ["\u00e9lise", "ren\u00e9", "carol", "strasse", "zo\u00eb"]:
        assert stored in names, sorted(names)
    assert not {"\u00c9LISE", "RENE\u0301", "Carol", "Stra\u00dfe", "ZO\u00cb"} & set(names)
    assert names["zo\u00eb"]["admin"] is True
    assert hub.api("GET", "/groups/team", token=ADMIN).json()["users"] == ["carol"]
    # An allowed name logs in however it is written; a name not in allowed_users does not.
    logged_in(hub.url, "STRASSE")
    logged_in(hub.url, "Zo\u00cb")
    _, r = post_login(hub.url, "mallory")
    assert r.status_code == 403


def test_elise_in_two_cases_is_one_user(hub):
    logged_in(hub.url, "\u00c9LISE")
    logged_in(hub.url, "\u00e9lise")
    logged_in(hub.url, "\u00c9lise")
    names = [n for n in users(hub) if n.casefold() == "\u00e9lise"]
    assert names == ["\u00e9lise"]


def test_nfc_and_nfd_rene_are_one_user(hub):
    s = logged_in(hub.url, "rene\u0301")  # decomposed: e + combining acute
    logged_in(hub.url, "ren\u00e9")       # precomposed
    names = [n for n in users(hub) if n.startswith("ren")]
    assert names == ["ren\u00e9"]
    # The session is the stored user's.
    r = s.get(hub.url + "hub/api/user", timeout=30)
    assert r.status_code == 200 and r.json()["name"] == "ren\u00e9", r.text


def test_post_users_upper_case_next_to_existing_is_409(hub):
    assert "carol" in users(hub)
    r = hub.api("POST", "/users/CAROL", token=ADMIN)
    assert "already exists" in refusal(r, 409)
    r = hub.api("POST", "/users", token=ADMIN, json_body={"usernames": ["CAROL", "Carol"]})
    assert "already exist" in refusal(r, 409)
    # A new name is stored normalised, and then exists in every spelling.
    r = hub.api("POST", "/users/D%C3%89SIR%C3%89E", token=ADMIN)  # DÉSIRÉE
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "d\u00e9sir\u00e9e"
    r = hub.api("POST", "/users/" + quote("de\u0301sire\u0301e"), token=ADMIN)
    refusal(r, 409)
    r = hub.api("POST", "/users", token=ADMIN, json_body={"usernames": ["Wei\u00df", "WEISS"]})
    assert r.status_code == 201, r.text
    assert [u["name"] for u in r.json()] == ["weiss"]


def test_renaming_to_another_spelling_of_an_existing_user_is_refused(hub):
    assert hub.api("POST", "/users/renamer", token=ADMIN).status_code == 201
    r = hub.api("PATCH", "/users/renamer", token=ADMIN, json_body={"name": "CAROL"})
    assert "already exists" in refusal(r, 400)
    r = hub.api("PATCH", "/users/renamer", token=ADMIN, json_body={"name": ".."})
    assert '"." or ".."' in refusal(r, 400)
    r = hub.api("PATCH", "/users/renamer", token=ADMIN, json_body={"name": "RENAMED"})
    assert r.status_code == 200 and r.json()["name"] == "renamed", r.text


@pytest.mark.parametrize("name,why", REFUSED)
def test_bad_names_are_refused_by_post_users(hub, name, why):
    r = hub.api("POST", "/users", token=ADMIN, json_body={"usernames": [name]})
    message = refusal(r)
    assert why in message, message
    assert message.startswith("Invalid username ")


@pytest.mark.parametrize("name,why", [(n, w) for n, w in REFUSED if n not in (".", "..", "a/b")])
def test_bad_names_are_refused_by_post_user(hub, name, why):
    r = hub.api("POST", "/users/" + quote(name, safe=""), token=ADMIN)
    assert why in refusal(r), r.text


def test_dot_names_in_the_url_are_refused(hub):
    # Percent-encoded, they reach the route as "..", "." and "a/b", and are refused as names.
    for raw, why in [("%2E%2E", '"." or ".."'), ("%2E", '"." or ".."'), ("a%2Fb", "'/'")]:
        assert why in refusal(hub.api("POST", "/users/" + raw, token=ADMIN)), raw
    assert not {".", "..", "a/b"} & set(users(hub))


def test_invalid_utf8_is_refused(hub):
    # The router and the form parser refuse it before a name is made of it (the rule refuses it
    # too, tests/unit/names); a JSON body cannot carry it.
    refusal(hub.api("POST", "/users/a%FFb", token=ADMIN))
    refusal(hub.api("POST", "/users/%C0%AE%C0%AE", token=ADMIN))  # an overlong ".."
    s = requests.Session()
    page = s.get(hub.url + "hub/login", timeout=30)
    r = s.post(hub.url + "hub/login", data=b"username=a%FFb&password=x&_xsrf=" + quote(xsrf_field(page.text)).encode(),
               headers={"Content-Type": "application/x-www-form-urlencoded"}, allow_redirects=False, timeout=30)
    assert r.status_code == 400 and "jupyterhub-hub-login" not in r.headers.get("Set-Cookie", ""), r.text[:500]


def test_group_and_role_member_lists_are_normalised(hub):
    assert hub.api("POST", "/groups/g1", token=ADMIN).status_code == 201
    r = hub.api("POST", "/groups/g1/users", token=ADMIN, json_body={"users": ["\u00c9LISE", "RENE\u0301"]})
    assert r.status_code == 200, r.text
    assert sorted(r.json()["users"]) == ["ren\u00e9", "\u00e9lise"]
    r = hub.api("POST", "/groups/g1/users", token=ADMIN, json_body={"users": ["\u00e9lise\u00a0"]})
    assert "start or end with whitespace" in refusal(r)
    r = hub.api("POST", "/roles", token=ADMIN, json_body={"name": "names-role", "scopes": ["read:users"]})
    assert r.status_code == 201, r.text
    r = hub.api("POST", "/roles/names-role/users", token=ADMIN, json_body={"users": ["CAROL"]})
    assert r.status_code == 200, r.text
    assert hub.api("GET", "/roles/names-role", token=ADMIN).json()["users"] == ["carol"]
    r = hub.api("POST", "/roles/names-role/users", token=ADMIN, json_body={"users": ["a\u202eb"]})
    assert "U+202E" in refusal(r)


@pytest.mark.parametrize("name,why", [REFUSED[0], REFUSED[1], REFUSED[4], REFUSED[6], REFUSED[8], REFUSED[9], REFUSED[11]])
def test_the_login_page_says_why_a_name_is_refused(hub, name, why):
    _, r = post_login(hub.url, name)
    assert r.status_code == 403, r.text
    page = html.unescape(r.text)
    assert "Invalid username: username must not" in page and why in page, page[:2000]
    assert "Set-Cookie" not in r.headers or "jupyterhub-hub-login" not in r.headers["Set-Cookie"]


def test_the_login_form_trims_ascii_whitespace_as_jupyterhub_does(hub):
    # JupyterHub's login handler strips the typed name; the API refuses it (above).
    s = logged_in(hub.url, "  \u00c9LISE\t")
    assert s.get(hub.url + "hub/api/user", timeout=30).json()["name"] == "\u00e9lise"


def test_a_user_named_dot_dot_cannot_exist(hub):
    assert ".." not in users(hub)
    assert hub.api("GET", "/users/%2E%2E", token=ADMIN).status_code == 404


def test_config_with_a_name_no_one_could_log_in_as_is_refused():
    for line, why in [('allowed_users = ["alice", "\u00a0bob"]', "start or end with whitespace"),
                      ('admin_users = [".."]', '"." or ".."'),
                      ('blocked_users = ["a/b"]', "'/'")]:
        h = HubProcess("[Authenticator]\n" + line + "\n")
        try:
            assert h.start(expect_failure=True) == 1
            log = h.log()
            key = line.split(" ", 1)[0]
            # The error names the key and its line in the file (the [Authenticator] table is its own).
            assert re.search(rf"config error: \S*hub\.toml:\d+: Authenticator\.{key}: ", log), log
            assert why in log, log
        finally:
            h.cleanup()


def test_stored_names_not_normalised_are_named_at_start_up_and_kept():
    h = HubProcess(f'''
[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN}"
''')
    try:
        h.start()
        logged_in(h.url, "\u00e9lise")
        h.stop()
        # Names a hub before normalisation stored: what no entry can write any more.
        db = sqlite3.connect(f"{h.workdir}/jupyterhub.sqlite")
        with db:
            for i, name in enumerate(["\u00c9LISE", "rene\u0301"]):
                db.execute("INSERT INTO users (name, admin, created, cookie_id) VALUES (?, 0, 0, ?)", (name, f"old-{i}"))
        db.close()
        h.start()
        log = h.log()
        assert ("users: \u00c9LISE in the database is not a normalised name (logins and the API now give "
                "\u00e9lise, which is another user); kept as it is") in log, log
        assert "users: rene\u0301 in the database is not a normalised name (logins and the API now give ren\u00e9);" in log
        names = users(h)
        assert {"\u00c9LISE", "rene\u0301", "\u00e9lise"} <= set(names)
        # The operator renames through the API; the stored spelling is reachable there.
        r = h.api("PATCH", "/users/" + quote("rene\u0301"), token=ADMIN, json_body={"name": "ren\u00e9"})
        assert r.status_code == 200 and r.json()["name"] == "ren\u00e9", r.text
    finally:
        h.cleanup()
