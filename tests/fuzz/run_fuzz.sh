#!/usr/bin/env bash
# Builds the rbac libFuzzer target with clang and runs it for a bounded time.
#   tests/fuzz/run_fuzz.sh SOURCE_DIR BUILD_DIR [SECONDS]
# Longer runs: see tests/fuzz/README.md.
set -euo pipefail
src=${1:?source dir}; out=${2:?build dir}; seconds=${3:-20}
mkdir -p "$out/fuzz-corpus"
cp -n "$src"/tests/fuzz/corpus/* "$out/fuzz-corpus/" 2>/dev/null || true
bin="$out/fuzz_rbac"
sources=("$src"/core/rbac/*.cpp "$src"/tests/fuzz/fuzz_rbac.cpp)
# Rebuild only when a source is newer than the binary.
rebuild=1
if [ -x "$bin" ]; then
  rebuild=0
  for f in "${sources[@]}" "$src"/core/rbac/*.hpp; do [ "$f" -nt "$bin" ] && rebuild=1; done
fi
if [ "$rebuild" = 1 ]; then
  clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src" "${sources[@]}" -o "$bin"
fi
exec "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$out/fuzz-corpus"
