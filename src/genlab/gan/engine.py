"""Training, sampling, saving and loading GANs: a few short plain functions.

The engine is data-agnostic: it sees a :class:`~genlab.gan.adapter.GanData` (curves, integer
patterns, ...) and never looks inside it. Per batch it runs :func:`discriminator_step` then
:func:`generator_step`; every ``eval_every`` epochs it decodes the generator's output for one
fixed noise batch and asks the data for its figures (``quick_evaluate`` when the data has it,
else ``evaluate``); early stopping watches ``data.monitor`` through the shared
:func:`~genlab.training.loop.run_epochs`, which restores the best generator at the end.

Besides the protocol, the engine uses four optional attributes of a data adapter when it has
them: ``quick_evaluate(samples)`` (the monitored figure, cheap, for the checks),
``monitor_target`` (the best value the figure can take: training stops when it is reached),
``progress_keys`` (more figures for the progress bar) and ``decoder()`` (the decoding as an
``nn.Module``, for :mod:`genlab.gan.export`).

The model file (``model.pt``, via :mod:`genlab.training.runs`) holds the generator's weights,
the :class:`~genlab.config.GanConfig` and ``data.to_dict()`` (for curves: the column transform
and the held-out points), so :func:`load_gan` rebuilds everything ``sample``/``eval`` need.
"""

from __future__ import annotations

import copy
import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from genlab.config import GanConfig
from genlab.errors import ConfigError, RunFileError, TrainingError
from genlab.gan.adapter import GanData
from genlab.models.gan import Generator, build_discriminator, build_generator
from genlab.progress import Reporter
from genlab.training import runs
from genlab.training.checkpoint import Checkpoint
from genlab.training.distributed import DistContext, ProcessGroup, flat_weights
from genlab.training.early_stopping import EarlyStopping
from genlab.training.loop import LoopResult, make_adam, run_epochs

KIND = "gan"
#: Generated points behind the figures at the end of training (and ``gan eval``'s default).
FINAL_SAMPLES = 10_000
#: Points shown in the generated-vs-real snapshots and the animation.
SNAPSHOT_POINTS = 1000
#: At most this many snapshot PNGs / animation frames (evenly spaced over the run).
MAX_FRAMES = 60

#: Data adapters that a model file can name: ``data["kind"]`` -> "module:Class" with a
#: ``from_dict`` classmethod. A new adapter (e.g. integer patterns) adds its line here.
DATA_ADAPTERS: dict[str, str] = {
    "curve": "genlab.gan.curves:CurveGanData",
    "integers": "genlab.gan.integers:IntegerGanData",
}


def data_from_dict(values: dict[str, Any]) -> GanData:
    """Rebuild the data adapter stored in a model file (dispatch on ``values["kind"]``)."""
    kind = values.get("kind") if isinstance(values, dict) else None
    target = DATA_ADAPTERS.get(str(kind))
    if target is None:
        raise RunFileError(
            f"the model file describes data of unknown kind {kind!r}; "
            "it was written by another genlab version"
        )
    module_name, class_name = target.split(":")
    try:
        adapter = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise RunFileError(f"this genlab cannot read {kind!r} GAN data ({exc})") from exc
    return adapter.from_dict(values)


# --------------------------------------------------------------------------- networks


def build_networks(config: GanConfig, dim: int) -> tuple[Generator, nn.Module]:
    """The generator and discriminator for data ``dim`` wide, as ``config`` sizes them."""
    generator = build_generator(
        config.latent_dim, dim, config.g_hidden, config.g_activation, config.g_out_activation
    )
    discriminator = build_discriminator(dim, config.d_hidden, config.d_activation, config.d_dropout)
    return generator, discriminator


