"""`hubd plugins --config FILE` lists what loaded and why the rest did not (runs the real binary)."""
import os
import pathlib
import subprocess


def run(tmp_path, toml):
    cfg = tmp_path / "hub.toml"
    cfg.write_text(toml)
    return subprocess.run([os.environ["HUBD_BIN"], "plugins", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=120)


def test_lists_plugins_and_skipped_files(tmp_path):
    fixtures = os.environ["HUBD_FIXTURE_PLUGIN_DIR"]
    example = pathlib.Path(os.environ["HUBD_SHIPPED_PLUGIN_DIR"]) / "c_authenticator.so"
    r = run(tmp_path, f'[JupyterHub]\nplugins_dir = "{fixtures}"\nplugin_paths = ["{example}"]\n'
                      'authenticator_class = "c-example"\n')
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for name, kind in [("fx-auth", "authenticator"), ("fx-hooks", "hooks"), ("fx-spawner", "spawner"),
                       ("c-example", "authenticator")]:
        line = next(l for l in out.splitlines() if l.strip().startswith(name + " "))
        assert kind in line and "1.0" in line
    assert "fx_major2.so: ABI major 2 != 1" in out
    assert "not_elf.so: not an ELF shared object" in out
    assert "missing entry symbol" in out
    assert "duplicate authenticator name 'fx-auth'" in out
    assert "undefined symbol" in out
    assert 'JupyterHub.authenticator_class = "c-example": loaded from' in out


def test_shipped_folder_first_then_relative_plugins_dir(tmp_path):
    # The shipped plugins sit beside the executable (<bin>/../lib/hubd/plugins) and load whatever
    # the config's plugins_dir says.
    (tmp_path / "plugins").mkdir()
    r = run(tmp_path, '[JupyterHub]\nplugins_dir = "plugins"\n')
    assert r.returncode == 0, r.stderr
    shipped = pathlib.Path(os.environ["HUBD_BIN"]).resolve().parent.parent / "lib" / "hubd" / "plugins"
    folders = r.stdout.split("plugin folders:\n")[1].split("\n\n")[0].split()
    assert folders == [str(shipped), str(tmp_path / "plugins")]
    assert f'JupyterHub.authenticator_class = "dummy": loaded from {shipped}/dummy_authenticator.so' in r.stdout
    assert f'JupyterHub.spawner_class = "local": loaded from {shipped}/hubd_local_spawner.so' in r.stdout


def test_bad_config_is_an_error(tmp_path):
    r = run(tmp_path, '[JupyterHub]\nno_such_key = 1\n')
    assert r.returncode == 1
    assert "no_such_key" in r.stderr


# --- a selected plugin that cannot load is an error everywhere, before anything is created ---

def hubd(tmp_path, *args, toml=None):
    if toml is not None:
        (tmp_path / "hub.toml").write_text(toml)
    return subprocess.run([os.environ["HUBD_BIN"], *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)


def shipped_dir():
    return str(pathlib.Path(os.environ["HUBD_BIN"]).resolve().parent.parent / "lib" / "hubd" / "plugins")


UNKNOWN_SPAWNER = '[JupyterHub]\nauthenticator_class = "dummy"\nspawner_class = "no-such-spawner"\n'


def test_check_config_refuses_a_spawner_that_is_found_nowhere(tmp_path):
    r = hubd(tmp_path, "check-config", str(tmp_path / "hub.toml"), toml=UNKNOWN_SPAWNER)
    assert r.returncode == 1, r.stdout
    assert "ok" not in r.stdout
    assert (f"hub.toml:3: JupyterHub.spawner_class: no spawner plugin named 'no-such-spawner' was found in {shipped_dir()}, "
            f"{tmp_path / 'plugins'}") in r.stderr


def test_plugins_command_exits_non_zero_for_a_selected_plugin_that_did_not_load(tmp_path):
    r = hubd(tmp_path, "plugins", "--config", str(tmp_path / "hub.toml"), toml=UNKNOWN_SPAWNER)
    assert r.returncode == 1
    assert "NOT LOADED: no spawner plugin named 'no-such-spawner'" in r.stdout
    assert "error: hub.toml:3: JupyterHub.spawner_class: no spawner plugin named 'no-such-spawner'" in r.stderr


def test_start_up_fails_before_the_database_is_created(tmp_path):
    r = hubd(tmp_path, "--config", str(tmp_path / "hub.toml"),
             toml=UNKNOWN_SPAWNER + 'hub_bind_url = "http://127.0.0.1:1"\nproxy_class = "none"\n')
    assert r.returncode != 0
    assert "hub.toml:3: JupyterHub.spawner_class: no spawner plugin named 'no-such-spawner' was found" in r.stdout + r.stderr
    assert not (tmp_path / "jupyterhub.sqlite").exists()


def test_unknown_plugin_table_is_an_error(tmp_path):
    r = hubd(tmp_path, "check-config", "hub.toml", toml='[plugins.nosuch]\nenabled = true\n')
    assert r.returncode == 1
    assert "hub.toml:1: plugins.nosuch: no plugin named 'nosuch' was found in" in r.stderr
    r = hubd(tmp_path, "check-config", "hub.toml", toml='[plugins.nosuch]\nenabled = false\n')
    assert r.returncode == 0, r.stderr


# --- two files registering one name ---

def test_second_file_registering_the_selected_name_stops_everything_naming_both(tmp_path):
    fixtures = os.environ["HUBD_FIXTURE_PLUGIN_DIR"]
    toml = (f'[JupyterHub]\nplugins_dir = "{fixtures}"\nauthenticator_class = "fx-auth"\n'
            'hub_bind_url = "http://127.0.0.1:1"\nproxy_class = "none"\n')
    both = (f"authenticator plugin 'fx-auth' is registered by two files, {fixtures}/fx_good.so and "
            f"{fixtures}/fx_zdup.so")
    for args in (["check-config", "hub.toml"], ["plugins", "--config", "hub.toml"], ["--config", "hub.toml"]):
        r = hubd(tmp_path, *args, toml=toml)
        assert r.returncode != 0, args
        assert "hub.toml:3: JupyterHub.authenticator_class: " + both in r.stdout + r.stderr, args
    assert not (tmp_path / "jupyterhub.sqlite").exists()


def test_second_file_registering_an_unselected_name_is_a_warning_naming_both(tmp_path):
    fixtures = os.environ["HUBD_FIXTURE_PLUGIN_DIR"]
    r = hubd(tmp_path, "check-config", "hub.toml", toml=f'[JupyterHub]\nplugins_dir = "{fixtures}"\n')
    assert r.returncode == 0, r.stderr
    assert (f"warning: authenticator plugin 'fx-auth' is registered by two files, {fixtures}/fx_good.so and "
            f"{fixtures}/fx_zdup.so; the first one is used") in r.stderr


# --- plugin folders that do not exist ---

def test_missing_configured_folder_is_a_warning_naming_it(tmp_path):
    r = hubd(tmp_path, "check-config", "hub.toml", toml='[JupyterHub]\nplugins_dir = "no-such-folder"\n')
    assert r.returncode == 0, r.stderr
    assert f"warning: hub.toml:2: JupyterHub.plugins_dir: plugin folder {tmp_path / 'no-such-folder'} does not exist" in r.stderr
    # The default plugins/ beside the config is optional: no warning when it is missing.
    r = hubd(tmp_path, "check-config", "hub.toml", toml='[JupyterHub]\n')
    assert r.returncode == 0 and "does not exist" not in r.stderr, r.stderr


def test_missing_folder_that_was_the_only_source_of_a_selected_plugin_is_an_error(tmp_path):
    r = hubd(tmp_path, "check-config", "hub.toml",
             toml='[JupyterHub]\nplugin_paths = ["/opt/gone"]\nauthenticator_class = "gone-auth"\n')
    assert r.returncode == 1
    line = next(l for l in r.stderr.splitlines() if l.startswith("config error:"))
    assert "hub.toml:3: JupyterHub.authenticator_class: no authenticator plugin named 'gone-auth'" in line
    assert "hub.toml:2: JupyterHub.plugin_paths: plugin path /opt/gone does not exist" in line


# --- hubd scopes knows the scopes plugins register ---

SCOPES_TOML = """[JupyterHub]
plugins_dir = "{fixtures}"
load_roles = [{{name = "fx-reader", scopes = ["custom:fx-read"]}}]

[plugins.fx-hooks]
"""


def test_scopes_check_and_expand_load_the_plugins_of_the_config(tmp_path):
    toml = SCOPES_TOML.format(fixtures=os.environ["HUBD_FIXTURE_PLUGIN_DIR"])
    r = hubd(tmp_path, "scopes", "check", "hub.toml", toml=toml)
    assert r.returncode == 0, r.stderr
    assert "custom:fx-read: defined by plugin 'fx-hooks'" in r.stdout
    r = hubd(tmp_path, "scopes", "expand", "--config", "hub.toml", "--role", "fx-reader")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["custom:fx-read"]
    # Without the plugin's table the scope is unknown, as at start-up.
    r = hubd(tmp_path, "scopes", "check", "hub.toml", toml=toml.replace("[plugins.fx-hooks]\n", ""))
    assert r.returncode == 1 and "custom:fx-read" in r.stderr
