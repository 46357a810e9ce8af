#!/usr/bin/env bash
# Runs wrk against hubd_http_bench_server on loopback, bounded to 10 s:
#   bench/http/run_wrk.sh [BUILD_DIR] [extra server args, e.g. --access-log]
# Build Release first: cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release
#                      cmake --build build-bench --target hubd_http_bench_server -j2
set -euo pipefail
build=${1:-build}
shift || true
bin="$build/bench/http/hubd_http_bench_server"
[ -x "$bin" ] || { echo "missing $bin (build the hubd_http_bench_server target)" >&2; exit 1; }
out=$(mktemp)
"$bin" "$@" >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
port=$(awk '/listening/ {print $2}' "$out")
[ -n "$port" ] || { echo "server did not start" >&2; exit 1; }
curl -sf -H 'Authorization: token x' "http://127.0.0.1:$port/hub/api/user" >/dev/null
wrk -t2 -c16 -d10s "http://127.0.0.1:$port/hub/api/user"
