"""Benchmark: the book's multiples-of-5 GAN loop against genlab's GAN engine, in one process.

Both train on the book's data (multiples of 5 in [0, 100), one-hot of length 100, real
numbers drawn as ``randint(0, 20) * 5``) and are then measured alike, on 10,000 samples from the
same fresh noise (genlab's final-figures seed, which neither side trained or selected on):
validity, coverage, JS divergence (bits) to the real distribution, top share. genlab keeps the
generator with the best validation check (``shortfall`` on a fixed validation noise batch, every
50 batches); the book's side is reported twice: its **last** generator (what the book keeps) and
its **best** on the same check every 50 iterations (``book_best``). The checks' time is not
counted in the book's time.
genlab also trains on ``--rule "n % 3 == 1" --max 60``. Timed: the book's loop from the first
iteration to its stop rule; for genlab the whole ``genlab.gan.train`` call (its per-epoch
checks and final figures included). Both run on the same thread count. Prints ONE JSON line.

    python bench/integer_gan.py              # 5 repeats (training seeds 0-4), about a minute
    python bench/integer_gan.py --quick      # smoke run, a few seconds

The book's loop is reimplemented from BOOK.md / the book's listing (G: Linear(100, 100) + ReLU
on randn(10, 100); D: Linear(100, 1) + Sigmoid; BCELoss; Adam lr 5e-4; batches of 10; per
iteration a D step on a real batch, a D step on a fake batch, a G step; it stops 800 iterations
after the first batch whose 10 numbers are all multiples of 5, at most 10,000 iterations).

genlab's side is the engine itself: ``genlab.gan.train("integers", multiple_of=5,
max_value=100, out=None, ...)`` with its recommended settings
(``genlab.gan.integers.recommended_settings``), stopping as soon as ``shortfall``
reaches 0 or after ``patience`` checks without improvement. Its iterations are
``epochs_run x batches_per_epoch``.
"""

from __future__ import annotations

import argparse
import copy
import math
import platform
import statistics
import time
from typing import Any

import torch
from _results import emit
from torch import nn

from genlab.gan import GanRun
from genlab.gan import train as gan_train
from genlab.gan.engine import VALIDATION_NOISE_OFFSET, final_noise_seed, latent_noise
from genlab.gan.integers import BATCHES_PER_EPOCH, IntegerGanData, make_integer_gan_data
from genlab.repeats import spread

EVAL_SAMPLES = 10_000
JS_TARGET = 0.01


# --------------------------------------------------------------------------------------------
# The book's loop
# --------------------------------------------------------------------------------------------


def _book_onehot(position: torch.Tensor, depth: int) -> torch.Tensor:
    onehot = torch.zeros((depth,))
    onehot[position] = 1
    return onehot


def _book_batch() -> torch.Tensor:
    numbers = torch.randint(0, 20, (10,)) * 5
    return torch.stack([_book_onehot(i, 100) for i in numbers]).float()  # (10, 100)


class Check:
    """genlab's validation check on the book's generator: ``shortfall`` of a fixed noise batch
    (genlab's validation noise for this seed) every ``every`` iterations; keeps the best."""

    def __init__(self, data: IntegerGanData, seed: int, n: int, every: int) -> None:
        self.data, self.every = data, every
        self.noise = latent_noise(n, 100, seed + VALIDATION_NOISE_OFFSET)
        self.best, self.best_iteration, self.seconds = math.inf, 0, 0.0
        self.best_generator: nn.Module | None = None

    def __call__(self, iteration: int, generator: nn.Module) -> None:
        if iteration % self.every:
            return
        started = time.perf_counter()
        with torch.no_grad():
            samples = self.data.decode(generator(self.noise))
        shortfall = self.data.validation_figures(samples)["shortfall"]
        if shortfall < self.best:
            self.best, self.best_iteration = shortfall, iteration
            self.best_generator = copy.deepcopy(generator)
        self.seconds += time.perf_counter() - started


