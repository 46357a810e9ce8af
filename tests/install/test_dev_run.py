"""`scripts/dev.sh run` builds only what running needs. Checked against the script itself and the
CTest build folder's build graph (building a second, Release tree here would take many minutes):
the run branch configures with tests and benchmarks off on every call, builds exactly the targets
named there, whose inputs hold no test, benchmark or example source, and runs build/bin/hubd."""
import os
import pathlib
import re
import shlex
import shutil
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD_DIR = pathlib.Path(os.environ["HUBD_BUILD_DIR"])
SKIP_CODE = 77


def run_branch():
    text = (SOURCE_DIR / "scripts" / "dev.sh").read_text()
    m = re.search(r"^  run\)\n(.*?)^    ;;", text, re.S | re.M)
    assert m, "dev.sh has a run) branch"
    return m.group(1)


def test_run_configures_without_tests_and_benchmarks_and_runs_bin_hubd():
    branch = run_branch()
    build = next(l for l in branch.splitlines() if l.strip().startswith("build "))
    words = shlex.split(build)
    assert words[1] == "build"
    assert "-DHUBD_BUILD_TESTS=OFF" in words and "-DHUBD_BUILD_BENCH=OFF" in words
    assert "exec ./build/bin/hubd" in branch


def test_run_targets_need_no_test_benchmark_or_example_source():
    if not (BUILD_DIR / "build.ninja").exists() or not shutil.which("ninja"):
        pytest.exit("SKIPPED: needs a Ninja build folder", returncode=SKIP_CODE)
    build = next(l for l in run_branch().splitlines() if l.strip().startswith("build "))
    targets = shlex.split(build)[2].split()
    inputs = subprocess.run(["ninja", "-C", str(BUILD_DIR), "-t", "inputs", *targets], capture_output=True,
                            text=True, check=True).stdout.split()
    sources = [p for p in inputs if p.startswith(str(SOURCE_DIR))]
    assert any(p.endswith("core/app/main.cpp") for p in sources)
    assert any("/plugins/local_spawner/" in p for p in sources)
    for part in ("/tests/", "/bench/", "/examples/"):
        assert not [p for p in sources if part in p[len(str(SOURCE_DIR)):]], part
    # Every plugin that `cmake --install` ships is among what run builds.
    query = subprocess.run(["ninja", "-C", str(BUILD_DIR), "-t", "query", "plugins/hubd_shipped_plugins"],
                           capture_output=True, text=True, check=True).stdout
    for so in ("dummy_authenticator.so", "hubd_local_spawner.so", "rtc_collab.so", "generic_oauth.so"):
        assert f"lib/hubd/plugins/{so}" in query, so
