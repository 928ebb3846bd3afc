"""A run in plain words: is it good, what its headline figure means, what to try next.

:func:`verdict` reads a finished run's summary (``summary.json`` as a dict) and returns two
to four sentences, for the end of ``genlab ... train`` and the top of the run's report::

    This run is good: its median relative error of y is 0.0163 (lower is better), within
    0.03 of the real data's own 0 (the real points lie exactly on the formula) and better
    than the book's 0.03.
    It means that half of the generated points have a y within 1.6% of the formula's value
    (1.08**x) at their x.
    Next: more --epochs may improve it further (the best epoch was the last, 30); or
    --preset book runs the book's settings, to compare.

The run is judged on its headline figure (``summary["headline"]``; a classifier's test
accuracy) against, in this order, the real data's own figure where the summary holds one
(``floor_<key>`` or ``<key>_real`` beside it, or a figure the real data scores exactly by
construction, such as 0 for the distance of real points to their formula), the book's figure
for the job (:mod:`genlab.book`), or the best value the figure can take. How far from that
reference counts as good or poor is genlab's rule of thumb for each figure (:data:`SCALES`),
measured on this project's benchmarks (``bench/results/``): a default genlab run of each
book job is good, the book's own code fair or good. Other figures the summary measures
against the real data are mentioned when they are poor (and then the run is not called good).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from genlab.book import BookFigure, figures_for, job_key

__all__ = ["SCALES", "Scale", "verdict", "verdict_text"]


@dataclass(frozen=True)
class Scale:
    """How to read one figure.

    ``name``: what it is, for people. ``better``: ``"lower"`` or ``"higher"``. ``meaning``:
    one sentence (``str.format`` fields: ``value``, ``pct``, ``relation``, ``data``,
    ``test_items``), or empty for figures that are never a headline. ``perfect``: the best
    value it can take; with ``real_scores_perfect``, the real data itself scores it (its own
    figure), for the reason in ``why``. A gap from the reference up to ``good`` is good; one
    beyond ``poor`` is poor.
    """

    name: str
    better: str
    good: float
    poor: float
    meaning: str = ""
    perfect: float | None = None
    real_scores_perfect: bool = False
    why: str = ""


#: genlab's rules of thumb, per figure (summary key, without ``metrics.``).
SCALES: dict[str, Scale] = {
    "test_accuracy": Scale(
        "test accuracy",
        "higher",
        good=0.01,
        poor=0.05,
        meaning="It means that the model names the right class for {pct} of {test_items}, "
        "which it never saw while training.",
    ),
    "relation_median_rel_error": Scale(
        "median relative error of y",
        "lower",
        good=0.03,
        poor=0.10,
        meaning="It means that half of the generated points have a y within {pct} of the "
        "formula's value ({relation}) at their x.",
        perfect=0.0,
        real_scores_perfect=True,
        why="the real points lie exactly on the formula",
    ),
    "relation_nrmse": Scale(
        "RMSE of y against the formula",
        "lower",
        good=0.05,
        poor=0.25,
        meaning="It means that the generated points' y misses the formula ({relation}) by "
        "{value} times the spread (standard deviation) of the real y, as a root mean square.",
        perfect=0.0,
        real_scores_perfect=True,
        why="the real points lie exactly on the formula",
    ),
    "w1": Scale(
        "Wasserstein-1 distance",
        "lower",
        good=0.05,
        poor=0.25,
        meaning="It means that each column's generated values lie on average {value} standard "
        "deviations away from the real ones (0 = the same distribution).",
        perfect=0.0,
    ),
    "validity": Scale(
        "validity",
        "higher",
        good=0.002,
        poor=0.05,
        meaning="It means that {pct} of the generated values follow the pattern ({data}).",
        perfect=1.0,
        real_scores_perfect=True,
        why="every real value follows the pattern",
    ),
    "fid_judge": Scale(
        "fid_judge",
        "lower",
        good=20.0,
        poor=50.0,
        meaning="It measures how far the generated images are from the real test images, as "
        "the judge classifier sees them (a Fréchet distance in its features, not the usual "
        "Inception FID; 0 = indistinguishable).",
        perfect=0.0,
    ),
    "quality": Scale(
        "quality",
        "higher",
        good=0.10,
        poor=0.25,
        meaning="It is the SDMetrics quality score: how well each column's distribution and "
        "each pair of columns' relationship match the real rows, averaged (1 = identical).",
        perfect=1.0,
    ),
    # Figures that are never a headline, judged against the real data's own.
    "precision": Scale("precision", "higher", good=0.10, poor=0.40),
    "recall": Scale("recall", "higher", good=0.15, poor=0.40),
    "class_fidelity": Scale("class fidelity", "higher", good=0.05, poor=0.40),
    "min_class_share": Scale("rarest class's share", "higher", good=0.03, poor=0.076),
    "ml_efficacy": Scale("machine-learning efficacy", "higher", good=0.05, poor=0.15),
    "copies": Scale("share of copied training rows", "lower", good=0.01, poor=0.05),
    "privacy": Scale(
        "privacy",
        "higher",
        good=0.05,
        poor=0.10,
        perfect=1.0,
        real_scores_perfect=True,
        why="fresh real rows score 1 by definition",
    ),
}

GOOD, FAIR, POOR = "good", "fair", "poor"
OPENING = {
    GOOD: "This run is good",
    FAIR: "This run is usable but not yet good",
    POOR: "This run is not good yet",
}


@dataclass(frozen=True)
class _Reference:
    value: float
    what: str  # "the real data's own", "the book's", "a perfect"
    why: str = ""


def _number(value: float | int) -> str:
    """A figure in prose: ``0.0163``, ``0.895``, ``113.7``, ``1,050``, ``1``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.3g}"


