"""`genlab data show` and `genlab gan ...` end to end in tmp_path, through main()."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from genlab.cli import main
from genlab.gan.engine import final_noise_seed, load_gan
from genlab.training import runs

QUICK = ["--epochs", "8", "--eval-every", "2", "--plot-every", "2", "--quiet", "--no-report"]


@pytest.fixture(scope="module")
def exp_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "exp"
    assert main(["gan", "train", "exp", "--out", str(out), *QUICK]) == 0
    return out


def test_train_writes_the_run_folder(exp_run: Path) -> None:
    for name in ("config.json", "metrics.csv", "model.pt", "summary.json"):
        assert (exp_run / name).is_file(), name
    for name in ("real.png", "generated.png", "loss.png", "score.png", "training.gif"):
        assert (exp_run / "plots" / name).is_file(), name
    snapshots = sorted((exp_run / "plots" / "snapshots").glob("epoch_*.png"))
    assert [p.name for p in snapshots] == [
        "epoch_00001.png",
        "epoch_00002.png",
        "epoch_00004.png",
        "epoch_00006.png",
        "epoch_00008.png",
    ]
    with Image.open(exp_run / "plots" / "training.gif") as gif:
        assert gif.is_animated and gif.n_frames == 5
    summary = json.loads((exp_run / "summary.json").read_text())
    assert summary["kind"] == "gan" and summary["epochs_run"] == 8
    assert summary["metrics"]["out_of_range"] >= 0.0
    assert summary["config"]["lr"] == 1e-3


def test_train_prints_the_figures(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sine"
    assert main(["gan", "train", "sine", "--out", str(out), "--no-plots", *QUICK]) == 0
    printed = capsys.readouterr().out
    assert "relation_nrmse" in printed and "epochs run" in printed
    assert "sliced_w1" not in printed and "x_out" not in printed  # internal: summary.json
    assert not (out / "plots" / "real.png").exists()


def test_sample_is_reproducible(exp_run: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert (
        main(["gan", "sample", str(exp_run), "-n", "300", "--seed", "1", "--out", str(first)]) == 0
    )
    assert (
        main(["gan", "sample", str(exp_run), "-n", "300", "--seed", "1", "--out", str(second)]) == 0
    )
    assert first.read_bytes() == second.read_bytes()
    with open(first) as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["x", "y"] and len(rows) == 301
    values = torch.tensor([[float(v) for v in row] for row in rows[1:]])
    assert torch.equal(values, load_gan(exp_run).sample(300, seed=1))


def test_sample_to_stdout(exp_run: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["gan", "sample", str(exp_run), "-n", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "x,y" and len(lines) == 4


def test_eval_prints_and_writes(exp_run: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["gan", "eval", str(exp_run), "-n", "1000"]) == 0
    printed = capsys.readouterr().out
    saved = json.loads((exp_run / "eval.json").read_text())
    assert saved["n"] == 1000
    assert f"{saved['w1_x']:.4f}" in printed
    assert saved["seed"] == final_noise_seed(0)  # the seed of summary.json's figures
    assert saved["split"] == "test" and saved["units"] == {"js": "bits", "kl": "bits"}
    assert saved == {**saved, **load_gan(exp_run).evaluate(1000)}


def test_eval_repeats_the_training_figures(exp_run: Path) -> None:
    """`gan eval RUN` (10,000 samples, the run's seed) gives exactly summary.json's figures."""
    assert main(["gan", "eval", str(exp_run), "--quiet"]) == 0
    saved = json.loads((exp_run / "eval.json").read_text())
    summary = json.loads((exp_run / "summary.json").read_text())
    assert {k: saved[k] for k in summary["metrics"]} == summary["metrics"]


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
@pytest.mark.parametrize("fmt,suffix", [("export", "pt2"), ("torchscript", "pt")])
def test_export(exp_run: Path, tmp_path: Path, fmt: str, suffix: str) -> None:
    path = tmp_path / f"g.{suffix}"
    assert main(["gan", "export", str(exp_run), "--out", str(path), "--format", fmt]) == 0
    module = torch.export.load(str(path)).module() if fmt == "export" else torch.jit.load(path)
    noise = torch.randn(50, 2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(module(noise), load_gan(exp_run).sample(50, seed=1))


def test_interpolate(exp_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "interp.png"
    assert main(["gan", "interpolate", str(exp_run), "--steps", "10", "--out", str(path)]) == 0
    assert path.is_file() and Image.open(path).size[0] > 100
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "x,y" and len(lines) == 12


def test_data_show(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "show", "exp", "--out", str(tmp_path / "exp.png")]) == 0
    printed = capsys.readouterr().out
    assert (tmp_path / "exp.png").is_file()
    assert "2048" in printed and "x range" in printed
    formula = ["--formula", "x**2/10 - 3", "--x-range", "-5", "5", "--n", "300"]
    assert main(["data", "show", "formula", *formula, "--out", str(tmp_path / "f.png")]) == 0


def test_formula_and_csv_runs(tmp_path: Path) -> None:
    formula = ["--formula", "x**2/10 - 3", "--x-range", "-5", "5", "--n", "512"]
    out = tmp_path / "q"
    assert main(["gan", "train", "formula", *formula, "--out", str(out), *QUICK]) == 0
    assert json.loads((out / "summary.json").read_text())["data"]["relation"] == "x**2/10 - 3"
    points = tmp_path / "points.csv"
    points.write_text("a;b\n" + "\n".join(f"{i / 10};{(i / 10) ** 0.5}" for i in range(200)))
    out = tmp_path / "c"
    assert main(["gan", "train", "csv", "--csv", str(points), "--out", str(out), *QUICK]) == 0
    assert load_gan(out).data.columns == ["a", "b"]
    assert "relation_nrmse" not in json.loads((out / "summary.json").read_text())["metrics"]
    # The model file keeps no rows, so the walks are drawn alone (this used to crash).
    assert load_gan(out).data.real_points(10).shape == (0, 2)
    walk = tmp_path / "walk.png"
    assert main(["gan", "interpolate", str(out), "--steps", "5", "--out", str(walk)]) == 0
    assert walk.is_file() and Image.open(walk).size[0] > 100


def test_book_preset(tmp_path: Path) -> None:
    out = tmp_path / "book"
    assert main(["gan", "train", "exp", "--preset", "book", "--out", str(out), *QUICK]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["g_hidden"] == [16, 32] and config["d_hidden"] == [256, 128, 64]
    assert config["transform"] == "none" and config["preset"] == "book"


# --------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("bad")
    (ws / "empty.csv").write_text("")
    (ws / "one_row.csv").write_text("x,y\n1,2\n")
    (ws / "text.csv").write_text("x,y\n1,2\n3,abc\n4,5\n")
    (ws / "nan.csv").write_text("x,y\n1,2\n3,nan\n4,5\n")
    (ws / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    classifier = ws / "classifier_run"
    classifier.mkdir()
    runs.save_model_file(classifier / "model.pt", "classifier", {}, {"w": torch.zeros(1)})
    (ws / "not_a_run").mkdir()
    return ws


BAD = [
    (["gan", "train", "formula", "--formula", "__import__('os').system('x')"], "not allowed"),
    (["gan", "train", "formula", "--formula", "x.real"], "attribute"),
    (["gan", "train", "formula", "--formula", "(lambda: 1)()"], "lambda"),
    (["gan", "train", "formula", "--formula", "foo(x)"], "foo"),
    (["gan", "train", "formula", "--formula", "x +* 2"], "syntax"),
    (["gan", "train", "formula", "--formula", "log(x)", "--x-range", "-1", "1"], "not finite"),
    (["gan", "train", "formula", "--formula", "sqrt(x)", "--x-range", "-4", "-1"], "not finite"),
    (["gan", "train", "formula", "--formula", "x", "--x-range", "2", "2"], "empty"),
    (["gan", "train", "formula", "--formula", "x", "--x-range", "3", "1"], "empty"),
    (["gan", "train", "csv", "--csv", "{ws}/empty.csv"], "empty"),
    # A CSV that is not clean numbers (or too short for the curve reader) goes to the table
    # reader, where a text cell is a category: what is wrong with these files is their length.
    (["gan", "train", "csv", "--csv", "{ws}/one_row.csv"], "one_row.csv has 1 data row"),
    (
        ["gan", "train", "csv", "--csv", "{ws}/text.csv"],
        "3 data rows; a GAN needs at least 10",
    ),
    (
        ["gan", "train", "csv", "--csv", "{ws}/nan.csv"],
        "3 data rows; a GAN needs at least 10",
    ),
    (["gan", "train", "csv", "--csv", "{ws}/binary.csv"], "binary"),
    (["gan", "train", "csv", "--csv", "{ws}/missing.csv"], "not found"),
    (["gan", "sample", "{ws}/classifier_run", "-n", "10"], "classifier model, not a gan model"),
    (["gan", "eval", "{ws}/classifier_run"], "classifier model, not a gan model"),
    (["gan", "export", "{ws}/classifier_run", "--out", "{ws}/g.pt2"], "not a gan model"),
    (["gan", "interpolate", "{ws}/not_a_run", "--out", "{ws}/i.png"], "not a genlab run"),
    (["gan", "sample", "{ws}/not_a_run", "-n", "10"], "not a genlab run folder"),
    (["gan", "train", "exp", "--lr", "-1"], "--lr"),
    (["gan", "train", "exp", "--ema", "1.5"], "--ema"),
    (["gan", "train", "exp", "--g-hidden", "0"], "--g-hidden"),
    (["gan", "train", "exp", "--n", "1"], "at least 2"),
]


@pytest.mark.parametrize("argv,expected", BAD, ids=[" ".join(a[:4]) for a, _ in BAD])
def test_bad_input_is_one_clear_line(
    workspace: Path, argv: list[str], expected: str, capsys: pytest.CaptureFixture
) -> None:
    argv = [a.replace("{ws}", str(workspace)) for a in argv]
    if argv[1] == "train":
        argv += ["--out", str(workspace / "out"), "--epochs", "1", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("genlab: error: ") and err.count("\n") == 1, err
    assert expected.lower() in err.lower(), err
    assert not (workspace / "out" / "summary.json").exists()


@pytest.mark.parametrize("command", ["sample", "eval"])
def test_zero_samples_is_refused(
    exp_run: Path, command: str, capsys: pytest.CaptureFixture
) -> None:
    assert main(["gan", command, str(exp_run), "-n", "0"]) == 2
    assert "-n must be a positive whole number" in capsys.readouterr().err


def test_bench_smoke_run_prints_one_json_line() -> None:
    import subprocess
    import sys

    bench = Path(__file__).resolve().parents[1] / "bench" / "curve_gan.py"
    result = subprocess.run(
        [sys.executable, str(bench), "--quick", "--no-sine"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["book"]["epochs"] == 10 and line["genlab"]["epochs"] == 5
    for side in ("genlab", "book", "book_best"):  # the same test figures on every side
        assert {"relation_median_rel_error", "w1_x", "out_of_range"} <= set(line[side])
    assert line["book_best"]["best_epoch"] == 10  # the one check in 10 epochs
    assert line["time_ratio"] > 0 and "targets_met" in line


def test_discriminator_learning_rate_flag(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert (
        main(["gan", "train", "sine", "--out", str(out), "--no-plots", "--d-lr", "0.003", *QUICK])
        == 0
    )
    config = json.loads((out / "config.json").read_text())
    assert config["d_lr"] == 0.003 and config["lr"] != 0.003
    assert main(["gan", "train", "sine", "--out", str(tmp_path / "bad"), "--d-lr", "-1"]) == 2
