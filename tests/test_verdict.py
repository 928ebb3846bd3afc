"""The run in plain words (issue 21: 11): is it good, what the headline means, what next."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from genlab.cli import main
from genlab.verdict import verdict, verdict_text


def gan(kind: str, metrics: dict[str, Any], **data: Any) -> dict[str, Any]:
    """A GAN summary as the engine writes it (only the keys the verdict reads)."""
    headline = data.pop("headline")
    return {
        "kind": "gan",
        "data": {"kind": kind, "name": data.pop("name", kind), **data},
        "splits": {"train": 2048, "validation": 10000, "test": 10000},
        "epochs_run": 400,
        "best_epoch": 200,
        "stopped_early": True,
        "metrics": metrics,
        "headline": f"metrics.{headline}",
        "config": {"preset": "genlab", "epochs": 3000},
    }


def exp_run(error: float) -> dict[str, Any]:
    return gan(
        "curve",
        {"relation_median_rel_error": error, "relation_nrmse": 2 * error, "w1": 0.05},
        name="exp",
        relation="1.08**x",
        book_reference="gan-exp",
        headline="relation_median_rel_error",
    )


def classifier(accuracy: float, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "classifier",
        "task": "multiclass",
        "model": "mlp",
        "test_accuracy": accuracy,
        "test_total": 10000,
        "epochs_run": 19,
        "best_epoch": 9,
        "stopped_early": True,
        "config": {"preset": "genlab", "epochs": 100},
        **extra,
    }


#: One summary per kind of run, each a middling-to-good run.
KINDS = {
    "exp": exp_run(0.01),
    "sine": gan(
        "curve",
        {"relation_nrmse": 0.03, "w1": 0.02},
        name="sine",
        relation="sin(x)",
        headline="relation_nrmse",
    ),
    "formula": gan(
        "curve", {"relation_nrmse": 0.4}, name="x**2", relation="x**2", headline="relation_nrmse"
    ),
    "csv points": gan(
        "curve", {"w1": 0.04, "copies": 0.0, "copies_real": 0.0}, name="points.csv", headline="w1"
    ),
    "integers": gan(
        "integers",
        {"validity": 0.999, "coverage": 0.85, "js": 0.02},
        name="multiples of 5 in [0, 100)",
        book_reference="gan-multiples-of-5",
        headline="validity",
    ),
    "fashion": gan(
        "images",
        {"fid_judge": 17.6, "floor_fid_judge": 0.43, "precision": 0.86, "floor_precision": 0.86},
        book_reference="gan-fashion",
        headline="fid_judge",
    ),
    "table": gan(
        "table",
        {"quality": 0.93, "ml_efficacy": 0.88, "ml_efficacy_real": 0.98},
        headline="quality",
    ),
    "classifier": classifier(0.89),
}

#: What each kind's meaning sentence must say.
MEANINGS = {
    "exp": "half of the generated points have a y within 1% of the formula's value (1.08**x)",
    "sine": "misses the formula (sin(x)) by 0.03 times the spread",
    "formula": "misses the formula (x**2) by 0.4 times",
    "csv points": "0.04 standard deviations away from the real ones",
    "integers": "99.9% of the generated values follow the pattern (multiples of 5 in [0, 100))",
    "fashion": "how far the generated images are from the real test images",
    "table": "SDMetrics quality score",
    "classifier": "the right class for 89% of the 10,000 test images",
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_gets_a_judgement_a_meaning_and_a_next_step(kind: str) -> None:
    sentences = verdict(KINDS[kind])
    assert 2 <= len(sentences) <= 4
    assert all(s.endswith(".") and s[0].isupper() for s in sentences)
    assert sentences[0].startswith("This run is ")
    assert "is better)" in sentences[0]  # which way is better
    assert MEANINGS[kind] in sentences[1]
    assert sentences[-1].startswith("Next: ")
    assert "{" not in verdict_text(KINDS[kind])  # every template field filled


def test_a_bad_figure_is_worse_than_the_real_data_and_a_good_one_is_not() -> None:
    bad, good = verdict_text(exp_run(0.4)), verdict_text(exp_run(0.005))
    assert "worse than the real data's own 0" in bad
    assert bad.startswith("This run is not good yet")
    assert "worse than the book's 0.03" in bad
    assert "worse than the real data" not in good
    assert good.startswith("This run is good")
    assert "within 0.03 of the real data's own 0" in good and "better than the book's 0.03" in good


def test_the_real_data_own_figure_comes_from_the_summary() -> None:
    """Image runs: the real images' figure beside the run's (floor_*); tables: *_real."""
    far = KINDS["fashion"] | {"metrics": {"fid_judge": 113.7, "floor_fid_judge": 0.025}}
    text = verdict_text(far)
    assert "far worse than the real images' own 0.025" in text
    assert text.startswith("This run is not good yet")
    assert verdict_text(KINDS["fashion"]).startswith("This run is good")
    # a good headline with another figure far from the real data's own is not called good
    table = KINDS["table"] | {
        "metrics": {"quality": 0.95, "ml_efficacy": 0.5, "ml_efficacy_real": 0.98}
    }
    sentences = verdict(table)
    assert sentences[0].startswith("This run is usable but not yet good")
    still = "Still far from the real rows: machine-learning efficacy 0.5 (theirs 0.98)."
    assert sentences[2] == still


def test_the_book_is_the_yardstick_where_there_is_no_real_figure() -> None:
    assert "better than the book's 0.882" in verdict_text(classifier(0.89))
    worse = verdict_text(classifier(0.80))
    assert "far worse than the book's 0.882" in worse and "This run is good" not in worse
    within = verdict_text(KINDS["integers"])
    assert "within the book's range 0.998–1" in within


def test_next_steps_follow_the_run() -> None:
    still_improving = exp_run(0.2) | {"epochs_run": 30, "best_epoch": 30, "stopped_early": False}
    assert "more --epochs should help" in verdict(still_improving)[-1]
    assert "--preset book" in verdict(still_improving)[-1]  # a book job, genlab's preset
    stalled = exp_run(0.2) | {"config": {"preset": "book"}}
    last = verdict(stalled)[-1]
    assert "another --seed" in last and "--preset book" not in last
    assert "--repeat 3" in verdict(KINDS["sine"])[-1]  # good and done: how much does it move


def test_a_non_finite_headline_is_not_good() -> None:
    sentences = verdict(exp_run(math.inf))
    assert sentences[0].startswith("This run is not good yet") and "not a finite" in sentences[0]
    assert verdict(exp_run(0.01) | {"metrics": {"relation_median_rel_error": None}})[0].startswith(
        "This run is not good yet"
    )


def test_training_prints_the_verdict_last(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "m5"
    args = ["gan", "train", "integers", "--epochs", "3", "--out", str(out)]
    assert main([*args, "--quiet", "--no-plots", "--no-report"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-4] == "in plain words:"
    assert printed[-3].startswith("  This run is ") and "validity" in printed[-3]
    assert printed[-1].startswith("  Next: ")


def test_classifier_training_prints_the_verdict(
    tiny_fashion: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = ["classify", "train", "--data-dir", str(tiny_fashion), "--epochs", "1"]
    args += ["--out", str(tmp_path / "c"), "--quiet", "--no-plots", "--no-report"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "in plain words:\n  This run is " in printed and "the book's 0.882" in printed
    assert "test images, which it never saw while training." in printed


def test_an_older_summary_without_a_headline_is_judged_on_the_books_figure() -> None:
    older = KINDS["integers"] | {"monitor": "js"}
    del older["headline"]
    assert "its validity is 0.999" in verdict(older)[0]
    assert verdict({"kind": "gan", "metrics": {}})[0].startswith("genlab cannot judge this run")