def train_book(
    seed: int, max_iterations: int = 10_000, patience: int = 800, check: Check | None = None
) -> tuple[nn.Module, int, float]:
    """The book's loop and stop rule; returns (generator, iterations, seconds). ``check``
    (not timed) sees the generator after every iteration."""
    torch.manual_seed(seed)
    discriminator = nn.Sequential(nn.Linear(100, 1), nn.Sigmoid())
    generator = nn.Sequential(nn.Linear(100, 100), nn.ReLU())
    loss_fn = nn.BCELoss()
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=0.0005)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=0.0005)
    real_labels = torch.ones((10, 1))
    fake_labels = torch.zeros((10, 1))
    mse = nn.MSELoss()
    best, bad_steps = float("inf"), 0  # the book's EarlyStop on the batch's "distance"
    started = time.perf_counter()
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        d_loss = loss_fn(discriminator(_book_batch()), real_labels)
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        d_loss = loss_fn(discriminator(generator(torch.randn(10, 100))), fake_labels)
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        fake = generator(torch.randn(10, 100))
        g_loss = loss_fn(discriminator(fake), real_labels)
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()
        if check is not None:
            check(iterations, generator)
        remainders = (torch.argmax(fake, dim=-1) % 5).float()
        distance = float(mse(remainders, torch.zeros(10)))
        if distance < best:
            best, bad_steps = distance, 0
        else:
            bad_steps += 1
        if bad_steps >= patience:
            break
    seconds = time.perf_counter() - started - (check.seconds if check else 0.0)
    return generator, iterations, seconds


# --------------------------------------------------------------------------------------------
# genlab: the real engine
# --------------------------------------------------------------------------------------------


def train_genlab(seed: int, threads: int, **options: Any) -> tuple[GanRun, int, float]:
    """``genlab.gan.train("integers", ...)`` with no run folder; returns (run, iterations,
    seconds). Timed is the whole call (networks, training with its per-epoch checks, the
    engine's final figures on 10,000 samples)."""
    started = time.perf_counter()
    run = gan_train(
        "integers", out=None, quiet=True, plots=False, seed=seed, threads=threads, **options
    )
    seconds = time.perf_counter() - started
    return run, run.summary["epochs_run"] * run.data.batches_per_epoch, seconds


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def measure(
    generator: nn.Module, data: IntegerGanData, n: int, seed: int, latent_dim: int = 100
) -> dict[str, Any]:
    """Test figures on ``n`` samples from the fresh noise of genlab's final figures for
    training seed ``seed`` (both generators take 100-d noise)."""
    noise = latent_noise(n, latent_dim, final_noise_seed(seed))
    with torch.no_grad():
        metrics = data.test_figures(data.decode(generator(noise)))
    return {
        "validity": metrics["validity"],
        "covered": metrics["covered"],
        "coverage": f"{metrics['covered']}/{metrics['n_valid_values']}",
        "js": round(metrics["js"], 6),
        "top_share": round(metrics["top_share"], 4),
    }


def _mean_std(values: list[float]) -> dict[str, float]:
    """Mean and sample standard deviation (n - 1; 0 for one run)."""
    figures = spread(values)
    return {"mean": round(figures["mean"], 6), "std": round(figures["std"], 6)}


