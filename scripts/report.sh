#!/usr/bin/env bash
# libadagrad — the README's main-job command: install what is missing
# (Debian packages, as root), build the library and the report program
# (release, no tests, no benchmarks), and run the ISA comparison report.
# Arguments go to the report (try --help); the build lives in build-report/.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(meson ninja-build pkgconf gcc g++ python3)
need=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if ((${#need[@]})); then
    echo "installing: ${need[*]}" >&2
    if [ "$(id -u)" != 0 ]; then echo "run as root to install packages (or install them yourself)" >&2; exit 1; fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -f build-report/build.ninja ]; then
    meson setup build-report -Dbuildtype=release -Dtests=false -Dbenchmarks=false >/dev/null
fi
ninja -C build-report >/dev/null
exec ./build-report/tools/adagrad-report "$@"
