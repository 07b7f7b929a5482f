#!/usr/bin/env bash
# libadagrad — the README's test command: install what is missing (Debian
# packages, as root), then build and run the whole test suite, from fresh
# build folders, in every configuration:
#   native        release build, every implementation this CPU has
#                 (scalar, avx2, avx512, and NEON through SIMDe on x86)
#   nehalem       the same binaries under qemu-x86_64 -cpu Nehalem (no AVX)
#   haswell       ... under -cpu Haswell (AVX2, no AVX-512)
#   asan          AddressSanitizer + UndefinedBehaviorSanitizer build
#   aarch64       cross build, run under qemu-aarch64 (scalar, neon)
# It ends with one line "N passed, N failed" counted over every run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${ADAGRAD_TEST_DIR:-$root/build-test-all}

log() { printf '\n=== %s\n' "$*"; }

# ---- packages -------------------------------------------------------------
native_pkgs=(meson ninja-build pkgconf gcc g++ python3 libcmocka-dev libsimde-dev libbenchmark-dev
             gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user)
arm64_pkgs=(libcmocka-dev:arm64 libbenchmark-dev:arm64 pkgconf:arm64)
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
meson setup "$out/asan" -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbenchmarks=false >/dev/null
ninja -C "$out/asan"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run asan -C "$out/asan"

log "configure + build: aarch64 (cross, under qemu-aarch64)"
meson setup "$out/aarch64" --cross-file cross/aarch64-linux-gnu.ini -Dbuildtype=release >/dev/null
ninja -C "$out/aarch64"
ASAN_OPTIONS=detect_leaks=0 run aarch64 -C "$out/aarch64"

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
