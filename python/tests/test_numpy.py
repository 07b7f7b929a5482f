# libadagrad — libadagrad.step and sparse_step on numpy arrays: the same bits
# as the C steps called directly, and every argument error before any write.
# SPDX-License-Identifier: MIT
import ctypes
import itertools
import subprocess
import sys

import pytest

np = pytest.importorskip("numpy", reason="libadagrad.step and sparse_step take numpy arrays (python3-numpy)")

import libadagrad  # noqa: E402
from libadagrad import _lib  # noqa: E402

from conftest import run_with_team_of_two  # noqa: E402

# The header's values, written again here so that a wrong constant in the
# package cannot agree with itself.
MAXIMIZE, EPS_INSIDE, FAST, SUM_DUPLICATES, TORCH_SPARSE = 0x1, 0x2, 0x4, 0x8, 0x10
ERR_PARAM, ERR_OVERLAP, ERR_RANGE = -2, -3, -4


class RefOptions(ctypes.Structure):  # adagrad_options, declared independently of _lib
    _fields_ = [("lr", ctypes.c_float), ("eps", ctypes.c_float), ("weight_decay", ctypes.c_float),
                ("flags", ctypes.c_uint), ("seed", ctypes.c_uint64), ("step", ctypes.c_uint64)]


C = ctypes.CDLL(libadagrad.library_path)  # the same library; the v0.1 entry points, raw pointers
C.adagrad_sparse_workspace_bytes.restype = ctypes.c_size_t


def ptr(a):
    return ctypes.c_void_p(a.ctypes.data)


def c_dense(param, sum, grad, opt):
    status = C.adagrad_step_f32(ptr(param), ptr(sum), ptr(grad), ctypes.c_size_t(param.size), ctypes.byref(opt))
    assert status == 0


def c_table(param, sum, indices, grads, opt, rowwise=False):
    rows, dim = param.shape
    ws = np.empty(C.adagrad_sparse_workspace_bytes(ctypes.c_size_t(indices.size), ctypes.c_size_t(dim)) + 1,
                  dtype=np.uint8)
    name = "adagrad_%s_step_ws_%s" % ("rowwise" if rowwise else "sparse",
                                      "i32" if indices.dtype == np.int32 else "f32")
    status = getattr(C, name)(ptr(param), ptr(sum), ctypes.c_size_t(rows), ctypes.c_size_t(dim), ptr(indices),
                              ptr(grads), ctypes.c_size_t(indices.size), ctypes.byref(opt), ptr(ws),
                              ctypes.c_size_t(ws.size))
    assert status == 0


def training_data(n, seed):
    """The report's distributions: θ in [-1, 1], s log-uniform in [1e-2, 1e2],
    g of random sign and magnitude log-uniform in [1e-4, 1]."""
    rng = np.random.default_rng(seed)
    param = rng.uniform(-1, 1, n).astype(np.float32)
    sum = (10.0 ** rng.uniform(-2, 2, n)).astype(np.float32)
    grad = (rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-4, 0, n)).astype(np.float32)
    return param, sum, grad


def bits(a):
    return a.view(np.uint32)


def same_bits(a, b):
    return np.array_equal(bits(a), bits(b))


@pytest.mark.parametrize("maximize,eps_inside,fast,weight_decay", itertools.product(
    [False, True], [False, True], [False, True], [0.0, 0.01]))
def test_step_is_the_c_step(maximize, eps_inside, fast, weight_decay):
    param, sum, grad = training_data(10007, 1)
    ref_param, ref_sum = param.copy(), sum.copy()
    flags = (MAXIMIZE if maximize else 0) | (EPS_INSIDE if eps_inside else 0) | (FAST if fast else 0)
    for _ in range(3):
        libadagrad.step(param, sum, grad, lr=0.01, eps=1e-8, weight_decay=weight_decay,
                        maximize=maximize, eps_inside=eps_inside, fast=fast)
        c_dense(ref_param, ref_sum, grad, RefOptions(lr=0.01, eps=1e-8, weight_decay=weight_decay, flags=flags))
    assert same_bits(param, ref_param) and same_bits(sum, ref_sum)


