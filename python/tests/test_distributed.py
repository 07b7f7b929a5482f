# libadagrad — training under torch.distributed (gloo, this machine, spawned
# processes): the examples run as tests, each bounded in time.
# SPDX-License-Identifier: MIT
import os
import signal
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch", reason="the distributed examples need PyTorch (python3-torch)")
np = pytest.importorskip("numpy", reason="the sharded example steps numpy arrays (python3-numpy)")
import torch.distributed as dist  # noqa: E402

from conftest import PYTHON_DIR  # noqa: E402

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="this torch has no gloo backend")

EXAMPLES = os.path.join(PYTHON_DIR, "examples")
TIME_LIMIT = 180  # seconds per run, spawned ranks included; a healthy run takes a few


def run_example(name, *args):
    """Runs an example in its own session, so that on timeout the spawned
    ranks are killed with it."""
    proc = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, name), "--timeout", "60", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail("%s %s took more than %d s:\n%s" % (name, " ".join(args), TIME_LIMIT, output))
    assert proc.returncode == 0, output
    return output


def test_ddp_dense_and_sparse_bitwise_torch(torch_bitwise):
    """DistributedDataParallel over an nn.Embedding(sparse=True) and an MLP,
    world size 2: on every rank our Adagrad ends bitwise equal to
    torch.optim.Adagrad under the same setup, and to the other rank."""
    output = run_example("ddp_adagrad.py", "--world-size", "2", "--steps", "40", "--check")
    for rank in (0, 1):
        assert "rank %d: " % rank in output and "bitwise equal to torch.optim.Adagrad's" in output, output


def test_sharded_embedding_is_the_same_for_world_sizes_1_and_2(tmp_path):
    results = {}
    for world in (1, 2):
        out = str(tmp_path / ("world%d.npz" % world))
        run_example("sharded_embedding.py", "--world-size", str(world), "--steps", "60", "--out", out)
        results[world] = np.load(out)
    one, two = results[1], results[2]
    for key in ("table", "sum"):
        assert np.array_equal(one[key].view(np.uint32), two[key].view(np.uint32)), key
    initial = np.random.default_rng(1).uniform(-0.1, 0.1, one["table"].shape).astype(np.float32)
    assert (one["table"] != initial).mean() > 0.9  # it trained: nearly every row was stepped
