"""Training, sampling, saving and loading GANs: a few short plain functions.

The engine is data-agnostic: it sees a :class:`~genlab.data.gan_data.GanData` (curves, integer
patterns, ...) and never looks inside it. Per batch it runs :func:`discriminator_step` then
:func:`generator_step`; every ``eval_every`` epochs it decodes the generator's output for one
fixed noise batch and asks the data for its figures (``quick_evaluate`` when the data has it,
else ``evaluate``); early stopping watches ``data.monitor`` through the shared
:func:`~genlab.training.loop.run_epochs`, which restores the best generator at the end.

The model file (``model.pt``, via :mod:`genlab.training.runs`) holds the generator's weights,
the :class:`~genlab.config.GanConfig` and ``data.to_dict()`` (for curves: the column transform
and the held-out points), so :func:`load_gan` rebuilds everything ``sample``/``eval`` need.
"""

from __future__ import annotations

import copy
import importlib
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from genlab import __version__
from genlab.config import GanConfig
from genlab.data.gan_data import GanData
from genlab.device import resolve_device
from genlab.errors import ConfigError, RunFileError, TrainingError
from genlab.models.gan import Generator, build_discriminator, build_generator
from genlab.progress import Reporter
from genlab.training import runs
from genlab.training.early_stopping import EarlyStopping
from genlab.training.loop import LoopResult, make_adam, run_epochs

KIND = "gan"
#: Generated points behind the figures at the end of training (and ``gan eval``'s default).
FINAL_SAMPLES = 10_000
#: Points shown in the generated-vs-real snapshots and the animation.
SNAPSHOT_POINTS = 1000
#: At most this many snapshot PNGs / animation frames (evenly spaced over the run).
MAX_FRAMES = 60
#: Seconds between checkpoint / metrics.csv writes during training.
SAVE_INTERVAL = 10.0

#: Data adapters that a model file can name: ``data["kind"]`` -> "module:Class" with a
#: ``from_dict`` classmethod. A new adapter (e.g. integer patterns) adds its line here.
DATA_ADAPTERS: dict[str, str] = {
    "curve": "genlab.data.curve_gan_data:CurveGanData",
    "integers": "genlab.data.integer_gan_data:IntegerGanData",
}


def data_from_dict(values: dict[str, Any]) -> GanData:
    """Rebuild the data adapter stored in a model file (dispatch on ``values["kind"]``)."""
    kind = values.get("kind") if isinstance(values, dict) else None
    target = DATA_ADAPTERS.get(str(kind))
    if target is None:
        raise RunFileError(f"the model file describes data of unknown kind {kind!r}; "
                           "it was written by another genlab version")
    module_name, class_name = target.split(":")
    try:
        adapter = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise RunFileError(f"this genlab cannot read {kind!r} GAN data ({exc})") from exc
    return adapter.from_dict(values)


# --------------------------------------------------------------------------- networks


def build_networks(config: GanConfig, dim: int) -> tuple[Generator, nn.Module]:
    """The generator and discriminator for data ``dim`` wide, as ``config`` sizes them."""
    generator = build_generator(config.latent_dim, dim, config.g_hidden, config.g_activation,
                                config.g_out_activation)
    discriminator = build_discriminator(dim, config.d_hidden, config.d_activation,
                                        config.d_dropout)
    return generator, discriminator


def discriminator_step(
    generator: nn.Module, discriminator: nn.Module, optimizer: torch.optim.Optimizer,
    real: torch.Tensor, noise: torch.Tensor, loss_fn: nn.Module | None = None,
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
    generator: nn.Module, discriminator: nn.Module, optimizer: torch.optim.Optimizer,
    noise: torch.Tensor, loss_fn: nn.Module | None = None,
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
    generator: nn.Module, data: GanData, n: int | None = None, *, seed: int = 0,
    noise: torch.Tensor | None = None, batch_size: int = 65_536,
) -> torch.Tensor:
    """Decoded samples for ``noise`` (or ``n`` noise vectors from ``seed``), eval mode."""
    generator.eval()
    device = next(generator.parameters()).device
    if noise is None:
        if n is None:
            raise ConfigError("give n or noise")
        noise = latent_noise(n, generator.latent_dim, seed, device)
    noise = noise.to(device)
    parts = [data.decode(generator(noise[i : i + batch_size]))
             for i in range(0, noise.shape[0], batch_size)]
    return torch.cat(parts).cpu()


def _check_figures(data: GanData) -> Callable[[torch.Tensor], dict[str, float]]:
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
        rows = "".join(f"<tr><td>{k}</td><td>{v:.4g}</td></tr>" for k, v in metrics.items()
                       if isinstance(v, float))
        return f"<b>genlab GAN</b> ({self.data.name})<table>{rows}</table>"


