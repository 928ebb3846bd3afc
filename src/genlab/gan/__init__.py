"""GANs from Python or a notebook: shapes, formulas, CSV files and integer patterns.

    import genlab
    run = genlab.gan.train("exp", out="runs/exp")            # a GanRun; its figures in Jupyter
    run.summary["metrics"]["relation_median_rel_error"]      # test part, fresh noise
    points = genlab.gan.load("runs/exp").sample(1000, seed=1) # (1000, 2) in the data's units
    genlab.gan.evaluate("runs/exp")                           # the figures of summary.json again
    genlab.gan.train("integers", multiple_of=5, max_value=100) # the book's multiples of 5

This module is the one way in, for the CLI too: the data kinds come from the registry
:mod:`genlab.gan.registry`; training is :func:`genlab.gan.engine.train_gan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from genlab.config import GanConfig
from genlab.errors import ConfigError
from genlab.gan.adapter import GanAdapter
from genlab.gan.engine import (
    FINAL_SAMPLES,
    UNITS,
    GanRun,
    check_count,
    final_noise_seed,
    interpolate,
    load_gan,
    train_gan,
)
from genlab.gan.export import export_generator
from genlab.gan.registry import get_kind, kinds
from genlab.progress import Reporter, make_reporter
from genlab.training import runs

#: Settings a resumed run may change (where it runs, not what it computes).
MAY_CHANGE_ON_RESUME = ("device", "threads")

__all__ = [
    "GanAdapter",
    "GanConfig",
    "GanRun",
    "eval_report",
    "evaluate",
    "export_generator",
    "interpolate_walks",
    "plot_interpolation",
    "kinds",
    "rebuild_data",
    "sample_labels",
    "write_images",
    "load",
    "make_data",
    "sample",
    "train",
]


def make_data(kind: str, config: GanConfig | None = None, **options: Any) -> GanAdapter:
    """The training data of ``kind`` (see :func:`genlab.gan.registry.kinds`): exp, sine, formula
    (``formula=``, ``x_range=``), csv (``csv=``) or integers (``multiple_of=``, ``rule=``,
    ``odd=``, ``even=``, ``from_file=``, ``max_value=``, ``encoding=``)."""
    found = get_kind(kind)
    data_options, extra = found.split_options(options)
    if extra:
        raise ConfigError(f"make_data takes data options only, not {', '.join(extra)}")
    return found.build(data_options, config or found.base_config("genlab", data_options))


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
    final_samples: int = FINAL_SAMPLES,
    seeds: Sequence[int] | None = None,
    **options: Any,
) -> Any:
    """Train a GAN on data of ``kind``; report its best generator's test figures.

    ``options`` are the data's options (see :func:`make_data`) and any
    :class:`~genlab.config.GanConfig` field (``epochs``, ``lr``, ``batch_size``, ``seed``,
    ``g_hidden`` ...). ``preset="book"`` starts from the book's networks and optimiser.
    ``resume=True`` goes on from ``out``'s checkpoint with the data and settings stored
    there; options given now must equal the stored ones (a ConfigError names those that
    differ). ``final_samples``: generated samples behind the reported (test) figures.
    ``seeds=[0, 1, ...]`` trains once per seed into ``out/seed-N`` and returns a
    :class:`~genlab.repeats.Repeated` (the spread of the figures in ``out/summary.json``).
    """
    if seeds is not None:
        from genlab.repeats import run_seeds

        if resume:
            raise ConfigError("--resume goes on with one run: resume each seed-N folder")

        def one(seed: int, folder: Path | None) -> GanRun:
            return train(
                kind, out=folder, preset=preset, quiet=quiet, reporter=reporter,
                overwrite=overwrite, plots=plots, final_samples=final_samples,
                **{**options, "seed": seed},
            )  # fmt: skip

        return run_seeds(one, seeds, out, overwrite=overwrite)
    found = get_kind(kind)
    given = {k: v for k, v in options.items() if v is not None}
    data_options, config_fields = found.split_options(given)
    if resume and out is not None and (Path(out) / runs.CONFIG_FILE).exists():
        stored = runs.read_json(Path(out) / runs.CONFIG_FILE)
        origin = (stored.get("data") or {}).get("origin") or {}
        if origin.get("kind", kind) != kind:
            raise ConfigError(
                f"cannot resume {out}: it trained on {origin.get('kind')!r} data, not {kind!r}"
            )
        stored_options = origin.get("options", {})
        must_match = [k for k in given if k not in MAY_CHANGE_ON_RESUME]
        runs.check_resume_flags(out, {**stored, **stored_options}, given, must_match)
        data_options = {**stored_options, **data_options}
        changed = {k: v for k, v in config_fields.items() if k in MAY_CHANGE_ON_RESUME}
        config = found.config_class.from_dict(stored).with_(**changed)
    else:
        config = found.base_config(preset, data_options).with_(preset=preset, **config_fields)
    data = found.build(data_options, config)
    # a DataFrame is not stored (nor its rows): evaluating such a run again takes data=...
    data.origin = {"kind": kind, "options": {k: v for k, v in data_options.items() if k != "data"}}
    return train_gan(
        data,
        config,
        out=out,
        reporter=reporter or make_reporter(quiet),
        overwrite=overwrite,
        plots=plots,
        resume=resume,
        final_samples=final_samples,
    )


def load(path: str | Path) -> GanRun:
    """A trained GAN from its run folder (or model file), with its summary when there is one."""
    return load_gan(path)


def sample(
    run: GanRun | str | Path,
    n: int,
    seed: int | None = None,
    label: Any = None,
    *,
    where: Any = None,
) -> Any:
    """``n`` samples of a trained GAN in the data's units (default seed: the one behind the
    figures of ``summary.json``); images are uint8 ``(n, 28, 28)``, a table's rows a pandas
    DataFrame. ``label``: the class a class-conditional run draws (a name in any case, or its
    index); ``where``: a table's conditions, ``{column: value}``, that every row meets."""
    return (run if isinstance(run, GanRun) else load(run)).sample(n, seed, label, where=where)


