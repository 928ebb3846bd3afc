"""Benchmark: the book's chapter-3 exponential GAN loop against genlab, in one process.

Both learn the book's data (2048 points, ``torch.manual_seed(0)``, x = 50 * rand, y = 1.08^x)
and are judged alike: 10,000 points generated from the same fresh noise (a seed neither side
trained or selected on) against the same 10,000-point test part, the relation figures against
the formula (:meth:`genlab.gan.curves.CurveGanData.test_figures`). genlab keeps the generator
that scored best on the validation part; so the book's side is reported twice: its **last**
generator (what the book keeps) and its **best** on the same validation check (the same score,
fixed noise batch and check interval as genlab's), so that the comparison is like for like.

* book: its loop as BOOK.md describes it, re-implemented here: raw (x, y), a torch DataLoader
  (batch 128, shuffled), D 2-256-128-64-1 (ReLU, dropout 0.3, Sigmoid) and G 2-16-32-2 (ReLU),
  BCELoss, Adam lr 5e-4; per batch D on real, D on fake, G; its stop rule: EarlyStop with
  patience 1000 on MSE(fake y, 1.08^fake x) of the epoch's last batch; up to 10,000 epochs.
* genlab: ``train_gan`` with the default :class:`~genlab.config.GanConfig`, no run folder
  (neither side writes files). Its time counts everything from building the networks to the
  final 10,000-sample figures; the book's time counts its loop (with the validation checks).
  genlab's sine GAN runs too (its relation_nrmse is one of the issue's figures).

Prints one JSON line. ``--quick`` is a smoke run (a few epochs each; the figures mean nothing).

    python bench/curve_gan.py            # about 4-5 minutes on one core
    python bench/curve_gan.py --quick    # seconds
"""

from __future__ import annotations

import argparse
import copy
import math
import platform
import time
from typing import Any

import torch
from _results import emit
from torch import nn

from genlab.config import GanConfig
from genlab.gan.curves import CurveGanData, make_curve_gan_data
from genlab.gan.engine import (
    FINAL_SAMPLES,
    VALIDATION_NOISE_OFFSET,
    final_noise_seed,
    latent_noise,
    train_gan,
)

FIGURES = ("relation_median_rel_error", "relation_nrmse", "w1_x", "out_of_range", "precision")
TARGETS = {"relation_median_rel_error": 0.01, "w1_x": 0.04, "out_of_range": 0.01}
SINE_TARGET = 0.1


class BookEarlyStop:
    """The book's EarlyStop: count epochs whose value is not below the minimum."""

    def __init__(self, patience: int = 1000) -> None:
        self.patience = patience
        self.steps = 0
        self.min_gdif = float("inf")

    def stop(self, gdif: float) -> bool:
        if gdif < self.min_gdif:
            self.min_gdif = gdif
            self.steps = 0
        else:
            self.steps += 1
        return self.steps >= self.patience


def book_networks() -> tuple[nn.Module, nn.Module]:
    """The book's D and G (D first, as the book builds them)."""
    discriminator = nn.Sequential(
        nn.Linear(2, 256), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(64, 1), nn.Sigmoid(),
    )  # fmt: skip
    generator = nn.Sequential(
        nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2)
    )
    return discriminator, generator


def book_loop(max_epochs: int, patience: int, check: Check) -> dict[str, Any]:
    """The book's training loop; returns its last generator, epochs and seconds. ``check``
    sees the generator every few epochs (genlab's validation check; it changes nothing)."""
    torch.manual_seed(0)
    train_data = torch.zeros((2048, 2))
    train_data[:, 0] = 50 * torch.rand(2048)
    train_data[:, 1] = 1.08 ** train_data[:, 0]
    batch_size = 128
    loader = torch.utils.data.DataLoader(train_data, batch_size=batch_size, shuffle=True)
    D, G = book_networks()
    loss_fn = nn.BCELoss()
    optim_d = torch.optim.Adam(D.parameters(), lr=0.0005)
    optim_g = torch.optim.Adam(G.parameters(), lr=0.0005)
    real_labels = torch.ones((batch_size, 1))
    fake_labels = torch.zeros((batch_size, 1))
    stopper = BookEarlyStop(patience)
    mse = nn.MSELoss()
    started = time.perf_counter()
    epoch = 0
    stopped = False
    for epoch in range(1, max_epochs + 1):  # noqa: B007 - the last epoch is reported
        for real_samples in loader:
            # D on real
            optim_d.zero_grad()
            loss_d = loss_fn(D(real_samples), real_labels)
            loss_d.backward()
            optim_d.step()
            # D on fake
            noise = torch.randn((batch_size, 2))
            generated = G(noise)
            optim_d.zero_grad()
            loss_d = loss_fn(D(generated), fake_labels)
            loss_d.backward()
            optim_d.step()
            # G
            noise = torch.randn((batch_size, 2))
            optim_g.zero_grad()
            fake_samples = G(noise)
            loss_g = loss_fn(D(fake_samples), real_labels)
            loss_g.backward()
            optim_g.step()
        check(epoch, G)
        gdif = mse(fake_samples[:, 1], 1.08 ** fake_samples[:, 0]).item()
        if stopper.stop(gdif):
            stopped = True
            break
    return {
        "generator": G,
        "epochs": epoch,
        "stopped_early": stopped,
        "seconds": time.perf_counter() - started,
    }


