"""torchrun with two CPU processes (gloo on loopback): one run folder, ranks in step."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genlab.classify.engine import load_classifier, predict_logits
from genlab.cli import main
from genlab.errors import ConfigError
from genlab.training.distributed import check_global_batch


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: What a worker prints when it dies in torch's own teardown at exit (seen only on a loaded
#: 2-core machine, after the run's files were written): such a launch is tried once more.
TEARDOWN_CRASH = "terminate called without an active exception"


def torchrun(*args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    """Run ``torchrun --nproc-per-node N -m genlab ARGS`` on loopback (once more, into a
    fresh run folder, if a worker died in torch's teardown: :data:`TEARDOWN_CRASH`)."""
    result = _torchrun(*args, nproc=nproc)
    if result.returncode != 0 and TEARDOWN_CRASH in result.stderr and "--out" in args:
        shutil.rmtree(args[args.index("--out") + 1], ignore_errors=True)
        result = _torchrun(*args, nproc=nproc)
    return result


def _torchrun(*args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    exe = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [
            exe,
            "--nproc-per-node",
            str(nproc),
            "--master-addr",
            "127.0.0.1",
            "--master-port",
            str(_free_port()),
            "-m",
            "genlab",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.slow  # multi-process, notebook or kill-and-resume: in CI, not the quick loop
def test_two_process_classifier(tiny_fashion: Path, tmp_path: Path) -> None:
    common = [
        "classify",
        "train",
        "--epochs",
        "4",
        "--batch-size",
        "32",
        "--data-dir",
        str(tiny_fashion),
        "--quiet",
        "--no-plots",
        "--device",
        "cpu",
    ]
    result = torchrun(*common, "--out", str(tmp_path / "ddp"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("run folder") == 1  # only rank 0 reports
    summary = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["ranks_consistent"] is True
    assert summary["epochs_run"] == 4 and summary["test_total"] == 200
    assert not list(tmp_path.glob("ddp*/**/*rank*"))  # no per-rank files

    assert main([*common, "--out", str(tmp_path / "single")]) == 0
    single = json.loads((tmp_path / "single" / "summary.json").read_text())
    assert summary["test_accuracy"] >= single["test_accuracy"] - 0.05

    # the model loads and predicts in one process
    model, config, _ = load_classifier(tmp_path / "ddp")
    assert predict_logits(model, torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_global_batch_must_divide_evenly() -> None:
    check_global_batch(32, world_size=2)
    check_global_batch(33, world_size=1)  # one process: any batch
    with pytest.raises(ConfigError) as info:
        check_global_batch(33, world_size=2)
    message = str(info.value)
    assert "--batch-size 33" in message and "2 processes" in message
    assert "multiple of 2" in message and "such as 32" in message


def test_torchrun_refuses_an_uneven_batch_at_once(
    tiny_fashion: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    """As rank 0 of 4 would see it: refused before joining the group, one line, exit 2."""
    for name, value in (("WORLD_SIZE", "4"), ("RANK", "0"), ("LOCAL_RANK", "0")):
        monkeypatch.setenv(name, value)
    argv = ["classify", "train", "--batch-size", "30", "--data-dir", str(tiny_fashion)]
    assert main([*argv, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--batch-size 30 is not a multiple of the 4 processes" in err
    assert not (tmp_path / "o").exists()
    monkeypatch.setenv("WORLD_SIZE", "1")
    with pytest.raises(SystemExit):
        main(["classify", "train", "--help"])
    assert "multiple of the number of processes" in " ".join(capsys.readouterr().out.split())


@pytest.mark.slow  # multi-process, notebook or kill-and-resume: in CI, not the quick loop
def test_two_process_gan(tmp_path: Path) -> None:
    common = [
        "gan",
        "train",
        "integers",
        "--multiple-of",
        "5",
        "--quiet",
        "--no-plots",
        "--no-report",
    ]
    result = torchrun(*common, "--out", str(tmp_path / "ddp"))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["ranks_consistent"] is True
    assert summary["metrics"]["validity"] == 1.0 and summary["metrics"]["covered"] == 20
    assert main([*common, "--out", str(tmp_path / "single")]) == 0
    single = json.loads((tmp_path / "single" / "summary.json").read_text())
    assert abs(summary["metrics"]["js"] - single["metrics"]["js"]) <= 0.01


@pytest.mark.slow  # multi-process, notebook or kill-and-resume: in CI, not the quick loop
def test_two_process_curve_gan(tmp_path: Path) -> None:
    result = torchrun(
        "gan",
        "train",
        "sine",
        "--epochs",
        "6",
        "--eval-every",
        "3",
        "--quiet",
        "--no-plots",
        "--no-report",
        "--out",
        str(tmp_path / "sine"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "sine" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["ranks_consistent"] is True
    assert summary["epochs_run"] == 6 and "relation_nrmse" in summary["metrics"]


@pytest.mark.slow  # multi-process, notebook or kill-and-resume: in CI, not the quick loop
def test_two_process_conditional_image_gan(tmp_path: Path) -> None:
    from genlab.gan.judge import train_judge
    from tests.conftest import write_fashion

    fashion = write_fashion(tmp_path / "fashion", n_train=300, n_test=100)
    judge = train_judge(tmp_path / "judge", fashion, quiet=True, epochs=2)
    result = torchrun(
        "gan",
        "train",
        "fashion",
        "--conditional",
        "--classes",
        "0,1,2",
        "--epochs",
        "2",
        "--final-samples",
        "300",
        "--data-dir",
        str(fashion),
        "--judge",
        str(judge),
        "--quiet",
        "--no-plots",
        "--no-report",
        "--out",
        str(tmp_path / "images"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "images" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["ranks_consistent"] is True
    assert summary["epochs_run"] == 2 and "class_fidelity" in summary["metrics"]
