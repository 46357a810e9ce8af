"""What we ship, used as an operator would: `cmake --install` into a new prefix, and the Debian package
from `cpack -G DEB` installed with dpkg. Each installed hubd starts on a minimal config naming the
shipped `dummy` authenticator and `local` spawner, logs a user in and answers a spawn request, which
proves it found its plugins (and page templates) beside its own executable.

Uses the CTest build folder ($HUBD_BUILD_DIR); cpack writes into a temporary folder. The package part
needs root and dpkg: without them it exits with SKIP_CODE, which CTest reports as skipped, and it
purges the package again so that the machine is left as it was."""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import pytest
import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "integration"))
from hubd_harness import logged_in, wait_until  # noqa: E402

BUILD_DIR = pathlib.Path(os.environ["HUBD_BUILD_DIR"])
SKIP_CODE = 77


def run(*cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r


def minimal_config(workdir):
    # The two shipped plugins by name, on a loopback port the system picks (hubd writes it to --ports-file).
    text = ('[JupyterHub]\nhub_bind_url = "http://127.0.0.1:0"\n'
            'authenticator_class = "dummy"\nspawner_class = "local"\nproxy_class = "none"\n')
    path = workdir / "hub.toml"
    path.write_text(text)
    return path


def exercise(hubd, shipped_plugins):
    """Starts `hubd` on the minimal config, logs in, requests a spawn; returns nothing, asserts."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="hubd-install-"))
    cfg = minimal_config(workdir)
    out = run(hubd, "plugins", "--config", cfg).stdout
    assert f'"dummy": loaded from {shipped_plugins}/dummy_authenticator.so' in out, out
    # The PAM authenticator loads too, with the system's libpam.
    assert re.search(rf"pam +authenticator .*{re.escape(str(shipped_plugins))}/hubd_pam_authenticator\.so", out), out
    assert f'"local": loaded from {shipped_plugins}/hubd_local_spawner.so' in out, out
    # The OpenID Connect authenticator ships too, with its libcurl and OpenSSL found on this system.
    assert re.search(rf"generic-oauth +authenticator .*{re.escape(str(shipped_plugins))}/generic_oauth\.so", out), out
    log = open(workdir / "hubd.log", "wb")
    ports_file = workdir / "hubd.ports"
    proc = subprocess.Popen([str(hubd), "--config", str(cfg), "--ports-file", str(ports_file)], cwd=workdir, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        def answering():
            assert proc.poll() is None, (workdir / "hubd.log").read_text()
            if not ports_file.exists():
                return None
            root = f"http://127.0.0.1:{int(ports_file.read_text().split()[0])}/"
            return root if requests.get(root + "hub/api/", timeout=1).status_code == 200 else None
        root = wait_until(answering, 20, "hubd to answer")
        base = root + "hub"
        s = logged_in(root, "alice")  # the login page answered: the login template was found
        assert s.get(base + "/api/user").json()["name"] == "alice"
        assert s.get(base + "/static/css/hubd.css").status_code == 200  # static files too
        # The spawner plugin answers: the request is accepted (201 started, 202 pending), not refused.
        r = s.post(base + "/api/users/alice/server", headers={"X-XSRFToken": s.cookies.get("_xsrf")})
        assert r.status_code in (201, 202), (r.status_code, r.text)
        wait_until(lambda: not s.get(base + "/api/users/alice").json()["servers"].get("", {}).get("pending"), 30,
                   "alice's spawn to finish pending")
        s.delete(base + "/api/users/alice/server", headers={"X-XSRFToken": s.cookies.get("_xsrf")})
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    shutil.rmtree(workdir, ignore_errors=True)


def test_cmake_install_into_a_new_prefix():
    prefix = pathlib.Path(tempfile.mkdtemp(prefix="hubd-prefix-"))
    try:
        run("cmake", "--install", BUILD_DIR, "--prefix", prefix)
        for f in ["bin/hubd", "lib/hubd/plugins/dummy_authenticator.so", "lib/hubd/plugins/hubd_local_spawner.so",
                  "lib/hubd/plugins/rtc_collab.so", "lib/hubd/plugins/generic_oauth.so", "share/hubd/templates/login.mustache", "share/hubd/static/css/hubd.css",
                  "include/hubd/plugin.h", "lib/cmake/hubd/hubdConfig.cmake", "share/doc/hubd/README.md",
                  "lib/hubd/plugins/hubd_pam_authenticator.so", "share/doc/hubd/authenticators.md",
                  "share/doc/hubd/plugins.md", "etc/hubd/hub.toml", "lib/systemd/system/hubd.service"]:
            assert (prefix / f).exists(), f"not installed: {f}"
        # Nothing outside the prefix: the tree works after moving it elsewhere.
        moved = prefix.with_name(prefix.name + "-moved")
        prefix.rename(moved)
        prefix = moved
        run(prefix / "bin/hubd", "check-config", prefix / "etc/hubd/hub.toml")
        exercise(prefix / "bin/hubd", prefix / "lib/hubd/plugins")
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def deb_package():
    out = pathlib.Path(tempfile.mkdtemp(prefix="hubd-deb-"))
    run("cpack", "-G", "DEB", "-B", out, "--config", BUILD_DIR / "CPackConfig.cmake", cwd=BUILD_DIR)
    debs = list(out.glob("hubd_*.deb"))
    assert len(debs) == 1, list(out.iterdir())
    return out, debs[0]


def test_debian_package():
    if os.geteuid() != 0 or not shutil.which("dpkg") or not shutil.which("dpkg-shlibdeps"):
        pytest.exit("SKIPPED: installing the .deb needs root, dpkg and dpkg-shlibdeps", returncode=SKIP_CODE)
    if subprocess.run(["dpkg-query", "-W", "hubd"], capture_output=True).returncode == 0:
        pytest.exit("SKIPPED: a hubd package is installed already; not touching it", returncode=SKIP_CODE)
    out, deb = deb_package()
    try:
        info = run("dpkg-deb", "--info", deb).stdout
        assert "Package: hubd" in info
        assert re.search(r"Depends: .*libc6", info), info  # from dpkg-shlibdeps
        assert re.search(r"Depends: .*libcurl4", info), info  # generic_oauth.so's HTTP client
        assert re.search(r"Depends: .*libpam0g", info), info  # hubd_pam_authenticator.so's libpam
        assert "Recommends: node-configurable-http-proxy" in info
        files = run("dpkg-deb", "--contents", deb).stdout
        for f in ["./usr/bin/hubd", "./usr/lib/hubd/plugins/hubd_local_spawner.so",
                  "./usr/lib/hubd/plugins/generic_oauth.so", "./etc/hubd/hub.toml",
                  "./usr/lib/systemd/system/hubd.service", "./usr/share/hubd/templates/login.mustache"]:
            assert f in files, f
        assert "./usr/lib/hubd/plugins/hubd_pam_authenticator.so" in files
        conffiles = subprocess.run(["sh", "-c", f"dpkg-deb --ctrl-tarfile {deb} | tar -xO ./conffiles"],
                                   capture_output=True, text=True).stdout
        assert conffiles.split() == ["/etc/hubd/hub.toml"]
        run("dpkg", "-i", deb)
        try:
            run("/usr/bin/hubd", "check-config", "/etc/hubd/hub.toml")
            exercise(pathlib.Path("/usr/bin/hubd"), "/usr/lib/hubd/plugins")
        finally:
            run("dpkg", "--purge", "hubd")
        assert not pathlib.Path("/usr/bin/hubd").exists()
        assert not pathlib.Path("/etc/hubd/hub.toml").exists()
    finally:
        shutil.rmtree(out, ignore_errors=True)
