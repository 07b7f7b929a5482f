# libadagrad — finding and loading the shared library, its C types and
# prototypes, and statuses as exceptions.
# SPDX-License-Identifier: MIT
"""The ctypes binding of include/adagrad.h (v0.2, soname libadagrad.so.1).

Where the library is looked for, in order (the first that exists is loaded):
  1. $LIBADAGRAD_LIBRARY, a path: then only there
  2. installed: the folder `meson install` recorded in _location.py, relative
     to this package (so a DESTDIR-staged tree works too)
  3. the build tree: ninja copies this package to <build>/python/libadagrad,
     two folders below the library
  4. the dynamic linker's search path (LD_LIBRARY_PATH, ldconfig)
"""
import ctypes
import os
import re

from . import __version__

SONAME = "libadagrad.so.1"

# Status codes (adagrad.h)
OK, ERR_NULL, ERR_PARAM, ERR_OVERLAP, ERR_RANGE, ERR_SIZE, ERR_ISA = 0, -1, -2, -3, -4, -5, -6

# Flags (adagrad_options.flags)
MAXIMIZE = 0x1
EPS_INSIDE = 0x2
FAST = 0x4
SUM_DUPLICATES = 0x8
TORCH_SPARSE = 0x10
ROWWISE = 0x40

# Element and index types (adagrad_dtype, adagrad_itype)
F32 = 0
I64, I32 = 0, 1

SIZE_MAX = ctypes.c_size_t(-1).value  # adagrad_sparse_workspace's "overflows"

ISA_NAMES = ("scalar", "avx2", "avx512", "neon", "sve")  # adagrad_isa, in order


class LibraryNotFoundError(ImportError):
    """The shared library is missing, cannot be loaded, or is another version."""


class AdagradError(RuntimeError):
    """A negative status of the library; nothing was written. `status` is
    the code, the message adagrad_strerror's text."""

    def __init__(self, status, where):
        self.status = status
        super().__init__("%s: %s" % (where, strerror(status)))


class Options(ctypes.Structure):
    _fields_ = [("lr", ctypes.c_float), ("eps", ctypes.c_float), ("weight_decay", ctypes.c_float),
                ("flags", ctypes.c_uint), ("seed", ctypes.c_uint64), ("step", ctypes.c_uint64)]


class Dense(ctypes.Structure):
    _fields_ = [("param", ctypes.c_void_p), ("sum", ctypes.c_void_p), ("grad", ctypes.c_void_p),
                ("n", ctypes.c_size_t), ("param_type", ctypes.c_int), ("grad_type", ctypes.c_int),
                ("first_index", ctypes.c_uint64)]


class Sparse(ctypes.Structure):
    _fields_ = [("table", ctypes.c_void_p), ("sum", ctypes.c_void_p),
                ("rows", ctypes.c_size_t), ("dim", ctypes.c_size_t), ("table_type", ctypes.c_int),
                ("indices", ctypes.c_void_p), ("n_indices", ctypes.c_size_t), ("index_type", ctypes.c_int),
                ("grads", ctypes.c_void_p), ("grad_type", ctypes.c_int),
                ("offsets", ctypes.c_void_p), ("n_bags", ctypes.c_size_t),
                ("per_sample_weights", ctypes.c_void_p),
                ("workspace", ctypes.c_void_p), ("workspace_bytes", ctypes.c_size_t)]


