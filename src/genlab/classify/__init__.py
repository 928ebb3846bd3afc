"""Fashion-MNIST classifiers from Python or a notebook; the CLI calls only these.

import genlab
run = genlab.classify.train(task="binary", out="runs/fm2")   # a ClassifierRun
run.test_accuracy, run.summary["per_class_accuracy"]
run                                                          # a table in Jupyter
again = genlab.classify.load("runs/fm2")
again.predict_indices([0, 1, 2])                             # [(true, predicted), ...]
genlab.classify.evaluate("runs/fm2", write=True)             # test figures -> eval.json
genlab.classify.predict_images(again, ["shirt.png"])         # [ImagePrediction(...)]

Bad input (an index out of range, an unreadable image, a bad setting) raises a
:class:`~genlab.errors.GenlabError` with a one-line message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from genlab.classify.engine import (
    EVAL_FILE,
    ClassifierRun,
    ImagePrediction,
    load_classifier,
    train_classifier,
)
from genlab.config import ClassifierConfig
from genlab.errors import ConfigError
from genlab.progress import Reporter, make_reporter
from genlab.training import runs

__all__ = [
    "EVAL_FILE",
    "ClassifierConfig",
    "ClassifierRun",
    "ImagePrediction",
    "evaluate",
    "load",
    "make_config",
    "predict_images",
    "predict_indices",
    "train",
]

RunLike = ClassifierRun | str | Path


def make_config(
    task: str | None = None,
    model: str | None = None,
    preset: str | None = None,
    **settings: Any,
) -> ClassifierConfig:
    """The config of a run: ``preset`` ("genlab", the default, or "book": the book's exact
    settings), then ``task`` (default multiclass), ``model`` (default mlp) and ``settings``
    (:class:`~genlab.config.ClassifierConfig` fields)."""
    names = {f.name for f in fields(ClassifierConfig)}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise ConfigError(
            f"unknown classifier setting {unknown[0]!r}; choose from {', '.join(sorted(names))}"
        )
    given = {"task": task or "multiclass", "model": model or "mlp", **settings}
    if preset == "book":
        return ClassifierConfig.book(**given)
    return ClassifierConfig(preset=preset or "genlab", **given)


def train(
    task: str | None = None,
    model: str | None = None,
    *,
    out: str | Path | None = None,
    preset: str | None = None,
    quiet: bool = False,
    reporter: Reporter | None = None,
    overwrite: bool = False,
    resume: bool = False,
    plots: bool = True,
    seeds: Sequence[int] | None = None,
    **settings: Any,
) -> Any:
    """Train a Fashion-MNIST classifier and evaluate it on the test set.

    ``settings`` are :class:`~genlab.config.ClassifierConfig` fields (``epochs``,
    ``patience``, ``min_delta``, ``batch_size``, ``lr``, ``seed``, ``threshold``, ``device``,
    ``threads``, ``data_dir``, ...); ``preset="book"`` starts from the book's exact settings (see
    :func:`make_config`). ``out`` (optional) writes a run folder (``plots=False``: without
    PNGs). ``resume=True`` goes on with the unfinished run in ``out``, with its stored
    settings: any of ``task``, ``model``, ``preset`` or ``settings`` given here must agree
    with them (``device``, ``threads`` and ``data_dir`` may change). Progress shows as a bar unless
    ``quiet``. ``seeds=[0, 1, ...]`` trains once per seed into ``out/seed-N`` and returns a
    :class:`~genlab.repeats.Repeated` (the spread of the figures in ``out/summary.json``).
    """
    if seeds is not None:
        from genlab.repeats import run_seeds

        if resume:
            raise ConfigError("--resume goes on with one run: resume each seed-N folder")

        def one(seed: int, folder: Path | None) -> ClassifierRun:
            return train(
                task, model, out=folder, preset=preset, quiet=quiet, reporter=reporter,
                overwrite=overwrite, plots=plots, **{**settings, "seed": seed},
            )  # fmt: skip

        return run_seeds(one, seeds, out, overwrite=overwrite)
    config = make_config(task, model, preset, **settings)
    given = {"task": task, "model": model, "preset": preset, **settings}
    return train_classifier(
        config,
        out=out,
        reporter=reporter or make_reporter(quiet),
        overwrite=overwrite,
        plots=plots,
        resume=resume,
        requested={k: v for k, v in given.items() if v is not None},
    )


def load(path: str | Path) -> ClassifierRun:
    """A trained classifier from its run folder (or model file), on the CPU, in eval mode."""
    model, config, names = load_classifier(path)
    folder = runs.run_folder(path)
    summary_file = folder / runs.SUMMARY_FILE
    summary = runs.read_json(summary_file) if summary_file.exists() else {}
    return ClassifierRun(
        model=model, config=config, class_names=names, summary=summary, out_dir=folder
    )


def _as_run(run: RunLike) -> ClassifierRun:
    return run if isinstance(run, ClassifierRun) else load(run)


def evaluate(
    run: RunLike, data_dir: str | Path | None = None, *, write: bool = False
) -> dict[str, Any]:
    """Test figures of a trained classifier (a run or its folder): loss, exact accuracy,
    per-class accuracy, confusion matrix, and the split each comes from (``splits``,
    ``figure_split``). ``write=True`` also writes them to the run folder's ``eval.json``."""
    return _as_run(run).evaluate(data_dir, write=write)


def predict_indices(
    run: RunLike, indices: Sequence[int], data_dir: str | Path | None = None
) -> list[tuple[str, str]]:
    """(true label, predicted label) names for test images by index."""
    return _as_run(run).predict_indices(indices, data_dir)


def predict_images(
    run: RunLike, paths: Sequence[str | Path], invert: bool = True
) -> list[ImagePrediction]:
    """Predictions for image files (PNG, JPEG, ...), each with its three likeliest classes
    (``top``). Each image is prepared as Fashion-MNIST's were: trimmed to the item, resized so
    its longest side is 28 pixels, centred, and inverted if the item is darker than its
    background (a light background) unless ``invert=False``."""
    return _as_run(run).predict_images(paths, invert)
