# libadagrad — torch.optim.Adagrad with the library's kernels.
# SPDX-License-Identifier: MIT
"""A drop-in for torch.optim.Adagrad:

    from libadagrad.torch import Adagrad
    opt = Adagrad(model.parameters(), lr=0.01)      # was torch.optim.Adagrad(...)

It is a subclass of torch.optim.Adagrad with its constructor, state (`sum`,
a float32 `step` tensor), param_groups and state_dict, so checkpoints load
either way, and the same bits as torch 1.13's default path (foreach=False)
for float32 CPU parameters: dense gradients through adagrad_step
(adagrad_step_mt when threads > 1), sparse ones (nn.Embedding(sparse=True),
nn.EmbeddingBag(sparse=True)) through adagrad_sparse_step with
ADAGRAD_TORCH_SPARSE, and ADAGRAD_SUM_DUPLICATES when the gradient is not
coalesced. A row named three or more times in one uncoalesced gradient is
summed in list order, torch's coalesce() in its own order, so there the last
bits may differ (adagrad.h, ADAGRAD_TORCH_SPARSE).

Differences from torch.optim.Adagrad:
  - keyword-only extras: fast (ADAGRAD_FAST: not torch's bits), eps_inside
    (√(s + ε)), both per param group like lr; threads (None:
    torch.get_num_threads() at each step) for the dense step.
  - foreach is accepted and stored, but every step gives foreach=False's bits.
  - step() checks every parameter with a gradient before it changes any:
    a float64, complex, non-CPU or overlapping parameter, a state or gradient
    of another shape, dtype or layout, a weight decay with a sparse
    gradient (torch's RuntimeError) or a non-finite hyper-parameter raises,
    and no parameter, accumulator or step count has changed. (torch
    raises in the middle of a step, after updating the parameters before
    the faulty one.)
  - a parameter added by add_param_group gets its state at its first step,
    with its group's initial_accumulator_value (torch 1.13 raises KeyError).
"""
import ctypes
import math

import torch

from . import _lib, dense_flags, options

__all__ = ["Adagrad"]


def _f32(x):
    return ctypes.c_float(x).value


