#!/usr/bin/env bash
# libadagrad — the README's main-job command: install what is missing
# (Debian packages, as root), build the library and its measurement engine
# (release, with Google Benchmark, no tests), and run the ISA comparison
# report: adagrad-report, a Python front end over bench_adagrad's JSON.
# Arguments go to the report (try --help); the build lives in build-report/.
# python3-matplotlib is installed only for --plot.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(meson ninja-build pkgconf gcc g++ python3 libbenchmark-dev)
for arg in "$@"; do
    case $arg in --plot*) pkgs+=(python3-matplotlib) ;; esac
done
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
options=(-Dbuildtype=release -Dtests=false -Dbenchmarks=true)
if [ -f build-report/build.ninja ]; then
    meson configure build-report "${options[@]}" >/dev/null # a folder from before the report needed benchmarks
else
    meson setup build-report "${options[@]}" >/dev/null
fi
ninja -C build-report >/dev/null
exec /usr/bin/python3 build-report/tools/adagrad-report.py "$@"