def _book_text(value: float | int | tuple[float, float]) -> str:
    if isinstance(value, tuple):
        return f"{_number(value[0])}–{_number(value[1])}"
    return _number(value)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _metrics(summary: Mapping[str, Any]) -> Mapping[str, Any]:
    metrics = summary.get("metrics")
    return metrics if isinstance(metrics, Mapping) else summary


def _headline(summary: Mapping[str, Any]) -> str | None:
    """The headline figure's key, without ``metrics.``: the summary's ``headline``; for a
    summary written before there was one, the book's first figure of the run's metrics, or
    the monitored one."""
    headline = summary.get("headline")
    if isinstance(headline, str):
        return headline.removeprefix("metrics.")
    if "test_accuracy" in summary:
        return "test_accuracy"
    metrics = _metrics(summary)
    for key in figures_for(job_key(summary)):
        if key.removeprefix("metrics.") in metrics and key.startswith("metrics."):
            return key.removeprefix("metrics.")
    monitor = summary.get("monitor")
    return monitor if isinstance(monitor, str) and monitor in metrics else None


def _real_words(summary: Mapping[str, Any]) -> str:
    """``real data``, ``real images`` or ``real rows``: what the run imitates."""
    kind = (summary.get("data") or {}).get("kind") if summary.get("kind") == "gan" else None
    return {"images": "real images", "table": "real rows"}.get(str(kind), "real data")


def _real_reference(summary: Mapping[str, Any], key: str, scale: Scale | None) -> _Reference | None:
    """The real data's own figure: measured beside the run's, or known by construction."""
    metrics = _metrics(summary)
    words = _real_words(summary)
    own = f"the {words}' own" if words.endswith("s") else f"the {words}'s own"
    for name in (f"floor_{key}", f"{key}_real"):
        if _finite(metrics.get(name)):
            return _Reference(float(metrics[name]), own)
    if scale is not None and scale.real_scores_perfect and scale.perfect is not None:
        return _Reference(scale.perfect, own, scale.why)
    return None


def _gap(value: float, reference: float, better: str) -> float:
    """How much worse than ``reference`` the value is (negative: better)."""
    return value - reference if better == "lower" else reference - value


def _grade(gap: float, scale: Scale) -> str:
    if gap <= scale.good:
        return GOOD
    return FAIR if gap <= scale.poor else POOR


def _against(value: float, reference: _Reference, scale: Scale) -> tuple[str, str]:
    """(grade, ``close to the real data's own 0 (why)``)."""
    gap = _gap(value, reference.value, scale.better)
    grade = _grade(gap, scale)
    if gap <= 0:
        how = "as good as" if reference.what != "the book's" else "better than"
        if gap == 0 and reference.what == "the book's":
            how = "level with"
    elif grade == GOOD:
        how = f"within {_number(scale.good)} of"
    elif grade == FAIR:
        how = "some way from" if reference.what == "a perfect" else "worse than"
    else:
        how = "far from" if reference.what == "a perfect" else "far worse than"
    why = f" ({reference.why})" if reference.why else ""
    return grade, f"{how} {reference.what} {_number(reference.value)}{why}"


def _against_book(value: float, book: BookFigure, scale: Scale) -> str:
    """``better than the book's 0.03``, ``within the book's range 0.998–1``."""
    target = book.value
    if isinstance(target, tuple):
        low, high = target
        if low <= value <= high:
            return f"within the book's range {_book_text(target)}"
        above = value > high
        better = above == (scale.better == "higher")
        return f"{'better' if better else 'worse'} than the book's {_book_text(target)}"
    gap = _gap(value, float(target), scale.better)
    if abs(gap) <= 1e-12:
        how = "level with"
    else:
        how = "better than" if gap < 0 else "worse than"
    return f"{how} the book's {_book_text(target)}"


