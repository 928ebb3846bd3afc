"""Benchmark: genlab's binary MLP and 10-class CNN with their defaults, on the real data.

The same runs as ``genlab classify train --task binary`` and ``genlab classify train --model
cnn`` (genlab's defaults, seed 42, on the CPU, no run folder): test accuracy, epochs and
training seconds (``train_seconds``: training and validation epochs, not data loading or the
test). The book's side is the binary accuracy it reports (from :mod:`genlab.book`, with its
source); the book has no CNN. Prints one JSON line and writes it to
bench/results/classifier_variants.json (not with --quick).

    python bench/classifier_variants.py            # ~5 min here (the CNN takes most)
    python bench/classifier_variants.py --quick    # one epoch each, printed only
"""

from __future__ import annotations

import argparse
from typing import Any

import torch
from _results import emit

from genlab.book import SOURCES, figures_for
from genlab.classify.engine import train_classifier
from genlab.config import ClassifierConfig

#: name -> (task, model, the book's job in genlab.book or None)
RUNS = {
    "binary_mlp": ("binary", "mlp", "classify-binary"),
    "multiclass_cnn": ("multiclass", "cnn", None),
}


def genlab_run(task: str, model: str, epochs: int) -> dict[str, Any]:
    """One run with genlab's defaults; its headline figures."""
    config = ClassifierConfig(task=task, model=model, epochs=epochs, device="cpu")
    summary = train_classifier(config, plots=False).summary
    return {
        "task": task,
        "model": model,
        "test_accuracy": summary["test_accuracy"],
        "test_total": summary["test_total"],
        "epochs_run": summary["epochs_run"],
        "best_epoch": summary["best_epoch"],
        "stopped_early": summary["stopped_early"],
        "train_seconds": round(summary["train_seconds"], 2),
    }


def book_reported(job: str | None) -> dict[str, Any] | None:
    """The book's reported test accuracy for ``job`` and where it comes from (None: none)."""
    figure = figures_for(job).get("test_accuracy")
    if figure is None:
        return None
    return {"test_accuracy": figure.value, "source": SOURCES[figure.source]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one epoch each (smoke run)")
    args = parser.parse_args(argv)
    epochs = 1 if args.quick else ClassifierConfig().epochs
    figures: dict[str, Any] = {
        "bench": "classifier_variants",
        "quick": args.quick,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    for name, (task, model, job) in RUNS.items():
        figures[name] = {"genlab": genlab_run(task, model, epochs), "book": book_reported(job)}
    emit(__file__, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
