"""Benchmark: your own data through ``genlab gan train csv`` (no formula) against CTGAN and SDV's
GaussianCopula, on the same rows, scored alike by this script (not by genlab's own figures).

The data (2,048 rows, numpy seed 3): exp (x ~ U(0, 50), y = 1.08^x), sine (x ~ U(-5, 5),
y = sin x), spiral (t ~ U(0, 3 pi), (x, y) = (t cos t, t sin t) / 10) and three clusters
(normal, sigma 0.4, around (-3, 0), (3, 0), (0, 4)). Each side learns each CSV with its defaults
(CTGAN: 300 epochs) and draws 10,000 samples. The scores:

* exp: median relative error |y - 1.08^x| / 1.08^x;
* sine: RMSE of y - sin x over the std of the real y;
* spiral: mean distance to the curve over its radius (3 pi / 10);
* clusters: ``bridge_share``, the share of samples farther than 4 sigma from every centre
  (a normal sample puts 0.03% there; bridges between clusters put far more).

genlab's samples are those its support filter keeps (what ``gan sample`` gives); ``unfiltered``
scores the same generator's samples before the filter (the first 10,000 of the same noise), and
``rejected`` is the share the filter redrew. Every side also gets ``privacy`` and ``copies``
(:func:`genlab.evaluation.privacy.privacy_figures`): its samples against the 2,048 rows it was
given (all of them, though genlab trains on 70%), calibrated by 2,048 fresh rows of the same
shape (numpy seed 4), every column divided by its range in the given rows. ``run`` holds
genlab's own test figures from its summary (``privacy`` against its train part, calibrated by
its test part; ``rejected``).

genlab's time is its whole ``genlab.gan.train("csv", ...)`` call. CTGAN and SDV are optional,
bench-only dependencies (``pip install 'genlab[bench]'``); a side that is not installed is
reported as missing. Prints one JSON line and writes bench/results/csv_gan.json.

    python bench/csv_gan.py            # about 10 minutes here
    python bench/csv_gan.py --quick    # a smoke run (few epochs; the figures mean nothing)
    python bench/csv_gan.py --sides genlab --results-dir /tmp/r   # genlab alone, elsewhere
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _results import emit
from scipy.spatial import cKDTree

import genlab.gan
from genlab.evaluation.privacy import distance_space, privacy_figures
from genlab.gan.engine import generate

ROWS = 2048
SAMPLES = 10_000
CENTRES = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
SIGMA = 0.4
RADIUS = 3 * np.pi / 10
TARGETS = {"exp": 0.01, "sine": 0.1, "spiral": 0.015}
SECONDS_TARGET = 60.0
#: genlab's samples are no closer to the rows it was given than fresh rows are (1 = as far).
PRIVACY_TARGET = 0.9


def datasets(n: int = ROWS, seed: int = 3) -> dict[str, np.ndarray]:
    """The four data sets, (n, 2) each."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 50, n)
    exp = np.stack([x, 1.08**x], 1)
    x = rng.uniform(-5, 5, n)
    sine = np.stack([x, np.sin(x)], 1)
    t = rng.uniform(0, 3 * np.pi, n)
    spiral = np.stack([t * np.cos(t), t * np.sin(t)], 1) / 10
    clusters = CENTRES[rng.integers(0, 3, n)] + SIGMA * rng.standard_normal((n, 2))
    return {"exp": exp, "sine": sine, "spiral": spiral, "clusters": clusters}


_T = np.linspace(0, 3 * np.pi, 400_000)
_SPIRAL = cKDTree(np.stack([_T * np.cos(_T), _T * np.sin(_T)], 1) / 10)


def score(name: str, samples: np.ndarray, real: np.ndarray) -> float:
    """The data set's figure for ``samples`` (see the module docstring; lower is better)."""
    g = np.asarray(samples, dtype=np.float64)
    if name == "exp":
        truth = 1.08 ** g[:, 0]
        return float(np.median(np.abs(g[:, 1] - truth) / np.abs(truth)))
    if name == "sine":
        return float(np.sqrt(np.mean((g[:, 1] - np.sin(g[:, 0])) ** 2)) / np.std(real[:, 1]))
    if name == "spiral":
        return float(_SPIRAL.query(g)[0].mean() / RADIUS)
    distance = np.min(np.linalg.norm(g[:, None, :] - CENTRES[None], axis=2), axis=1)
    return float((distance > 4 * SIGMA).mean())


def privacy(samples: np.ndarray, real: np.ndarray, fresh: np.ndarray) -> dict[str, float]:
    """``privacy``, ``copies``, ``p``, ``p_real`` of ``samples`` against the rows ``real``
    (calibrated by ``fresh`` rows of the same shape), columns over their range in ``real``."""
    given = torch.from_numpy(np.asarray(real, dtype=np.float64))
    categorical = torch.zeros(given.shape[1], dtype=torch.bool)
    ranges = given.max(dim=0).values - given.min(dim=0).values

    def space(values: np.ndarray | torch.Tensor) -> torch.Tensor:
        values = torch.as_tensor(np.asarray(values, dtype=np.float64))
        return distance_space(values, categorical, ranges)

    figures = privacy_figures(space(samples), space(given), space(fresh), categorical)
    return {k: round(float(figures[k]), 4) for k in ("privacy", "copies", "p", "p_real")}


