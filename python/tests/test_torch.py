# libadagrad — libadagrad.torch.Adagrad against torch.optim.Adagrad: the same
# bits along whole trajectories (dense and sparse), state_dicts both ways,
# param groups, and every error raised before anything changes.
# SPDX-License-Identifier: MIT
import copy
import io
import os
import pickle
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch", reason="libadagrad.torch needs PyTorch (python3-torch)")

import libadagrad  # noqa: E402
from libadagrad import _lib  # noqa: E402
from libadagrad.torch import Adagrad  # noqa: E402

from conftest import PYTHON_DIR, run_with_team_of_two, torch_bitwise_reason  # noqa: E402

STEPS = 300


@pytest.fixture(autouse=True)
def one_thread():
    """torch's reference runs on one thread (its results do not depend on
    it, but the timing of the suite does)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def bits(t):
    return t.detach().view(torch.int32)


def assert_same_state(ref_model, ref_state, model, state, where=""):
    """Parameters, accumulators and step counts, bit for bit; *_state are
    optimizers' state mappings."""
    for (name, p), q in zip(ref_model.named_parameters(), model.parameters()):
        assert torch.equal(bits(p), bits(q)), "%s%s: parameter differs" % (where, name)
        rs, s = ref_state.get(p, {}), state.get(q, {})
        if "sum" in rs or "sum" in s:
            assert torch.equal(bits(rs["sum"]), bits(s["sum"])), "%s%s: sum differs" % (where, name)
            assert rs["step"].dtype == s["step"].dtype == torch.float32
            assert rs["step"].item() == s["step"].item(), "%s%s: step count differs" % (where, name)


# ---- models and data: seeded, so two instances are identical ---------------

class Dense(torch.nn.Module):
    """Shapes with vector bodies and tails: 13×37, 37 (< one AVX-512 vector
    past 32), 3×37, 3, and a 0-dimensional gain."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.a = torch.nn.Linear(13, 37)
        self.b = torch.nn.Linear(37, 3)
        self.gain = torch.nn.Parameter(torch.tensor(0.7))

    def forward(self, x):
        return self.b(torch.tanh(self.a(x))) * self.gain


class Sparse(torch.nn.Module):
    """An embedding table with sparse gradients, an embedding bag with sparse
    gradients, and a dense head: what a recommender's optimizer sees."""
    ROWS, DIM, BATCH = 60, 8, 48

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.emb = torch.nn.Embedding(self.ROWS, self.DIM, sparse=True)
        self.bag = torch.nn.EmbeddingBag(self.ROWS, self.DIM, mode="sum", sparse=True)
        self.head = torch.nn.Linear(2 * self.DIM, 1)

    def forward(self, batch):
        idx, bag_idx, offsets = batch[:3]
        return self.head(torch.cat([self.emb(idx), self.bag(bag_idx, offsets)], 1)).squeeze(1)


def rows_at_most_twice(gen, rows, n):
    """n row indices in which no row appears more than twice: torch sums a
    row's duplicates in coalesce()'s order, which for three or more is not
    list order (adagrad.h, ADAGRAD_TORCH_SPARSE)."""
    picks = torch.cat([torch.randperm(rows, generator=gen), torch.randperm(rows, generator=gen)])[:n]
    return picks[torch.randperm(n, generator=gen)]


def dense_batch(gen):
    return torch.randn(32, 13, generator=gen), torch.randn(32, 3, generator=gen)


def sparse_batch(gen):
    m = Sparse
    idx = rows_at_most_twice(gen, m.ROWS, m.BATCH)
    bag_idx = rows_at_most_twice(gen, m.ROWS, 2 * m.BATCH)
    offsets = torch.arange(0, 2 * m.BATCH, 2)
    return idx, bag_idx, offsets, torch.randn(m.BATCH, generator=gen)


def loss_of(model, batch):
    if isinstance(model, Sparse):
        return torch.nn.functional.mse_loss(model(batch), batch[3])
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


