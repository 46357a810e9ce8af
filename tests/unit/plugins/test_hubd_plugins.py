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