def discriminator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    noise: torch.Tensor,
    loss_fn: nn.Module | None = None,
) -> torch.Tensor:
    """One discriminator update: real batch labelled 1, ``generator(noise)`` labelled 0.

    Only the discriminator's weights change (the fakes are made without gradients). Both
    halves go through the discriminator in one call. Returns the loss (detached): the mean
    BCE on the real half plus the mean BCE on the fake half.
    """
    loss_fn = loss_fn or nn.BCEWithLogitsLoss()
    with torch.no_grad():
        fake = generator(noise)  # (B_fake, dim)
    logits = discriminator(torch.cat([real, fake]))  # (B_real + B_fake, 1)
    n_real = real.shape[0]
    ones = torch.ones((n_real, 1), device=real.device)
    zeros = torch.zeros((fake.shape[0], 1), device=real.device)
    loss = loss_fn(logits[:n_real], ones) + loss_fn(logits[n_real:], zeros)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def generator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    noise: torch.Tensor,
    loss_fn: nn.Module | None = None,
) -> torch.Tensor:
    """One generator update: make the discriminator call ``generator(noise)`` real (label 1).

    Only the generator's weights change: the discriminator's are frozen for the step
    (no gradients computed for them, none left behind). Returns the loss (detached).
    """
    loss_fn = loss_fn or nn.BCEWithLogitsLoss()
    discriminator.requires_grad_(False)
    try:
        logits = discriminator(generator(noise))  # (B, 1)
        loss = loss_fn(logits, torch.ones_like(logits))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    finally:
        discriminator.requires_grad_(True)
    return loss.detach()


class WeightAverage:
    """An exponential moving average of a module's weights (``decay`` per step).

    ``module`` is a copy of the tracked network holding the averages; it is what gets
    evaluated, early-stopped, saved and sampled. Averaging damps the generator's oscillation
    around the equilibrium, which is most of the scatter of a GAN's samples off the curve.
    """

    def __init__(self, source: nn.Module, decay: float) -> None:
        self.decay = decay
        self.source = source
        self.module = copy.deepcopy(source).eval()
        self.module.requires_grad_(False)
        self._avg = list(self.module.parameters())
        self._src = list(source.parameters())

    @torch.no_grad()
    def update(self) -> None:
        """Move the averages a step toward the source's current weights."""
        torch._foreach_lerp_(self._avg, self._src, 1.0 - self.decay)


# --------------------------------------------------------------------------- sampling


