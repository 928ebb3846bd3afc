"""Checkpoints, exact resume after SIGKILL, Ctrl-C, the run lock, failed writes, divergence."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from genlab.cli import main
from genlab.errors import GenlabError, TrainingError
from genlab.training import runs
from genlab.training.loop import run_epochs

TRAIN = [
    "classify",
    "train",
    "--epochs",
    "12",
    "--patience",
    "50",
    "--batch-size",
    "16",
    "--device",
    "cpu",
    "--no-plots",
    "--quiet",
]
SAME = (
    "epochs_run",
    "best_epoch",
    "stopped_early",
    "best_val_loss",
    "test_accuracy",
    "test_loss",
    "confusion_matrix",
    "per_class_accuracy",
)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "genlab", *args]


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "model.pt", weights_only=True)["state_dict"]


def _checkpoint_epoch(run: Path) -> int:
    try:
        return int(torch.load(run / "checkpoint.pt", weights_only=True)["epoch"])
    except Exception:
        return 0


def test_sigkill_then_resume_is_bit_identical(tiny_fashion: Path, tmp_path: Path) -> None:
    data = ["--data-dir", str(tiny_fashion)]
    assert main([*TRAIN, *data, "--out", str(tmp_path / "straight")]) == 0

    killed = tmp_path / "killed"
    proc = subprocess.Popen(_cli(*TRAIN, *data, "--out", str(killed)))
    deadline = time.monotonic() + 120
    while _checkpoint_epoch(killed) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(random.Random(7).uniform(0.0, 0.3))  # a random moment, same every run
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "summary.json").exists(), "the run finished before it was killed"
    assert main([*TRAIN, *data, "--out", str(killed), "--resume"]) == 0

    a = json.loads((tmp_path / "straight" / "summary.json").read_text())
    b = json.loads((killed / "summary.json").read_text())
    assert {k: a[k] for k in SAME} == {k: b[k] for k in SAME}
    wa, wb = _weights(tmp_path / "straight"), _weights(killed)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    lines = (killed / "metrics.csv").read_text().splitlines()
    assert len(lines) == 1 + a["epochs_run"]


def test_ctrl_c_saves_and_prints_the_resume_command(tiny_fashion: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    argv = [*TRAIN, "--epochs", "400", "--data-dir", str(tiny_fashion), "--out", str(run)]
    proc = subprocess.Popen(_cli(*argv), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _checkpoint_epoch(run) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "resume with: genlab classify train" in err and "--resume" in err
    epoch = _checkpoint_epoch(run)
    assert epoch >= 2 and not (run / "summary.json").exists()
    assert len((run / "metrics.csv").read_text().splitlines()) == 1 + epoch


def test_second_run_on_the_same_folder_is_refused(tiny_fashion: Path, tmp_path: Path) -> None:
    out = tmp_path / "locked"
    with runs.open_run_dir(out):
        rc = main([*TRAIN, "--data-dir", str(tiny_fashion), "--out", str(out)])
        assert rc == 2
    assert not (out / "summary.json").exists()


def test_finished_and_unfinished_runs_are_kept(
    tiny_fashion: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "r"
    args = [*TRAIN, "--epochs", "2", "--data-dir", str(tiny_fashion), "--out", str(out)]
    assert main(args) == 0
    assert main(args) == 2 and "--overwrite" in capsys.readouterr().err
    assert main([*args, "--resume"]) == 2 and "nothing to resume" in capsys.readouterr().err
    (out / "summary.json").unlink()  # now it looks unfinished
    assert main(args) == 2 and "add --resume" in capsys.readouterr().err


def test_failed_write_keeps_the_previous_checkpoint(
    tiny_fashion: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    real_fsync = os.fsync
    calls = {"checkpoint": 0}
    real_write = runs.atomic_write_bytes

    def flaky(path: str | Path, data: bytes) -> None:
        if Path(path).name == "checkpoint.pt":
            calls["checkpoint"] += 1
            if calls["checkpoint"] == 3:  # the disk fills up while saving epoch 3

                def full(fd: int) -> None:
                    raise OSError(errno.ENOSPC, "No space left on device")

                monkeypatch.setattr(os, "fsync", full)
                try:
                    return real_write(path, data)
                finally:
                    monkeypatch.setattr(os, "fsync", real_fsync)
        return real_write(path, data)

    monkeypatch.setattr(runs, "atomic_write_bytes", flaky)
    out = tmp_path / "full"
    assert main([*TRAIN, "--data-dir", str(tiny_fashion), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "No space left on device" in err and len(err.splitlines()) == 1
    assert _checkpoint_epoch(out) == 2  # the previous checkpoint is intact and readable
    assert not list(out.glob(".checkpoint.pt.*.tmp"))


def test_atomic_write_failure_keeps_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.json"
    runs.atomic_write_bytes(target, b"old")

    def boom(src: str, dst: str) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(GenlabError, match="Read-only file system; the previous version is kept"):
        runs.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"


def test_divergence_stops_naming_the_epoch() -> None:
    model = torch.nn.Linear(2, 1)

    def epoch_fn(epoch: int) -> dict[str, float]:
        return {"loss": 1.0 if epoch < 4 else float("nan")}

    with pytest.raises(TrainingError, match="epoch 4: loss is nan.*last good epoch \\(3\\)"):
        run_epochs(epoch_fn, max_epochs=10, watched=model)

    def explode(epoch: int) -> dict[str, float]:
        with torch.no_grad():
            model.weight.mul_(1e4)
        return {"loss": 1.0}

    torch.nn.init.constant_(model.weight, 1.0)
    with pytest.raises(TrainingError, match="epoch 2: weight weight reached"):
        run_epochs(explode, max_epochs=10, watched=model)


def test_diverging_cli_run_exits_nonzero(
    tiny_fashion: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    rc = main(
        [*TRAIN, "--lr", "1e9", "--data-dir", str(tiny_fashion), "--out", str(tmp_path / "d")]
    )
    assert rc == 3 and "training diverged at epoch" in capsys.readouterr().err


@pytest.mark.slow  # multi-process, notebook or kill-and-resume: in CI, not the quick loop
def test_gan_sigkill_then_resume_is_bit_identical(tmp_path: Path) -> None:
    args = [
        "gan",
        "train",
        "sine",
        "--epochs",
        "150",
        "--patience",
        "1000",
        "--eval-every",
        "5",
        "--checkpoint-interval",
        "0",
        "--quiet",
        "--no-plots",
        "--no-report",
    ]
    assert main([*args, "--out", str(tmp_path / "straight")]) == 0
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_cli(*args, "--out", str(killed)))
    deadline = time.monotonic() + 120
    while _checkpoint_epoch(killed) < 20 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "summary.json").exists(), "the run finished before it was killed"
    assert main([*args, "--out", str(killed), "--resume"]) == 0
    a = json.loads((tmp_path / "straight" / "summary.json").read_text())
    b = json.loads((killed / "summary.json").read_text())
    assert a["metrics"] == b["metrics"] and a["best_epoch"] == b["best_epoch"]
    wa, wb = _weights(tmp_path / "straight"), _weights(killed)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
