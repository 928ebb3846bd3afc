"""--tensorboard: scalars per epoch and the plots as images; a clear error without the extra."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from genlab.cli import main


def test_scalars_and_plots_are_logged(tiny_fashion: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    assert (
        main(
            [
                "classify",
                "train",
                "--epochs",
                "3",
                "--data-dir",
                str(tiny_fashion),
                "--out",
                str(out),
                "--quiet",
                "--no-report",
                "--tensorboard",
            ]
        )
        == 0
    )
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    tags = events.Tags()
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("val_loss")] == [1, 2, 3]
    assert "plots/confusion_matrix" in tags["images"]


def test_missing_extra_is_one_clear_line(
    tiny_fashion: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    real_import = builtins.__import__

    def no_tensorboard(name: str, *args, **kwargs):
        if name.startswith("torch.utils.tensorboard"):
            raise ImportError("No module named 'tensorboard'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    rc = main(
        [
            "classify",
            "train",
            "--epochs",
            "1",
            "--data-dir",
            str(tiny_fashion),
            "--out",
            str(tmp_path / "r"),
            "--quiet",
            "--tensorboard",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "pip install 'genlab[tensorboard]'" in err
