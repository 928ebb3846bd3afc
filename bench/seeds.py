"""Benchmark: genlab's quick jobs over five seeds, to show each headline figure's spread.

A single run's figure mixes the method with the luck of one seed. Every job here takes under a
minute, so it runs once per seed 0-4 through genlab's own ``seeds=[...]`` (the API behind
``--seeds`` / ``--repeat``), and the README's results table gives mean ± standard deviation
(n - 1) with min and max beside the one-run figures of the other benchmarks. The book's side
of these jobs runs over seeds where its run is quick too (``python bench/integer_gan.py``
does both sides of the integer GAN over five seeds); the book's 10-class classifier and
exponential GAN loops take minutes per run, so their single runs stay in their benchmarks.

* ``classifier_multiclass`` / ``classifier_binary``: genlab's default MLP classifiers (10
  classes; T-shirt vs ankle boot), test accuracy on the test images.
* ``exp_gan`` / ``sine_gan``: genlab's default curve GANs, their headline figure on the test
  part (the exponential's median relative error, the sine's relation nRMSE) from fresh noise.

Prints one JSON line; writes bench/results/seeds.json.

    python bench/seeds.py            # about 8 minutes on one core
    python bench/seeds.py --quick    # two seeds, a few epochs: a smoke run
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

import torch
from _results import emit

import genlab.classify
import genlab.gan
from genlab.repeats import Repeated, spread
from genlab.report import lookup

SEEDS = [0, 1, 2, 3, 4]

#: job -> (what trains it, its options, the summary keys reported)
JOBS: dict[str, tuple[Callable[..., Any], dict[str, Any], tuple[str, ...]]] = {
    "classifier_multiclass": (
        genlab.classify.train,
        {"task": "multiclass", "model": "mlp", "device": "cpu"},
        ("test_accuracy", "epochs_run", "train_seconds"),
    ),
    "classifier_binary": (
        genlab.classify.train,
        {"task": "binary", "model": "mlp", "device": "cpu"},
        ("test_accuracy", "epochs_run", "train_seconds"),
    ),
    "exp_gan": (
        genlab.gan.train,
        {"kind": "exp"},
        ("metrics.relation_median_rel_error", "metrics.w1_x", "epochs_run", "train_seconds"),
    ),
    "sine_gan": (
        genlab.gan.train,
        {"kind": "sine"},
        ("metrics.relation_nrmse", "epochs_run", "train_seconds"),
    ),
}


def spread_of(repeated: Repeated, keys: tuple[str, ...]) -> dict[str, Any]:
    """Mean, standard deviation (n - 1), min and max of ``keys`` (paths into each seed's
    summary.json, keyed here without ``metrics.``) over the seeds."""
    out = {}
    for key in keys:
        figures = spread([float(lookup(run.summary, key)) for run in repeated.runs])
        out[key.removeprefix("metrics.")] = {
            name: [round(v, 6) for v in value] if isinstance(value, list) else round(value, 6)
            for name, value in figures.items()
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 seeds, 2 epochs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = SEEDS[:2] if args.quick else SEEDS
    line: dict[str, Any] = {
        "bench": "seeds",
        "quick": args.quick,
        "threads": args.threads,
        "seeds": seeds,
        "n_seeds": len(seeds),
        "std": "sample standard deviation (n - 1) over the seeds",
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    for name, (train, options, keys) in JOBS.items():
        options = dict(options)
        if args.quick:
            options["epochs"] = 2
        if train is genlab.gan.train:
            options["threads"] = args.threads
        started = time.perf_counter()
        repeated = train(**options, seeds=seeds, quiet=True, plots=False)
        line[name] = {
            **spread_of(repeated, keys),
            "seconds_per_run": round((time.perf_counter() - started) / len(seeds), 2),
        }
    emit(__file__, line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
