#!/usr/bin/env bash
# libadagrad — the README's test command: install what is missing (Debian
# packages, as root), then build and run the whole test suite, from fresh
# build folders, in every configuration:
#   native        release build, every implementation this CPU has
#                 (scalar, avx2, avx512, and NEON through SIMDe on x86)
#                 and the Python package's pytest suite (suite python: torch,
#                 numpy, torch.distributed, meson install)
#   nehalem       the same binaries under qemu-x86_64 -cpu Nehalem (no AVX)
#   haswell       ... under -cpu Haswell (AVX2, no AVX-512)
#   asan          AddressSanitizer + UndefinedBehaviorSanitizer build (the report's
#                 tests run its engine, bench_adagrad, under them too)
#   aarch64       cross build, run under qemu-aarch64 (scalar, neon, sve) at SVE
#                 vector lengths 128, 256, 512, 2048 bits (sve128 … sve2048),
#                 and on cortex-a72 (nosve: neon)
#   fuzz          clang, ASan + UBSan: the libFuzzer harnesses fuzz/fuzz_dense and
#                 fuzz/fuzz_sparse, ADAGRAD_FUZZ_SECONDS (default 120) in total,
#                 half each, from their seed corpora, plus
#                 the robustness tests (corpus replay, threads, regressions)
#   tsan          clang, ThreadSanitizer + LLVM OpenMP: the whole suite (the
#                 report's engine included), and the robustness tests again
#                 with ADAGRAD_ISA=scalar (TSan sees only accesses of up to 16
#                 bytes: the scalar kernel's)
#   valgrind      memcheck over the whole native suite but the report (built
#                 without benchmarks; valgrind 3.19 hides AVX-512 in its
#                 CPUID: the best row there is avx2) and the Python tests
# It ends with one line "N passed, N failed" counted over every run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${ADAGRAD_TEST_DIR:-$root/build-test-all}

log() { printf '\n=== %s\n' "$*"; }

# ---- packages -------------------------------------------------------------
native_pkgs=(meson ninja-build pkgconf gcc g++ python3 libcmocka-dev libsimde-dev libbenchmark-dev
             gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user
             clang libclang-rt-14-dev libomp-14-dev valgrind python3-matplotlib
             python3-numpy python3-pytest python3-torch)
arm64_pkgs=(libcmocka-dev:arm64 libbenchmark-dev:arm64 pkgconf:arm64 libgomp1:arm64)
missing() { for p in "$@"; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"; done; }
need=($(missing "${native_pkgs[@]}" "${arm64_pkgs[@]}"))
if ((${#need[@]})); then
    log "installing: ${need[*]}"
    if [ "$(id -u)" != 0 ]; then echo "run as root to install packages (or install them yourself)" >&2; exit 1; fi
    export DEBIAN_FRONTEND=noninteractive
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${native_pkgs[@]}" "${arm64_pkgs[@]}" >/dev/null
fi

# ---- builds and runs ------------------------------------------------------
rm -rf "$out"
mkdir -p "$out"
status=0
run() { # name, then the meson test arguments
    local name=$1; shift
    log "test: $name"
    meson test --print-errorlogs "$@" || status=1
}

log "configure + build: native"
meson setup "$out/native" -Dbuildtype=release >/dev/null
ninja -C "$out/native"
run native -C "$out/native"
if [ "$(uname -m)" = x86_64 ]; then
    run nehalem -C "$out/native" --setup nehalem --no-rebuild
    run haswell -C "$out/native" --setup haswell --no-rebuild
fi

log "configure + build: asan+ubsan"
# With the benchmarks: the report's tests run the measurement engine
# (bench_adagrad) under ASan + UBSan.
meson setup "$out/asan" -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C "$out/asan"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run asan -C "$out/asan"

log "configure + build: aarch64 (cross, under qemu-aarch64)"
meson setup "$out/aarch64" --cross-file cross/aarch64-linux-gnu.ini -Dbuildtype=release >/dev/null
ninja -C "$out/aarch64"
# Every test runs under each setup; qemu's default CPU is the sve512 one, so
# there is no separate default run.
for setup in sve128 sve256 sve512 sve2048 nosve; do # tests/meson.build: QEMU_CPU per setup
    ASAN_OPTIONS=detect_leaks=0 run "aarch64 --setup $setup" -C "$out/aarch64" --setup "$setup" --no-rebuild
done

# ---- robustness: fuzzing, TSan, valgrind ----------------------------------
log "configure + build: fuzz (clang, libFuzzer + ASan + UBSan)"
# -fsanitize=fuzzer-no-link: the library's branches give libFuzzer coverage
# too (the harness alone links the fuzzer runtime).
CC=clang CXX=clang++ meson setup "$out/fuzz" -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link \
    -Dfuzz=true -Dfuzz_seconds="${ADAGRAD_FUZZ_SECONDS:-120}" -Dtests=false -Dbenchmarks=false >/dev/null
ninja -C "$out/fuzz"
run fuzz -C "$out/fuzz"
grep -E '^(#[0-9]+[[:space:]]+DONE|stat::)' "$out/fuzz/meson-logs/testlog.txt" || true

log "configure + build: tsan (clang, ThreadSanitizer, LLVM OpenMP)"
# With the benchmarks: the report's tests run the engine, step_mt on 1, 2
# and 4 threads included, under TSan.
CC=clang CXX=clang++ meson setup "$out/tsan" -Dbuildtype=debugoptimized -Db_sanitize=thread \
    -Db_lundef=false >/dev/null
ninja -C "$out/tsan"
# LLVM's OpenMP runtime tells TSan about its own synchronisation (archer);
# its uninstrumented internals are ignored, the library's code is not.
export TSAN_OPTIONS=ignore_noninstrumented_modules=1:halt_on_error=1:second_deadlock_stack=1
run tsan -C "$out/tsan"
ADAGRAD_ISA=scalar run tsan-scalar -C "$out/tsan" --suite robustness --no-rebuild --logbase testlog-scalar
unset TSAN_OPTIONS

log "configure + build: valgrind (memcheck, whole native suite)"
meson setup "$out/valgrind" -Dbuildtype=debugoptimized -Dbenchmarks=false >/dev/null
ninja -C "$out/valgrind"
# Without the Python tests: the wrapper would run the interpreter under memcheck.
run valgrind -C "$out/valgrind" --timeout-multiplier 10 --logbase testlog-valgrind \
    --wrapper "$root/robustness/valgrind-wrap.sh" --no-suite python

# ---- one closing line over every run --------------------------------------
log "summary"
summary=0
/usr/bin/python3 - "$out" <<'PY' || summary=1
import glob, json, sys
passed = failed = skipped = 0
for path in sorted(glob.glob(sys.argv[1] + "/*/meson-logs/testlog*.json")):
    p = f = s = 0
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"): p += 1
        elif r == "SKIP": s += 1
        else: f += 1
    print(f"  {path[len(sys.argv[1]) + 1:]}  ok={p} fail={f} skip={s}")
    passed += p; failed += f; skipped += s
if passed + failed == 0:
    failed = 1  # a run that executed no test is a failure
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
exit $((status | summary))