def summarise(runs: list[dict[str, Any]], n_values: int) -> dict[str, Any]:
    """Median time and iterations; the worst figures over the runs; mean and standard
    deviation of validity, values covered and JS."""
    worst_covered = min(r["covered"] for r in runs)
    return {
        "spread": {
            key: _mean_std([float(r[key]) for r in runs]) for key in ("validity", "covered", "js")
        },
        "wall_s": round(statistics.median(r["wall_s"] for r in runs), 3),
        "iterations": int(statistics.median(r["iterations"] for r in runs)),
        "validity": min(r["validity"] for r in runs),
        "coverage": f"{worst_covered}/{n_values}",
        "js": max(r["js"] for r in runs),
        "top_share": max(r["top_share"] for r in runs),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (seconds)")
    parser.add_argument("--repeats", type=int, default=5, help="training seeds 0..N-1")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    data = make_integer_gan_data(multiple_of=5, max_value=100)
    book_options: dict[str, Any] = {"multiple_of": 5, "max_value": 100}
    rule_options: dict[str, Any] = {"rule": "n % 3 == 1", "max_value": 60}
    repeats, n_eval, book_cap = args.repeats, EVAL_SAMPLES, 10_000
    if args.quick:
        repeats, n_eval, book_cap = 1, 1000, 300
        book_options["epochs"] = rule_options["epochs"] = 2
    else:  # warm-up: first calls of each kind of op are slower; time neither
        train_book(seed=1000, max_iterations=20)
        train_genlab(1000, args.threads, **{**book_options, "epochs": 1})

    book_runs, best_runs, genlab_runs, rule_runs = [], [], [], []
    genlab_config: dict[str, Any] = {}
    rule_data = None
    for seed in range(repeats):
        check = Check(data, seed, n_eval, BATCHES_PER_EPOCH)
        generator, iterations, seconds = train_book(seed, max_iterations=book_cap, check=check)
        book_runs.append(
            {
                "seed": seed,
                "wall_s": round(seconds, 3),
                "iterations": iterations,
                **measure(generator, data, n_eval, seed),
            }
        )
        best_runs.append(
            {
                "seed": seed,
                "wall_s": round(seconds, 3),
                "iterations": iterations,
                "best_iteration": check.best_iteration,
                **measure(check.best_generator or generator, data, n_eval, seed),
            }
        )
        for options, rows in ((book_options, genlab_runs), (rule_options, rule_runs)):
            run, iterations, seconds = train_genlab(seed, args.threads, **options)
            rows.append(
                {
                    "seed": seed,
                    "wall_s": round(seconds, 3),
                    "train_s": round(run.summary["train_seconds"], 3),
                    "iterations": iterations,
                    "epochs_run": run.summary["epochs_run"],
                    "best_epoch": run.summary["best_epoch"],
                    **measure(run.generator, run.data, n_eval, seed, run.config.latent_dim),
                }
            )
            if options is book_options:
                genlab_config = {k: v for k, v in run.config.to_dict().items() if k != "seed"}
            else:
                rule_data = run.data
    assert rule_data is not None and repeats >= 1

    book = summarise(book_runs, data.pattern.n_values)
    book_best = summarise(best_runs, data.pattern.n_values)
    genlab = summarise(genlab_runs, data.pattern.n_values)
    rule = summarise(rule_runs, rule_data.pattern.n_values)
    meets = (
        genlab["validity"] == 1.0
        and min(r["covered"] for r in genlab_runs) == data.pattern.n_values
        and genlab["js"] <= JS_TARGET
        and rule["validity"] == 1.0
        and min(r["covered"] for r in rule_runs) == rule_data.pattern.n_values
    )
    result = {
        "bench": "integer_gan",
        "quick": args.quick,
        "data": data.name,
        "rule_data": rule_data.name,
        "eval_samples": n_eval,
        "eval_noise": "final_noise_seed(training seed), as genlab's summary figures",
        "repeats": repeats,
        "threads": args.threads,
        "genlab_impl": "genlab.gan.train (genlab.gan.engine.train_gan), out=None",
        "genlab_stop": "shortfall == 0 or patience",
        "genlab_config": genlab_config,
        "book": book,
        "book_best": book_best,
        "genlab": genlab,
        "genlab_rule_n%3==1_max60": rule,
        "time_ratio": round(genlab["wall_s"] / book["wall_s"], 4) if book["wall_s"] else None,
        "meets_targets": None if args.quick else meets,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    emit(__file__, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
