"""Fashion-MNIST classifiers from Python or a notebook.

import genlab
run = genlab.classify.train(task="binary", out="runs/fm2")   # a ClassifierRun
run.test_accuracy, run.summary["per_class_accuracy"]
run                                                          # a table in Jupyter
again = genlab.classify.load("runs/fm2")
again.predict_indices([0, 1, 2])                             # [(true, predicted), ...]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from genlab.classify.engine import ClassifierRun, load_classifier, train_classifier
from genlab.config import ClassifierConfig
from genlab.progress import Reporter, make_reporter
from genlab.training import runs

__all__ = ["ClassifierConfig", "ClassifierRun", "evaluate", "load", "train"]


def train(
    task: str = "multiclass",
    model: str = "mlp",
    *,
    out: str | Path | None = None,
    preset: str = "genlab",
    quiet: bool = False,
    reporter: Reporter | None = None,
    overwrite: bool = False,
    resume: bool = False,
    **settings: Any,
) -> ClassifierRun:
    """Train a Fashion-MNIST classifier and evaluate it on the test set.

    ``settings`` are :class:`~genlab.config.ClassifierConfig` fields (``epochs``,
    ``patience``, ``min_delta``, ``batch_size``, ``lr``, ``seed``, ``threshold``, ``device``,
    ``data_dir``); ``preset="book"`` starts from the book's exact settings. ``out`` (optional)
    writes a run folder. Progress shows as a bar unless ``quiet``.
    """
    if preset == "book":
        config = ClassifierConfig.book(task, model=model, **settings)
    else:
        config = ClassifierConfig(task=task, model=model, preset=preset, **settings)
    return train_classifier(
        config,
        out=out,
        reporter=reporter or make_reporter(quiet),
        overwrite=overwrite,
        resume=resume,
    )


def load(path: str | Path) -> ClassifierRun:
    """A trained classifier from its run folder (or model file), on the CPU."""
    model, config, names = load_classifier(path)
    folder = runs.run_folder(path)
    summary_file = folder / runs.SUMMARY_FILE
    summary = runs.read_json(summary_file) if summary_file.exists() else {}
    return ClassifierRun(
        model=model, config=config, class_names=names, summary=summary, out_dir=folder
    )


def evaluate(run: ClassifierRun | str | Path, data_dir: str | Path | None = None) -> dict[str, Any]:
    """Test figures of a trained classifier: loss, exact accuracy, per-class accuracy,
    confusion matrix."""
    from genlab.classify.engine import test_report
    from genlab.data.fashion_mnist import load_classification_data

    if not isinstance(run, ClassifierRun):
        run = load(run)
    config = run.config
    data = load_classification_data(
        config.task, data_dir or config.data_dir, config.seed, val_size=config.val_size
    )
    report = test_report(run.model.cpu(), data, config)
    report.pop("predictions")
    return report


def predict_indices(
    run: ClassifierRun, indices: list[int], data_dir: str | Path | None = None
) -> list[tuple[str, str]]:
    """(true label, predicted label) names for test images by index."""
    from genlab.data.fashion_mnist import load_classification_data

    data = load_classification_data(
        run.config.task,
        data_dir or run.config.data_dir,
        run.config.seed,
        val_size=run.config.val_size,
    )
    idx = torch.tensor(indices)
    predicted = run.predict(data.test_x[idx]).tolist()
    return [
        (run.class_names[t], run.class_names[p])
        for t, p in zip(data.test_y[idx].tolist(), predicted, strict=True)
    ]
