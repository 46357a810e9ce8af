"""hub_bind_url with port 0: the system picks the port, `--ports-file` says which, and every URL hubd
derives from hub_bind_url names that port (the harness starts every hub this way)."""
import os
import re

from hubd_harness import HubProcess, wait_until

ADMIN_TOKEN = "port-zero-admin-token-0123456789"

# A managed service that writes down the environment hubd gave it.
CONFIG = f'''
[[JupyterHub.services]]
name = "admin-svc"
admin = true
api_token = "{ADMIN_TOKEN}"

[[JupyterHub.services]]
name = "env-dump"
command = ["/bin/sh", "-c", "env > service.env; exec sleep 600"]
cwd = "."
'''


def test_port_zero_is_reported_and_used_in_derived_urls():
    hub = HubProcess(CONFIG)
    assert hub.port is None
    try:
        hub.start()
        assert hub.port > 0
        with open(os.path.join(hub.workdir, "hubd.ports")) as f:
            assert f.read() == f"{hub.port}\n"
        assert f"http: listening on http://127.0.0.1:{hub.port}" in hub.log()
        wait_until(lambda: f"hubd is serving at http://127.0.0.1:{hub.port}/hub/" in hub.log(), 20, "the start-up line")
        assert hub.api("GET", "/users", token=ADMIN_TOKEN).status_code == 200
        env_file = os.path.join(hub.workdir, "service.env")

        def service_env():
            if not os.path.exists(env_file):
                return None
            with open(env_file) as f:
                text = f.read()
            return text if "JUPYTERHUB_API_URL=" in text else None
        env = wait_until(service_env, 20, "the managed service to write its environment")
        assert re.search(rf"^JUPYTERHUB_API_URL=http://127\.0\.0\.1:{hub.port}/hub/api$", env, re.M), env
    finally:
        hub.cleanup()


def test_a_restarted_hub_gets_a_new_port_and_reports_it():
    hub = HubProcess(CONFIG)
    try:
        first = hub.start().port
        assert hub.stop() == 0
        second = hub.start().port
        with open(os.path.join(hub.workdir, "hubd.ports")) as f:
            assert int(f.read()) == second
        assert hub.api("GET", "/users", token=ADMIN_TOKEN).status_code == 200
        assert first > 0 and second > 0
    finally:
        hub.cleanup()