_P = ctypes.POINTER
# name: (result type, argument types); every one of them is new in v0.2 or
# needed here, so their presence is the version check a filename cannot make.
_PROTOTYPES = {
    "adagrad_strerror": (ctypes.c_char_p, [ctypes.c_int]),
    "adagrad_step": (ctypes.c_int, [_P(Dense), _P(Options)]),
    "adagrad_step_mt": (ctypes.c_int, [_P(Dense), _P(Options), ctypes.c_int]),
    "adagrad_sparse_step": (ctypes.c_int, [_P(Sparse), _P(Options)]),
    "adagrad_sparse_workspace": (ctypes.c_size_t, [_P(Sparse), _P(Options), ctypes.c_int]),
    "adagrad_decayed_lr": (ctypes.c_double, [ctypes.c_double, ctypes.c_double, ctypes.c_uint64]),
    "adagrad_max_threads": (ctypes.c_int, []),
    "adagrad_isa_name": (ctypes.c_char_p, [ctypes.c_int]),
    "adagrad_isa_available": (ctypes.c_bool, [ctypes.c_int]),
    "adagrad_active_isa": (ctypes.c_int, []),
    "adagrad_use_isa": (ctypes.c_int, [ctypes.c_int]),
}

_HERE = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    """(where, path) pairs in lookup order; path None means the dynamic linker's search."""
    env = os.environ.get("LIBADAGRAD_LIBRARY")
    if env:
        return [("LIBADAGRAD_LIBRARY", env)]
    found = []
    try:
        from ._location import LIBRARY_DIR  # written by meson install only
        found.append(("installed", os.path.normpath(os.path.join(_HERE, LIBRARY_DIR, SONAME))))
    except ImportError:
        found.append(("build tree", os.path.normpath(os.path.join(_HERE, "..", "..", SONAME))))
    found.append(("dynamic linker", None))
    return found


def _loaded_path(lib):
    """The file the dynamic linker actually mapped, through dladdr."""

    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]

    info = DlInfo()
    libc = ctypes.CDLL(None)
    address = ctypes.cast(lib.adagrad_step, ctypes.c_void_p)
    if libc.dladdr(address, ctypes.byref(info)) and info.dli_fname:
        return os.path.realpath(os.fsdecode(info.dli_fname))
    return None


def _check_version(lib, path):
    missing = [name for name in _PROTOTYPES if not hasattr(lib, name)]
    if missing:
        raise LibraryNotFoundError(
            "%s is not libadagrad %s: it lacks %s (a v0.1 library has only the _f32 entry points); "
            "set LIBADAGRAD_LIBRARY to a %s" % (path, __version__, ", ".join(missing), SONAME))
    # The real file of a meson-built library is libadagrad.so.MAJOR.MINOR.PATCH;
    # another major.minor has another ABI (the structures above).
    m = re.search(r"libadagrad\.so\.(\d+)\.(\d+)\.(\d+)$", path or "")
    wanted = __version__.split(".")[:2]
    if m and list(m.groups()[:2]) != wanted:
        raise LibraryNotFoundError("%s is libadagrad %s, this package is %s (the ABIs differ); "
                                   "use the library of the same build, or set LIBADAGRAD_LIBRARY"
                                   % (path, ".".join(m.groups()), __version__))


def _load():
    tried = []
    for where, path in _candidates():
        if path is not None and not os.path.exists(path):
            tried.append("%s: %s (no such file)" % (where, path))
            continue
        try:
            lib = ctypes.CDLL(path or SONAME)
        except OSError as e:
            if path is None:  # not on the search path: say so with the rest
                tried.append("%s: %s (%s)" % (where, SONAME, e))
                continue
            raise LibraryNotFoundError("cannot load libadagrad (%s): %s" % (where, e)) from None
        real = _loaded_path(lib) if hasattr(lib, "adagrad_step") else (path or SONAME)
        _check_version(lib, real)
        for name, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes
        return lib, real
    raise LibraryNotFoundError(
        "libadagrad's shared library was not found; looked in\n  " + "\n  ".join(tried) +
        "\nBuild it (meson setup build && ninja -C build) and use PYTHONPATH=build/python, "
        "install it (meson install), or set LIBADAGRAD_LIBRARY to the path of %s" % SONAME)


lib, library_path = _load()


def strerror(status):
    return lib.adagrad_strerror(status).decode()


def check(status, where):
    if status != OK:
        raise AdagradError(status, where)
