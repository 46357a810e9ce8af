"""`hubd scopes expand|check` run as a real process (label: integration)."""
import os
import subprocess
import textwrap

import pytest

HUBD = os.path.join(os.environ.get("HUBD_BUILD_DIR", "build"), "bin", "hubd")


def hubd(*args):
    return subprocess.run([HUBD, "scopes", *args], capture_output=True, text=True, timeout=60)


def write(tmp_path, text, name="hub.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return str(p)


def test_expand_self_for_a_user():
    r = hubd("expand", "--user", "alice", "self")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines == sorted(lines)
    assert len(lines) == 15
    assert "read:users!user=alice" in lines
    assert all(line.endswith("!user=alice") for line in lines)


def test_expand_roles_and_scopes_sorted_unique():
    r = hubd("expand", "--role", "admin", "read:users!user=x")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 46 and lines == sorted(set(lines))
    assert "read:users!user=x" not in lines  # absorbed by read:users


def test_expand_server_filter_rule():
    r = hubd("expand", "read:servers!server=u/x", "users:activity!server=u/x")
    assert r.stdout.splitlines() == ["read:servers!server=u/x", "users:activity!server=u/x"]


def test_expand_bare_filter_without_user_warns():
    r = hubd("expand", "--role", "server", "--user", "bob")
    assert r.returncode == 0
    assert r.stdout.splitlines() == ["read:users:activity!user=bob", "users:activity!user=bob"]
    assert "warning:" in r.stderr and "access:servers!server" in r.stderr


@pytest.mark.parametrize(
    "args, needle",
    [
        (["read:nope"], "Scope 'read:nope' does not exist"),
        (["all"], "inherit"),
        (["read:users!user="], "empty"),
        (["read:users!group"], "group name"),
        (["--role", "nope"], "role 'nope' does not exist"),
    ],
)
def test_expand_errors(args, needle):
    r = hubd("expand", *args)
    assert r.returncode != 0
    assert needle in r.stderr
    assert r.stdout == ""


def test_expand_with_config_custom_scopes_and_roles(tmp_path):
    cfg = write(tmp_path, """
        [JupyterHub.custom_scopes."custom:notebooks:read"]
        description = "read notebooks"
        subscopes = ["custom:notebooks:list"]
        [JupyterHub.custom_scopes."custom:notebooks:list"]
        description = "list notebooks"

        [[JupyterHub.load_roles]]
        name = "reader"
        scopes = ["custom:notebooks:read!user"]
    """)
    r = hubd("expand", "--config", cfg, "--role", "reader", "--user", "ann")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["custom:notebooks:list!user=ann", "custom:notebooks:read!user=ann"]
    r = hubd("expand", "custom:notebooks:read")
    assert r.returncode != 0 and "does not exist" in r.stderr


def test_check_ok_with_never_matching_warning(tmp_path):
    cfg = write(tmp_path, """
        [[JupyterHub.load_roles]]
        name = "odd"
        scopes = ["read:hub!user=x", "read:users"]
    """)
    r = hubd("check", cfg)
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout
    assert "role 'odd'" in r.stderr and "read:hub!user=x" in r.stderr


@pytest.mark.parametrize(
    "body, needle",
    [
        ('[[JupyterHub.load_roles]]\nname = "reader"\nscopes = ["read:userz"]\n',
         "hub.toml:3: JupyterHub.load_roles[0].scopes: Scope 'read:userz' for role 'reader' does not exist"),
        ('[[JupyterHub.load_roles]]\nname = "R"\n', "role name 'R'"),
        ('[JupyterHub.custom_scopes."custom:ab"]\ndescription = "x"\n', "invalid custom scope name 'custom:ab'"),
        ('[JupyterHub.custom_scopes."custom:abc"]\nsubscopes = []\n', "missing key 'description'"),
        ('[[JupyterHub.load_roles]]\nname = "admin"\nscopes = ["read:hub"]\n', "cannot be changed"),
        ('[Spawner]\nserver_token_scopes = ["nope"]\n', "Spawner.server_token_scopes"),
    ],
)
def test_check_errors(tmp_path, body, needle):
    r = hubd("check", write(tmp_path, body))
    assert r.returncode != 0
    assert needle in r.stderr


def test_usage_errors():
    assert hubd().returncode == 2
    assert hubd("frobnicate").returncode == 2
    assert hubd("check").returncode == 2
