"""The book's figures, in one place, each with where it comes from.

*Learn Generative AI with PyTorch* (Mark Liu, Manning 2024) reports a few figures for the jobs
genlab does. Reports, the demo table, the CLI summaries and the benchmarks all read them from
here (never from their own copies), so they cannot disagree.

Each job has a key (``"classify-multiclass"``, ``"gan-exp"``, ...). A data kind names its job
through its ``book_reference`` (stored in the run's ``summary.json`` under ``data``); a
classifier's job follows from its task. What genlab *measures* of the book's code on this
machine is not here: the benchmarks measure it in the same run as genlab's side and commit it
to ``bench/results/NAME.json`` (see the README's results table).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BOOK", "BookFigure", "SOURCES", "figures_for", "job_key"]

#: Where the figures come from (the ``source`` of each :class:`BookFigure`).
SOURCES: dict[str, str] = {
    "ch2-notebook": "the book's chapter-2 code and its saved outputs (Learn Generative AI "
    "with PyTorch, ch. 2.4; its code: markhliu/DGAI)",
    "ch3-run": "the book's chapter-3 code (ch. 3; its code: markhliu/DGAI) "
    "run unchanged on a 2-core CPU (bench/curve_gan.py and bench/integer_gan.py re-implement "
    "its loops)",
    "ch4-notebook": "the book's chapter-4 image-GAN listings (ch. 4; markhliu/DGAI "
    "ch05ImageGan.ipynb, commit 16a71ef4, cells 2-13)",
}


@dataclass(frozen=True)
class BookFigure:
    """One figure the book reports (or its code gives) for a job.

    ``key`` is the ``summary.json`` key it compares with (``"metrics.validity"`` for a nested
    one); ``value`` a number or a ``(low, high)`` range; ``note`` how to read it; ``source`` a
    key of :data:`SOURCES`.
    """

    key: str
    value: float | int | tuple[float, float]
    note: str
    source: str

    def text(self) -> str:
        """The value for people: ``0.8820``, ``0.998-1``, ``1050``."""
        value = self.value
        if isinstance(value, tuple):
            return "-".join(f"{v:g}" for v in value)
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)


#: The book's figures per job (Learn Generative AI with PyTorch, ch. 2.4, 3 and 4).
BOOK: dict[str, tuple[BookFigure, ...]] = {
    "classify-multiclass": (
        BookFigure("test_accuracy", 0.8820, "10-class MLP, --preset book", "ch2-notebook"),
        BookFigure("epochs_run", 19, "early stop, patience 10 on validation loss", "ch2-notebook"),
        BookFigure("best_epoch", 9, "best validation loss", "ch2-notebook"),
        BookFigure("best_val_loss", 0.319, "validation loss at the best epoch", "ch2-notebook"),
    ),
    "classify-binary": (
        BookFigure(
            "test_accuracy",
            0.8784,
            "T-shirt/top vs ankle boot; the book's dropout on the output caps it (about 1.0 "
            "in eval mode)",
            "ch2-notebook",
        ),
        BookFigure("epochs_run", 50, "fixed length", "ch2-notebook"),
    ),
    "gan-exp": (
        BookFigure(
            "metrics.relation_median_rel_error",
            0.03,
            "about 3% median relative error of y when its stop rule fires",
            "ch3-run",
        ),
        BookFigure(
            "epochs_run", 1050, "about: the stop rule (patience 1000) fires there", "ch3-run"
        ),
    ),
    "gan-multiples-of-5": (
        BookFigure("metrics.validity", (0.998, 1.0), "share of multiples of 5", "ch3-run"),
        BookFigure("metrics.coverage", (0.80, 0.85), "16-17 of the 20 multiples appear", "ch3-run"),
        BookFigure("metrics.covered", (16, 17), "of 20 (partial mode collapse)", "ch3-run"),
        BookFigure(
            "epochs_run",
            1300,
            "about; the book counts iterations (one batch of 10 each)",
            "ch3-run",
        ),
    ),
    "gan-fashion": (
        BookFigure(
            "epochs_run",
            50,
            "a fixed 50 epochs; the book judges the images by eye (no figure printed); "
            "bench/image_gan.py measures its figures with genlab's judge",
            "ch4-notebook",
        ),
    ),
}


def job_key(summary: Mapping[str, Any]) -> str | None:
    """The book job a run's summary corresponds to (a key of :data:`BOOK`), or None."""
    kind = summary.get("kind")
    if kind == "classifier":
        config = summary.get("config") or {}
        key = f"classify-{summary.get('task') or config.get('task')}"
        return key if key in BOOK else None
    if kind == "gan":
        data = summary.get("data") or {}
        key = data.get("book_reference")
        return key if key in BOOK else None
    return None


def figures_for(job: str | None) -> dict[str, BookFigure]:
    """The book's figures of ``job`` by summary key (empty for None or an unknown job)."""
    return {figure.key: figure for figure in BOOK.get(job or "", ())}