def sample_labels(run: GanRun, n: int, label: Any = None) -> torch.Tensor:
    """The class of each of ``n`` samples as :func:`sample` draws them: the asked class, the
    run's classes in turn (class-conditional), or -1 (unconditional)."""
    return run.data.sample_labels(n, label)


def write_images(path: str | Path, images: torch.Tensor, labels: torch.Tensor) -> Path:
    """Generated images to ``path``: a grid (``.png``) or arrays ``images`` (N, 28, 28) uint8
    and ``labels`` (N,) int64 (``.npz``)."""
    import io

    import numpy as np

    from genlab import plots

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".npz"):
        raise ConfigError(f"--out {path}: images go to a .png grid or an .npz file")
    if not path.parent.is_dir():
        raise ConfigError(f"--out {path}: the folder {path.parent} does not exist")
    if suffix == ".png":
        return plots.save_image_grid(
            images, path, columns=min(16, max(8, round(len(images) ** 0.5)))
        )
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=images.numpy(), labels=labels.numpy())
    runs.atomic_write_bytes(path, buffer.getvalue())
    return path


def evaluate(
    run: GanRun | str | Path,
    n: int = FINAL_SAMPLES,
    seed: int | None = None,
    *,
    data: Any = None,
) -> dict[str, Any]:
    """The test figures of ``n`` samples; the defaults reproduce ``summary.json``'s. A run
    on your own data keeps no rows in its model file: its test part is rebuilt from the file
    it trained on (recorded in the run), or from ``data`` (a file path, or for a table a
    pandas DataFrame) when given."""
    if not isinstance(run, GanRun):
        run = load(run)
    return run.evaluate(n, seed, data=rebuild_data(run, data))


