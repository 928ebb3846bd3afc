"""`genlab classify` end to end in tmp_path, through main() and the installed script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from genlab.cli import main
from genlab.training import runs
from tests.conftest import write_fashion


@pytest.fixture
def trained(tiny_fashion: Path, tmp_path: Path) -> Path:
    out = tmp_path / "fm10"
    rc = main(
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
            "--device",
            "cpu",
        ]
    )
    assert rc == 0
    return out


def test_train_eval_predict(
    trained: Path, tiny_fashion: Path, capsys: pytest.CaptureFixture
) -> None:
    capsys.readouterr()
    assert main(["classify", "eval", str(trained), "--data-dir", str(tiny_fashion)]) == 0
    out = capsys.readouterr().out
    summary = json.loads((trained / "summary.json").read_text())
    evaluation = json.loads((trained / "eval.json").read_text())
    assert evaluation["test_accuracy"] == summary["test_accuracy"]
    assert (
        evaluation["splits"]
        == summary["splits"]
        == {
            "train": 500,
            "validation": 100,
            "test": 200,
            "seed": 42,
        }
    )
    assert evaluation["figure_split"]["test_accuracy"] == "test"
    assert summary["figure_split"]["best_val_loss"] == "validation"
    assert f"{summary['test_accuracy']:.4f}" in out
    assert (
        main(
            [
                "classify",
                "predict",
                str(trained),
                "--index",
                "0",
                "1",
                "9",
                "--data-dir",
                str(tiny_fashion),
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("test image 0: label is T-shirt/top; prediction is ")
    assert lines[2].startswith("test image 9: label is Ankle boot; prediction is ")


def test_train_prints_the_books_figure_from_genlab_book(
    tiny_fashion: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from genlab import book

    figure = book.figures_for("classify-binary")["test_accuracy"]
    changed = {**book.BOOK, "classify-binary": (replace(figure, value=0.1234),)}
    monkeypatch.setattr(book, "BOOK", changed)
    argv = ["classify", "train", "--task", "binary", "--epochs", "1", "--no-plots", "--quiet"]
    assert main([*argv, "--data-dir", str(tiny_fashion), "--out", str(tmp_path / "b")]) == 0
    assert re.search(r"book_test_accuracy +0\.1234$", capsys.readouterr().out, re.MULTILINE)


def test_predict_image_file(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from PIL import Image

    from tests.conftest import make_images

    # a colour, larger, light-background version of a class-3 training pattern
    pixels = make_images(torch.tensor([3]), seed=5)[0]
    inverted = (255 - pixels).numpy()
    Image.fromarray(inverted).convert("RGB").resize((56, 56)).save(tmp_path / "item.png")
    capsys.readouterr()
    assert main(["classify", "predict", str(trained), "--image", str(tmp_path / "item.png")]) == 0
    assert "prediction is Dress" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["classify", "train", "--batch-size", "0"], "--batch-size must be > 0"),
        (["classify", "train", "--epochs", "-3"], "--epochs must be > 0"),
        (["classify", "train", "--threshold", "1.5"], "--threshold must be between 0 and 1"),
        (["classify", "train", "--task", "binary", "--threshold", "0"], "--threshold must be"),
        (["classify", "train", "--data-dir", "/nonexistent/dir"], "does not exist"),
    ],
)
def test_bad_training_flags(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main([*argv, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_unknown_flag_is_one_line(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["classify", "train", "--epochz", "3", "--out", "x"])
    assert info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_missing_data_offline(
    no_system_data: None, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["classify", "train", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "apt-get install dataset-fashion-mnist" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "damage,message",
    [
        ("truncate_gz", "truncated or corrupt .gz"),
        ("magic", "wrong magic"),
        ("label", "labels must be 0-9"),
    ],
)
def test_damaged_data_files(
    damage: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = write_fashion(tmp_path / "d", 60, 20)
    target = folder / "train-labels-idx1-ubyte.gz"
    if damage == "truncate_gz":
        blob = (folder / "train-images-idx3-ubyte.gz").read_bytes()
        (folder / "train-images-idx3-ubyte.gz").write_bytes(blob[: len(blob) // 2])
    elif damage == "magic":
        import gzip

        target.write_bytes(gzip.compress(b"\x07\x07\x08\x01" + bytes(8)))
    else:
        from tests.conftest import write_idx

        write_idx(target, torch.full((60,), 11, dtype=torch.uint8))
    rc = main(
        ["classify", "train", "--data-dir", str(folder), "--out", str(tmp_path / "o"), "--quiet"]
    )
    assert rc == 2 and message in capsys.readouterr().err


def test_eval_and_predict_refuse_bad_runs(
    tmp_path: Path, trained: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["classify", "eval", str(tmp_path / "empty")]) == 2
    assert "not a genlab run folder" in capsys.readouterr().err
    runs.save_model_file(tmp_path / "gan.pt", "gan", {}, {"w": torch.zeros(1)})
    assert main(["classify", "predict", str(tmp_path / "gan.pt"), "--index", "0"]) == 2
    assert "not a classifier model" in capsys.readouterr().err
    (tmp_path / "junk.png").write_bytes(b"not an image")
    assert main(["classify", "predict", str(trained), "--image", str(tmp_path / "junk.png")]) == 2
    assert "not a readable image" in capsys.readouterr().err
    assert main(["classify", "predict", str(trained), "--index", "100000"]) == 2
    assert "out of range" in capsys.readouterr().err


def test_malicious_model_file_never_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    marker = tmp_path / "MARKER"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    run = tmp_path / "evil"
    run.mkdir()
    torch.save(
        {"format": "genlab", "version": 1, "kind": "classifier", "x": Payload()}, run / "model.pt"
    )
    assert main(["classify", "eval", str(run)]) == 2
    assert "never runs code" in capsys.readouterr().err
    assert not marker.exists()


def test_truncated_and_future_model_files(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    blob = (trained / "model.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(blob[: len(blob) // 3])
    assert main(["classify", "eval", str(tmp_path / "cut.pt")]) == 2
    assert "truncated or corrupt" in capsys.readouterr().err
    payload = torch.load(trained / "model.pt", weights_only=True)
    payload["version"] = 99
    torch.save(payload, tmp_path / "future.pt")
    assert main(["classify", "eval", str(tmp_path / "future.pt")]) == 2
    assert "newer genlab" in capsys.readouterr().err


def test_installed_console_script(tiny_fashion: Path, tmp_path: Path) -> None:
    exe = shutil.which("genlab") or str(Path(sys.executable).parent / "genlab")
    help_text = subprocess.run(
        [exe, "classify", "train", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--patience" in help_text and "--preset" in help_text
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "genlab",
            "classify",
            "train",
            "--task",
            "binary",
            "--epochs",
            "2",
            "--data-dir",
            str(tiny_fashion),
            "--out",
            str(tmp_path / "b"),
            "--no-plots",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["task"] == "binary"
    bad = subprocess.run(
        [exe, "classify", "train", "--batch-size", "0", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