def save_gan(path: str | Path, generator: nn.Module, config: GanConfig, data: GanData,
             **extra: Any) -> None:
    """The model file: generator weights + config + data description (tensors and plain
    values only)."""
    runs.save_model_file(path, KIND, config.to_dict(), generator.state_dict(),
                         data=data.to_dict(), **extra)


def load_gan(path: str | Path) -> tuple[Generator, GanConfig, GanData]:
    """Rebuild the generator (eval mode, CPU), its config and its data from a run folder or
    model file. A file of another kind is refused with a clear error."""
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
        raise RunFileError(f"{path}: the weights do not fit the generator its config "
                           "describes") from exc
    generator.eval()
    return generator, config, data


def _real_points(data: GanData, batch_size: int, max_points: int) -> torch.Tensor:
    """Real points in the data's units for plots: one decoded epoch of real batches."""
    batches = data.real_batches(batch_size, torch.Generator().manual_seed(0),
                                torch.device("cpu"))
    return data.decode(torch.cat(batches))[:max_points].detach().cpu()


def train_gan(
    data: GanData,
    config: GanConfig | None = None,
    *,
    out: str | Path | None = None,
    reporter: Reporter | None = None,
    overwrite: bool = False,
    plots: bool = True,
    final_samples: int = FINAL_SAMPLES,
) -> GanRun:
    """Train a GAN on ``data``, evaluate the best generator, save a run folder.

    ``out`` (optional) is the run folder: ``config.json``, ``metrics.csv``, ``model.pt``,
    ``summary.json``, ``plots/``. Returns a :class:`GanRun` whose generator has the best
    weights (by ``data.monitor``) restored. A non-finite loss or figure stops training with a
    :class:`TrainingError`; the best generator so far is saved to the run folder first.
    """
    config = config or GanConfig()
    out_dir = runs.prepare_run_dir(out, overwrite) if out is not None else None
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)  # weight initialisation
    generator, discriminator = build_networks(config, data.dim)
    generator.to(device)
    discriminator.to(device)
    g_optimizer = make_adam(generator.parameters(), config.lr, (config.beta1, config.beta2))
    d_optimizer = make_adam(discriminator.parameters(), config.lr, (config.beta1, config.beta2))
    loss_fn = nn.BCEWithLogitsLoss()
    average = WeightAverage(generator, config.ema) if config.ema > 0 else None
    watched = average.module if average is not None else generator
    order_rng = torch.Generator().manual_seed(config.seed + 1)  # batch order
    noise_rng = torch.Generator(device=device).manual_seed(config.seed + 2)  # training noise
    fixed_noise = latent_noise(config.eval_samples, config.latent_dim, config.seed + 3, device)
    snapshot_noise = fixed_noise[:SNAPSHOT_POINTS]
    check_figures = _check_figures(data)
    stopper = EarlyStopping(config.patience, config.min_delta, data.monitor_mode)
    snapshots: list[tuple[int, torch.Tensor]] = []
    if out_dir is not None:
        runs.write_json(out_dir / runs.CONFIG_FILE,
                        {"config": config.to_dict(), "data": _plain(data.to_dict())})

    def one_epoch(epoch: int) -> dict[str, Any]:
        generator.train()
        discriminator.train()
        batches = data.real_batches(config.batch_size, order_rng, device)
        d_total = torch.zeros((), device=device)
        g_total = torch.zeros((), device=device)
        for real in batches:
            n = real.shape[0]
            noise = torch.randn(n, config.latent_dim, generator=noise_rng, device=device)
            d_total += discriminator_step(generator, discriminator, d_optimizer, real, noise,
                                          loss_fn)
            noise = torch.randn(n, config.latent_dim, generator=noise_rng, device=device)
            g_total += generator_step(generator, discriminator, g_optimizer, noise, loss_fn)
            if average is not None:
                average.update()
        row: dict[str, Any] = {"d_loss": float(d_total) / len(batches),
                               "g_loss": float(g_total) / len(batches)}
        if epoch % config.eval_every == 0 or epoch == config.epochs:
            samples = generate(watched, data, noise=fixed_noise)
            row.update(check_figures(samples))
        if plots and out_dir is not None and (epoch % config.plot_every == 0 or epoch == 1):
            snapshots.append((epoch, generate(watched, data, noise=snapshot_noise)))
        return row

    last_save = [time.monotonic()]

    def after_epoch(epoch: int, history: list[dict[str, Any]], stop: bool) -> None:
        if out_dir is None:
            return
        now = time.monotonic()
        if stop or now - last_save[0] >= SAVE_INTERVAL:
            last_save[0] = now
            runs.write_metrics_csv(out_dir / runs.METRICS_FILE, history)
            if stopper.best_state is not None:
                _save_state(out_dir, stopper.best_state, config, data, stopper.best_epoch)

    try:
        result = run_epochs(
            one_epoch, max_epochs=config.epochs, stopper=stopper, monitor=data.monitor,
            watched=watched, restore_best=config.restore_best, reporter=reporter,
            description=f"gan {data.name}", show=("d_loss", "g_loss", data.monitor),
            on_epoch_end=after_epoch,
        )
    except TrainingError:
        if out_dir is not None and stopper.best_state is not None:
            _save_state(out_dir, stopper.best_state, config, data, stopper.best_epoch)
        raise
    watched.eval()
    final = generate(watched, data, final_samples, seed=config.seed)
    metrics = data.evaluate(final)
    summary = {
        "kind": KIND, "data": _plain(_data_summary(data)),
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early, "monitor": data.monitor,
        "best_value": result.best_value, "train_seconds": result.train_seconds,
        "seconds_per_epoch": result.seconds_per_epoch, "final_samples": final_samples,
        "metrics": metrics, "seed": config.seed, "device": str(device),
        "config": config.to_dict(),
        "versions": {"genlab": __version__, "torch": torch.__version__,
                     "python": platform.python_version()},
    }
    best = build_networks(config, data.dim)[0]
    best.load_state_dict({k: v.detach().cpu() for k, v in watched.state_dict().items()})
    best.eval()
    run = GanRun(generator=best, data=data, config=config, summary=summary,
                 history=result.history, out_dir=out_dir)
    if out_dir is not None:
        save_gan(out_dir / runs.MODEL_FILE, best, config, data, best_epoch=result.best_epoch,
                 epochs_run=result.epochs_run)
        runs.write_metrics_csv(out_dir / runs.METRICS_FILE, result.history)
        if plots:
            write_plots(out_dir, data, config, result, snapshots, final)
        runs.write_json(out_dir / runs.SUMMARY_FILE, summary)
    return run


