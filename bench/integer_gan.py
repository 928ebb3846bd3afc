"""Benchmark: the book's multiples-of-5 GAN loop against genlab's settings, in one process.

Both train on the book's data (multiples of 5 in [0, 100), one-hot of length 100, real
numbers drawn as ``randint(0, 20) * 5``) and are then measured on the same 10,000 generated
samples (noise seed 0): validity, coverage, JS divergence to the real distribution, top share.
Timed is the training only (for genlab that includes its per-epoch checks), from the first
iteration to the stop rule, on the same thread count. Prints ONE JSON line.

    python bench/integer_gan.py              # 3 repeats (training seeds 0, 1, 2)
    python bench/integer_gan.py --quick      # smoke run, a few seconds

The book's loop is reimplemented from BOOK.md / the book's listing (G: Linear(100, 100) + ReLU
on randn(10, 100); D: Linear(100, 1) + Sigmoid; BCELoss; Adam lr 5e-4; batches of 10; per
iteration a D step on a real batch, a D step on a fake batch, a G step; it stops 800 iterations
after the first batch whose 10 numbers are all multiples of 5, at most 10,000 iterations).

genlab's side is, for now, a STANDALONE trainer in this file (see ``train_genlab_standalone``)
that uses genlab's data adapter, recommended settings, early stopping and Adam. When the GAN
engine lands (``genlab.training.gan.train_gan``), replace it with that.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from genlab.data.integer_gan_data import (
    IntegerGanData,
    IntegerGanSettings,
    make_integer_gan_data,
    recommended_settings,
)
from genlab.evaluation.validity import integer_metrics
from genlab.training.early_stopping import EarlyStopping
from genlab.training.loop import make_adam

EVAL_SAMPLES = 10_000
EVAL_SEED = 0
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


def train_book(
    seed: int, max_iterations: int = 10_000, patience: int = 800
) -> tuple[nn.Module, int, float]:
    """The book's loop and stop rule; returns (generator, iterations, seconds)."""
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
        remainders = (torch.argmax(fake, dim=-1) % 5).float()
        distance = float(mse(remainders, torch.zeros(10)))
        if distance < best:
            best, bad_steps = distance, 0
        else:
            bad_steps += 1
        if bad_steps >= patience:
            break
    return generator, iterations, time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# STANDALONE genlab trainer -- replace with genlab.training.gan.train_gan when it lands.
# It follows the engine's plan: per real batch one discriminator step (real labelled 1,
# generator(noise) labelled 0) and one generator step on fresh noise; figures on fixed noise
# every epoch; early stopping on data.monitor, stopping at data.monitor_target; best restored.
# --------------------------------------------------------------------------------------------


def build_networks(settings: IntegerGanSettings, dim: int) -> tuple[nn.Module, nn.Module]:
    """Generator and discriminator as :class:`IntegerGanSettings` describes them."""

    def activation(name: str) -> nn.Module:
        return {
            "relu": nn.ReLU(),
            "leaky_relu": nn.LeakyReLU(0.2),
            "softmax": nn.Softmax(dim=-1),
            "sigmoid": nn.Sigmoid(),
        }[name]

    g_layers: list[nn.Module] = []
    width = settings.latent_dim
    for hidden in settings.g_hidden:
        g_layers += [nn.Linear(width, hidden), activation(settings.g_activation)]
        width = hidden
    g_layers += [nn.Linear(width, dim), activation(settings.g_out_activation)]
    d_layers: list[nn.Module] = []
    width = dim
    for hidden in settings.d_hidden:
        d_layers += [nn.Linear(width, hidden), activation(settings.d_activation)]
        width = hidden
    d_layers.append(nn.Linear(width, 1))  # a logit
    return nn.Sequential(*g_layers), nn.Sequential(*d_layers)