def _dense_layout(t):
    """True when t's elements fill numel() consecutive floats (any order of
    the dimensions: contiguous, channels_last, ...), so one flat step over
    its storage updates exactly its elements."""
    expected = 1
    for stride, size in sorted((s, n) for s, n in zip(t.stride(), t.shape) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _same_layout(a, b):
    """Same shape, and the same strides wherever a dimension has more than one element."""
    return a.shape == b.shape and all(sa == sb for sa, sb, n in zip(a.stride(), b.stride(), a.shape) if n != 1)


def _describe(t):
    return "%s %s on %s" % (tuple(t.shape), str(t.dtype).replace("torch.", ""), t.device)


def _bump_version(t):
    """The library writes through data_ptr(), which autograd does not see.
    An in-place op on an empty view bumps the version counter the view
    shares with t, so backward still detects a parameter modified after it
    was saved, as it does after torch's in-place step."""
    t.as_strided([0], [1]).add_(0)


if hasattr(torch.autograd.graph, "increment_version"):  # newer torch: the same, as one call
    _bump_version = torch.autograd.graph.increment_version  # noqa: F811


class _Where:
    """Names a parameter in an error message; formatted only when one is raised."""
    __slots__ = ("group", "index")

    def __init__(self, group, index):
        self.group, self.index = group, index

    def __str__(self):
        return "param_groups[%d]['params'][%d]" % (self.group, self.index)


class _Update:
    """One parameter's checked step: run() only increments and calls."""
    __slots__ = ("param", "state", "call", "descriptor", "flags", "group", "keep")


class Adagrad(torch.optim.Adagrad):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, fast=False, eps_inside=False, threads=None):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps,
                         foreach=foreach, maximize=maximize)
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError("threads: expected None or an int >= 1, got %r" % (threads,))
        self.defaults.update(fast=bool(fast), eps_inside=bool(eps_inside))
        for group in self.param_groups:
            group.setdefault("fast", bool(fast))
            group.setdefault("eps_inside", bool(eps_inside))
        self.threads = threads
        self._workspace = None

    def __setstate__(self, state):
        # load_state_dict and unpickling come here: torch's state_dicts lack
        # the extras, which then take this optimizer's defaults.
        super().__setstate__(state)
        self.__dict__.setdefault("threads", None)
        self.__dict__.setdefault("_workspace", None)
        for group in self.param_groups:
            group.setdefault("fast", self.defaults.get("fast", False))
            group.setdefault("eps_inside", self.defaults.get("eps_inside", False))

    @torch.no_grad()
    def step(self, closure=None):
        """One step of every parameter that has a gradient (see the module's
        notes: everything is checked before anything changes)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        updates = []
        for gi, group in enumerate(self.param_groups):
            with_grad = [(pi, p) for pi, p in enumerate(group["params"]) if p.grad is not None]
            if with_grad:
                flags = self._check_group(gi, group)
                updates += [self._check(gi, pi, group, p, flags) for pi, p in with_grad]
        threads = torch.get_num_threads() if self.threads is None else self.threads
        for u in updates:
            self._run(u, threads)
        return loss

    # ---- checking ---------------------------------------------------------

    @staticmethod
    def _check_group(gi, group):
        """The group's hyper-parameters (a decayed lr is never larger than
        lr), and its flags."""
        for key in ("lr", "lr_decay", "eps", "weight_decay"):
            value = float(group[key])
            if not (math.isfinite(value) and value >= 0 and math.isfinite(_f32(value))):
                raise ValueError("param_groups[%d]: %s = %r: libadagrad needs a finite value >= 0 "
                                 "(also as a float32)" % (gi, key, group[key]))
        return dense_flags(group["maximize"], group["eps_inside"], group["fast"])

    def _check(self, gi, pi, group, p, flags):
        where = _Where(gi, pi)
        if p.device.type != "cpu" or p.dtype != torch.float32:
            raise TypeError("%s is %s: libadagrad steps float32 CPU tensors only"
                            % (where, _describe(p)))
        contiguous = p.is_contiguous()
        if not (contiguous or _dense_layout(p)):
            raise ValueError("%s (shape %s, strides %s) does not fill its storage densely: "
                             "libadagrad steps contiguous (or permuted, e.g. channels_last) tensors"
                             % (where, tuple(p.shape), p.stride()))
        state = self.state[p]
        if "sum" not in state:  # added by add_param_group: torch 1.13 never initialises it
            state["step"] = torch.tensor(0.0)
            state["sum"] = torch.full_like(p, group["initial_accumulator_value"],
                                           memory_format=torch.preserve_format)
        s = state["sum"]
        if s.device.type != "cpu" or s.dtype != torch.float32 or \
                not (contiguous and s.is_contiguous() and s.shape == p.shape or _same_layout(s, p)):
            raise ValueError("%s: its state 'sum' is %s with strides %s, the parameter %s with "
                             "strides %s: they must match" % (where, _describe(s), s.stride(),
                                                             _describe(p), p.stride()))
        if not torch.is_tensor(state["step"]):
            state["step"] = torch.tensor(float(state["step"]))
        u = _Update()
        u.param, u.state, u.group, u.keep = p, state, group, None
        g = p.grad
        if g.layout == torch.sparse_coo:
            self._check_sparse(where, group, p, g, u, flags)
        elif g.layout == torch.strided:
            if g.device != p.device or g.dtype != p.dtype or \
                    not (contiguous and g.is_contiguous() and g.shape == p.shape or _same_layout(g, p)):
                raise ValueError("%s: its gradient is %s with strides %s, the parameter %s with "
                                 "strides %s: they must match" % (where, _describe(g), g.stride(),
                                                                 _describe(p), p.stride()))
            u.descriptor = _lib.Dense(param=p.data_ptr(), sum=s.data_ptr(), grad=g.data_ptr(),
                                      n=p.numel())
            u.call = "dense"
            u.flags = flags
        else:
            raise TypeError("%s: gradient layout %s is not supported (strided or sparse_coo)"
                            % (where, g.layout))
        self._check_overlap(where, u)
        return u

    def _check_sparse(self, where, group, p, g, u, flags):
        if group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        if p.dim() < 1 or g.sparse_dim() != 1 or g.dense_dim() != p.dim() - 1:
            raise ValueError("%s: a sparse gradient must index rows (sparse_dim 1), got sparse_dim %d, "
                             "dense_dim %d for a %d-dimensional parameter"
                             % (where, g.sparse_dim(), g.dense_dim(), p.dim()))
        if not (p.is_contiguous() and u.state["sum"].is_contiguous()):
            raise ValueError("%s: a parameter with sparse gradients must be contiguous (rows of the table), "
                             "with a contiguous 'sum'" % where)
        values, indices = g._values(), g._indices()[0]
        if values.dtype != torch.float32 or values.device != p.device or not values.is_contiguous():
            raise ValueError("%s: its sparse gradient's values are %s%s: expected float32 CPU, contiguous"
                             % (where, _describe(values), "" if values.is_contiguous() else ", not contiguous"))
        if not indices.is_contiguous():  # never seen: torch keeps indices as one (1, nnz) block
            indices = indices.contiguous()
        rows = p.shape[0]
        u.descriptor = _lib.Sparse(table=p.data_ptr(), sum=u.state["sum"].data_ptr(), rows=rows,
                                   dim=p.numel() // rows if rows else 0,
                                   indices=indices.data_ptr(), n_indices=indices.numel(),
                                   index_type=_lib.I64, grads=values.data_ptr())
        u.keep = indices  # a copy, if one was made, lives until the call
        # ADAGRAD_TORCH_SPARSE is torch's rounding; FAST is not torch's
        # anyway and takes the contract's order. Duplicates need summing only
        # in a gradient that is not coalesced.
        u.flags = flags | (0 if group["fast"] else _lib.TORCH_SPARSE) | \
            (0 if g.is_coalesced() else _lib.SUM_DUPLICATES)
        u.call = "sparse"

    @staticmethod
    def _check_overlap(where, u):
        """The library refuses overlapping buffers too, but only when it is
        called, after the parameters before this one have changed: checked
        here, the step stays all or nothing."""
        t = u.descriptor
        if u.call == "dense":  # three buffers of one size: apart when their starts are
            a, b, c, n = t.param, t.sum, t.grad, 4 * t.n
            overlap = n != 0 and (abs(a - b) < n or abs(a - c) < n or abs(b - c) < n)
        else:
            table_bytes = 4 * t.rows * t.dim
            ranges = [(start, n) for start, n in ((t.table, table_bytes), (t.sum, table_bytes),
                                                  (t.grads, 4 * t.n_indices * t.dim),
                                                  (t.indices, 8 * t.n_indices)) if n]
            overlap = any(a < b + m and b < a + n for i, (a, n) in enumerate(ranges) for b, m in ranges[:i])
        if overlap:
            raise _lib.AdagradError(_lib.ERR_OVERLAP, str(where))

    # ---- running ------------------------------------------------------------

    def _run(self, u, threads):
        step_t = u.state["step"]
        step_t += 1  # in place, as torch: the state's tensor is the count
        group = u.group
        lr = _lib.lib.adagrad_decayed_lr(float(group["lr"]), float(group["lr_decay"]), int(step_t.item()))
        opt = options(lr, float(group["eps"]), float(group["weight_decay"]), u.flags)
        if u.call == "dense" and threads > 1:
            _lib.check(_lib.lib.adagrad_step_mt(u.descriptor, opt, threads), "adagrad_step_mt")
        elif u.call == "dense":
            _lib.check(_lib.lib.adagrad_step(u.descriptor, opt), "adagrad_step")
        else:
            t = u.descriptor
            if u.flags & _lib.SUM_DUPLICATES:
                nbytes = _lib.lib.adagrad_sparse_workspace(t, opt, 1)
                if self._workspace is None or self._workspace.numel() < nbytes:
                    self._workspace = torch.empty(nbytes, dtype=torch.uint8)
                t.workspace, t.workspace_bytes = self._workspace.data_ptr(), self._workspace.numel()
            _lib.check(_lib.lib.adagrad_sparse_step(t, opt), "adagrad_sparse_step")
        _bump_version(u.param)