def train(pairs, batches, steps, before_step=None):
    """Trains each (model, optimizer) on the same batches; checks the first
    pair (torch) against the others after every step."""
    gen = torch.Generator().manual_seed(1)
    for k in range(steps):
        batch = batches(gen)
        for model, opt in pairs:
            opt.zero_grad()
            loss_of(model, batch).backward()
            if before_step:
                before_step(model)
            opt.step()
        for model, opt in pairs[1:]:
            assert_same_state(pairs[0][0], pairs[0][1].state, model, opt.state, "step %d: " % (k + 1))


# ---- trajectories -------------------------------------------------------------

HYPER = {
    "defaults": {},
    "lr_decay": {"lr": 0.05, "lr_decay": 0.01},
    "weight_decay": {"lr": 0.05, "weight_decay": 0.02},
    "initial_accumulator_value": {"lr": 0.05, "initial_accumulator_value": 0.3},
    "maximize": {"lr": 0.01, "maximize": True},
    "eps": {"lr": 0.05, "eps": 1e-3},
    "all": {"lr": 0.05, "lr_decay": 0.003, "weight_decay": 0.01, "initial_accumulator_value": 0.1,
            "eps": 1e-6, "maximize": True},
}


@pytest.mark.parametrize("case", list(HYPER))
def test_dense_trajectory(torch_bitwise, case):
    ref, model = Dense(), Dense()
    pairs = [(ref, torch.optim.Adagrad(ref.parameters(), foreach=False, **HYPER[case])),
             (model, Adagrad(model.parameters(), **HYPER[case]))]
    train(pairs, dense_batch, STEPS)


@pytest.mark.parametrize("case", [c for c in HYPER if "weight_decay" not in HYPER[c]])
def test_sparse_trajectory(torch_bitwise, case):
    ref, model = Sparse(), Sparse()
    pairs = [(ref, torch.optim.Adagrad(ref.parameters(), foreach=False, **HYPER[case])),
             (model, Adagrad(model.parameters(), **HYPER[case]))]
    train(pairs, sparse_batch, STEPS)


def test_sparse_coalesced_gradients(torch_bitwise):
    """A coalesced gradient (what DistributedDataParallel hands over) takes
    the step without SUM_DUPLICATES."""
    def coalesce(model):
        for p in model.parameters():
            if p.grad.is_sparse:
                p.grad = p.grad.coalesce()

    ref, model = Sparse(), Sparse()
    pairs = [(ref, torch.optim.Adagrad(ref.parameters(), lr=0.05, foreach=False)),
             (model, Adagrad(model.parameters(), lr=0.05))]
    train(pairs, sparse_batch, 50, before_step=coalesce)


def test_foreach_is_accepted_and_gives_foreach_false_bits(torch_bitwise):
    ref, model = Dense(), Dense()
    pairs = [(ref, torch.optim.Adagrad(ref.parameters(), lr=0.05, lr_decay=0.01, foreach=False)),
             (model, Adagrad(model.parameters(), lr=0.05, lr_decay=0.01, foreach=True))]
    train(pairs, dense_batch, 20)


def test_threads_split_the_dense_step(torch_bitwise):
    """threads=2 runs adagrad_step_mt on a tensor large enough to split:
    still torch's bits (threaded_checks.py, in a process whose OpenMP team
    has two threads)."""
    run_with_team_of_two("torch")


def test_channels_last_parameters(torch_bitwise):
    def make():
        torch.manual_seed(0)
        return torch.nn.Conv2d(3, 8, 3).to(memory_format=torch.channels_last)

    ref, model = make(), make()
    assert not model.weight.is_contiguous()
    opts = [torch.optim.Adagrad(ref.parameters(), lr=0.05, foreach=False), Adagrad(model.parameters(), lr=0.05)]
    gen = torch.Generator().manual_seed(4)
    for _ in range(20):
        x = torch.randn(2, 3, 9, 9, generator=gen).to(memory_format=torch.channels_last)
        for m, o in zip((ref, model), opts):
            o.zero_grad()
            m(x).square().mean().backward()
            o.step()
    assert_same_state(ref, opts[0].state, model, opts[1].state)


