# libadagrad — Python bindings (ctypes, no compiled extension).
# SPDX-License-Identifier: MIT
"""SIMD AdaGrad steps from Python.

    import libadagrad
    libadagrad.step(param, sum, grad, lr=0.01)             # numpy float32 arrays, in place
    libadagrad.sparse_step(table, sum, indices, grads, lr=0.01, sum_duplicates=True)

    from libadagrad.torch import Adagrad                    # torch.optim.Adagrad, same bits

Every call validates its arguments before it writes anything: a TypeError or
ValueError names the argument at fault, and a status of the library becomes
an AdagradError carrying adagrad_strerror's text. numpy is needed only for
step() and sparse_step(), torch only for libadagrad.torch.
"""
__version__ = "0.2.0"  # meson checks that it is the project's version

from . import _lib  # noqa: E402  (needs __version__)
from ._lib import AdagradError, LibraryNotFoundError, library_path  # noqa: E402,F401

__all__ = ["step", "sparse_step", "decayed_lr", "active_isa", "use_isa", "available_isas",
           "max_threads", "AdagradError", "LibraryNotFoundError", "library_path", "__version__"]


def options(lr, eps=1e-10, weight_decay=0.0, flags=0):
    """An adagrad_options; the floats are rounded to binary32 as torch rounds its scalars."""
    return _lib.Options(lr=lr, eps=eps, weight_decay=weight_decay, flags=flags)


def dense_flags(maximize=False, eps_inside=False, fast=False):
    return (_lib.MAXIMIZE if maximize else 0) | (_lib.EPS_INSIDE if eps_inside else 0) | \
        (_lib.FAST if fast else 0)


def decayed_lr(lr, lr_decay, step):
    """torch's lr / (1 + (step - 1) * lr_decay), step counted from 1, in double."""
    return _lib.lib.adagrad_decayed_lr(lr, lr_decay, step)


def active_isa():
    """The implementation the steps use: "scalar", "avx2", "avx512", "neon" or "sve"."""
    return _lib.ISA_NAMES[_lib.lib.adagrad_active_isa()]


def available_isas():
    return [name for i, name in enumerate(_lib.ISA_NAMES) if _lib.lib.adagrad_isa_available(i)]


def use_isa(name):
    """Switch the implementation for the whole process (EXACT results never change)."""
    if name not in _lib.ISA_NAMES:
        raise ValueError("unknown implementation %r; one of %s" % (name, ", ".join(_lib.ISA_NAMES)))
    _lib.check(_lib.lib.adagrad_use_isa(_lib.ISA_NAMES.index(name)), "use_isa(%r)" % name)


def max_threads():
    """The size of the multi-threaded step's OpenMP team."""
    return _lib.lib.adagrad_max_threads()


def _numpy():
    try:
        import numpy
    except ImportError:
        raise ImportError("libadagrad.step and sparse_step take numpy arrays: install numpy "
                          "(Debian: python3-numpy)") from None
    return numpy


def _check_array(np, name, a, dtypes, writeable):
    if not isinstance(a, np.ndarray):
        raise TypeError("%s: expected a numpy.ndarray, got %s" % (name, type(a).__name__))
    if a.dtype not in [np.dtype(d) for d in dtypes]:
        raise TypeError("%s: dtype %s, expected %s" % (name, a.dtype, " or ".join(dtypes)))
    if not a.flags.c_contiguous:
        raise ValueError("%s: not C-contiguous (a copy would not be updated in place)" % name
                         if writeable else "%s: not C-contiguous (numpy.ascontiguousarray makes it so)" % name)
    if writeable and not a.flags.writeable:
        raise ValueError("%s: read-only array" % name)


