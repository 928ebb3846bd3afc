"""``--resume`` goes on with the run's stored settings and refuses flags that contradict them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genlab.cli import main
from genlab.errors import ConfigError
from genlab.training.runs import check_resume_flags

TRAIN = ["classify", "train", "--epochs", "2", "--device", "cpu", "--no-plots", "--quiet"]


def test_check_resume_flags_names_every_difference() -> None:
    stored = {"lr": 0.002, "seed": 42, "task": "multiclass", "g_hidden": [64, 64], "epochs": 5}
    requested = {"lr": 0.001, "seed": 42, "task": "binary", "g_hidden": (64, 64), "epochs": None}
    with pytest.raises(ConfigError) as info:
        check_resume_flags(
            "runs/x", stored, requested, ["lr", "seed", "task", "g_hidden", "epochs"]
        )
    assert str(info.value) == (
        "cannot resume runs/x: --lr 0.001 here but 0.002 in the run, --task binary here but "
        "multiclass in the run; drop the flags or start a new run"
    )
    check_resume_flags("runs/x", stored, {"lr": 0.002, "g_hidden": [64, 64]}, ["lr", "g_hidden"])
    check_resume_flags("runs/x", stored, {"lr": 0.5}, ["seed"])  # lr is not a checked key
    check_resume_flags("runs/x", stored, {}, ["lr", "seed"])  # nothing given: nothing differs


@pytest.fixture
def unfinished(tiny_fashion: Path, tmp_path: Path) -> Path:
    """A run folder that looks interrupted after its last epoch (a checkpoint, no summary)."""
    out = tmp_path / "run"
    assert main([*TRAIN, "--lr", "0.001", "--data-dir", str(tiny_fashion), "--out", str(out)]) == 0
    (out / "summary.json").unlink()
    return out


def test_resume_with_other_flags_is_refused(
    unfinished: Path, tiny_fashion: Path, capsys: pytest.CaptureFixture
) -> None:
    config_before = (unfinished / "config.json").read_bytes()
    argv = [*TRAIN, "--data-dir", str(tiny_fashion), "--resume", str(unfinished)]
    assert main([*argv, "--lr", "0.002"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert (
        f"cannot resume {unfinished}: --lr 0.002 here but 0.001 in the run; drop the flags" in err
    )
    assert main([*argv, "--task", "binary", "--seed", "7", "--batch-size", "256"]) == 2
    err = capsys.readouterr().err
    assert "--task binary here but multiclass in the run" in err
    assert "--seed 7 here but 42 in the run" in err
    assert "--batch-size" not in err  # 256 is the stored batch size: not a difference
    assert main([*argv, "--preset", "book"]) == 2
    assert "--preset book here but genlab in the run" in capsys.readouterr().err
    assert (unfinished / "config.json").read_bytes() == config_before
    assert not (unfinished / "summary.json").exists()


def test_resume_with_the_same_or_no_flags_works(
    unfinished: Path, tiny_fashion: Path, tmp_path: Path
) -> None:
    argv = [*TRAIN, "--lr", "0.001", "--task", "multiclass", "--data-dir", str(tiny_fashion)]
    assert main([*argv, "--resume", str(unfinished)]) == 0
    summary = json.loads((unfinished / "summary.json").read_text())
    assert summary["config"]["lr"] == 0.001 and summary["epochs_run"] == 2
    (unfinished / "summary.json").unlink()
    # only where the data is: a copy of it elsewhere is fine
    moved = tmp_path / "moved"
    moved.mkdir()
    for path in tiny_fashion.iterdir():
        (moved / path.name).write_bytes(path.read_bytes())
    assert (
        main(
            ["classify", "train", "--quiet", "--data-dir", str(moved), "--resume", str(unfinished)]
        )
        == 0
    )
    again = json.loads((unfinished / "summary.json").read_text())
    assert again["config"]["data_dir"] == str(moved) and again["config"]["lr"] == 0.001
    assert again["test_accuracy"] == summary["test_accuracy"]