def test_fast_keeps_torchs_accumulator():
    """ADAGRAD_FAST changes only θ's last bits: s stays torch's, bit for bit."""
    ref, model = Dense(), Dense()
    ref_opt, opt = torch.optim.Adagrad(ref.parameters(), lr=0.05, foreach=False), \
        Adagrad(model.parameters(), lr=0.05, fast=True)
    batch = dense_batch(torch.Generator().manual_seed(5))
    for m, o in ((ref, ref_opt), (model, opt)):
        loss_of(m, batch).backward()
        o.step()
    for p, q in zip(ref.parameters(), model.parameters()):
        if torch_bitwise_reason() is None:
            assert torch.equal(bits(ref_opt.state[p]["sum"]), bits(opt.state[q]["sum"]))
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)
    assert opt.param_groups[0]["fast"] is True


def test_eps_inside_is_the_formula():
    p = torch.nn.Parameter(torch.tensor([0.5, -1.0, 2.0]))
    opt = Adagrad([p], lr=0.1, eps=0.25, eps_inside=True, initial_accumulator_value=0.5)
    p.grad = torch.tensor([0.1, -0.2, 0.0])
    opt.step()
    g, s0 = p.grad.double(), 0.5
    expected = torch.tensor([0.5, -1.0, 2.0]).double() - 0.1 * g / torch.sqrt(s0 + g * g + 0.25)
    torch.testing.assert_close(p.detach().double(), expected, rtol=1e-6, atol=0)


# ---- state_dict both ways ----------------------------------------------------

def through_bytes(state_dict):
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    buffer.seek(0)
    return torch.load(buffer)


@pytest.mark.parametrize("first", ["ours", "torch"])
@pytest.mark.parametrize("model_type", [Dense, Sparse])
def test_state_dict_interchange(torch_bitwise, first, model_type):
    """Train 40 steps with one optimizer, move its state_dict (through
    torch.save) to the other kind, train 40 more: the same bits as 80
    steps of torch alone."""
    hyper = {"lr": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.2, "eps": 1e-7}
    kinds = {"ours": lambda m: Adagrad(m.parameters(), **hyper),
             "torch": lambda m: torch.optim.Adagrad(m.parameters(), foreach=False, **hyper)}
    second = "torch" if first == "ours" else "ours"
    batches = dense_batch if model_type is Dense else sparse_batch
    ref, model = model_type(), model_type()
    ref_opt, opt = kinds["torch"](ref), kinds[first](model)
    gen = torch.Generator().manual_seed(6)
    for k in range(80):
        if k == 40:
            state = through_bytes(opt.state_dict())
            opt = kinds[second](model)
            opt.load_state_dict(state)
            assert_same_state(ref, ref_opt.state, model, opt.state, "after loading: ")
        batch = batches(gen)
        for m, o in ((ref, ref_opt), (model, opt)):
            o.zero_grad()
            loss_of(m, batch).backward()
            o.step()
    assert_same_state(ref, ref_opt.state, model, opt.state)


def test_state_dict_layout_is_torchs():
    ref, model = Dense(), Dense()
    ref_sd = torch.optim.Adagrad(ref.parameters(), lr=0.1).state_dict()
    sd = Adagrad(model.parameters(), lr=0.1).state_dict()
    assert sd["state"].keys() == ref_sd["state"].keys()
    for i in sd["state"]:
        assert sd["state"][i].keys() == ref_sd["state"][i].keys() == {"step", "sum"}
        assert sd["state"][i]["step"].dtype == torch.float32 and sd["state"][i]["step"].dim() == 0
        assert sd["state"][i]["sum"].dtype == ref_sd["state"][i]["sum"].dtype
    (group,), (ref_group,) = sd["param_groups"], ref_sd["param_groups"]
    assert set(group) - set(ref_group) == {"fast", "eps_inside"}  # the extras, per group
    assert all(group[k] == ref_group[k] for k in ref_group)


def test_loading_torchs_state_dict_keeps_our_extras():
    model = Dense()
    opt = Adagrad(model.parameters(), lr=0.1, fast=True)
    opt.load_state_dict(torch.optim.Adagrad(Dense().parameters(), lr=0.3).state_dict())
    assert opt.param_groups[0]["lr"] == 0.3 and opt.param_groups[0]["fast"] is True
    assert opt.param_groups[0]["eps_inside"] is False