def step(param, sum, grad, *, lr, eps=1e-10, weight_decay=0.0, maximize=False, eps_inside=False,
         fast=False, threads=1):
    """One AdaGrad step of param and sum (C-contiguous float32 arrays of one shape), in place.

    grad (the same shape, float32) is only read. lr is the step's learning
    rate, after any decay (decayed_lr). threads > 1 splits the step across
    the library's OpenMP team (bitwise the one-thread result), ≤ 0 uses the
    whole team."""
    np = _numpy()
    _check_array(np, "param", param, ["float32"], True)
    _check_array(np, "sum", sum, ["float32"], True)
    _check_array(np, "grad", grad, ["float32"], False)
    if not param.shape == sum.shape == grad.shape:
        raise ValueError("param, sum and grad must have one shape, got %s, %s and %s"
                         % (param.shape, sum.shape, grad.shape))
    t = _lib.Dense(param=param.ctypes.data, sum=sum.ctypes.data, grad=grad.ctypes.data, n=param.size)
    opt = options(lr, eps, weight_decay, dense_flags(maximize, eps_inside, fast))
    if threads == 1:
        _lib.check(_lib.lib.adagrad_step(t, opt), "adagrad_step")
    else:
        _lib.check(_lib.lib.adagrad_step_mt(t, opt, threads), "adagrad_step_mt")


def sparse_step(table, sum, indices, grads, *, lr, eps=1e-10, weight_decay=0.0, maximize=False,
                eps_inside=False, fast=False, rowwise=False, sum_duplicates=False, torch_sparse=False):
    """One AdaGrad step of the rows of table named by indices, in place.

    table is (rows, dim) float32; sum is (rows, dim), or (rows,) with
    rowwise (one accumulator per row); indices is (n,) int64 or int32;
    grads is (n, dim) float32, row k the gradient of table row indices[k].
    Duplicate indices are applied in order, each a full step, or with
    sum_duplicates summed first (PyTorch's semantics). torch_sparse rounds
    as torch.optim.Adagrad's sparse path (with sum_duplicates:
    nn.Embedding(sparse=True)'s bits). An index out of range raises
    AdagradError (ADAGRAD_ERR_RANGE) with the table untouched."""
    np = _numpy()
    _check_array(np, "table", table, ["float32"], True)
    _check_array(np, "sum", sum, ["float32"], True)
    _check_array(np, "indices", indices, ["int64", "int32"], False)
    _check_array(np, "grads", grads, ["float32"], False)
    if table.ndim != 2:
        raise ValueError("table: expected 2 dimensions (rows, dim), got shape %s" % (table.shape,))
    rows, dim = table.shape
    wanted_sum = (rows,) if rowwise else (rows, dim)
    if sum.shape != wanted_sum:
        raise ValueError("sum: expected shape %s%s, got %s"
                         % (wanted_sum, " (rowwise)" if rowwise else "", sum.shape))
    if indices.ndim != 1:
        raise ValueError("indices: expected 1 dimension, got shape %s" % (indices.shape,))
    if grads.shape != (indices.size, dim):
        raise ValueError("grads: expected shape %s, got %s" % ((indices.size, dim), grads.shape))
    flags = dense_flags(maximize, eps_inside, fast) | (_lib.ROWWISE if rowwise else 0) | \
        (_lib.SUM_DUPLICATES if sum_duplicates else 0) | (_lib.TORCH_SPARSE if torch_sparse else 0)
    t = _lib.Sparse(table=table.ctypes.data, sum=sum.ctypes.data, rows=rows, dim=dim,
                    indices=indices.ctypes.data, n_indices=indices.size,
                    index_type=_lib.I32 if indices.dtype == np.int32 else _lib.I64,
                    grads=grads.ctypes.data)
    opt = options(lr, eps, weight_decay, flags)
    if sum_duplicates:
        nbytes = _lib.lib.adagrad_sparse_workspace(t, opt, 1)
        if nbytes == _lib.SIZE_MAX:
            raise AdagradError(_lib.ERR_SIZE, "adagrad_sparse_workspace")
        workspace = np.empty(max(nbytes, 1), dtype=np.uint8)  # alive until the call returns
        t.workspace, t.workspace_bytes = workspace.ctypes.data, nbytes
    _lib.check(_lib.lib.adagrad_sparse_step(t, opt), "adagrad_sparse_step")
