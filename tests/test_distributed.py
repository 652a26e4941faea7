"""Past one machine: scripts/train_distributed.py under torchrun with two CPU processes (gloo) keeps the replicas
identical, and --resume continues from the saved step exactly as the uninterrupted run went on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from utils.scale import distributed

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train_distributed.py"
TORCHRUN = Path(sys.executable).with_name("torchrun")
TINY = [
    "--size",
    "32",
    "--width",
    "8",
    "--n-train",
    "16",
    "--batch",
    "2",
    "--log-every",
    "1",
    "--save-every",
    "2",
    "--device",
    "cpu",
    "--threads",
    "1",
    "--dump-replicas",
    "--channels-last",
    "on",
]


def run(out: Path, *args: str, processes: int = 2) -> str:
    """Run the script (under torchrun with ``processes`` > 1) and return what it printed; fail with its output."""
    launcher = [str(TORCHRUN), "--standalone", f"--nproc_per_node={processes}"] if processes > 1 else [sys.executable]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    done = subprocess.run(
        [*launcher, str(SCRIPT), "--out", str(out), *TINY, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def weights(path: Path) -> dict[str, dict[str, torch.Tensor]]:
    return torch.load(path, weights_only=True)


def identical(x: dict, y: dict) -> bool:
    """Every parameter and buffer of every network bit-for-bit equal."""
    return x.keys() == y.keys() and all(
        x[k].keys() == y[k].keys() and all(torch.equal(x[k][n], y[k][n]) for n in x[k]) for k in x
    )


@pytest.fixture(scope="module")
def pix2pix_runs(tmp_path_factory) -> dict[str, object]:
    """Two processes: 4 steps straight; 2 steps, stopped, then resumed to 4."""
    tmp = tmp_path_factory.mktemp("ddp")
    straight = run(tmp / "straight", "--model", "pix2pix", "--steps", "4")
    first = run(tmp / "resumed", "--model", "pix2pix", "--steps", "4", "--stop-after", "2")
    shutil.copy(tmp / "resumed" / "checkpoint.pt", tmp / "at_step_2.pt")
    second = run(tmp / "resumed", "--model", "pix2pix", "--steps", "4", "--resume")
    return {"tmp": tmp, "straight": straight, "first": first, "second": second}


def test_two_processes_keep_identical_replicas(pix2pix_runs):
    tmp = pix2pix_runs["tmp"]
    assert "2 process(es) on cpu" in pix2pix_runs["straight"]
    r0, r1 = weights(tmp / "straight" / "replica0.pt"), weights(tmp / "straight" / "replica1.pt")
    assert identical(r0, r1)
    # the comparison can fail: the weights after 2 steps are not those after 4
    saved = torch.load(tmp / "at_step_2.pt", weights_only=True)["nets"]
    assert not identical(r0, {k: {n: t.cpu() for n, t in v.items()} for k, v in saved.items()})


def test_resume_continues_from_the_saved_step_exactly(pix2pix_runs):
    tmp = pix2pix_runs["tmp"]
    assert torch.load(tmp / "at_step_2.pt", weights_only=True)["step"] == 2
    assert "steps 3..4 of 4 (resumed)" in pix2pix_runs["second"]
    assert "step 1:" not in pix2pix_runs["second"] and "step 3:" in pix2pix_runs["second"]
    # the resumed run logs the losses the uninterrupted one logged, and ends with the same weights on both ranks
    line = lambda out, s: next(x for x in out.splitlines() if x.startswith(f"step {s}:")).split("|")[0]  # noqa: E731
    assert line(pix2pix_runs["second"], 4) == line(pix2pix_runs["straight"], 4)
    for rank in (0, 1):
        assert identical(
            weights(tmp / "straight" / f"replica{rank}.pt"), weights(tmp / "resumed" / f"replica{rank}.pt")
        )


def test_tensorboard_log_holds_the_losses(pix2pix_runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(pix2pix_runs["tmp"] / "straight" / "tensorboard"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert {"loss/d_loss", "loss/l1", "speed/images_per_second", "lr"} <= set(tags)
    assert [e.step for e in acc.Scalars("loss/l1")] == [1, 2, 3, 4]
    assert "preview" in acc.Tags()["images"]


def test_cyclegan_pools_resume_and_replicas_agree(tmp_path):
    args = ("--model", "cyclegan", "--steps", "4", "--blocks", "2", "--pool", "3")
    run(tmp_path / "straight", *args)
    run(tmp_path / "resumed", *args, "--stop-after", "2")
    assert (tmp_path / "resumed" / "checkpoint.rank1.pt").is_file()  # each rank's own image pool
    run(tmp_path / "resumed", *args, "--resume")
    a = [weights(tmp_path / "straight" / f"replica{r}.pt") for r in (0, 1)]
    b = [weights(tmp_path / "resumed" / f"replica{r}.pt") for r in (0, 1)]
    assert identical(a[0], a[1]) and identical(a[0], b[0]) and identical(b[0], b[1])


def test_fast_style_runs_alone_without_torchrun(tmp_path):
    out = run(tmp_path, "--model", "faststyle", "--steps", "2", "--vgg-weights", "random", processes=1)
    assert "1 process(es) on cpu" in out and "done: step 2" in out
    assert set(weights(tmp_path / "replica0.pt")) == {"net"}


def test_resume_without_a_checkpoint_says_what_to_do(tmp_path):
    env = {**os.environ, "TQDM_DISABLE": "1"}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--model", "pix2pix", "--out", str(tmp_path), *TINY, "--resume"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode != 0 and "no checkpoint at" in done.stderr and "without --resume" in done.stderr


class _RunsCodeWhenUnpickled:
    """A pickled object whose unpickling calls ``open(marker, "w")``: stands for any code an attacker could run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


def test_resume_file_with_an_arbitrary_pickled_object_is_refused(tmp_path):
    proc = distributed.Process(0, 1, 0, torch.device("cpu"))
    marker = tmp_path / "pwned"
    good = {"step": 2, "nets": {"G": torch.nn.Linear(2, 2).state_dict()}, "args": {"seed": "0"}}
    distributed.save(good, tmp_path / "good.pt", proc)
    assert distributed.load(tmp_path / "good.pt", proc)["step"] == 2  # a checkpoint of ours still loads
    torch.save({**good, "payload": _RunsCodeWhenUnpickled(marker)}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="refusing to load"):
        distributed.load(tmp_path / "evil.pt", proc)
    assert not marker.exists()  # the payload never ran
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        distributed.load(tmp_path / "missing.pt", proc)


def test_sharded_batches_deal_each_process_its_own_share():
    procs = [distributed.Process(r, 2, r, torch.device("cpu")) for r in (0, 1)]
    shards = [distributed.ShardedBatches(10, 2, p, seed=3) for p in procs]
    assert shards[0].per_epoch == 2
    epoch0 = [torch.cat([s.at(0), s.at(1)]) for s in shards]
    assert set(epoch0[0].tolist()).isdisjoint(epoch0[1].tolist())  # no item on both processes in one epoch
    assert len(set(torch.cat(epoch0).tolist())) == 8  # 10 items, 8 dealt (the rest is dropped, not repeated)
    again = distributed.ShardedBatches(10, 2, procs[0], seed=3)
    assert torch.equal(again.at(1), shards[0].at(1))  # a resumed run gets the same batch for the same step
    assert not torch.equal(torch.cat([shards[0].at(2), shards[0].at(3)]), epoch0[0])  # reshuffled next epoch
    with pytest.raises(ValueError, match="cannot fill"):
        distributed.ShardedBatches(3, 2, procs[0])
