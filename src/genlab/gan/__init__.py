"""GANs from Python or a notebook: shapes, formulas, CSV files and integer patterns.

import genlab
run = genlab.gan.train("exp", out="runs/exp")            # a GanRun; shows its figures in Jupyter
run.summary["metrics"]["relation_median_rel_error"]
points = genlab.gan.load("runs/exp").sample(1000, seed=1) # (1000, 2) in the data's units
genlab.gan.evaluate("runs/exp", n=10_000)                 # the figures of summary.json
genlab.gan.train("integers", multiple_of=5, max_value=100) # the book's multiples of 5
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genlab.config import GanConfig
from genlab.gan.adapter import GanData
from genlab.gan.engine import FINAL_SAMPLES, GanRun, load_gan, train_gan
from genlab.progress import Reporter, make_reporter

__all__ = ["GanConfig", "GanRun", "evaluate", "load", "make_data", "train"]

CURVE_KINDS = ("exp", "sine", "formula", "csv")
INTEGER_OPTIONS = ("multiple_of", "rule", "odd", "even", "from_file", "max_value", "encoding")
CURVE_OPTIONS = ("formula", "x_range", "csv", "n", "data_seed")


def make_data(kind: str, config: GanConfig | None = None, **options: Any) -> GanData:
    """The training data of ``kind``: exp, sine, formula (``formula=``, ``x_range=``), csv
    (``csv=``) or integers (``multiple_of=``, ``rule=``, ``odd=``, ``even=``, ``from_file=``,
    ``max_value=``, ``encoding=``)."""
    if kind == "integers":
        from genlab.gan.integers import make_integer_gan_data

        if not any(options.get(k) for k in ("multiple_of", "rule", "odd", "even", "from_file")):
            options["multiple_of"] = 5  # the book's case
        return make_integer_gan_data(**options)
    if kind not in CURVE_KINDS:
        raise ValueError(f"unknown data kind {kind!r}; choose one of {CURVE_KINDS + ('integers',)}")
    from genlab.gan.curves import make_curve_gan_data

    config = config or GanConfig()
    return make_curve_gan_data(
        kind, transform=config.transform, batch_size=config.batch_size, **options
    )


def train(
    kind: str = "exp",
    *,
    out: str | Path | None = None,
    preset: str = "genlab",
    quiet: bool = False,
    reporter: Reporter | None = None,
    overwrite: bool = False,
    resume: bool = False,
    plots: bool = True,
    **options: Any,
) -> GanRun:
    """Train a GAN on data of ``kind`` and evaluate its best generator on 10,000 samples.

    ``options`` are the data's options (see :func:`make_data`) and any
    :class:`~genlab.config.GanConfig` field (``epochs``, ``lr``, ``batch_size``, ``seed``,
    ``g_hidden`` ...). ``preset="book"`` starts from the book's networks and optimiser.
    """
    names = INTEGER_OPTIONS if kind == "integers" else CURVE_OPTIONS
    data_options = {k: options.pop(k) for k in names if k in options}
    if kind == "integers":
        from genlab.gan.integers import recommended_settings

        data = make_data(kind, **data_options)
        settings = recommended_settings(data, preset).to_dict()
        settings.update(
            g_hidden=tuple(settings["g_hidden"]),
            d_hidden=tuple(settings["d_hidden"]),
            transform="none",
        )
        config = GanConfig(**settings).with_(**options)
    else:
        config = (GanConfig.book() if preset == "book" else GanConfig()).with_(**options)
        data = make_data(kind, config, **data_options)
    return train_gan(
        data,
        config,
        out=out,
        reporter=reporter or make_reporter(quiet),
        overwrite=overwrite,
        plots=plots,
        resume=resume,
    )


def load(path: str | Path) -> GanRun:
    """A trained GAN from its run folder (or model file), with its summary when there is one."""
    return load_gan(path)


def evaluate(run: GanRun | str | Path, n: int = FINAL_SAMPLES, seed: int | None = None) -> dict:
    """The figures of ``n`` generated samples (default seed: the run's, as in summary.json)."""
    if not isinstance(run, GanRun):
        run = load(run)
    return run.evaluate(n, seed=run.config.seed if seed is None else seed)
