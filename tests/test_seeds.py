"""`--seeds` / `--repeat` and `seeds=[...]`: one job per seed, the spread of its figures."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

import genlab
from genlab.cli import main
from genlab.errors import ConfigError


def test_classifier_over_seeds(tiny_fashion: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "fm"
    args = ["classify", "train", "--epochs", "2", "--data-dir", str(tiny_fashion)]
    assert main([*args, "--repeat", "3", "--seed", "5", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == [5, 6, 7]
    accuracies = [
        json.loads((out / f"seed-{s}" / "summary.json").read_text())["test_accuracy"]
        for s in (5, 6, 7)
    ]
    spread = summary["figures"]["test_accuracy"]
    assert spread["values"] == accuracies
    assert spread["mean"] == pytest.approx(statistics.fmean(accuracies))
    assert spread["std"] == pytest.approx(statistics.stdev(accuracies))
    assert spread["min"] == min(accuracies) and spread["max"] == max(accuracies)
    assert json.loads((out / "seed-6" / "config.json").read_text())["seed"] == 6
    page = (out / "report.html").read_text()
    assert "Spread over the seeds" in page and "seed-7" in page
    assert "test_accuracy" in capsys.readouterr().out


def test_gan_over_seeds_from_python(tmp_path: Path) -> None:
    repeated = genlab.gan.train(
        "sine", out=tmp_path / "s", seeds=[0, 1], epochs=4, quiet=True, final_samples=300
    )
    assert [run.config.seed for run in repeated.runs] == [0, 1]
    assert "metrics.relation_nrmse" in repeated.summary["figures"]
    assert (tmp_path / "s" / "seed-1" / "model.pt").is_file()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--seeds", "3"], "at least two different seeds"),
        (["--seeds", "3", "3"], "at least two different seeds"),
        (["--repeat", "1"], "--repeat must be"),
        (["--seeds", "1", "2", "--repeat", "2"], "not both"),
    ],
)
def test_bad_seed_flags(
    tiny_fashion: Path, tmp_path: Path, extra: list[str], message: str, capsys
) -> None:
    args = ["classify", "train", "--epochs", "1", "--data-dir", str(tiny_fashion), "--quiet"]
    assert main([*args, *extra, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    with pytest.raises(ConfigError):
        genlab.classify.train(seeds=[1], out=None)
