"""Training, sampling, saving and loading GANs: a few short plain functions.

The engine is data-agnostic: it sees a :class:`~genlab.gan.adapter.GanAdapter` (curves,
integer patterns, ...) and never looks inside it. Per batch it runs :func:`discriminator_step`
then :func:`generator_step` on the adapter's **train** part; every ``eval_every`` epochs it
decodes the generator's output for one fixed validation noise batch and asks the adapter for
its **validation** figures; early stopping (a :class:`~genlab.training.loop.EarlyStop`
callback of the shared loop) watches ``data.monitor`` and restores the best generator. At the
end the adapter's **test** figures of :data:`FINAL_SAMPLES` samples from fresh noise
(:func:`final_noise_seed`, a seed training never used) go into ``summary.json``.

The model file (``model.pt``, via :mod:`genlab.training.runs`) holds the generator's weights,
the :class:`~genlab.config.GanConfig` and ``data.to_dict()``, so :func:`load_gan` rebuilds
everything ``sample``/``eval`` need through the registry :mod:`genlab.gan.registry`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from genlab.config import GanConfig
from genlab.errors import ConfigError, RunFileError, TrainingError
from genlab.gan.adapter import GanAdapter
from genlab.gan.registry import adapter_class
from genlab.models.gan import Generator
from genlab.models.modes import eval_mode
from genlab.progress import Reporter
from genlab.training import runs
from genlab.training.checkpoint import Checkpoint
from genlab.training.distributed import DistContext, ProcessGroup, flat_weights
from genlab.training.early_stopping import EarlyStopping
from genlab.training.loop import (
    Callback,
    EarlyStop,
    LoopResult,
    LoopState,
    MetricsFile,
    Progress,
    SaveCheckpoint,
    SyncStop,
    make_adam,
    run_epochs,
)

KIND = "gan"
#: Generated points behind the figures at the end of training (and ``gan eval``'s default).
FINAL_SAMPLES = 10_000
#: Seed offset of the fixed noise behind the validation checks.
VALIDATION_NOISE_OFFSET = 3
#: Seed offset of the fresh noise behind the reported figures (see :func:`final_noise_seed`).
TEST_NOISE_OFFSET = 7_919_000
#: Which part of the data each summary figure comes from.
FIGURE_SPLIT = {
    "metrics": "test part, fresh noise (test_noise_seed)",
    "best_value": "validation part, fixed noise (validation_noise_seed)",
    "best_epoch": "validation part, fixed noise (validation_noise_seed)",
    "metrics.csv": "losses on the train part; figures on the validation part",
}
#: Noise vectors through the generator at once while sampling.
DECODE_BATCH = 65_536
#: ... for wide samples (28x28 images: conv activations are large).
IMAGE_DECODE_BATCH = 4096
#: Rounds of redrawing rejected samples before :func:`generate` fills in rejected ones.
MAX_DRAWS = 50
#: Units of the divergence figures.
UNITS = {"js": "bits", "kl": "bits"}
#: Width of a flat 28x28 image (what ``--architecture conv`` makes).
IMAGE_PIXELS = 28 * 28
#: Points shown in the generated-vs-real snapshots and the animation.
SNAPSHOT_POINTS = 1000
#: At most this many snapshot PNGs / animation frames (evenly spaced over the run).
MAX_FRAMES = 60

# --------------------------------------------------------------------------- networks


def build_networks(config: GanConfig, dim: int, n_classes: int = 0) -> tuple[nn.Module, nn.Module]:
    """The MLP pair for data ``dim`` wide (:meth:`GanAdapter.build_networks`), for callers
    outside the engine. The engine asks each kind's adapter, which builds its own networks
    (the image kind its conv pair)."""
    if n_classes:
        raise ConfigError("a class-conditional GAN is built by its kind's adapter")
    shell = GanAdapter()
    shell.dim = dim
    return shell.build_networks(config)


def has_batch_statistics(module: nn.Module) -> bool:
    """Whether ``module`` normalises with batch statistics (batch norm), so that what else is
    in a batch changes each sample's output."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def discriminator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    noise: torch.Tensor,
    loss_fn: nn.Module | None = None,
    *,
    joint: bool = False,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """One discriminator update: real batch labelled 1, ``generator(noise)`` labelled 0.

    Only the discriminator's weights change (the fakes are made without gradients). Real and
    fake batches go through the discriminator in two separate calls, so a discriminator with
    batch statistics (batch norm) normalises each by its own statistics, as GAN training
    expects. ``joint=True`` sends both through in one call instead: the same result and
    faster for a discriminator without batch statistics (see :func:`has_batch_statistics`),
    wrong for one with them. A class-conditional pair gets ``labels`` (B,): the real
    batch's classes, also asked of the generator. Returns the loss (detached): the mean BCE
    on the real batch plus the mean BCE on the fake one.
    """
    loss_fn = loss_fn or nn.BCEWithLogitsLoss()
    with torch.no_grad():
        fake = _call(generator, noise, labels)  # (B_fake, dim)
    if joint:
        both = None if labels is None else torch.cat([labels, labels])
        logits = _call(discriminator, torch.cat([real, fake]), both)  # (B_real + B_fake, 1)
        real_logits, fake_logits = logits[: real.shape[0]], logits[real.shape[0] :]
    else:
        real_logits = _call(discriminator, real, labels)  # (B_real, 1)
        fake_logits = _call(discriminator, fake, labels)  # (B_fake, 1)
    loss = loss_fn(real_logits, torch.ones_like(real_logits)) + loss_fn(
        fake_logits, torch.zeros_like(fake_logits)
    )
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
    *,
    labels: torch.Tensor | None = None,
    penalty: Callable[[torch.Tensor], torch.Tensor | None] | None = None,
) -> torch.Tensor:
    """One generator update: make the discriminator call ``generator(noise)`` real (label 1).

    Only the generator's weights change: the discriminator's are frozen for the step
    (no gradients computed for them, none left behind). ``labels``: the classes asked of a
    class-conditional pair. ``penalty``: fake batch -> an extra loss term (or None), added
    to the discriminator's (see :meth:`GanAdapter.generator_penalty`). Returns the loss
    (detached).
    """
    loss_fn = loss_fn or nn.BCEWithLogitsLoss()
    discriminator.requires_grad_(False)
    try:
        fake = _call(generator, noise, labels)
        logits = _call(discriminator, fake, labels)  # (B, 1)
        loss = loss_fn(logits, torch.ones_like(logits))
        extra = penalty(fake) if penalty is not None else None
        if extra is not None:
            loss = loss + extra
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    finally:
        discriminator.requires_grad_(True)
    return loss.detach()