def test_pickled_optimizer_still_steps():
    model = Dense()
    opt = Adagrad(model.parameters(), lr=0.1, threads=1)
    clone = pickle.loads(pickle.dumps(opt))  # torch pickles defaults, state and groups only
    assert clone.threads is None and clone.param_groups[0]["fast"] is False
    for p in clone.param_groups[0]["params"]:
        p.grad = torch.ones_like(p)
    clone.step()
    assert all(s["step"].item() == 1 for s in clone.state.values())
    copy.deepcopy(opt).step()


# ---- param groups, add_param_group, zero_grad, None gradients --------------

def test_param_groups(torch_bitwise):
    def groups(m):
        return [{"params": m.a.parameters(), "lr": 0.2, "eps": 1e-4, "weight_decay": 0.01},
                {"params": list(m.b.parameters()) + [m.gain], "lr_decay": 0.05, "maximize": True}]

    ref, model = Dense(), Dense()
    pairs = [(ref, torch.optim.Adagrad(groups(ref), lr=0.03, foreach=False)),
             (model, Adagrad(groups(model), lr=0.03))]
    train(pairs, dense_batch, 100)
    assert pairs[1][1].param_groups[1]["maximize"] is True


def test_per_group_extras():
    model = Dense()
    opt = Adagrad([{"params": model.a.parameters(), "fast": True},
                   {"params": list(model.b.parameters()) + [model.gain]}], lr=0.1, eps_inside=True)
    assert [g["fast"] for g in opt.param_groups] == [True, False]
    assert [g["eps_inside"] for g in opt.param_groups] == [True, True]


def test_add_param_group(torch_bitwise):
    """A group added after some steps trains as a fresh torch optimizer with
    that group's settings would (torch 1.13 itself raises KeyError 'sum'
    at its first step: it initialises state in the constructor only)."""
    ref, model = Dense(), Dense()
    ref_a = torch.optim.Adagrad(ref.a.parameters(), lr=0.05, foreach=False)
    opt = Adagrad(model.a.parameters(), lr=0.05)
    gen = torch.Generator().manual_seed(7)
    later = {"lr": 0.2, "initial_accumulator_value": 0.1, "lr_decay": 0.01}
    ref_b = None
    for k in range(40):
        if k == 10:
            ref_b = torch.optim.Adagrad(list(ref.b.parameters()) + [ref.gain], foreach=False, **later)
            opt.add_param_group({"params": list(model.b.parameters()) + [model.gain], **later})
        batch = dense_batch(gen)
        for m in (ref, model):
            m.zero_grad()
            loss_of(m, batch).backward()
        ref_a.step()
        if ref_b:
            ref_b.step()
        else:  # not yet in the optimizers: their gradients stay unused
            for m in (ref, model):
                for p in list(m.b.parameters()) + [m.gain]:
                    p.grad = None
        opt.step()
    assert_same_state(ref, {**ref_a.state, **ref_b.state}, model, opt.state)
    assert opt.param_groups[1]["lr"] == 0.2 and opt.param_groups[1]["fast"] is False


@pytest.mark.parametrize("set_to_none", [False, True])
def test_zero_grad_and_none_gradients(torch_bitwise, set_to_none):
    ref, model = Dense(), Dense()
    opts = [torch.optim.Adagrad(ref.parameters(), lr=0.05, foreach=False), Adagrad(model.parameters(), lr=0.05)]
    batch = dense_batch(torch.Generator().manual_seed(8))
    for m, o in zip((ref, model), opts):
        loss_of(m, batch).backward()
        m.gain.grad = None  # one parameter without a gradient: skipped, its step count stays 0
        o.step()
        o.zero_grad(set_to_none=set_to_none)
        o.step()  # zero gradients step (count + 1, nothing moves); None ones are skipped
    assert_same_state(ref, opts[0].state, model, opts[1].state)
    assert opts[1].state[model.gain]["step"].item() == 0
    assert opts[1].state[model.a.weight]["step"].item() == (1 if set_to_none else 2)