def test_step_is_the_formula():
    """Not only the same call as the C one: the documented update, within float32 rounding."""
    param, sum, grad = training_data(4099, 2)
    p0, s0, g = param.astype(np.float64), sum.astype(np.float64), -grad.astype(np.float64)  # maximize
    g = g + 0.5 * p0
    s = s0 + g * g
    expected = p0 - 0.1 * g / (np.sqrt(s + 1e-3))
    libadagrad.step(param, sum, grad, lr=0.1, eps=1e-3, weight_decay=0.5, maximize=True, eps_inside=True)
    np.testing.assert_allclose(sum, s, rtol=2e-7)
    np.testing.assert_allclose(param, expected, rtol=1e-6, atol=1e-7)


def test_step_threads_are_bitwise_one_thread():
    """threaded_checks.py, in a process whose OpenMP team has two threads."""
    run_with_team_of_two("numpy")


def test_step_any_shape_and_empty():
    param, sum, grad = (a.reshape(7, 3, 5) for a in training_data(105, 4))
    flat = [a.ravel().copy() for a in (param, sum)]
    libadagrad.step(param, sum, grad, lr=0.1)
    c_dense(flat[0], flat[1], grad.ravel(), RefOptions(lr=0.1, eps=1e-10))
    assert same_bits(param.ravel(), flat[0])
    empty = np.zeros(0, np.float32)
    libadagrad.step(empty, empty.copy(), empty.copy(), lr=0.1)


def table_case(rows, dim, n, seed, index_dtype=np.int64, max_repeats=2):
    rng = np.random.default_rng(seed)
    table, _, _ = training_data(rows * dim, seed)
    sum = (10.0 ** rng.uniform(-2, 2, rows * dim)).astype(np.float32)
    picks = np.concatenate([rng.permutation(rows) for _ in range(max_repeats)])
    indices = rng.permutation(picks[: n])[:n].astype(index_dtype)
    grads = (rng.choice([-1.0, 1.0], n * dim) * 10.0 ** rng.uniform(-4, 0, n * dim)).astype(np.float32)
    return table.reshape(rows, dim), sum.reshape(rows, dim), indices, grads.reshape(n, dim)


@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
@pytest.mark.parametrize("flags", [0, MAXIMIZE, SUM_DUPLICATES, SUM_DUPLICATES | TORCH_SPARSE,
                                   TORCH_SPARSE, EPS_INSIDE | SUM_DUPLICATES, FAST])
def test_sparse_step_is_the_c_step(index_dtype, flags):
    table, sum, indices, grads = table_case(97, 19, 150, 5, index_dtype)
    ref_table, ref_sum = table.copy(), sum.copy()
    libadagrad.sparse_step(table, sum, indices, grads, lr=0.05, eps=1e-6,
                           maximize=bool(flags & MAXIMIZE), eps_inside=bool(flags & EPS_INSIDE),
                           fast=bool(flags & FAST), sum_duplicates=bool(flags & SUM_DUPLICATES),
                           torch_sparse=bool(flags & TORCH_SPARSE))
    c_table(ref_table, ref_sum, indices, grads, RefOptions(lr=0.05, eps=1e-6, flags=flags))
    assert same_bits(table, ref_table) and same_bits(sum, ref_sum)


@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
def test_rowwise_step_is_the_c_step(index_dtype):
    table, _, indices, grads = table_case(64, 33, 100, 6, index_dtype)
    row_sum = np.linspace(0.01, 3, 64, dtype=np.float32)
    ref_table, ref_sum = table.copy(), row_sum.copy()
    libadagrad.sparse_step(table, row_sum, indices, grads, lr=0.05, weight_decay=0.01, rowwise=True)
    c_table(ref_table, ref_sum, indices, grads, RefOptions(lr=0.05, eps=1e-10, weight_decay=0.01), rowwise=True)
    assert same_bits(table, ref_table) and same_bits(row_sum, ref_sum)


def test_sparse_step_is_the_dense_step_row_by_row():
    """Independent of the table entry points: each named row takes the dense step."""
    table, sum, indices, grads = table_case(50, 8, 30, 7, max_repeats=1)
    ref_table, ref_sum = table.copy(), sum.copy()
    libadagrad.sparse_step(table, sum, indices, grads, lr=0.3)
    for k, r in enumerate(indices):
        libadagrad.step(ref_table[r], ref_sum[r], grads[k], lr=0.3)
    assert same_bits(table, ref_table) and same_bits(sum, ref_sum)