class Check:
    """genlab's validation check applied to the book's generator: every ``every`` epochs the
    score of a fixed noise batch against the validation part; keeps a copy of the best."""

    def __init__(self, data: CurveGanData, config: GanConfig) -> None:
        self.data = data
        self.every = config.eval_every
        self.noise = latent_noise(
            config.eval_samples, 2, config.seed + VALIDATION_NOISE_OFFSET
        )  # the book's noise is 2-d, as genlab's default latent_dim
        self.best = math.inf
        self.best_epoch = 0
        self.best_generator: nn.Module | None = None

    def __call__(self, epoch: int, generator: nn.Module) -> None:
        if epoch % self.every:
            return
        with torch.no_grad():
            score = self.data.validation_figures(generator.eval()(self.noise))["score"]
        generator.train()
        if score < self.best:
            self.best, self.best_epoch = score, epoch
            self.best_generator = copy.deepcopy(generator).eval()


def _pick(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(metrics[k], 5) for k in FIGURES if k in metrics}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: a few epochs each")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--no-sine", action="store_true", help="skip genlab's sine GAN")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    data = make_curve_gan_data("exp")
    config = GanConfig(epochs=5) if args.quick else GanConfig()
    check = Check(data, config)
    book_epochs, book_patience = (10, 1000) if args.quick else (10_000, 1000)
    book = book_loop(book_epochs, book_patience, check)
    # The same fresh noise for every generator judged here: the seed of genlab's own figures.
    final_noise = latent_noise(FINAL_SAMPLES, 2, final_noise_seed(config.seed))
    with torch.no_grad():
        book_points = book["generator"].eval()(final_noise)
        best_points = (check.best_generator or book["generator"])(final_noise)
    book_metrics = data.test_figures(book_points)
    book_best_metrics = data.test_figures(best_points)

    started = time.perf_counter()
    run = train_gan(data, config, plots=False)
    genlab_seconds = time.perf_counter() - started
    genlab_metrics = run.summary["metrics"]

    line: dict[str, Any] = {
        "bench": "curve_gan",
        "quick": args.quick,
        "threads": args.threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "book": {
            "seconds": round(book["seconds"], 2),
            "epochs": book["epochs"],
            "stopped_early": book["stopped_early"],
            "seconds_per_epoch": round(book["seconds"] / book["epochs"], 4),
            **_pick(book_metrics),
            "x_max": round(float(book_points[:, 0].max()), 2),
        },
        "book_best": {
            "best_epoch": check.best_epoch,
            **_pick(book_best_metrics),
            "x_max": round(float(best_points[:, 0].max()), 2),
        },
        "genlab": {
            "seconds": round(genlab_seconds, 2),
            "train_seconds": round(run.summary["train_seconds"], 2),
            "epochs": run.summary["epochs_run"],
            "best_epoch": run.summary["best_epoch"],
            "seconds_per_epoch": round(run.summary["seconds_per_epoch"], 4),
            **_pick(genlab_metrics),
        },
    }
    ratio = genlab_seconds / book["seconds"]
    met = {k: genlab_metrics[k] <= v for k, v in TARGETS.items()}
    if not args.no_sine:
        sine_config = GanConfig(epochs=5) if args.quick else GanConfig()
        started = time.perf_counter()
        sine = train_gan(make_curve_gan_data("sine"), sine_config, plots=False)
        sine_seconds = time.perf_counter() - started
        line["genlab_sine"] = {
            "seconds": round(sine_seconds, 2),
            "epochs": sine.summary["epochs_run"],
            "best_epoch": sine.summary["best_epoch"],
            **_pick(sine.summary["metrics"]),
        }
        line["sine_time_ratio"] = round(sine_seconds / book["seconds"], 4)
        met["sine_relation_nrmse"] = sine.summary["metrics"]["relation_nrmse"] <= SINE_TARGET
    line["time_ratio"] = round(ratio, 4)
    met["time_ratio"] = ratio <= 1 / 3
    line["targets_met"] = met
    line["all_targets_met"] = all(met.values()) and not any(
        isinstance(v, float) and math.isnan(v) for v in genlab_metrics.values()
    )
    emit(__file__, line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
