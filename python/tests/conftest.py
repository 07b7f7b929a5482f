# libadagrad — shared helpers of the Python tests.
# SPDX-License-Identifier: MIT
"""Run from a build folder:

    PYTHONPATH=<build>/python /usr/bin/python3 -m pytest -q -rs python/tests

(meson test --suite python does that, one meson test per file). Every skip
says why; with LIBADAGRAD_PYTEST_ALL_SKIPPED_STATUS set (meson sets 77), a
run in which every test skipped exits with that status, so meson lists the
file as SKIP rather than OK.
"""
import os
import platform
import subprocess
import sys

import pytest

import libadagrad

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the source's python/
SOURCE_DIR = os.path.dirname(PYTHON_DIR)


def build_dir():
    """The meson build folder this package was copied into, or None (installed, or the source tree)."""
    candidate = os.path.normpath(os.path.join(os.path.dirname(libadagrad.__file__), "..", ".."))
    return candidate if os.path.isdir(os.path.join(candidate, "meson-private")) else None


def torch_bitwise_reason():
    """Why torch's own results cannot be the reference here, or None.
    tests/gen_torch_trajectories.py measured torch 1.13's x86 AVX2 and
    AVX-512 kernels rounding as the contract does; its portable kernels
    (ATEN_CPU_CAPABILITY=default, or a CPU without AVX2) round the
    accumulator's product and sum separately."""
    if platform.machine() != "x86_64":
        return "torch's rounding is measured on x86-64 only (%s here)" % platform.machine()
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    if not {"avx2", "fma"} <= flags:
        return "without AVX2+FMA torch runs its portable kernels, which round differently"
    if os.environ.get("ATEN_CPU_CAPABILITY", "").lower() == "default":
        return "ATEN_CPU_CAPABILITY=default selects torch's portable kernels, which round differently"
    return None


@pytest.fixture
def torch_bitwise():
    """Skips the test (with the reason) where torch is not a bitwise reference."""
    reason = torch_bitwise_reason()
    if reason:
        pytest.skip(reason)


def run_with_team_of_two(check):
    """Runs threaded_checks.py CHECK with OMP_NUM_THREADS=2. The library's
    OpenMP team has the size omp_get_max_threads() has at its first
    multi-threaded step, once per process, and importing torch may have set
    it to 1 here (torch sets its own default): a fresh process has two
    threads whatever the CPU count, so the step really splits."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "threaded_checks.py")
    env = dict(os.environ, OMP_NUM_THREADS="2")
    r = subprocess.run([sys.executable, script, check], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def pytest_sessionfinish(session, exitstatus):
    status = os.environ.get("LIBADAGRAD_PYTEST_ALL_SKIPPED_STATUS")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not status or reporter is None or exitstatus not in (0, 5):  # 5: every module skipped
        return
    ran = sum(len(reporter.stats.get(k, [])) for k in ("passed", "failed", "error", "xfailed", "xpassed"))
    if ran == 0 and reporter.stats.get("skipped"):
        session.exitstatus = int(status)
