# libadagrad — multi-threaded steps against one thread and torch, run by
# conftest.run_with_team_of_two in a process with OMP_NUM_THREADS=2.
# SPDX-License-Identifier: MIT
"""    OMP_NUM_THREADS=2 threaded_checks.py numpy|torch

Exits 0 when the library's team has two threads and the split steps give
the one-thread (numpy) or torch's (torch) bits."""
import sys

import libadagrad


def numpy_split():
    import numpy as np
    rng = np.random.default_rng(3)
    n = 3 * 65536 + 5  # three parts of at least ADAGRAD_MT_MIN_ELEMENTS
    param = rng.uniform(-1, 1, n).astype(np.float32)
    sum = (10.0 ** rng.uniform(-2, 2, n)).astype(np.float32)
    grad = (rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-4, 0, n)).astype(np.float32)
    p2, s2 = param.copy(), sum.copy()
    for threads in (2, 0):  # two parts; the whole team
        libadagrad.step(param, sum, grad, lr=0.01)
        libadagrad.step(p2, s2, grad, lr=0.01, threads=threads)
        assert np.array_equal(param.view(np.uint32), p2.view(np.uint32))
        assert np.array_equal(sum.view(np.uint32), s2.view(np.uint32))


def torch_split():
    import torch
    from libadagrad.torch import Adagrad

    def make():
        torch.manual_seed(0)
        return torch.nn.Linear(1024, 160)  # 163 840 weights: two parts

    ref, model = make(), make()
    opts = [torch.optim.Adagrad(ref.parameters(), lr=0.05, foreach=False),
            Adagrad(model.parameters(), lr=0.05)]  # threads=None: torch.get_num_threads(), 2 here
    assert torch.get_num_threads() == 2
    gen = torch.Generator().manual_seed(3)
    for _ in range(5):
        x = torch.randn(8, 1024, generator=gen)
        for m, o in zip((ref, model), opts):
            o.zero_grad()
            m(x).square().mean().backward()
            o.step()
    for p, q in zip(ref.parameters(), model.parameters()):
        assert torch.equal(p.detach().view(torch.int32), q.detach().view(torch.int32))
        assert torch.equal(opts[0].state[p]["sum"].view(torch.int32), opts[1].state[q]["sum"].view(torch.int32))


if __name__ == "__main__":
    {"numpy": numpy_split, "torch": torch_split}[sys.argv[1]]()
    assert libadagrad.max_threads() == 2, "the team has %d threads" % libadagrad.max_threads()
    print("ok")
