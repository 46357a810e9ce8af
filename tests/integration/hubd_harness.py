"""Start a real hubd process for black-box tests and talk HTTP to it.

Used by every pytest file under tests/integration and tests/e2e:

    hub = HubProcess(config_toml)     # writes hub.toml in a temp dir; hubd binds port 0
    hub.start()                       # learns the port (--ports-file), returns once GET /hub/api/ answers
    r = hub.api("GET", "/users", token=hub.admin_token)
    hub.stop()

The hub binary and plugins come from $HUBD_BUILD_DIR (set by CTest). The helpers every test shares
(wait_until, free_port, the login form) live in tests/support and are imported from here.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from browser_login import logged_in, post_login, xsrf_field  # noqa: E402
from ports import free_port  # noqa: E402
from waiting import wait_until  # noqa: E402

__all__ = ["HubProcess", "BUILD_DIR", "HUBD", "PLUGINS_DIR", "SOURCE_DIR", "toml_str", "merge_jupyterhub_section",
           "free_port", "wait_until", "logged_in", "post_login", "xsrf_field"]

SOURCE_DIR = os.environ.get("HUBD_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD_DIR = os.environ.get("HUBD_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
# The build tree has the installed layout: bin/hubd finds the shipped plugins in lib/hubd/plugins.
HUBD = os.path.join(BUILD_DIR, "bin", "hubd")
PLUGINS_DIR = os.path.join(BUILD_DIR, "lib", "hubd", "plugins")


def toml_str(value):
    return json.dumps(value)


class HubProcess:
    """A hubd process with its own temp dir, database and ports."""

    def __init__(self, config="", env=None, workdir=None, base_url="/", plugins_dir=None, port=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix="hubd-test-")
        # None: hubd binds port 0 and start() reads the port it got from hubd's --ports-file. A test
        # passes a port when its config must name the hub's URL, or a restarted hub keeps its own.
        self.port = self._fixed_port = port
        self.base_url = base_url
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.proc = None
        self.log_path = os.path.join(self.workdir, "hubd.log")
        header = (
            "[JupyterHub]\n"
            f"hub_bind_url = {toml_str(f'http://127.0.0.1:{port or 0}')}\n"
            f"base_url = {toml_str(base_url)}\n"
            'db_url = "sqlite:///jupyterhub.sqlite"\n'
            # Most tests talk to hubd directly; those that want CHP say proxy_class themselves.
            'proxy_class = "none"\n'
        )
        # hubd finds the shipped plugins beside its executable; plugins_dir only adds a folder.
        if plugins_dir:
            header += f"plugins_dir = {toml_str(plugins_dir)}\n"
        self.config_path = os.path.join(self.workdir, "hub.toml")
        with open(self.config_path, "w") as f:
            f.write(merge_jupyterhub_section(header, config))

    @property
    def url(self):
        if self.port is None:
            raise RuntimeError("the hub's port is known once start() has returned")
        return f"http://127.0.0.1:{self.port}{self.base_url}"

    @property
    def api_url(self):
        return self.url + "hub/api"

    def start(self, timeout=20, expect_failure=False, until_started=True):
        """Returns once start-up is done (the ports file) and GET /hub/api/ answers; with
        until_started=False and a fixed port, as soon as the API answers (start-up may still run);
        with expect_failure, hubd's exit status if it exits first."""
        ports_file = os.path.join(self.workdir, "hubd.ports")
        if os.path.exists(ports_file):
            os.remove(ports_file)  # a restarted hub's predecessor wrote it
        self.port = self._fixed_port
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([HUBD, "--config", self.config_path, "--ports-file", ports_file], cwd=self.workdir,
                                     env=self.env, stdout=self._log, stderr=subprocess.STDOUT)

        def answering():
            if self.proc.poll() is not None:
                return "exited"
            # The file appears once start-up is done (proxy started, servers re-adopted), also when
            # the port is fixed: answering alone could come from a hub still starting.
            if until_started and not os.path.exists(ports_file):
                return None
            if self.port is None:
                if not os.path.exists(ports_file):
                    return None
                with open(ports_file) as f:
                    self.port = int(f.readline())
            return requests.get(self.api_url + "/", timeout=1).status_code == 200

        try:
            got = wait_until(answering, timeout, "hubd to answer")
        except AssertionError:
            log = self.log()
            self.stop()  # a hub that never answered must not outlive the test
            raise RuntimeError(f"hubd did not answer within {timeout}s:\n{log}") from None
        if got == "exited":
            if expect_failure:
                return self.proc.returncode
            raise RuntimeError(f"hubd exited with {self.proc.returncode}:\n{self.log()}")
        return self

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()
        return self.proc.returncode if self.proc else None

    def kill(self):
        return self.stop(sig=signal.SIGKILL)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def api(self, method, path, token=None, json_body=None, data=None, headers=None, **kw):
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"token {token}"
        return requests.request(method, self.api_url + path, json=json_body, data=data, headers=h, timeout=30, **kw)


def merge_jupyterhub_section(header, config):
    """Put the harness's [JupyterHub] keys and the test's [JupyterHub] keys into one table.

    TOML forbids defining [JupyterHub] twice, so the test's keys under its own [JupyterHub] header are
    appended to ours and the header is dropped."""
    lines = config.strip("\n").splitlines()
    body, rest, in_jh = [], [], False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            in_jh = stripped == "[JupyterHub]"
            if in_jh:
                continue
        elif stripped.startswith("[["):
            in_jh = False
        (body if in_jh else rest).append(line)
    # A key the test sets itself replaces the harness's default for it (TOML forbids a key twice).
    own = {line.split("=", 1)[0].strip() for line in body if "=" in line and not line.lstrip().startswith("#")}
    header = "\n".join(l for l in header.splitlines() if "=" not in l or l.split("=", 1)[0].strip() not in own) + "\n"
    return header + "\n".join(body) + "\n\n" + "\n".join(rest) + "\n"
