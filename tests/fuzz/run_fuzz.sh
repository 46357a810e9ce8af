#!/usr/bin/env bash
# Builds one libFuzzer target with clang and runs it for a bounded time.
#   tests/fuzz/run_fuzz.sh SOURCE_DIR BUILD_DIR [SECONDS] [TARGET]
# TARGET is rbac (the default), config, plugin_result or http. Longer runs: see tests/fuzz/README.md.
set -euo pipefail
src=${1:?source dir}; out=${2:?build dir}; seconds=${3:-20}; target=${4:-rbac}
flags=(); libs=()
# Each target: the sources it links and the folders whose headers it depends on (for the rebuild check).
case "$target" in
  rbac)
    sources=("$src"/core/rbac/*.cpp); deps=("$src"/core/rbac)
    seeds="$src/tests/fuzz/corpus"; corpus="$out/fuzz-corpus" ;;
  config)
    sources=("$src"/core/app/config.cpp "$src"/core/app/config_schema.cpp "$src"/core/names/username.cpp)
    deps=("$src"/core/app "$src"/core/names "$src"/core/plugins)
    read -r -a flags <<<"$(pkg-config --cflags tomlplusplus libutf8proc)"
    read -r -a libs <<<"$(pkg-config --libs tomlplusplus libutf8proc)" ;;
  plugin_result)
    sources=("$src"/core/plugins/completion.cpp); deps=("$src"/core/plugins "$src"/plugin_api)
    flags=(-I"$src/plugin_api") ;;
  http)
    sources=()
    for f in request cookies form next_url url_codec signed_value authorization router response responder; do
      sources+=("$src/core/http/$f.cpp")
    done
    deps=("$src"/core/http)
    read -r -a flags <<<"$(pkg-config --cflags spdlog libsodium)"
    read -r -a libs <<<"$(pkg-config --libs spdlog libsodium) -lboost_url" ;;
  *) echo "run_fuzz.sh: unknown target $target" >&2; exit 2 ;;
esac
seeds=${seeds:-"$src/tests/fuzz/corpus/$target"}; corpus=${corpus:-"$out/fuzz-corpus-$target"}
sources+=("$src/tests/fuzz/fuzz_$target.cpp")
mkdir -p "$corpus"
find "$seeds" -maxdepth 1 -type f -exec cp -n {} "$corpus/" \;
bin="$out/fuzz_$target"
# Rebuild only when a source or header is newer than the binary.
rebuild=1
if [ -x "$bin" ]; then
  rebuild=0
  for f in "${sources[@]}" $(find "${deps[@]}" -name '*.hpp'); do [ "$f" -nt "$bin" ] && rebuild=1; done
fi
if [ "$rebuild" = 1 ]; then
  clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -DSPDLOG_FMT_EXTERNAL -I"$src" "${flags[@]}" "${sources[@]}" "${libs[@]}" -o "$bin"
fi
exec "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus"