def test_sum_duplicates_sums_first():
    table, sum, _, _ = table_case(4, 5, 0, 8)
    indices = np.array([2, 2], dtype=np.int64)
    grads = np.array([[0.5] * 5, [0.25] * 5], dtype=np.float32)
    ref_table, ref_sum = table.copy(), sum.copy()
    libadagrad.sparse_step(table, sum, indices, grads, lr=0.1, sum_duplicates=True)
    libadagrad.step(ref_table[2], ref_sum[2], grads[0] + grads[1], lr=0.1)
    assert same_bits(table, ref_table) and same_bits(sum, ref_sum)


def test_sparse_step_empty_batch():
    table, sum, _, _ = table_case(4, 5, 0, 9)
    before = table.copy()
    libadagrad.sparse_step(table, sum, np.zeros(0, np.int64), np.zeros((0, 5), np.float32), lr=0.1,
                           sum_duplicates=True)
    assert same_bits(table, before)


# ---- errors: each raises before anything is written ----------------------

def dense_arrays():
    return list(training_data(64, 10))


def assert_untouched(arrays, before):
    for a, b in zip(arrays, before):
        assert same_bits(a, b)


def readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("change,kwargs,error,match", [
    (lambda a: [a[0].tolist(), a[1], a[2]], {}, TypeError, "param: expected a numpy.ndarray, got list"),
    (lambda a: [a[0].astype(np.float64), a[1], a[2]], {}, TypeError, "param: dtype float64, expected float32"),
    (lambda a: [a[0], a[1], a[2].astype(">f4")], {}, TypeError, "grad: dtype >f4, expected float32"),
    (lambda a: [a[0], a[1].astype(np.float16), a[2]], {}, TypeError, "sum: dtype float16"),
    (lambda a: [np.zeros(128, np.float32)[::2], a[1], a[2]], {}, ValueError,
     r"param: not C-contiguous \(a copy would not be updated in place\)"),
    (lambda a: [a[0], a[1], np.zeros(128, np.float32)[::2]], {}, ValueError,
     "grad: not C-contiguous .*ascontiguousarray"),
    (lambda a: [readonly(a[0]), a[1], a[2]], {}, ValueError, "param: read-only array"),
    (lambda a: [a[0], readonly(a[1]), a[2]], {}, ValueError, "sum: read-only array"),
    (lambda a: [a[0], a[1], a[2][:63]], {}, ValueError, r"one shape, got \(64,\), \(64,\) and \(63,\)"),
    (lambda a: [a[0], a[1], a[2].reshape(8, 8)], {}, ValueError, "one shape"),
    (lambda a: a, {"lr": -0.1}, libadagrad.AdagradError, "adagrad_step: ADAGRAD_ERR_PARAM"),
    (lambda a: a, {"lr": float("nan")}, libadagrad.AdagradError, "ADAGRAD_ERR_PARAM"),
    (lambda a: a, {"eps": float("inf")}, libadagrad.AdagradError, "ADAGRAD_ERR_PARAM"),
    (lambda a: a, {"weight_decay": 1e39}, libadagrad.AdagradError, "ADAGRAD_ERR_PARAM"),  # inf as a float32
    (lambda a: a, {"threads": 2, "lr": -1.0}, libadagrad.AdagradError, "adagrad_step_mt: ADAGRAD_ERR_PARAM"),
    (lambda a: [a[0], a[0], a[2]], {}, libadagrad.AdagradError, "ADAGRAD_ERR_OVERLAP"),
    (lambda a: [a[0], a[1], a[0]], {}, libadagrad.AdagradError, "ADAGRAD_ERR_OVERLAP"),
])
def test_step_errors(change, kwargs, error, match):
    arrays = change(dense_arrays())
    before = [np.array(a, copy=True) for a in arrays]
    with pytest.raises(error, match=match) as info:
        libadagrad.step(*arrays, **{"lr": 0.1, **kwargs})
    if error is libadagrad.AdagradError:
        assert info.value.status in (ERR_PARAM, ERR_OVERLAP)
    assert_untouched([a for a in arrays if isinstance(a, np.ndarray)],
                     [b for a, b in zip(arrays, before) if isinstance(a, np.ndarray)])


def table_arrays():
    return list(table_case(10, 4, 6, 11))