def train_genlab_standalone(
    data: IntegerGanData, settings: IntegerGanSettings, seed: int, stop_at_target: bool = True
) -> tuple[nn.Module, int, float, int]:
    """Train; returns (best generator, iterations, seconds, best epoch).

    ``stop_at_target=False`` stops on patience alone (an engine without a target stop).
    """
    torch.manual_seed(seed)
    generator, discriminator = build_networks(settings, data.dim)
    betas = (settings.beta1, settings.beta2)
    g_optimizer = make_adam(generator.parameters(), settings.lr, betas)
    d_optimizer = make_adam(discriminator.parameters(), settings.d_lr, betas)
    loss_fn = nn.BCEWithLogitsLoss()
    order_rng = torch.Generator().manual_seed(seed + 1)
    noise_rng = torch.Generator().manual_seed(seed + 2)
    fixed_noise = torch.randn(
        settings.eval_samples, settings.latent_dim,
        generator=torch.Generator().manual_seed(seed + 3),
    )
    stopper = EarlyStopping(settings.patience, settings.min_delta, data.monitor_mode)
    batch = settings.batch_size
    ones, zeros = torch.ones((batch, 1)), torch.zeros((batch, 1))
    started = time.perf_counter()
    epoch = 0
    for epoch in range(1, settings.epochs + 1):
        generator.train()
        for real in data.real_batches(batch, order_rng, torch.device("cpu")):
            noise = torch.randn(2, batch, settings.latent_dim, generator=noise_rng)
            with torch.no_grad():
                fake = generator(noise[0])
            logits = discriminator(torch.cat([real, fake]))
            d_loss = loss_fn(logits[:batch], ones) + loss_fn(logits[batch:], zeros)
            d_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            d_optimizer.step()
            discriminator.requires_grad_(False)
            g_loss = loss_fn(discriminator(generator(noise[1])), ones)
            g_optimizer.zero_grad(set_to_none=True)
            g_loss.backward()
            g_optimizer.step()
            discriminator.requires_grad_(True)
        if epoch % settings.eval_every:
            continue
        generator.eval()
        with torch.no_grad():
            value = data.evaluate(data.decode(generator(fixed_noise)))[data.monitor]
        stop = stopper.update(value, epoch, generator.state_dict())
        if stop or (stop_at_target and value <= data.monitor_target):
            break
    seconds = time.perf_counter() - started
    if stopper.best_state is not None:
        generator.load_state_dict(stopper.best_state)
    generator.eval()
    return generator, epoch * data.batches_per_epoch, seconds, stopper.best_epoch


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def measure(
    generator: nn.Module, data: IntegerGanData, n: int, latent_dim: int = 100
) -> dict[str, Any]:
    """Figures on ``n`` samples from noise seed 0 (both generators take 100-d noise)."""
    noise = torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(EVAL_SEED))
    with torch.no_grad():
        metrics = integer_metrics(data.decode(generator(noise)), data.pattern)
    return {
        "validity": metrics["validity"],
        "covered": metrics["covered"],
        "coverage": f"{metrics['covered']}/{metrics['n_valid_values']}",
        "js": round(metrics["js"], 6),
        "top_share": round(metrics["top_share"], 4),
    }


def summarise(runs: list[dict[str, Any]], n_values: int) -> dict[str, Any]:
    """Median time and iterations; the worst figures over the runs."""
    worst_covered = min(r["covered"] for r in runs)
    return {
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
    parser.add_argument("--repeats", type=int, default=3, help="training seeds 0..N-1")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--patience-only", action="store_true",
        help="genlab stops on patience alone, not as soon as shortfall reaches 0",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    data = make_integer_gan_data(multiple_of=5, max_value=100)
    rule_data = make_integer_gan_data(rule="n % 3 == 1", max_value=60)
    settings = recommended_settings(data)
    rule_settings = recommended_settings(rule_data)
    repeats, n_eval, book_cap = args.repeats, EVAL_SAMPLES, 10_000
    if args.quick:
        repeats, n_eval, book_cap = 1, 1000, 300
        settings = replace(settings, epochs=2)
        rule_settings = replace(rule_settings, epochs=2)
    else:  # warm-up: first calls of each kind of op are slower; time neither
        train_book(seed=1000, max_iterations=20)
        train_genlab_standalone(data, replace(settings, epochs=1), seed=1000)

    book_runs, genlab_runs, rule_runs = [], [], []
    for seed in range(repeats):
        generator, iterations, seconds = train_book(seed, max_iterations=book_cap)
        book_runs.append({"seed": seed, "wall_s": round(seconds, 3), "iterations": iterations,
                          **measure(generator, data, n_eval)})
        generator, iterations, seconds, _ = train_genlab_standalone(
            data, settings, seed, stop_at_target=not args.patience_only
        )
        genlab_runs.append({"seed": seed, "wall_s": round(seconds, 3), "iterations": iterations,
                            **measure(generator, data, n_eval)})
        generator, iterations, seconds, _ = train_genlab_standalone(
            rule_data, rule_settings, seed, stop_at_target=not args.patience_only
        )
        rule_runs.append({"seed": seed, "wall_s": round(seconds, 3), "iterations": iterations,
                          **measure(generator, rule_data, n_eval)})

    book = summarise(book_runs, data.pattern.n_values)
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
        "eval_samples": n_eval,
        "eval_seed": EVAL_SEED,
        "repeats": repeats,
        "threads": args.threads,
        "genlab_impl": "standalone (bench/integer_gan.py)",
        "genlab_stop": "patience" if args.patience_only else "shortfall == 0 or patience",
        "genlab_settings": settings.to_dict(),
        "book": book,
        "genlab": genlab,
        "genlab_rule_n%3==1_max60": rule,
        "time_ratio": round(genlab["wall_s"] / book["wall_s"], 4) if book["wall_s"] else None,
        "meets_targets": None if args.quick else meets,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