def _save_state(out_dir: Path, state: dict[str, Any], config: GanConfig, data: GanData,
                best_epoch: int) -> None:
    generator = build_networks(config, data.dim)[0]
    generator.load_state_dict({k: v.detach().cpu() for k, v in state.items()})
    save_gan(out_dir / runs.MODEL_FILE, generator, config, data, best_epoch=best_epoch)


def _data_summary(data: GanData) -> dict[str, Any]:
    """The data's description without bulky tensors (for summary.json)."""
    return {k: v for k, v in data.to_dict().items() if not isinstance(v, torch.Tensor)
            and k not in ("transform",)}


def _plain(values: Any) -> Any:
    """Tensors with more than a few numbers become their shape (for JSON files)."""
    if isinstance(values, dict):
        return {k: _plain(v) for k, v in values.items()}
    if isinstance(values, (list, tuple)):
        return [_plain(v) for v in values]
    if isinstance(values, torch.Tensor):
        return values.tolist() if values.numel() <= 16 else f"tensor{list(values.shape)}"
    return values


def write_plots(out: Path, data: GanData, config: GanConfig, result: LoopResult,
                snapshots: list[tuple[int, torch.Tensor]], final: torch.Tensor) -> None:
    """The run's figures: real data, generated vs real (snapshots + final + animation),
    G and D losses, the monitored score."""
    from genlab import plots

    folder = out / "plots"
    real = _real_points(data, config.batch_size, 100_000)
    columns = getattr(data, "columns", None)
    plots.plot_points(real, folder / "real.png", title=f"real data: {data.name}",
                      columns=columns)
    plots.plot_generated_vs_real(real, final[: 5 * SNAPSHOT_POINTS], folder / "generated.png",
                                 title=f"best generator (epoch {result.best_epoch}) vs real",
                                 columns=columns)
    plots.plot_curves(result.history, ["d_loss", "g_loss"], folder / "loss.png",
                      title="discriminator and generator loss", best_epoch=result.best_epoch)
    plots.plot_curves(result.history, [data.monitor], folder / f"{data.monitor}.png",
                      title=f"{data.monitor} on held-out data (fixed noise)",
                      ylabel=data.monitor, best_epoch=result.best_epoch)
    if snapshots:
        step = max(1, -(-len(snapshots) // MAX_FRAMES))
        chosen = snapshots[::step]
        if chosen[-1] is not snapshots[-1]:
            chosen.append(snapshots[-1])
        plots.training_snapshots(real, chosen, folder, folder / "training.gif", columns=columns)