def run_genlab(
    name: str, path: Path, real: np.ndarray, fresh: np.ndarray, quick: bool
) -> tuple[np.ndarray, float, dict[str, Any]]:
    options: dict[str, Any] = {"epochs": 20} if quick else {}
    started = time.perf_counter()
    run = genlab.gan.train("csv", csv=str(path), quiet=True, plots=False, **options)
    seconds = time.perf_counter() - started
    metrics = run.summary["metrics"]
    info: dict[str, Any] = {
        "epochs": run.summary["epochs_run"],
        "best_epoch": run.summary["best_epoch"],
        "run": {k: metrics.get(k) for k in ("privacy", "copies", "p", "p_real", "rejected")},
    }
    samples = run.sample(SAMPLES, seed=1).numpy()
    raw = generate(run.generator, run.data, SAMPLES, seed=1, filtered=False).numpy()
    keep = run.data.support()
    info["rejected"] = (
        0.0 if keep is None else 1.0 - float(keep(torch.from_numpy(raw)).float().mean())
    )
    info["unfiltered"] = {"score": score(name, raw, real), **privacy(raw, real, fresh)}
    return samples, seconds, info


def run_ctgan(real: np.ndarray, quick: bool) -> tuple[np.ndarray, float]:
    import pandas as pd
    from ctgan import CTGAN

    torch.manual_seed(0)
    started = time.perf_counter()
    model = CTGAN(epochs=2 if quick else 300)
    model.fit(pd.DataFrame(real, columns=["x", "y"]))
    samples = model.sample(SAMPLES).to_numpy()
    return samples, time.perf_counter() - started


def run_copula(real: np.ndarray) -> tuple[np.ndarray, float]:
    import pandas as pd
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    metadata = Metadata.load_from_dict(
        {
            "METADATA_SPEC_VERSION": "V1",
            "tables": {"t": {"columns": {c: {"sdtype": "numerical"} for c in ("x", "y")}}},
        }
    )
    started = time.perf_counter()
    model = GaussianCopulaSynthesizer(metadata)
    model.fit({"t": pd.DataFrame(real, columns=["x", "y"])})
    samples = model.sample(SAMPLES)
    samples = (samples["t"] if isinstance(samples, dict) else samples).to_numpy()
    return samples, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    parser.add_argument(
        "--sides",
        nargs="+",
        choices=("genlab", "ctgan", "copula"),
        default=["genlab", "ctgan", "copula"],
        help="which sides to run (default: all three)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        help="write csv_gan.json here instead of bench/results/ (a partial run must not "
        "replace the committed figures)",
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = datasets()
    fresh_rows = datasets(seed=4)
    result: dict[str, Any] = {"bench": "csv_gan", "quick": args.quick, "rows": ROWS}
    result.update({name: {} for name in data})
    with tempfile.TemporaryDirectory() as folder:
        for name, real in data.items():  # genlab first, alone, so its time is clean
            if "genlab" not in args.sides:
                break
            path = Path(folder) / f"{name}.csv"
            np.savetxt(path, real, delimiter=",", header="x,y", comments="")
            fresh = fresh_rows[name]
            samples, seconds, info = run_genlab(name, path, real, fresh, args.quick)
            result[name]["genlab"] = {
                "score": score(name, samples, real),
                "seconds": seconds,
                **privacy(samples, real, fresh),
                **info,
            }
    for side, available in (("ctgan", "ctgan"), ("copula", "sdv")):
        for name, real in data.items():
            if side not in args.sides:
                continue
            if importlib.util.find_spec(available) is None:
                result[name][side] = None
                continue
            samples, seconds = run_ctgan(real, args.quick) if side == "ctgan" else run_copula(real)
            result[name][side] = {
                "score": score(name, samples, real),
                "seconds": seconds,
                **privacy(samples, real, fresh_rows[name]),
            }
    if "genlab" not in args.sides:
        emit(__file__, result, args.results_dir)
        return 0
    met = {name: result[name]["genlab"]["score"] <= target for name, target in TARGETS.items()}
    met["seconds"] = max(result[n]["genlab"]["seconds"] for n in data) <= SECONDS_TARGET
    met["privacy"] = all(
        result[n]["genlab"]["privacy"] >= PRIVACY_TARGET and result[n]["genlab"]["copies"] == 0
        for n in data
    )
    result["targets_met"] = met
    result["versions"] = {
        "torch": torch.__version__,
        **{m: _version(m) for m in ("ctgan", "sdv")},
    }
    emit(__file__, result, args.results_dir)
    return 0


def _version(module: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return None
    return getattr(importlib.import_module(module), "__version__", "?")


if __name__ == "__main__":
    raise SystemExit(main())