@pytest.mark.parametrize("change,kwargs,error,match", [
    (lambda a: [a[0], a[1], a[2].astype(np.float32), a[3]], {}, TypeError,
     "indices: dtype float32, expected int64 or int32"),
    (lambda a: [a[0], a[1], a[2].astype(np.int16), a[3]], {}, TypeError, "indices: dtype int16"),
    (lambda a: [a[0], a[1], a[2].tolist(), a[3]], {}, TypeError, "indices: expected a numpy.ndarray"),
    (lambda a: [a[0].ravel(), a[1], a[2], a[3]], {}, ValueError, "table: expected 2 dimensions"),
    (lambda a: [a[0], a[1][:9], a[2], a[3]], {}, ValueError, r"sum: expected shape \(10, 4\), got \(9, 4\)"),
    (lambda a: a, {"rowwise": True}, ValueError, r"sum: expected shape \(10,\) \(rowwise\)"),
    (lambda a: [a[0], a[1], a[2].reshape(2, 3), a[3]], {}, ValueError, "indices: expected 1 dimension"),
    (lambda a: [a[0], a[1], a[2], a[3][:5]], {}, ValueError, r"grads: expected shape \(6, 4\), got \(5, 4\)"),
    (lambda a: [a[0], a[1], a[2], a[3][:, :3].copy()], {}, ValueError, "grads: expected shape"),
    (lambda a: [a[0][:, :2], a[1], a[2], a[3]], {}, ValueError, "table: not C-contiguous"),
    (lambda a: [readonly(a[0]), a[1], a[2], a[3]], {}, ValueError, "table: read-only"),
    (lambda a: [a[0], a[1], a[2] * 0 + 10, a[3]], {}, libadagrad.AdagradError, "ADAGRAD_ERR_RANGE"),
    (lambda a: [a[0], a[1], np.array([0, 1, 2, 3, 4, -1]), a[3]], {}, libadagrad.AdagradError,
     "adagrad_sparse_step: ADAGRAD_ERR_RANGE"),
    (lambda a: [a[0], a[1], np.array([0, 1, 2, 3, 4, 10], np.int32), a[3]], {"sum_duplicates": True},
     libadagrad.AdagradError, "ADAGRAD_ERR_RANGE"),
    (lambda a: [a[0], a[1][:, 0].copy(), a[2], a[3]], {"rowwise": True, "torch_sparse": True},
     libadagrad.AdagradError, "ADAGRAD_ERR_PARAM"),
    (lambda a: a, {"fast": True, "torch_sparse": True}, libadagrad.AdagradError, "ADAGRAD_ERR_PARAM"),
    (lambda a: a, {"lr": -1.0}, libadagrad.AdagradError, "ADAGRAD_ERR_PARAM"),
    (lambda a: [a[0], a[0], a[2], a[3]], {}, libadagrad.AdagradError, "ADAGRAD_ERR_OVERLAP"),
])
def test_sparse_step_errors(change, kwargs, error, match):
    arrays = change(table_arrays())
    before = [np.array(a, copy=True) for a in arrays]
    with pytest.raises(error, match=match) as info:
        libadagrad.sparse_step(*arrays, **{"lr": 0.1, **kwargs})
    if error is libadagrad.AdagradError:
        assert info.value.status in (ERR_PARAM, ERR_OVERLAP, ERR_RANGE)
    for a, b in zip(arrays, before):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a.view(np.uint8), b.view(np.uint8))


def test_keyword_only():
    param, sum, grad = dense_arrays()
    with pytest.raises(TypeError):
        libadagrad.step(param, sum, grad, 0.1)  # lr must be named
    with pytest.raises(TypeError):
        libadagrad.step(param, sum, grad)  # and given


def test_without_numpy_the_message_says_so():
    code = ("import sys; sys.modules['numpy'] = None\n"
            "import libadagrad\n"
            "try:\n    libadagrad.step(None, None, None, lr=1)\n"
            "except ImportError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "install numpy (Debian: python3-numpy)" in r.stdout


def test_decayed_lr_is_torchs_formula():
    for lr, decay, step in [(0.1, 0.0, 1), (0.1, 0.01, 7), (1e-3, 0.5, 300)]:
        assert libadagrad.decayed_lr(lr, decay, step) == lr / (1 + (step - 1) * decay)
    assert np.isnan(libadagrad.decayed_lr(0.1, 0.0, 0))