def test_closure(torch_bitwise):
    ref, model = Dense(), Dense()
    opts = [torch.optim.Adagrad(ref.parameters(), lr=0.05, foreach=False), Adagrad(model.parameters(), lr=0.05)]
    batch = dense_batch(torch.Generator().manual_seed(9))
    losses = []
    for m, o in zip((ref, model), opts):
        def closure(m=m, o=o):
            o.zero_grad()
            loss = loss_of(m, batch)
            loss.backward()
            return loss
        losses.append(o.step(closure))
    assert losses[0].item() == losses[1].item()
    assert_same_state(ref, opts[0].state, model, opts[1].state)


def test_lr_scheduler(torch_bitwise):
    ref, model = Dense(), Dense()
    pairs = [(ref, torch.optim.Adagrad(ref.parameters(), lr=0.1, foreach=False)),
             (model, Adagrad(model.parameters(), lr=0.1))]
    scheds = [torch.optim.lr_scheduler.StepLR(o, step_size=5, gamma=0.5) for _, o in pairs]
    gen = torch.Generator().manual_seed(10)
    for _ in range(20):
        batch = dense_batch(gen)
        for (m, o), s in zip(pairs, scheds):
            o.zero_grad()
            loss_of(m, batch).backward()
            o.step()
            s.step()
    assert_same_state(ref, pairs[0][1].state, model, pairs[1][1].state)


def test_is_a_torch_adagrad():
    assert isinstance(Adagrad(Dense().parameters()), torch.optim.Adagrad)


def test_autograd_sees_the_update():
    """As after torch's in-place step, backward through a graph that saved
    the parameter before the step fails rather than using the new values."""
    p = torch.nn.Parameter(torch.ones(3))
    opt = Adagrad([p], lr=0.1)
    p.grad = torch.ones(3)
    y = (p * p).sum()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


# ---- errors: raised before any parameter, accumulator or step count changes -

def faulty_setup(make_faulty):
    """A valid parameter with a gradient first, then the faulty one."""
    good = torch.nn.Parameter(torch.ones(5))
    good.grad = torch.full((5,), 0.5)
    bad, opt = make_faulty(good)
    before = (good.detach().clone(), opt.state[good]["sum"].clone(), opt.state[good]["step"].clone())
    return good, bad, opt, before


def assert_nothing_changed(good, opt, before):
    assert torch.equal(bits(good), bits(before[0]))
    assert torch.equal(bits(opt.state[good]["sum"]), bits(before[1]))
    assert opt.state[good]["step"].item() == before[2].item()


def with_param(tensor, grad=None, **hyper):
    def make(good):
        bad = torch.nn.Parameter(tensor, requires_grad=tensor.is_floating_point() or tensor.is_complex())
        bad.grad = grad if grad is not None else torch.zeros_like(tensor)
        return bad, Adagrad([good, bad], lr=0.1, **hyper)
    return make


def with_state(**changes):
    def make(good):
        bad = torch.nn.Parameter(torch.ones(3, 4))
        bad.grad = torch.ones(3, 4)
        opt = Adagrad([good, bad], lr=0.1)
        for key, value in changes.items():
            opt.state[bad][key] = value(bad) if callable(value) else value
        return bad, opt
    return make


def with_group(**changes):
    def make(good):
        bad = torch.nn.Parameter(torch.ones(3))
        bad.grad = torch.ones(3)
        opt = Adagrad([{"params": [good]}, {"params": [bad]}], lr=0.1)
        opt.param_groups[1].update(changes)
        return bad, opt
    return make


def sparse_param(grad_indices, **hyper):
    def make(good):
        bad = torch.nn.Parameter(torch.ones(6, 2))
        values = torch.ones(grad_indices.shape[1], *([2] if grad_indices.shape[0] == 1 else []))
        bad.grad = torch.sparse_coo_tensor(grad_indices, values, (6, 2))
        return bad, Adagrad([good, bad], lr=0.1, **hyper)
    return make