def latent_noise(
    n: int, latent_dim: int, seed: int, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """``n`` standard-normal noise vectors (n, latent_dim), drawn on the CPU from ``seed``
    (the same on every device), then moved to ``device``."""
    if n < 1:
        raise ConfigError(f"-n must be at least 1, not {n}")
    generator = torch.Generator().manual_seed(int(seed))
    return torch.randn(n, latent_dim, generator=generator).to(device)


@torch.no_grad()
def generate(
    generator: nn.Module,
    data: GanData,
    n: int | None = None,
    *,
    seed: int = 0,
    noise: torch.Tensor | None = None,
    batch_size: int = 65_536,
) -> torch.Tensor:
    """Decoded samples for ``noise`` (or ``n`` noise vectors from ``seed``), eval mode."""
    generator.eval()
    device = next(generator.parameters()).device
    if noise is None:
        if n is None:
            raise ConfigError("give n or noise")
        noise = latent_noise(n, generator.latent_dim, seed, device)
    noise = noise.to(device)
    parts = [
        data.decode(generator(noise[i : i + batch_size]))
        for i in range(0, noise.shape[0], batch_size)
    ]
    return torch.cat(parts).cpu()


class TargetEarlyStopping(EarlyStopping):
    """:class:`EarlyStopping` that also stops as soon as the figure reaches ``target``, the
    best it can ever be (a data adapter's optional ``monitor_target``): the first generator
    that reaches it is kept, and nothing after it could beat it."""

    def __init__(
        self,
        patience: int | None = 10,
        min_delta: float = 0.0,
        mode: str = "min",
        target: float | None = None,
    ) -> None:
        super().__init__(patience, min_delta, mode)
        self.target = target

    def update(self, value: float, epoch: int, state: Any = None) -> bool:
        """Record the check; stop on patience or when ``value`` reaches the target."""
        stop = super().update(value, epoch, state)
        if self.target is None or value != value:  # no target, or NaN
            return stop
        reached = value <= self.target if self.mode == "min" else value >= self.target
        return stop or reached


def _check_figures(data: GanData) -> Callable[[torch.Tensor], dict[str, float]]:
    """What the checks every few epochs call: the data's optional ``quick_evaluate`` (the
    monitored figure and its parts, cheap), else its full ``evaluate``."""
    quick = getattr(data, "quick_evaluate", None)
    return quick if callable(quick) else data.evaluate


# --------------------------------------------------------------------------- runs


@dataclass
class GanRun:
    """A trained GAN: the (best) generator, its data, figures, and where its files are."""

    generator: Generator
    data: GanData
    config: GanConfig
    summary: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    out_dir: Path | None = None

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` samples in the data's units (same seed -> same samples)."""
        return generate(self.generator, self.data, n, seed=seed)

    def evaluate(self, n: int = FINAL_SAMPLES, seed: int = 0) -> dict[str, float]:
        """The data's figures on ``n`` generated samples."""
        return self.data.evaluate(self.sample(n, seed))

    def _repr_html_(self) -> str:
        metrics = self.summary.get("metrics", {})
        rows = "".join(
            f"<tr><td>{k}</td><td>{v:.4g}</td></tr>"
            for k, v in metrics.items()
            if isinstance(v, float)
        )
        return f"<b>genlab GAN</b> ({self.data.name})<table>{rows}</table>"


def save_gan(
    path: str | Path, generator: nn.Module, config: GanConfig, data: GanData, **extra: Any
) -> None:
    """The model file: generator weights + config + data description (tensors and plain
    values only)."""
    runs.save_model_file(
        path, KIND, config.to_dict(), generator.state_dict(), data=data.to_dict(), **extra
    )


def load_gan(path: str | Path) -> GanRun:
    """Rebuild a trained GAN (generator in eval mode, on the CPU; its config and data) from a
    run folder or model file. A file of another kind is refused with a clear error."""
    payload = runs.load_model_file(path, KIND)
    try:
        config = GanConfig.from_dict(payload["config"])
        data = data_from_dict(payload["data"])
    except KeyError as exc:
        raise RunFileError(f"{path}: the model file lacks {exc}") from exc
    generator, _ = build_networks(config, data.dim)
    try:
        generator.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError) as exc:
        raise RunFileError(
            f"{path}: the weights do not fit the generator its config describes"
        ) from exc
    generator.eval()
    run_dir = runs.run_folder(path)
    summary_path = run_dir / runs.SUMMARY_FILE
    summary = runs.read_json(summary_path) if summary_path.exists() else {}
    return GanRun(generator=generator, data=data, config=config, summary=summary, out_dir=run_dir)


def _real_points(data: GanData, batch_size: int, max_points: int) -> torch.Tensor:
    """Real points in the data's units for plots: one decoded epoch of real batches."""
    batches = data.real_batches(batch_size, torch.Generator().manual_seed(0), torch.device("cpu"))
    return data.decode(torch.cat(batches))[:max_points].detach().cpu()


def train_gan(
    data: GanData,
    config: GanConfig | None = None,
    *,
    out: str | Path | None = None,
    reporter: Reporter | None = None,
    overwrite: bool = False,
    plots: bool = True,
    resume: bool = False,
    final_samples: int = FINAL_SAMPLES,
) -> GanRun:
    """Train a GAN on ``data``, evaluate the best generator, save a run folder.

    ``config`` defaults to :class:`GanConfig()`. ``out`` (optional) is the run folder:
    ``config.json``, ``metrics.csv``, ``checkpoint.pt`` (the full state, every few seconds),
    ``model.pt`` (the best generator), ``summary.json``, ``plots/``. ``resume=True`` goes on
    from ``out``'s checkpoint with the config stored there (``config`` is ignored; ``data``
    must be the same data) and ends exactly where the uninterrupted run would. Returns a
    :class:`GanRun` whose generator has the best weights (by ``data.monitor``). A non-finite
    loss or figure stops training with a :class:`TrainingError`; the best generator so far
    is saved to ``model.pt`` first, and ``checkpoint.pt`` keeps the last good state.
    """
    config = config or GanConfig()
    with (
        ProcessGroup(config.device) as (ctx, device),
        runs.open_run_dir(out if ctx.is_main else None, overwrite, resume) as out_dir,
        _cpu_threads(config),
    ):
        if resume and out is not None:
            config = GanConfig.from_dict(runs.read_json(Path(out) / runs.CONFIG_FILE))
        return _train_gan(
            data,
            config,
            out_dir,
            reporter if ctx.is_main else None,
            plots,
            resume,
            final_samples,
            ctx,
            device,
            out,
        )


@contextmanager
def _cpu_threads(config: GanConfig | None) -> Iterator[None]:
    """Run the block with ``config.threads`` CPU threads (0: leave torch's setting)."""
    threads = (config or GanConfig()).threads
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train_gan(
    data: GanData,
    config: GanConfig,
    out_dir: Path | None,
    reporter: Reporter | None,
    plots: bool,
    resume: bool,
    final_samples: int,
    ctx: DistContext,
    device: torch.device,
    run_path: str | Path | None,
) -> GanRun:
    torch.manual_seed(config.seed)  # weight initialisation (the same on every rank)
    generator, discriminator = build_networks(config, data.dim)
    generator.to(device)
    discriminator.to(device)
    # Under torchrun, DDP averages each step's gradients over the ranks; the updates below
    # use the wrapped modules, everything else the plain ones (identical on every rank).
    g_train = DistributedDataParallel(generator) if ctx.enabled else generator
    d_train = DistributedDataParallel(discriminator) if ctx.enabled else discriminator
    betas = (config.beta1, config.beta2)
    g_optimizer = make_adam(generator.parameters(), config.lr, betas)
    d_optimizer = make_adam(discriminator.parameters(), config.d_lr or config.lr, betas)
    loss_fn = nn.BCEWithLogitsLoss()
    average = WeightAverage(generator, config.ema) if config.ema > 0 else None
    watched = average.module if average is not None else generator
    order_rng = torch.Generator().manual_seed(config.seed + 1)  # batch order
    noise_rng = torch.Generator(device=device).manual_seed(config.seed + 2 + 1000 * ctx.rank)
    fixed_noise = latent_noise(config.eval_samples, config.latent_dim, config.seed + 3, device)
    snapshot_noise = fixed_noise[:SNAPSHOT_POINTS]
    check_figures = _check_figures(data)
    stopper = TargetEarlyStopping(
        config.patience, config.min_delta, data.monitor_mode, getattr(data, "monitor_target", None)
    )
    snapshots: list[tuple[int, torch.Tensor]] = []
    checkpoint = None
    if out_dir is not None:
        runs.write_json(
            out_dir / runs.CONFIG_FILE, {**config.to_dict(), "data": _data_summary(data)}
        )
    if run_path is not None:  # every rank restores from it; only rank 0 writes it
        modules: dict[str, nn.Module] = {"generator": generator, "discriminator": discriminator}
        if average is not None:
            modules["generator_average"] = average.module
        checkpoint = Checkpoint(
            run_path,
            modules,
            {"generator": g_optimizer, "discriminator": d_optimizer},
            {"batch_order": order_rng, "noise": noise_rng},
            extra=lambda: _snapshots_to_dict(snapshots),
            restore_extra=lambda saved: snapshots.extend(_snapshots_from_dict(saved)),
            interval=config.checkpoint_interval,
            writer=ctx.is_main,
        )

    def one_epoch(epoch: int) -> dict[str, Any]:
        generator.train()
        discriminator.train()
        batches = data.real_batches(config.batch_size, order_rng, device)
        d_total = torch.zeros((), device=device)
        g_total = torch.zeros((), device=device)
        for real in batches:
            # every rank draws the same global batch and takes its share of the rows
            real = real[ctx.rank :: ctx.world_size]
            n = real.shape[0]  # (n, dim)
            noise = torch.randn(n, config.latent_dim, generator=noise_rng, device=device)
            d_total += discriminator_step(generator, d_train, d_optimizer, real, noise, loss_fn)
            noise = torch.randn(n, config.latent_dim, generator=noise_rng, device=device)
            # the plain D here: its weights are frozen for the G step and equal on all ranks
            g_total += generator_step(g_train, discriminator, g_optimizer, noise, loss_fn)
            if average is not None:
                average.update()
        totals = ctx.all_reduce_sum(torch.stack([d_total, g_total])) / ctx.world_size
        row: dict[str, Any] = {
            "d_loss": float(totals[0]) / len(batches),
            "g_loss": float(totals[1]) / len(batches),
        }
        if epoch % config.eval_every == 0 or epoch == config.epochs:
            row.update(check_figures(generate(watched, data, noise=fixed_noise)))
        if plots and out_dir is not None and (epoch % config.plot_every == 0 or epoch == 1):
            snapshots.append((epoch, generate(watched, data, noise=snapshot_noise)))
        return row

    last_write = [time.monotonic()]

    def after_epoch(epoch: int, history: list[dict[str, Any]], stop: bool) -> None:
        now = time.monotonic()
        if out_dir is not None and (stop or now - last_write[0] >= config.checkpoint_interval):
            last_write[0] = now
            runs.write_metrics_csv(out_dir / runs.METRICS_FILE, history)

    try:
        result = run_epochs(
            one_epoch,
            max_epochs=config.epochs,
            stopper=stopper,
            monitor=data.monitor,
            watched=watched,
            restore_best=config.restore_best,
            reporter=reporter,
            description=f"gan {data.name}",
            show=("d_loss", "g_loss", data.monitor, *getattr(data, "progress_keys", ())),
            on_epoch_end=after_epoch,
            checkpoint=checkpoint,
            resume=resume,
            sync_stop=lambda stop: ctx.broadcast_flag(stop, device),
        )
    except TrainingError:
        if out_dir is not None and stopper.best_state is not None:
            best = build_networks(config, data.dim)[0]
            best.load_state_dict({k: v.detach().cpu() for k, v in stopper.best_state.items()})
            save_gan(out_dir / runs.MODEL_FILE, best, config, data, best_epoch=stopper.best_epoch)
        raise
    consistent = ctx.same_everywhere(flat_weights(watched))
    best = build_networks(config, data.dim)[0]
    best.load_state_dict({k: v.detach().cpu() for k, v in watched.state_dict().items()})
    best.eval()
    if not ctx.is_main:
        return GanRun(generator=best, data=data, config=config, history=result.history)
    final = generate(best, data, final_samples, seed=config.seed)
    metrics = data.evaluate(final)
    summary = {
        "kind": KIND,
        "data": _data_summary(data),
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "monitor": data.monitor,
        "best_value": result.best_value,
        "train_seconds": result.train_seconds,
        "seconds_per_epoch": result.seconds_per_epoch,
        "final_samples": final_samples,
        "metrics": metrics,
        "seed": config.seed,
        "device": str(device),
        "world_size": ctx.world_size,
        "ranks_consistent": consistent,
        "config": config.to_dict(),
        "versions": runs.versions(),
    }
    run = GanRun(
        generator=best,
        data=data,
        config=config,
        summary=summary,
        history=result.history,
        out_dir=out_dir,
    )
    if out_dir is not None:
        save_gan(
            out_dir / runs.MODEL_FILE,
            best,
            config,
            data,
            best_epoch=result.best_epoch,
            epochs_run=result.epochs_run,
        )
        runs.write_metrics_csv(out_dir / runs.METRICS_FILE, result.history)
        if plots:
            write_plots(out_dir, data, config, result, snapshots, final)
        runs.write_json(out_dir / runs.SUMMARY_FILE, summary)
    return run


def _snapshots_to_dict(snapshots: list[tuple[int, torch.Tensor]]) -> dict[str, Any]:
    return {
        "snapshot_epochs": [e for e, _ in snapshots],
        "snapshots": [s.clone() for _, s in snapshots],
    }


def _snapshots_from_dict(saved: dict[str, Any]) -> list[tuple[int, torch.Tensor]]:
    return list(zip(saved.get("snapshot_epochs", []), saved.get("snapshots", []), strict=True))


def _data_summary(data: GanData) -> dict[str, Any]:
    """The data's description without tensors (for JSON files)."""
    return {k: v for k, v in data.to_dict().items() if not _holds_tensor(v)}


def _holds_tensor(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, dict):
        return any(_holds_tensor(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_tensor(v) for v in value)
    return False


def write_plots(
    out: Path,
    data: GanData,
    config: GanConfig,
    result: LoopResult,
    snapshots: list[tuple[int, torch.Tensor]],
    final: torch.Tensor,
) -> None:
    """The run's figures: real data, generated vs real (snapshots, final, animation), G and
    D losses, the monitored figure."""
    from genlab import plots

    folder = out / "plots"
    real = _real_points(data, config.batch_size, 100_000)
    columns = getattr(data, "columns", None)
    plots.plot_points(real, folder / "real.png", title=f"real data: {data.name}", columns=columns)
    plots.plot_generated_vs_real(
        real,
        final[: 5 * SNAPSHOT_POINTS],
        folder / "generated.png",
        title=f"best generator (epoch {result.best_epoch}) vs real",
        columns=columns,
    )
    plots.plot_curves(
        result.history,
        ["d_loss", "g_loss"],
        folder / "loss.png",
        title="discriminator and generator loss",
        best_epoch=result.best_epoch,
    )
    plots.plot_curves(
        result.history,
        [data.monitor],
        folder / f"{data.monitor}.png",
        title=f"{data.monitor} on held-out data (fixed noise)",
        ylabel=data.monitor,
        best_epoch=result.best_epoch,
    )
    progress = [k for k in getattr(data, "progress_keys", ()) if k != data.monitor]
    if progress:
        plots.plot_curves(
            result.history,
            progress,
            folder / "progress.png",
            title=" / ".join(progress) + " over training (fixed noise)",
            ylabel="value",
            best_epoch=result.best_epoch,
        )
    if snapshots:
        step = max(1, -(-len(snapshots) // MAX_FRAMES))
        chosen = snapshots[::step]
        if chosen[-1][0] != snapshots[-1][0]:
            chosen.append(snapshots[-1])
        plots.training_snapshots(real, chosen, folder, folder / "training.gif", columns=columns)


@torch.no_grad()
def interpolate(
    generator: Generator, data: GanData, steps: int, *, walks: int = 1, seed: int = 0
) -> torch.Tensor:
    """Walks through the latent space: ``walks`` pairs of noise vectors from ``seed``, each
    joined by ``steps`` evenly spaced points; returns the decoded points, (walks, steps, ...)."""
    ends = latent_noise(2 * walks, generator.latent_dim, seed).view(walks, 2, -1)
    t = torch.linspace(0, 1, steps).view(1, steps, 1)
    noise = ends[:, :1] + t * (ends[:, 1:] - ends[:, :1])  # (walks, steps, latent_dim)
    points = generate(generator, data, noise=noise.reshape(walks * steps, -1))
    return points.reshape(walks, steps, *points.shape[1:])
