"""genlab: Fashion-MNIST classifiers and small GANs, from the shell and from Python.

    import genlab
    run = genlab.classify.train(task="binary", out="runs/fm2")      # Fashion-MNIST
    gan = genlab.gan.train("exp", out="runs/exp")                   # a shape GAN
    points = genlab.gan.load("runs/exp").sample(1000, seed=1)
    genlab.evaluate("runs/exp")                                     # any run folder
    genlab.compare(["runs/a", "runs/b"], out="runs/ab")             # runs side by side

Submodules load on first use, so ``import genlab`` stays fast.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

__version__ = "0.1.0"
__all__ = ["classify", "compare", "evaluate", "gan", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("classify", "gan"):
        return importlib.import_module(f"genlab.{name}")
    raise AttributeError(f"module 'genlab' has no attribute {name!r}")


def compare(run_dirs: Any, out: str | Path | None = None) -> Any:
    """Compare finished runs of one kind (see :func:`genlab.comparison.compare`): the settings
    that differ, headline figures side by side; with ``out``, a page with the curves."""
    from genlab.comparison import compare as _compare

    return _compare(list(run_dirs), out)


def evaluate(run_dir: str | Path, **options: Any) -> dict[str, Any]:
    """The test figures of any run folder: a classifier's or a GAN's (by its model file)."""
    from genlab.training.runs import run_kind

    kind = run_kind(run_dir)
    module = importlib.import_module("genlab.classify" if kind == "classifier" else "genlab.gan")
    return module.evaluate(run_dir, **options)
