"""`genlab gan train integers`: the book's multiples-of-5 GAN and other patterns, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from genlab.cli import main
from genlab.gan.engine import latent_noise, load_gan

FAST = ["--quiet", "--no-plots", "--no-report"]


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


@pytest.fixture(scope="module")
def m5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("m5") / "m5"
    assert (
        main(
            [
                "gan",
                "train",
                "integers",
                "--multiple-of",
                "5",
                "--max",
                "100",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    return out


def test_multiples_of_5_reach_the_figures(m5: Path) -> None:
    summary = _summary(m5)
    metrics = summary["metrics"]
    assert summary["kind"] == "gan" and summary["data"]["kind"] == "integers"
    assert metrics["n_samples"] == 10_000
    assert metrics["validity"] == 1.0
    assert metrics["covered"] == 20 and metrics["coverage"] == 1.0
    assert metrics["js"] <= 0.01
    for name in ("real.png", "generated.png", "progress.png"):
        assert (m5 / "plots" / name).stat().st_size > 1000
    snapshots = list((m5 / "plots" / "snapshots").glob("epoch_*.png"))  # one: no animation
    assert snapshots and (m5 / "plots" / "training.gif").exists() == (len(snapshots) > 1)


def test_rule_pattern(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert (
        main(
            [
                "gan",
                "train",
                "integers",
                "--rule",
                "n % 3 == 1",
                "--max",
                "60",
                "--out",
                str(out),
                *FAST,
            ]
        )
        == 0
    )
    metrics = _summary(out)["metrics"]
    assert metrics["validity"] == 1.0 and metrics["covered"] == 20


def test_sample_file_round_trips_through_from_file(m5: Path, tmp_path: Path) -> None:
    numbers = tmp_path / "numbers.txt"
    assert (
        main(
            ["gan", "sample", str(m5), "-n", "500", "--seed", "1", "--out", str(numbers), "--quiet"]
        )
        == 0
    )
    values = [int(v) for v in numbers.read_text().split()]
    assert len(values) == 500 and all(v % 5 == 0 and 0 <= v < 100 for v in values)
    again = tmp_path / "again.txt"
    main(["gan", "sample", str(m5), "-n", "500", "--seed", "1", "--out", str(again), "--quiet"])
    assert again.read_text() == numbers.read_text()
    out = tmp_path / "f"
    assert (
        main(["gan", "train", "integers", "--from-file", str(numbers), "--out", str(out), *FAST])
        == 0
    )
    assert _summary(out)["metrics"]["validity"] == 1.0


def test_eval_repeats_training_figures(m5: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["gan", "eval", str(m5)]) == 0
    evaluation = json.loads((m5 / "eval.json").read_text())
    assert evaluation["validity"] == _summary(m5)["metrics"]["validity"]
    assert evaluation["js"] == _summary(m5)["metrics"]["js"]


@pytest.mark.parametrize(
    "fmt,loader",
    [
        ("torchscript", lambda p: torch.jit.load(str(p))),
        ("export", lambda p: torch.export.load(str(p)).module()),
    ],
)
@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_export_gives_the_sampled_integers(m5: Path, tmp_path: Path, fmt: str, loader) -> None:
    path = tmp_path / f"num_gen.{fmt}"
    assert main(["gan", "export", str(m5), "--format", fmt, "--out", str(path)]) == 0
    gan = load_gan(m5)
    noise = latent_noise(64, gan.config.latent_dim, 3)
    assert torch.equal(loader(path)(noise), gan.sample(64, seed=3))


def test_book_preset_uses_the_books_networks(tmp_path: Path) -> None:
    out = tmp_path / "book"
    assert (
        main(
            [
                "gan",
                "train",
                "integers",
                "--preset",
                "book",
                "--epochs",
                "2",
                "--out",
                str(out),
                *FAST,
            ]
        )
        == 0
    )
    config = _summary(out)["config"]
    assert config["latent_dim"] == 100 and config["g_hidden"] == []
    assert config["batch_size"] == 10 and config["lr"] == 5e-4


def test_binary_encoding(tmp_path: Path) -> None:
    out = tmp_path / "bin"
    assert (
        main(
            [
                "gan",
                "train",
                "integers",
                "--multiple-of",
                "8",
                "--max",
                "1024",
                "--encoding",
                "binary",
                "--out",
                str(out),
                *FAST,
            ]
        )
        == 0
    )
    metrics = _summary(out)["metrics"]
    assert metrics["validity"] >= 0.95 and metrics["n_valid_values"] == 128


def test_collapse_warning(
    m5: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import genlab.gan as gan_module

    real_load = gan_module.load_gan

    def collapsed(path):
        run = real_load(path)
        run.sample_tensor = lambda n, seed=None, label=None, where=None: torch.full(
            (n,), 35, dtype=torch.long
        )
        return run

    monkeypatch.setattr(gan_module, "load_gan", collapsed)
    assert main(["gan", "eval", str(m5), "-n", "1000"]) == 0
    err = capsys.readouterr().err
    assert "mode collapse: only 1 of 20" in err


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--multiple-of", "0"], "--multiple-of must be a positive integer"),
        (["--multiple-of", "-5"], "--multiple-of must be a positive integer"),
        (["--max", "1"], "--max must be at least 2"),
        (["--max", "100000"], "use --encoding binary"),
        (["--rule", "n % 3 == 7"], "matches no value"),
        (["--rule", "n >= 0"], "matches every value"),
        (["--rule", "__import__('os').system('touch PWNED')"], "not allowed"),
        (["--rule", "n +"], "--rule"),
        (["--odd", "--even"], "contradict"),
        (["--odd", "--multiple-of", "3"], "several integer patterns"),
        (["--from-file", "{tmp}/missing.txt"], "no such file"),
        (["--from-file", "{tmp}/empty.txt"], "empty"),
        (["--from-file", "{tmp}/words.txt"], "line 2"),
        (["--from-file", "{tmp}/negative.txt"], "negative"),
    ],
)
def test_bad_integer_input(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "words.txt").write_text("1 2 3\nfour\n")
    (tmp_path / "negative.txt").write_text("3 -1 4\n")
    args = [f.format(tmp=tmp_path) for f in flags]
    rc = main(["gan", "train", "integers", *args, "--out", str(tmp_path / "o"), *FAST])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and message in err and len(err.splitlines()) == 1, err
    assert not Path("PWNED").exists()
