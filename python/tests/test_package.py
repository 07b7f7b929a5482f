# libadagrad — the package itself: where it finds the library, what it says
# when it cannot, the version, the C layout of its structures, meson install.
# SPDX-License-Identifier: MIT
import ctypes
import glob
import os
import re
import shutil
import site
import subprocess
import sys

import pytest

import libadagrad
from libadagrad import _lib

from conftest import PYTHON_DIR, SOURCE_DIR, build_dir

PACKAGE_FILES = ["__init__.py", "_lib.py", "torch.py"]


def need_build_dir():
    build = build_dir()
    if build is None:
        pytest.skip("the package is not the copy in a meson build folder (PYTHONPATH=<build>/python)")
    return build


def import_in_subprocess(python_path, env_extra=None, code="import libadagrad; print(libadagrad.library_path)"):
    """Imports the package found in python_path, run from there: `-c` puts
    the current folder first on sys.path, and meson runs the tests in
    <build>/python, where the build tree's copy is."""
    env = {k: v for k, v in os.environ.items() if k not in ("LIBADAGRAD_LIBRARY", "PYTHONPATH")}
    env["PYTHONPATH"] = python_path
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=python_path, capture_output=True,
                          text=True, timeout=60)


def package_copy(tmp_path):
    """The package's files alone, away from any library."""
    target = tmp_path / "site" / "libadagrad"
    target.mkdir(parents=True)
    for name in PACKAGE_FILES:
        shutil.copy(os.path.join(os.path.dirname(libadagrad.__file__), name), target / name)
    return str(tmp_path / "site")


def test_version_is_the_projects():
    with open(os.path.join(SOURCE_DIR, "meson.build")) as f:
        project_version = re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)
    assert libadagrad.__version__ == project_version


def test_found_in_the_build_tree():
    build = need_build_dir()
    assert libadagrad.library_path == os.path.realpath(os.path.join(build, _lib.SONAME))


def test_struct_layout_matches_the_header():
    program = os.path.join(need_build_dir(), "python", "struct_layout")
    if not os.path.exists(program):
        pytest.skip("python/struct_layout is not built (meson builds it with -Dtests=true)")
    structs = {"adagrad_options": _lib.Options, "adagrad_dense": _lib.Dense, "adagrad_sparse": _lib.Sparse}
    lines = subprocess.run([program], capture_output=True, text=True, check=True).stdout.split("\n")
    checked = 0
    for line in filter(None, lines):
        struct, field, offset, size = line.split()
        cls = structs[struct]
        if field == "sizeof":
            assert ctypes.sizeof(cls) == int(size), struct
        else:
            assert (getattr(cls, field).offset, getattr(cls, field).size) == (int(offset), int(size)), \
                "%s.%s" % (struct, field)
        checked += 1
    assert checked == 3 + sum(len(c._fields_) for c in structs.values())


def test_libadagrad_library_overrides(tmp_path):
    site_dir = package_copy(tmp_path)
    r = import_in_subprocess(site_dir, {"LIBADAGRAD_LIBRARY": libadagrad.library_path})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == libadagrad.library_path


def test_libadagrad_library_missing_file(tmp_path):
    r = import_in_subprocess(package_copy(tmp_path), {"LIBADAGRAD_LIBRARY": str(tmp_path / "nothing.so")})
    assert r.returncode != 0
    assert "LibraryNotFoundError" in r.stderr and "LIBADAGRAD_LIBRARY" in r.stderr
    assert "nothing.so (no such file)" in r.stderr


def test_not_libadagrad(tmp_path):
    import _ctypes
    other = getattr(_ctypes, "__file__", None)  # a shared object without adagrad's symbols
    if other is None:
        pytest.skip("_ctypes is built into this interpreter: no foreign shared object at hand")
    r = import_in_subprocess(package_copy(tmp_path), {"LIBADAGRAD_LIBRARY": other})
    assert r.returncode != 0
    assert "is not libadagrad %s: it lacks adagrad_strerror" % libadagrad.__version__ in r.stderr


