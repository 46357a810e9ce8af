#!/usr/bin/env bash
# hubd's two commands (see README.md):
#   scripts/dev.sh run   install what is missing, build, start hubd on its embedded defaults
#   scripts/dev.sh test  install what is missing, build, run every test through CTest
# Safe to run again: installs only what is missing and is quiet when everything is there.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

apt_packages=(
  build-essential cmake ninja-build ccache pkg-config git clang
  libboost1.81-all-dev libboost-url1.81-dev nlohmann-json3-dev libsqlite3-dev sqlite3 libsodium-dev libssl-dev libspdlog-dev
  libtomlplusplus-dev libkainjow-mustache-dev libmimalloc-dev catch2 libbenchmark-dev wrk
  python3 python3-pytest python3-requests python3-jsonschema python3-yaml
  jupyterhub node-configurable-http-proxy chromium
  libcurl4-openssl-dev libpam0g-dev glewlwyd
  libutf8proc-dev
)

install_missing_apt() {
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node.js may come from another source than Debian (its own npm included): only install Debian's
  # when the commands are missing, since Debian's npm conflicts with such a nodejs.
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_missing_npm() {
  # Browser tests drive Debian's chromium through playwright-core (no browser download).
  if [ ! -d tests/e2e/node_modules/playwright-core ]; then
    echo "setup: installing npm packages for tests/e2e" >&2
    (cd tests/e2e && npm install --no-audit --no-fund --silent >/dev/null)
  fi
  # The OpenID Connect tests run panva's oidc-provider, pinned by its lockfile.
  if [ ! -d tests/support/oidc/node/node_modules/oidc-provider ]; then
    echo "setup: installing npm packages for tests/support/oidc/node" >&2
    (cd tests/support/oidc/node && npm ci --no-audit --no-fund --silent >/dev/null)
  fi
}

# ccache: paths relative to the checkout and no working-folder hash, so builds in other folders
# (every build dir here, and CI's fresh clone elsewhere) share one cache.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1

# build DIR "TARGET..." [cmake -D options...]
# The -D options are passed on every call (cmake re-configures cheaply), so that a folder configured
# earlier with other options (tests on, say) is switched to what this command needs.
build() {
  local dir=$1 targets=$2; shift 2
  local gen=()
  [ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null && gen=(-G Ninja)
  if [ ! -f "$dir/CMakeCache.txt" ] || [ $# -gt 0 ]; then
    cmake -S . -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  fi
  # shellcheck disable=SC2086  # one word per target
  cmake --build "$dir" --parallel "$(nproc)" --target $targets
}

# Unit tests, then the integration and security tests (each starts hubd from build-tsan), under
# ThreadSanitizer. A report stops the process that found it (halt_on_error) and lands in
# build-tsan/tsan-reports/ rather than in a test's captured output; any report fails the command.
# Not here: the install tests, `dev.sh run`, the out-of-tree plugin build and the OpenID testbed
# self-test, which start no hub of this folder, and the browser tests.
tsan_tests() {
  local reports="$root/build-tsan/tsan-reports" status=0
  rm -rf "$reports" && mkdir -p "$reports"
  # Both runs go on when one fails, so that one command shows every report.
  (
    cd build-tsan
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$reports/tsan"
    export HUBD_BUILD_DIR="$root/build-tsan"
    failed=0
    ctest --output-on-failure -L unit -j "$(nproc)" || failed=1
    ctest --output-on-failure -L 'integration|security' -E '^(install_|dev_run_|plugin_out_of_tree|oidc_testbed)' -j "$(nproc)" || failed=1
    exit "$failed"
  ) || status=$?
  if [ -n "$(ls -A "$reports")" ]; then
    echo "ThreadSanitizer reports in $reports:" >&2
    cat "$reports"/* >&2
    status=1
  fi
  return "$status"
}

cmd=${1:-}
case "$cmd" in
  run)
    install_missing_apt
    # Only what running needs: hubd and the shipped plugins (no tests, benchmarks or examples).
    build build "hubd hubd_shipped_plugins" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUBD_BUILD_TESTS=OFF -DHUBD_BUILD_BENCH=OFF
    shift
    # With no arguments hubd runs on its embedded defaults (SQLite in ./hubd-data, bundled config).
    # build/ has the installed layout: bin/hubd finds its plugins in build/lib/hubd/plugins.
    exec ./build/bin/hubd "$@"
    ;;
  test)
    install_missing_apt
    [ -f tests/e2e/package.json ] && install_missing_npm
    # Unit tests run under ASan/UBSan; unit tests and the tests that start hubd run again under
    # ThreadSanitizer, with hubd itself the TSan build; every test runs on the normal build.
    # Tests build unoptimised (-O0 compiles much faster on 2 cores); benchmarks use their own
    # Release folders (bench/README.md).
    build build-test all -DCMAKE_BUILD_TYPE=Debug -DHUBD_BUILD_BENCH=OFF
    build build-asan hubd_unit_tests -DCMAKE_BUILD_TYPE=Debug -DHUBD_SANITIZE=ON -DHUBD_BUILD_BENCH=OFF
    # The TSan folder builds only what its tests use: hubd, the plugins and fixtures they load, the
    # example service, the unit tests.
    build build-tsan "hubd hubd_shipped_plugins hubd_fixture_plugins spawn_hook_fixture grades-service hubd_unit_tests" \
      -DCMAKE_BUILD_TYPE=Debug -DHUBD_SANITIZE=thread -DHUBD_BUILD_BENCH=OFF
    (cd build-asan && ctest --output-on-failure -L unit -j "$(nproc)")
    tsan_tests
    export HUBD_BUILD_DIR="$root/build-test"
    (cd build-test && ctest --output-on-failure -LE unit -j "$(nproc)")
    ;;
  *)
    echo "usage: scripts/dev.sh run [hubd arguments, e.g. --config hub.toml] | scripts/dev.sh test" >&2
    exit 2
    ;;
esac
