#!/bin/sh
# libadagrad — a bounded libFuzzer run of fuzz_dense or fuzz_sparse (the meson
# tests of the same names).
#   run-fuzz.sh FUZZER BUILD_DIR SECONDS SEED_DIR...
# New inputs go to BUILD_DIR/fuzz-work (the seed folders are only read),
# a failing input to BUILD_DIR/fuzz-artifacts/. Exit status: libFuzzer's
# (non-zero when it found a violation, a crash, a leak or a timeout).
set -eu
fuzzer=$1 dir=$2 seconds=$3
shift 3
mkdir -p "$dir/fuzz-work" "$dir/fuzz-artifacts"
# A smaller ASan quarantine: this process frees millions of inputs.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=32}"
exec "$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$dir/fuzz-artifacts/" "$dir/fuzz-work" "$@"