def test_another_version(tmp_path):
    old = tmp_path / "libadagrad.so.0.1.0"
    shutil.copy(libadagrad.library_path, old)
    r = import_in_subprocess(package_copy(tmp_path), {"LIBADAGRAD_LIBRARY": str(old)})
    assert r.returncode != 0
    assert "is libadagrad 0.1.0, this package is %s" % libadagrad.__version__ in r.stderr


def test_not_found_says_where_it_looked(tmp_path):
    probe = subprocess.run([sys.executable, "-c", "import ctypes; ctypes.CDLL(%r)" % _lib.SONAME],
                           capture_output=True, env={"PATH": os.environ.get("PATH", "")})
    if probe.returncode == 0:
        pytest.skip("a %s is installed on the dynamic linker's path here" % _lib.SONAME)
    r = import_in_subprocess(package_copy(tmp_path), {"LD_LIBRARY_PATH": ""})
    assert r.returncode != 0
    assert "libadagrad's shared library was not found" in r.stderr
    assert "build tree:" in r.stderr and "dynamic linker:" in r.stderr
    assert "LIBADAGRAD_LIBRARY" in r.stderr


def test_meson_install(tmp_path):
    """meson install puts the package where the interpreter finds it, and the
    installed package finds the installed library (relative to itself, so
    the DESTDIR-staged copy finds the staged library)."""
    build = need_build_dir()
    meson = shutil.which("meson")
    if meson is None:
        pytest.skip("meson is not on PATH")
    dest = tmp_path / "dest"
    r = subprocess.run([meson, "install", "-C", build, "--no-rebuild", "--quiet", "--destdir", str(dest)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    locations = glob.glob(str(dest / "**" / "libadagrad" / "_location.py"), recursive=True)
    assert len(locations) == 1, locations
    package = os.path.dirname(locations[0])
    assert sorted(n for n in os.listdir(package) if n.endswith(".py")) == sorted(PACKAGE_FILES + ["_location.py"])
    site_dir = os.path.dirname(package)
    installed_site = site_dir[len(str(dest)):]
    if installed_site.startswith(("/usr/local/", "/usr/lib/")):  # the interpreter's own prefixes
        assert installed_site in [os.path.normpath(p) for p in site.getsitepackages()]
    r = import_in_subprocess(site_dir)
    assert r.returncode == 0, r.stderr
    loaded = r.stdout.strip()
    assert loaded.startswith(str(dest) + "/") and loaded.endswith("libadagrad.so." + libadagrad.__version__), loaded


def test_errors_carry_strerror():
    e = libadagrad.AdagradError(_lib.ERR_RANGE, "here")
    assert e.status == _lib.ERR_RANGE
    assert str(e) == "here: ADAGRAD_ERR_RANGE: an index is out of range"
    assert _lib.strerror(12345) == "unknown adagrad status"


def test_implementations():
    isas = libadagrad.available_isas()
    assert "scalar" in isas and libadagrad.active_isa() in isas
    with pytest.raises(ValueError, match="unknown implementation"):
        libadagrad.use_isa("mmx")
    missing = [name for name in _lib.ISA_NAMES if name not in isas]
    if missing:
        with pytest.raises(libadagrad.AdagradError, match="ADAGRAD_ERR_ISA"):
            libadagrad.use_isa(missing[0])
    assert libadagrad.max_threads() >= 1


def test_meson_lists_every_module():
    """python/meson.build copies and installs exactly the package's modules."""
    with open(os.path.join(PYTHON_DIR, "meson.build")) as f:
        listed = re.findall(r"'libadagrad/(\w+\.py)'", f.read())
    here = os.path.join(PYTHON_DIR, "libadagrad")
    assert sorted(set(listed)) == sorted(n for n in os.listdir(here) if n.endswith(".py")) == sorted(PACKAGE_FILES)