def rebuild_data(run: GanRun, data: Any = None) -> GanAdapter | None:
    """For a run whose model file holds no rows (:attr:`GanAdapter.holds_data` False): its
    adapter rebuilt, parts and all, from the data it trained on (``data``: a file or a
    DataFrame in place of the recorded one), checked against the run's fingerprint. None
    for a run that holds what its figures need."""
    from genlab.errors import DataError

    if run.data.holds_data:
        if data is not None:
            raise ConfigError("this run holds its own evaluation data: give no data file")
        return None
    origin = dict(run.data.origin or run.summary.get("data", {}).get("origin") or {})
    if not origin and run.out_dir is not None and (run.out_dir / runs.CONFIG_FILE).exists():
        origin = runs.read_json(run.out_dir / runs.CONFIG_FILE).get("data", {}).get("origin", {})
    found = get_kind(origin.get("kind", "csv"))
    options = dict(origin.get("options", {}))
    source = next((k for k in ("csv", "data") if k in found.options), None)
    if data is not None and source is not None:
        options.pop("csv", None)
        options.pop("data", None)
        options["data" if not isinstance(data, (str, Path)) and "data" in found.options
                else "csv"] = data if not isinstance(data, Path) else str(data)  # fmt: skip
    if not any(options.get(k) is not None for k in ("csv", "data")):
        raise DataError(
            "this model file holds no rows of its data (your data stays yours) and does not "
            "say which file it trained on: give the data, e.g. genlab gan eval RUN --csv FILE"
        )
    path = options.get("csv")
    if path is not None and not Path(path).exists() and not _pattern_matches(path):
        raise DataError(
            f"the data this run trained on, {path}, is not there (model files hold no rows): "
            "give it with --csv FILE"
        )
    rebuilt = found.build(options, run.config)
    rebuilt.origin = {"kind": found.name, "options": options}
    expected = run.data.to_dict().get("fingerprint")
    if expected is not None and rebuilt.to_dict().get("fingerprint") != expected:
        raise DataError(
            f"{path or 'the data given'} is not the data this run trained on (its training "
            "rows differ): give the same file and --data-seed"
        )
    return rebuilt


def _pattern_matches(path: str) -> bool:
    """Whether ``path`` names a table's shard files that are there (a folder or a pattern:
    :func:`genlab.data.table.csv_shards`)."""
    from genlab.data.table import csv_shards
    from genlab.errors import DataError

    try:
        return bool(csv_shards(path))
    except DataError:
        return False


def eval_report(
    run: GanRun | str | Path,
    n: int = FINAL_SAMPLES,
    seed: int | None = None,
    *,
    data: Any = None,
) -> dict[str, Any]:
    """:func:`evaluate`, also written to the run folder's ``eval.json``; returns ``{"n",
    "seed", "data", "metrics", "path"}``."""
    if not isinstance(run, GanRun):
        run = load(run)
    check_count(n)
    seed = final_noise_seed(run.config.seed) if seed is None else seed
    metrics = run.evaluate(n, seed, data=rebuild_data(run, data))
    report: dict[str, Any] = {"n": n, "seed": seed, "data": run.data.name, "metrics": metrics}
    if run.out_dir is not None:
        report["path"] = str(run.out_dir / "eval.json")
        flat = {"n": n, "seed": seed, "data": run.data.name, **metrics}
        runs.write_json(report["path"], {**flat, "split": "test", "units": UNITS})
    return report


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a half-written file never replaces a good one)."""
    runs.atomic_write_bytes(path, text.encode())


def plot_interpolation(
    run: GanRun | str | Path, out: str | Path, *, steps: int = 10, walks: int = 5, seed: int = 0
) -> tuple[Path, torch.Tensor]:
    """Latent walks (:func:`interpolate_walks`) plotted over the real data (PNG ``out``);
    returns the path and the walks. A run whose model file holds no rows (a CSV run) has no
    real data to show: the plot then has the walks alone, on axes fitted to them."""
    if not isinstance(run, GanRun):
        run = load(run)
    points = interpolate_walks(run, steps, walks, seed)
    title = f"{walks} latent walks of {steps} steps: GAN on {run.data.name}"
    return run.data.plot_walks(points, out, title), points


def interpolate_walks(
    run: GanRun | str | Path, steps: int = 10, walks: int = 5, seed: int = 0
) -> torch.Tensor:
    """``walks`` straight walks of ``steps`` points through the latent space, decoded:
    (walks, steps, ...)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ConfigError(f"--steps must be a whole number of at least 2, not {steps!r}")
    check_count(walks, "--walks")
    if not isinstance(run, GanRun):
        run = load(run)
    return interpolate(run.generator, run.data, steps, walks=walks, seed=seed)
