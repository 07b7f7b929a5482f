#!/usr/bin/python3
# libadagrad — the one-line swap: torch.optim.Adagrad → libadagrad.torch.Adagrad.
# SPDX-License-Identifier: MIT
"""Trains the same small model (an nn.Embedding with sparse gradients and an
MLP) twice, with torch.optim.Adagrad and with libadagrad's, and checks that
the two end bit for bit equal; then moves the checkpoint across.

    PYTHONPATH=<build>/python /usr/bin/python3 python/examples/drop_in.py
"""
import torch

from libadagrad.torch import Adagrad


def model():
    torch.manual_seed(0)
    return torch.nn.ModuleDict({"emb": torch.nn.Embedding(500, 16, sparse=True),
                                "mlp": torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(),
                                                           torch.nn.Linear(32, 1))})


def train(m, opt, steps, seed=1):
    gen = torch.Generator().manual_seed(seed)
    hidden = torch.randn(500, generator=torch.Generator().manual_seed(7))
    for _ in range(steps):
        idx = torch.randperm(500, generator=gen)[:64]
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(m["mlp"](m["emb"](idx)).squeeze(1), hidden[idx])
        loss.backward()
        opt.step()
    return loss.item()


def main():
    torch.set_num_threads(1)
    theirs, ours = model(), model()
    theirs_opt = torch.optim.Adagrad(theirs.parameters(), lr=0.05)
    ours_opt = Adagrad(ours.parameters(), lr=0.05)  # the one line that changes
    print("loss after 200 steps: torch %.6f, libadagrad %.6f" % (train(theirs, theirs_opt, 200),
                                                                train(ours, ours_opt, 200)))
    same = all(torch.equal(a.view(torch.int32), b.view(torch.int32))
               for a, b in zip(theirs.state_dict().values(), ours.state_dict().values()))
    print("parameters bitwise equal:", same)

    # Checkpoints move both ways: continue torch's run with libadagrad.
    resumed = Adagrad(theirs.parameters(), lr=0.05)
    resumed.load_state_dict(theirs_opt.state_dict())
    train(theirs, resumed, 50, seed=2)
    train(ours, ours_opt, 50, seed=2)
    same_after = all(torch.equal(a.view(torch.int32), b.view(torch.int32))
                     for a, b in zip(theirs.state_dict().values(), ours.state_dict().values()))
    print("after resuming torch's checkpoint with libadagrad, still equal:", same_after)
    return 0 if same and same_after else 1


if __name__ == "__main__":
    raise SystemExit(main())