ERRORS = {
    "float64": (with_param(torch.ones(3, dtype=torch.float64)), TypeError,
                r"\['params'\]\[1\] is \(3,\) float64 on cpu: libadagrad steps float32 CPU tensors only"),
    "complex64": (with_param(torch.ones(3, dtype=torch.complex64)), TypeError, "complex64"),
    "meta device": (with_param(torch.ones(3, device="meta")), TypeError, "on meta"),
    "not dense": (with_param(torch.ones(4, 8)[:, ::2]), ValueError, "does not fill its storage densely"),
    "gradient strides": (with_param(torch.ones(3, 4), torch.ones(4, 3).t()), ValueError,
                         r"its gradient is \(3, 4\) float32 on cpu with strides \(1, 3\)"),
    "sum shape": (with_state(sum=torch.zeros(5)), ValueError, "its state 'sum' is \\(5,\\) float32"),
    "sum dtype": (with_state(sum=torch.zeros(3, 4, dtype=torch.float64)), ValueError, "float64"),
    "sum is the parameter": (with_state(sum=lambda p: p.data), libadagrad.AdagradError, "ADAGRAD_ERR_OVERLAP"),
    "lr inf": (with_group(lr=float("inf")), ValueError, r"param_groups\[1\]: lr = inf"),
    "eps nan": (with_group(eps=float("nan")), ValueError, "eps = nan"),
    "weight_decay negative": (with_group(weight_decay=-1.0), ValueError, "weight_decay = -1.0"),
    "lr too large for float32": (with_group(lr=1e39), ValueError, r"also as a float32"),
    "sparse weight decay": (sparse_param(torch.tensor([[0, 2]]), weight_decay=0.1), RuntimeError,
                            "weight_decay option is not compatible with sparse gradients"),
    "sparse over both dimensions": (sparse_param(torch.tensor([[0, 2], [1, 0]])), ValueError,
                                    "a sparse gradient must index rows"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_change_nothing(case):
    make_faulty, error, match = ERRORS[case]
    good, bad, opt, before = faulty_setup(make_faulty)
    bad_before = bad.detach().clone() if bad.device.type != "meta" else None
    with pytest.raises(error, match=match):
        opt.step()
    assert_nothing_changed(good, opt, before)
    if bad_before is not None and bad.dtype == bad_before.dtype:
        assert torch.equal(bad.detach(), bad_before)


def test_sparse_weight_decay_is_torchs_error():
    e = torch.nn.Embedding(4, 2, sparse=True)
    e(torch.tensor([1])).sum().backward()
    with pytest.raises(RuntimeError) as theirs:
        torch.optim.Adagrad(e.parameters(), weight_decay=0.1).step()
    with pytest.raises(RuntimeError) as ours:
        Adagrad(e.parameters(), weight_decay=0.1).step()
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"lr": -1.0}, ValueError, "Invalid learning rate"),  # torch's own checks
    ({"eps": -1.0}, ValueError, "Invalid epsilon value"),
    ({"initial_accumulator_value": -1.0}, ValueError, "Invalid initial_accumulator_value"),
    ({"threads": 0}, ValueError, "threads: expected None or an int >= 1, got 0"),
    ({"threads": "2"}, ValueError, "threads: expected None or an int >= 1"),
])
def test_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        Adagrad(Dense().parameters(), **kwargs)


def test_library_error_names_the_step():
    e = libadagrad.AdagradError(_lib.ERR_PARAM, "adagrad_step")
    assert str(e).startswith("adagrad_step: ADAGRAD_ERR_PARAM")


# ---- the example and the benchmark run ---------------------------------------

def run_script(*path_and_args):
    r = subprocess.run([sys.executable, os.path.join(PYTHON_DIR, *path_and_args[:2]), *path_and_args[2:]],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_drop_in_example(torch_bitwise):
    out = run_script("examples", "drop_in.py")
    assert "parameters bitwise equal: True" in out and "still equal: True" in out


def test_benchmark_runs():
    """--quick: tiny sizes, so that the figures' script cannot rot."""
    out = run_script("benchmarks", "bench_torch.py", "--quick")
    assert "libadagrad is" in out and "optimizer share" in out