def _call(module: nn.Module, inputs: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """``module(inputs)``, or ``module(inputs, labels)`` for a class-conditional network."""
    return module(inputs) if labels is None else module(inputs, labels)


Batch = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


def rank_shards(batches: list[Batch], rank: int, world_size: int) -> Iterator[Batch]:
    """This rank's rows of each global batch (every rank sees the same batches); a batch is
    a tensor or an ``(images, labels)`` pair.

    A global batch with fewer rows than ranks would leave some rank with no rows (a NaN
    loss, and ranks out of step): such a batch (only ever the epoch's short last one) is
    dropped on every rank alike.
    """
    for real in batches:
        rows = real[0].shape[0] if isinstance(real, tuple) else real.shape[0]
        if rows >= world_size:
            if isinstance(real, tuple):
                yield tuple(part[rank::world_size] for part in real)  # type: ignore[misc]
            else:
                yield real[rank::world_size]


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
        # batch-norm running statistics are copied, not averaged: they describe the source
        self._avg_buffers = list(self.module.buffers())
        self._src_buffers = list(source.buffers())

    @torch.no_grad()
    def update(self) -> None:
        """Move the averages a step toward the source's current weights."""
        torch._foreach_lerp_(self._avg, self._src, 1.0 - self.decay)
        self.copy_buffers()

    @torch.no_grad()
    def copy_buffers(self) -> None:
        """The source's buffers (batch-norm running statistics) into the average's."""
        for mine, theirs in zip(self._avg_buffers, self._src_buffers, strict=True):
            mine.copy_(theirs)


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
    data: GanAdapter,
    n: int | None = None,
    *,
    seed: int = 0,
    noise: torch.Tensor | None = None,
    filtered: bool = True,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """Decoded samples, made in eval mode (the generator is left in the mode it was in).

    A class-conditional generator gets ``labels`` (one class per sample; default: the
    data's classes in turn, :meth:`GanAdapter.labels_for`).

    With ``noise``: the samples of those noise vectors; where the data has a support filter
    (:meth:`GanAdapter.support`) and ``filtered``, only those it keeps (in order). With ``n``:
    exactly ``n`` samples from noise drawn from ``seed``: the first ``n`` noise vectors, then
    more from the same stream while the filter rejects some (what it keeps of the first
    ``n`` vectors comes first, in order). After :data:`MAX_DRAWS` rounds the rest are filled
    with rejected samples, so that a poor generator still gives ``n`` samples.
    """
    device = next(generator.parameters()).device
    support = data.support() if filtered else None
    if support is not None:
        support = support.to(device)
    count_asked = noise.shape[0] if noise is not None else n
    if data.n_classes and labels is None and count_asked is not None:
        labels = data.labels_for(count_asked)
    if labels is not None:
        labels = labels.to(device)
    with eval_mode(generator):
        if noise is not None:
            return _decode_kept(generator, data, noise.to(device), support, labels)[0].cpu()
        if n is None:
            raise ConfigError("give n or noise")
        stream = torch.Generator().manual_seed(int(seed))
        kept: list[torch.Tensor] = []
        rejected: list[torch.Tensor] = []
        count = 0
        for _ in range(MAX_DRAWS if support is not None else 1):
            chunk = torch.randn(n, generator.latent_dim, generator=stream).to(device)
            good, bad = _decode_kept(generator, data, chunk, support, labels)
            kept.append(good)
            rejected.append(bad)
            count += good.shape[0]
            if count >= n:
                break
        out = torch.cat([*kept, *rejected])[:n]
    return out.cpu()


def _decode_kept(
    generator: nn.Module,
    data: GanAdapter,
    noise: torch.Tensor,
    support: nn.Module | None,
    labels: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(decoded samples the support keeps, decoded samples it rejects) of ``noise``."""
    step = data.decode_batch or (DECODE_BATCH if data.dim < IMAGE_PIXELS else IMAGE_DECODE_BATCH)
    model_space = torch.cat(
        [
            _call(
                generator,
                noise[i : i + step],
                None if labels is None else labels[i : i + step],
            )
            for i in range(0, noise.shape[0], step)
        ]
    )
    samples = data.decode(model_space)
    if support is None:
        return samples, samples[:0]
    keep = support(samples)
    return samples[keep], samples[~keep]


def final_noise_seed(seed: int) -> int:
    """The seed of the noise behind the reported (test) figures of a run with ``seed``.

    Training draws its noise from ``seed + 2 + 1000 * rank`` and checks on the fixed noise of
    ``seed + 3``; this seed is far from both, so no test figure comes from noise that training
    or selection saw."""
    return int(seed) + TEST_NOISE_OFFSET


@dataclass
class GanRun:
    """A trained GAN: the (best) generator, its data, figures, and where its files are."""

    generator: Generator
    data: GanAdapter
    config: GanConfig
    summary: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    out_dir: Path | None = None

    def sample(
        self, n: int, seed: int | None = None, label: Any = None, *, where: Any = None
    ) -> Any:
        """``n`` samples in the data's units (same seed -> same samples; default seed: the
        one behind the figures of ``summary.json``). ``label``: for a class-conditional run,
        the class to draw (a name in any case or an index; default: its classes in turn).
        ``where``: for a table, ``{column: value}`` conditions every row meets. A table's
        samples come as a pandas DataFrame (:meth:`GanAdapter.present`), others as a
        tensor."""
        request = label if where is None else where
        return self.data.present(self.sample_tensor(n, seed, label, where=where), request)

    def sample_tensor(
        self, n: int, seed: int | None = None, label: Any = None, *, where: Any = None
    ) -> torch.Tensor:
        """:meth:`sample` as the decoded tensor (what the figures and plots take)."""
        check_count(n)
        seed = final_noise_seed(self.config.seed) if seed is None else seed
        request = label if where is None else where
        labels = self.data.request_labels(n, request) if request is not None else None
        return generate(self.generator, self.data, n, seed=seed, labels=labels)

    def evaluate(
        self, n: int = FINAL_SAMPLES, seed: int | None = None, data: GanAdapter | None = None
    ) -> dict[str, float]:
        """The test figures of ``n`` samples (default seed: the one behind ``summary.json``,
        which the defaults reproduce exactly: they run on the thread count training used).
        ``data``: the adapter rebuilt with its parts, for a run whose model file holds no
        rows (:attr:`GanAdapter.holds_data`; :func:`genlab.gan.evaluate` rebuilds it)."""
        judge = data if data is not None else self.data
        if not judge.holds_data and data is None:
            from genlab.errors import DataError

            raise DataError(
                "this model file holds no rows of its data (your data stays yours): "
                "evaluate it with the data, e.g. genlab gan eval RUN --csv FILE"
            )
        with _cpu_threads(self.config):
            figures = judge.test_figures(self.sample_tensor(n, seed))
        return {**judge.generator_figures(self.generator), **figures}

    def warnings(self, figures: dict[str, Any]) -> list[str]:
        """The data's warnings about these figures (mode collapse, a tiny test part)."""
        return self.data.warnings(figures)

    def __repr__(self) -> str:
        metrics = self.summary.get("metrics", {})
        value = metrics.get(self.data.monitor)
        figure = f", {self.data.monitor} {value:.4g} (test part)" if value is not None else ""
        where = f", {self.out_dir}" if self.out_dir is not None else ""
        return f"<genlab GAN on {self.data.name}{figure}{where}>"

    def _repr_html_(self) -> str:
        metrics = self.summary.get("metrics", {})
        rows = "".join(
            f"<tr><td>{k}</td><td>{v:.4g}</td></tr>"
            for k, v in metrics.items()
            if isinstance(v, float)
        )
        return f"<b>genlab GAN</b> ({self.data.name})<table>{rows}</table>"


def check_count(n: Any, flag: str = "-n") -> int:
    """A number of samples: a positive integer (a ConfigError otherwise)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"{flag} must be a positive whole number, not {n!r}")
    return n


def save_gan(
    path: str | Path, generator: nn.Module, config: GanConfig, data: GanAdapter, **extra: Any
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
        stored = payload["data"]
        family = stored.get("kind") if isinstance(stored, dict) else None
        data = adapter_class(family).from_dict(stored)
        config = data.config_class.from_dict(payload["config"])
    except KeyError as exc:
        raise RunFileError(f"{path}: the model file lacks {exc}") from exc
    generator, _ = data.build_networks(config)
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


def train_gan(
    data: GanAdapter,
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

    ``config`` defaults to the data's ``config_class()`` (:class:`GanConfig`, or the kind's
    own subclass: a plain :class:`GanConfig` given for such a kind gets that class's
    defaults for the kind's own settings). ``out`` (optional) is the run folder:
    ``config.json``, ``metrics.csv``, ``checkpoint.pt`` (the full state), ``model.pt`` (the
    best generator), ``summary.json``, ``plots/``. ``resume=True`` goes on from ``out``'s
    checkpoint with the config stored there (of ``config`` only ``device`` and ``threads``
    count; ``data`` must be the same data) and ends exactly where the uninterrupted run
    would. Returns a :class:`GanRun` whose generator has the best weights (by
    ``data.monitor`` on the validation part) and whose summary holds the test figures of
    ``final_samples`` samples from fresh noise. A non-finite loss or figure stops training
    with a :class:`TrainingError`; the best generator so far is saved to ``model.pt`` first,
    and ``checkpoint.pt`` keeps the last good state.
    """
    check_count(final_samples, "final_samples")
    kind_config = data.config_class
    config = (
        config
        if isinstance(config, kind_config)
        else kind_config.from_dict((config or kind_config()).to_dict())
    )
    with (
        ProcessGroup(config.device) as (ctx, device),
        runs.open_run_dir(out if ctx.is_main else None, overwrite, resume) as out_dir,
        _cpu_threads(config),
    ):
        if resume and out is not None:  # the stored settings; where it runs may change
            stored = data.config_class.from_dict(runs.read_json(Path(out) / runs.CONFIG_FILE))
            config = stored.with_(device=config.device, threads=config.threads)
        setup = _Setup(data, config, ctx, device, out_dir, plots)
        result, stop = setup.fit(reporter if ctx.is_main else None, out if resume else None, out)
        return setup.finish(result, stop, final_samples)


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


class Snapshots(Callback):
    """Generated points every ``plot_every`` epochs (and after epoch 1), for the training
    plots and animation; kept in the checkpoint."""

    name = "snapshots"

    def __init__(self, make: Callable[[], torch.Tensor], every: int, enabled: bool) -> None:
        self.make = make
        self.every = every
        self.enabled = enabled
        self.frames: list[tuple[int, torch.Tensor]] = []

    def on_epoch_end(self, state: LoopState, row: dict[str, Any]) -> None:
        if self.enabled and (state.epoch % self.every == 0 or state.epoch == 1):
            self.frames.append((state.epoch, self.make()))

    def state_dict(self) -> dict[str, Any]:
        return {
            "snapshot_epochs": [e for e, _ in self.frames],
            "snapshots": [f.clone() for _, f in self.frames],
        }

    def load_state_dict(self, saved: Mapping[str, Any]) -> None:
        epochs, frames = saved.get("snapshot_epochs", []), saved.get("snapshots", [])
        self.frames = list(zip(epochs, frames, strict=True))


class _Setup:
    """One GAN training run's networks, optimisers, random streams and callbacks."""

    def __init__(
        self,
        data: GanAdapter,
        config: GanConfig,
        ctx: DistContext,
        device: torch.device,
        out_dir: Path | None,
        plots: bool,
    ) -> None:
        self.data, self.config, self.ctx, self.device = data, config, ctx, device
        self.out_dir = out_dir
        torch.manual_seed(config.seed)  # weight initialisation (the same on every rank)
        self.generator, self.discriminator = data.build_networks(config)
        data.setup_generator(self.generator)
        self.generator.to(device)
        self.discriminator.to(device)
        # Under torchrun, DDP averages each step's gradients over the ranks; the updates use
        # the wrapped modules, everything else the plain ones (identical on every rank).
        wrap = DistributedDataParallel if ctx.enabled else (lambda module: module)
        self.g_train, self.d_train = wrap(self.generator), wrap(self.discriminator)
        # real and fake in one discriminator call unless batch statistics would mix them
        # (a discriminator that judges packs of rows, as PacGAN's, needs them apart too)
        self.joint = not has_batch_statistics(self.discriminator) and not getattr(
            self.discriminator, "packs_rows", False
        )
        betas = (config.beta1, config.beta2)
        self.g_optimizer = make_adam(self.generator.parameters(), config.lr, betas)
        self.d_optimizer = make_adam(
            self.discriminator.parameters(), config.d_lr or config.lr, betas
        )
        self.average = WeightAverage(self.generator, config.ema) if config.ema > 0 else None
        self.watched = self.average.module if self.average is not None else self.generator
        self.order_rng = torch.Generator().manual_seed(config.seed + 1)  # batch order
        self.noise_rng = torch.Generator(device=device).manual_seed(
            config.seed + 2 + 1000 * ctx.rank
        )
        # The checks compare this fixed noise's samples with the validation part.
        self.validation_noise = latent_noise(
            config.eval_samples,
            self.generator.latent_dim,
            config.seed + VALIDATION_NOISE_OFFSET,
            device,
        )
        self.snapshots = Snapshots(
            lambda: generate(self.watched, data, noise=self.validation_noise[: data.snapshot_size]),
            config.plot_every,
            plots and out_dir is not None,
        )
        self.plots = plots

    def epoch(self, epoch: int) -> dict[str, Any]:
        """One pass over the train part; the validation figures every ``eval_every`` epochs."""
        config, ctx = self.config, self.ctx
        self.generator.train()
        self.discriminator.train()
        local = ctx.enabled and self.data.local_rows
        size = config.batch_size // ctx.world_size if local else config.batch_size
        batches = self.data.real_batches(size, self.order_rng, self.device)
        if local:  # this rank's own rows (a sharded table): as many steps on every rank
            mine: Iterable[Batch] = batches[: ctx.smallest(len(batches), self.device)]
        else:
            mine = rank_shards(batches, ctx.rank, ctx.world_size)
        totals = torch.zeros(2, device=self.device)
        steps = 0
        latent_dim = self.generator.latent_dim
        for real in mine:
            labels = None
            if isinstance(real, tuple):  # a class-conditional pair: (images, classes)
                real, labels = real
            n = real.shape[0]  # (n, dim): this rank's share of the global batch
            noise = torch.randn(n, latent_dim, generator=self.noise_rng, device=self.device)
            totals[0] += discriminator_step(
                self.generator,
                self.d_train,
                self.d_optimizer,
                real,
                noise,
                joint=self.joint,
                labels=labels,
            )
            noise = torch.randn(n, latent_dim, generator=self.noise_rng, device=self.device)
            if labels is not None and self.data.paired_conditions:
                half = n // 2  # rows i and i + half: the same condition, other noise
                labels = torch.cat([labels[:half], labels[:half], labels[2 * half :]])
            # the plain D here: its weights are frozen for the G step and equal on all ranks
            totals[1] += generator_step(
                self.g_train,
                self.discriminator,
                self.g_optimizer,
                noise,
                labels=labels,
                penalty=lambda fake, real=real, noise=noise: self.data.generator_penalty(
                    fake, real, noise
                ),
            )
            if self.average is not None:
                self.average.update()
            steps += 1
        if ctx.enabled and has_batch_statistics(self.generator):
            # each rank's running statistics saw its own shards: take rank 0's everywhere
            ctx.broadcast_buffers(self.generator)
            if self.average is not None:
                self.average.copy_buffers()
        totals = ctx.all_reduce_sum(totals) / ctx.world_size
        row: dict[str, Any] = {
            "d_loss": float(totals[0]) / steps,
            "g_loss": float(totals[1]) / steps,
        }
        if epoch % config.eval_every == 0 or epoch == config.epochs:
            # unfiltered: the data's figures see (and count) what its support filter rejects
            samples = generate(self.watched, self.data, noise=self.validation_noise, filtered=False)
            row.update(self.data.validation_figures(samples))
        return row

    def callbacks(self, reporter: Reporter | None, run_path: str | Path | None) -> list[Callback]:
        """Early stopping, progress, plots' snapshots, metrics file, rank sync, checkpoint."""
        config, data = self.config, self.data
        stopper = EarlyStopping(config.patience, config.min_delta, data.monitor_mode)
        self.stop = EarlyStop(
            stopper,
            data.monitor,
            self.watched,
            restore_best=config.restore_best,
            target=data.monitor_target,
        )
        show = ("d_loss", "g_loss", data.monitor, *data.progress_keys)
        self.progress = Progress(
            reporter,
            f"gan {data.name}",
            show,
            status=self._stopping_status,
            run_name=None if run_path is None else str(run_path),
        )
        out: list[Callback] = [
            self.stop,
            self.progress,
            self.snapshots,
            MetricsFile(
                None if self.out_dir is None else self.out_dir / runs.METRICS_FILE,
                config.checkpoint_interval,
            ),
            SyncStop(lambda stop: self.ctx.broadcast_flag(stop, self.device)),
        ]
        if run_path is not None:  # every rank restores from it; only rank 0 writes it
            out.append(SaveCheckpoint(self._checkpoint(run_path), out))
        return out

    def _stopping_status(self) -> dict[str, Any]:
        """The progress bar's view of early stopping: the best epoch so far and the checks
        since it, against the patience."""
        stopper = self.stop.stopper
        if not stopper.best_epoch:
            return {}
        status: dict[str, Any] = {"best": stopper.best_epoch}
        if self.config.patience:
            status["no better for"] = f"{stopper.bad_checks}/{self.config.patience} checks"
        return status

    def end_line(self, result: LoopResult, best_epoch: int) -> str:
        """One line on how training ended and which generator was kept."""
        how = (
            f"stopped early at epoch {result.epochs_run}"
            if result.stopped_early
            else f"ran all {result.epochs_run} epochs"
        )
        if not self.config.restore_best:
            return f"{how}; kept the last generator (--no-restore-best)"
        return (
            f"{how}; kept the generator of epoch {best_epoch} (the best {self.data.monitor} "
            "on the validation part)"
        )

    def _checkpoint(self, run_path: str | Path) -> Checkpoint:
        modules: dict[str, nn.Module] = {
            "generator": self.generator,
            "discriminator": self.discriminator,
        }
        if self.average is not None:
            modules["generator_average"] = self.average.module
        return Checkpoint(
            run_path,
            modules,
            {"generator": self.g_optimizer, "discriminator": self.d_optimizer},
            {"batch_order": self.order_rng, "noise": self.noise_rng},
            interval=self.config.checkpoint_interval,
            writer=self.ctx.is_main,
        )

    def fit(
        self, reporter: Reporter | None, resume_path: str | Path | None, run_path: str | Path | None
    ) -> tuple[LoopResult, EarlyStop]:
        """Run the loop; on a diverged run save the best generator so far, then re-raise."""
        if self.out_dir is not None:
            runs.write_json(
                self.out_dir / runs.CONFIG_FILE,
                {**self.config.to_dict(), "data": data_summary(self.data)},
            )
        callbacks = self.callbacks(reporter, run_path)
        saver = callbacks[-1] if resume_path is not None else None
        try:
            result = run_epochs(
                self.epoch,
                max_epochs=self.config.epochs,
                callbacks=callbacks,
                watched=self.watched,
                resume_from=saver if isinstance(saver, SaveCheckpoint) else None,
            )
        except TrainingError:
            best = self.stop.stopper.best_state
            if self.out_dir is not None and best is not None:
                self._save(self._cpu_generator(best), best_epoch=self.stop.stopper.best_epoch)
            raise
        return result, self.stop

    def _cpu_generator(self, state: Mapping[str, torch.Tensor]) -> nn.Module:
        best = self.data.build_networks(self.config)[0]
        best.load_state_dict({k: v.detach().cpu() for k, v in state.items()})
        return best.eval()

    def _save(self, generator: nn.Module, **extra: Any) -> None:
        assert self.out_dir is not None
        save_gan(self.out_dir / runs.MODEL_FILE, generator, self.config, self.data, **extra)

    def finish(self, result: LoopResult, stop: EarlyStop, final_samples: int) -> GanRun:
        """The best generator's test figures on fresh noise; the run folder's files. Under
        torchrun only the main process finishes the generator (its fits after training: a
        table's calibration, target model and the draw's choice, each on that process's
        rows), tests and saves it; the others return its chosen weights as they are (two
        processes fitting at once on two cores took minutes)."""
        consistent = self.ctx.same_everywhere(flat_weights(self.watched))
        best = self._cpu_generator(self.watched.state_dict())
        run = GanRun(generator=best, data=self.data, config=self.config, history=result.history)
        if not self.ctx.is_main:
            return run
        self.data.finish_generator(best, self.config.seed)
        seed = final_noise_seed(self.config.seed)
        final = generate(best, self.data, final_samples, seed=seed)
        best_epoch = stop.stopper.best_epoch or result.epochs_run
        self.progress.message(self.end_line(result, best_epoch))
        run.summary = {
            "kind": KIND,
            "data": data_summary(self.data),
            "splits": self.data.splits(),
            "epochs_run": result.epochs_run,
            "best_epoch": best_epoch,
            "stopped_early": result.stopped_early,
            "monitor": self.data.monitor,
            "best_value": stop.stopper.best,
            "train_seconds": result.train_seconds,
            "seconds_per_epoch": result.seconds_per_epoch,
            "final_samples": final_samples,
            "validation_noise_seed": self.config.seed + VALIDATION_NOISE_OFFSET,
            "test_noise_seed": seed,
            "figure_split": FIGURE_SPLIT,
            "units": UNITS,
            "metrics": (metrics := self.data.test_figures(final)),
            "headline": f"metrics.{self.data.headline(metrics)}",
            "seed": self.config.seed,
            "device": str(self.device),
            "threads": torch.get_num_threads(),  # what training ran on (config: 0 = torch's)
            "world_size": self.ctx.world_size,
            "ranks_consistent": consistent,
            "config": self.config.to_dict(),
            "versions": runs.versions(),
        }
        run.out_dir = self.out_dir
        if self.out_dir is not None:
            self._save(best, best_epoch=best_epoch, epochs_run=result.epochs_run)
            runs.write_metrics_csv(self.out_dir / runs.METRICS_FILE, result.history)
            if self.plots:
                self.data.write_plots(
                    self.out_dir / "plots", result.history, best_epoch, self.snapshots.frames, final
                )
            runs.write_json(self.out_dir / runs.SUMMARY_FILE, run.summary)
        return run


def data_summary(data: GanAdapter) -> dict[str, Any]:
    """The data's description without tensors (for JSON files), with its origin."""
    out = {k: v for k, v in data.to_dict().items() if not _holds_tensor(v)}
    out.setdefault("name", data.name)
    if data.origin is not None:
        out["origin"] = data.origin
    return out


def _holds_tensor(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, dict):
        return any(_holds_tensor(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_tensor(v) for v in value)
    return False


def write_point_plots(
    folder: Path,
    data: GanAdapter,
    history: list[dict[str, Any]],
    best_epoch: int,
    snapshots: list[tuple[int, torch.Tensor]],
    final: torch.Tensor,
) -> None:
    """A point GAN's figures in ``folder``: real data, generated vs real (snapshots, final,
    animation), G and D losses, the monitored figure."""
    from genlab import plots

    real = data.real_points(100_000)
    columns = data.columns
    plots.plot_points(real, folder / "real.png", title=f"real data: {data.name}", columns=columns)
    plots.plot_generated_vs_real(
        real,
        final[: 5 * SNAPSHOT_POINTS],
        folder / "generated.png",
        title=f"best generator (epoch {best_epoch}) vs real (test part)",
        columns=columns,
    )
    write_training_curves(folder, data, history, best_epoch)
    if snapshots:
        chosen = animation_frames(snapshots)
        plots.training_snapshots(real, chosen, folder, folder / "training.gif", columns=columns)


def animation_frames(
    snapshots: list[tuple[int, torch.Tensor]],
) -> list[tuple[int, torch.Tensor]]:
    """At most about :data:`MAX_FRAMES` of the snapshots, evenly spaced, the last included."""
    step = max(1, -(-len(snapshots) // MAX_FRAMES))
    chosen = snapshots[::step]
    if chosen[-1][0] != snapshots[-1][0]:
        chosen.append(snapshots[-1])
    return chosen


def write_training_curves(
    folder: Path, data: GanAdapter, history: list[dict[str, Any]], best_epoch: int
) -> None:
    """G and D losses, the monitored figure and the other progress figures over the epochs."""
    from genlab import plots

    plots.plot_curves(
        history,
        ["d_loss", "g_loss"],
        folder / "loss.png",
        title="discriminator and generator loss",
        best_epoch=best_epoch,
    )
    plots.plot_curves(
        history,
        [data.monitor],
        folder / f"{data.monitor}.png",
        title=f"{data.monitor} on the validation part (fixed noise)",
        ylabel=data.monitor,
        best_epoch=best_epoch,
    )
    progress = [k for k in data.progress_keys if k != data.monitor]
    if progress:
        plots.plot_curves(
            history,
            progress,
            folder / "progress.png",
            title=" / ".join(progress) + " on the validation part (fixed noise)",
            ylabel="value",
            best_epoch=best_epoch,
        )


@torch.no_grad()
def interpolate(
    generator: Generator, data: GanAdapter, steps: int, *, walks: int = 1, seed: int = 0
) -> torch.Tensor:
    """Walks through the latent space: ``walks`` pairs of noise vectors from ``seed``, each
    joined by ``steps`` evenly spaced points; returns the decoded points, (walks, steps, ...)."""
    ends = latent_noise(2 * walks, generator.latent_dim, seed).view(walks, 2, -1)
    t = torch.linspace(0, 1, steps).view(1, steps, 1)
    noise = ends[:, :1] + t * (ends[:, 1:] - ends[:, :1])  # (walks, steps, latent_dim)
    labels = None
    if data.n_classes:  # a class-conditional run: each walk within one class, in turn
        labels = data.labels_for(walks).repeat_interleave(steps, dim=0)
    points = generate(
        generator, data, noise=noise.reshape(walks * steps, -1), filtered=False, labels=labels
    )
    return points.reshape(walks, steps, *points.shape[1:])
