"""Log flooding and log forging: what a client sends cannot add more than a few kilobytes per line
to hubd's log, nor start a line of its own.

JupyterHub logs a 2 MB user name whole, two 50 KB URLs add 100 KB to its log, and a newline in a
content security policy report starts a line the attacker wrote. hubd escapes control characters in
every message and cuts each at 4 KB (the access log cuts URLs at 1 KB, so the status, the principal
and the duration stay on the line)."""
import re

import pytest
import requests

from hubd_harness import HubProcess, logged_in

LINE_START = re.compile(r"^\[[DIWEC] \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ")
# A message may be 4 KB after escaping, plus the prefix and the "... [N bytes cut]" marker.
MAX_LINE = 4096 + 200


@pytest.fixture(scope="module")
def hub():
    h = HubProcess("")
    h.start()
    yield h
    h.cleanup()


def log_since(hub, offset):
    return hub.log()[offset:]


def lines(text):
    return [line for line in text.split("\n") if line]


def test_a_newline_in_a_csp_report_does_not_forge_a_line(hub):
    s = logged_in(hub.url, "reporter")
    before = len(hub.log())
    forged = "[I 2026-12-04 10:00:00.000 hubd] pages: admin logged in"
    r = s.post(hub.url + "hub/security/csp-report", data='{"csp-report": 1}\n' + forged + "\r\n",
               headers={"Content-Type": "application/csp-report"}, timeout=30)
    assert r.status_code == 200, r.text
    text = log_since(hub, before)
    assert "content security policy violation reported by reporter" in text
    assert '{"csp-report": 1}\\n[I 2026-12-04' in text
    # Every line of the log is one hubd wrote: none starts with the forged prefix's content.
    for line in lines(text):
        assert LINE_START.match(line), line
        assert not line.startswith(forged)


def test_long_urls_are_cut_in_the_access_log(hub):
    before = len(hub.log())
    for _ in range(2):
        r = requests.get(hub.url + "hub/" + "a" * 50_000, timeout=30)
        assert r.status_code == 404
    text = log_since(hub, before)
    access = [line for line in lines(text) if " GET /hub/aaaa" in line]
    assert len(access) == 2, text[:2000]
    for line in access:
        assert len(line) < 1024 + 300, len(line)
        assert "bytes cut]" in line
        assert line.startswith("[W ") and " 404 GET " in line and "ms" in line  # status and duration kept
    assert len(text) < 10_000, len(text)


def test_a_huge_user_name_is_cut_in_every_line(hub):
    before = len(hub.log())
    name = "n" * 300_000
    page = requests.get(hub.url + "hub/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    requests.post(hub.url + "hub/login", data={"username": name, "password": "x", "_xsrf": xsrf},
                  cookies=page.cookies, allow_redirects=False, timeout=60)
    text = log_since(hub, before)
    assert text, "the login attempt was logged"
    for line in lines(text):
        assert len(line) <= MAX_LINE, len(line)
    assert len(text) < 40_000, len(text)


def test_terminal_escapes_in_a_name_are_escaped(hub):
    before = len(hub.log())
    page = requests.get(hub.url + "hub/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    requests.post(hub.url + "hub/login", data={"username": "\x1b[2Jmallory\x07", "password": "x", "_xsrf": xsrf},
                  cookies=page.cookies, allow_redirects=False, timeout=60)
    text = log_since(hub, before)
    assert "\x1b" not in text and "\x07" not in text