def _meaning(summary: Mapping[str, Any], scale: Scale, value: float) -> str:
    data = summary.get("data") if isinstance(summary.get("data"), Mapping) else {}
    splits = summary.get("splits") if isinstance(summary.get("splits"), Mapping) else {}
    total = summary.get("test_total", splits.get("test"))
    fields = {
        "value": _number(value),
        "pct": f"{100 * value:.1f}".removesuffix(".0") + "%",
        "relation": data.get("relation") or "the formula",
        "data": data.get("name") or "the data",
        "test_items": f"the {total:,} test images" if isinstance(total, int) else "the test set",
    }
    return scale.meaning.format_map(fields)


def _poor_others(summary: Mapping[str, Any], headline: str) -> list[str]:
    """Other figures far from the real data's own: ``recall 0 (theirs 0.87)``."""
    out = []
    for key, value in _metrics(summary).items():
        scale = SCALES.get(key)
        if key == headline or scale is None or not _finite(value):
            continue
        reference = _real_reference(summary, key, scale)
        if reference is None:
            continue
        if _grade(_gap(float(value), reference.value, scale.better), scale) == POOR:
            out.append(f"{scale.name} {_number(value)} (theirs {_number(reference.value)})")
    return out[:3]


def _next_steps(summary: Mapping[str, Any], grade: str, has_book: bool) -> str:
    """One sentence: what to try next."""
    config = summary.get("config") if isinstance(summary.get("config"), Mapping) else {}
    epochs, best = summary.get("epochs_run"), summary.get("best_epoch")
    improving = (
        isinstance(epochs, int) and best == epochs and not summary.get("stopped_early", False)
    )
    steps = []
    last = f"the best epoch was the last, {epochs}"
    if grade == GOOD and improving:
        steps.append(f"more --epochs may improve it further ({last})")
    elif grade == GOOD:
        steps.append("--repeat 3 trains three seeds, to show how much the figure moves")
    elif improving:
        steps.append(f"train longer: {last}, so more --epochs should help")
    else:
        where = f" (the best epoch was {best} of {epochs})" if isinstance(best, int) else ""
        steps.append(
            f"try another --seed or a smaller --lr: more epochs alone are unlikely to help{where}"
        )
    if has_book and config.get("preset") not in (None, "book"):
        steps.append("--preset book runs the book's settings, to compare")
    return "Next: " + "; or ".join(steps[:2]) + "."


def verdict(summary: Mapping[str, Any]) -> list[str]:
    """Two to four plain sentences on a finished run (see the module's doc)."""
    key = _headline(summary)
    value = _metrics(summary).get(key) if key else None
    if key is not None and key not in _metrics(summary):
        value = summary.get(key)
    book = figures_for(job_key(summary))
    if key is None:
        return ["genlab cannot judge this run: its summary names no headline figure."]
    scale = SCALES.get(key)
    name = scale.name if scale else key.replace("_", " ")
    book_figure = book.get(f"metrics.{key}") or book.get(key)
    if not _finite(value):
        return [
            f"This run is not good yet: its headline figure ({name}) is not a finite number "
            "(the generator's samples broke a formula or left the data's range).",
            _next_steps(summary, POOR, bool(book)),
        ]
    value = float(value)
    if scale is None:
        return [
            f"genlab has no yardstick for this run's headline figure ({name} "
            f"{_number(value)}); compare it with other runs (genlab compare).",
            _next_steps(summary, FAIR, bool(book)),
        ]
    reference = _real_reference(summary, key, scale)
    if reference is None and book_figure is not None and not isinstance(book_figure.value, tuple):
        reference = _Reference(float(book_figure.value), "the book's")
        book_figure = None
    if reference is None and scale.perfect is not None:
        reference = _Reference(scale.perfect, "a perfect")
    grade, parts = FAIR, []
    if reference is not None:
        grade, text = _against(value, reference, scale)
        parts.append(text)
    if book_figure is not None:
        parts.append(_against_book(value, book_figure, scale))
    others = _poor_others(summary, key)
    if others and grade == GOOD:
        grade = FAIR
    compared = ", " + " and ".join(parts) if parts else ""
    sentences = [
        f"{OPENING[grade]}: its {name} is {_number(value)} ({scale.better} is better){compared}."
    ]
    if scale.meaning:
        sentences.append(_meaning(summary, scale, value))
    if others:
        sentences.append(f"Still far from the {_real_words(summary)}: {', '.join(others)}.")
    sentences.append(_next_steps(summary, grade, bool(book)))
    return sentences


def verdict_text(summary: Mapping[str, Any]) -> str:
    """:func:`verdict` as one paragraph."""
    return " ".join(verdict(summary))
