"""One frozen dataclass per job. The CLI builds it; every run folder and model file stores it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Self

from genlab.errors import ConfigError

TASKS = ("multiclass", "binary")
PRESETS = ("genlab", "book")


def check_positive(name: str, value: float | int | None, allow_zero: bool = False) -> None:
    """Refuse a non-positive setting with a line that names its flag."""
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"--{name.replace('_', '-')} must be {bound}, not {value}")


class _Settings:
    """What every config dataclass shares: plain values out, rebuilt from them, copies."""

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for JSON and model files."""
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output (unknown keys ignored)."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in values.items() if k in names})

    def with_(self, **changes: Any) -> Self:
        """A copy with some settings changed."""
        return replace(self, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class ClassifierConfig(_Settings):
    """Settings of one classifier run.

    genlab's defaults start from the book's (Adam, up to 100 epochs, early stopping on the
    validation loss) and change three things that measured better accuracy in less time on
    this 2-core CPU (10-class MLP, seed 42; README "What changed"): batch 256 with lr 2e-3
    (four times fewer steps per epoch), the learning rate multiplied by 0.3 after every epoch
    whose validation loss is not a new best (``lr_decay``, ``lr_patience``), and patience 4;
    the best weights are restored at the end; one CPU thread (``threads``; 0 = torch's own
    choice, one per core): on a busy 2-core CPU an MLP epoch took 2.9 s on one thread and
    29.9 s on torch's two. :meth:`book` gives the book's exact settings.
    """

    task: str = "multiclass"
    model: str = "mlp"
    epochs: int = 100
    patience: int | None = 4
    min_delta: float = 0.0
    batch_size: int = 256
    lr: float = 2e-3
    seed: int = 42
    threshold: float = 0.5
    restore_best: bool = True
    lr_decay: float = 0.3
    lr_patience: int = 0
    val_size: int | None = None
    device: str = "auto"
    threads: int = 1  # CPU threads while training; 0 = torch's default (one per core)
    data_dir: str | None = None
    preset: str = "genlab"

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(f"--task {self.task!r}: choose one of {', '.join(TASKS)}")
        if self.model not in ("mlp", "cnn"):
            raise ConfigError(f"--model {self.model!r}: choose mlp or cnn")
        check_positive("epochs", self.epochs)
        check_positive("batch_size", self.batch_size)
        check_positive("lr", self.lr)
        check_positive("patience", self.patience)
        check_positive("min_delta", self.min_delta, allow_zero=True)
        check_positive("val_size", self.val_size)
        check_positive("lr_patience", self.lr_patience, allow_zero=True)
        check_positive("threads", self.threads, allow_zero=True)
        if not 0.0 <= self.lr_decay < 1.0:
            raise ConfigError(f"--lr-decay must be in [0, 1) (0 = off), not {self.lr_decay}")
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(
                f"--threshold must be between 0 and 1 (exclusive), not {self.threshold}"
            )
        if self.preset not in PRESETS:
            raise ConfigError(f"--preset {self.preset!r}: choose one of {', '.join(PRESETS)}")

    @classmethod
    def book(cls, task: str = "multiclass", **overrides: Any) -> ClassifierConfig:
        """The book's exact training settings for ``task``.

        10-class: up to 100 epochs, patience 10, no min_delta, best weights NOT restored;
        binary: a fixed 50 epochs (no early stopping). Both Adam 1e-3 (constant), batch 64.
        """
        base = dict(
            task=task,
            epochs=100,
            patience=10,
            min_delta=0.0,
            batch_size=64,
            lr=1e-3,
            restore_best=False,
            lr_decay=0.0,
            preset="book",
        )
        if task == "binary":
            base.update(epochs=50, patience=None)
        base.update(overrides)
        return cls(**base)


GAN_ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "silu")
GAN_OUTPUT_ACTIVATIONS = ("none", "relu", "sigmoid", "tanh", "softmax")
GAN_TRANSFORMS = ("auto", "standard", "quantile", "none")


def _sizes(name: str, value: Any) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"--{name.replace('_', '-')} must be a list of widths, not {value!r}"
        ) from None
    if any(s < 1 for s in sizes):
        raise ConfigError(f"--{name.replace('_', '-')} widths must be >= 1, not {list(sizes)}")
    return sizes


@dataclass(frozen=True)
class GanConfig(_Settings):
    """Settings of one GAN run (the networks, the optimiser, early stopping, the outputs).

    The data (which shape, formula or file) is described separately, by the data adapter's
    ``to_dict()``. A kind whose networks take settings of their own subclasses this in its
    own module (e.g. :class:`genlab.gan.images.ImageGanConfig`, the conv networks').
    genlab's defaults (measured on this 2-core CPU, see bench/curve_gan.py):
    G latent 2 -> 64 -> 64 -> data, D data -> 128 -> 128 -> 1, LeakyReLU(0.2), no dropout;
    Adam lr 1e-3 with betas (0.5, 0.999) (``d_lr`` gives the discriminator its own rate);
    batch 128; an exponential moving average of the generator's weights (decay 0.995 per
    step) is what gets checked, kept and sampled; a check every 10 epochs on 2048 fixed noise
    vectors, early stopping after 20 checks without improvement; columns transformed
    ``auto`` (see :class:`genlab.gan.curves.ColumnTransform`); the CPU (these networks
    are so small that kernel launches dominate: an H200 took 55 ms per exp epoch, one core of
    this CPU 27-30 ms; ``--device cuda`` or ``auto`` still works), on one thread (two threads
    made an epoch about 25% slower here).
    ``GanConfig.book()`` gives the book's networks and optimiser on raw columns.
    """

    latent_dim: int = 2
    g_hidden: tuple[int, ...] = (64, 64)
    d_hidden: tuple[int, ...] = (128, 128)
    g_activation: str = "leaky_relu"
    d_activation: str = "leaky_relu"
    g_out_activation: str = "none"
    d_dropout: float = 0.0
    lr: float = 1e-3
    d_lr: float | None = None
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 128
    epochs: int = 3000
    patience: int | None = 20
    min_delta: float = 0.0
    eval_every: int = 10
    eval_samples: int = 2048
    ema: float = 0.995
    transform: str = "auto"
    seed: int = 0
    device: str = "cpu"  # tiny networks: an H200 ran an epoch at half one CPU core's speed
    threads: int = 1  # CPU threads while training; 0 = torch's default (all cores)
    plot_every: int = 25
    checkpoint_interval: float = 0.0  # seconds between checkpoints; 0 = every epoch
    restore_best: bool = True
    preset: str = "genlab"

    def __post_init__(self) -> None:
        object.__setattr__(self, "g_hidden", _sizes("g_hidden", self.g_hidden))
        object.__setattr__(self, "d_hidden", _sizes("d_hidden", self.d_hidden))
        for name in (
            "latent_dim",
            "batch_size",
            "epochs",
            "eval_every",
            "eval_samples",
            "plot_every",
        ):
            check_positive(name, getattr(self, name))
        check_positive("lr", self.lr)
        check_positive("d_lr", self.d_lr)
        check_positive("patience", self.patience)
        check_positive("min_delta", self.min_delta, allow_zero=True)
        check_positive("threads", self.threads, allow_zero=True)
        check_positive("checkpoint_interval", self.checkpoint_interval, allow_zero=True)
        if self.eval_samples < 2:
            raise ConfigError(f"--eval-samples must be >= 2, not {self.eval_samples}")
        for name in ("beta1", "beta2", "ema"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"--{name} must be in [0, 1), not {value}")
        if not 0.0 <= self.d_dropout < 1.0:
            raise ConfigError(f"--d-dropout must be in [0, 1), not {self.d_dropout}")
        for name in ("g_activation", "d_activation"):
            if getattr(self, name) not in GAN_ACTIVATIONS:
                raise ConfigError(
                    f"--{name.replace('_', '-')} {getattr(self, name)!r}: choose "
                    f"one of {', '.join(GAN_ACTIVATIONS)}"
                )
        if self.g_out_activation not in GAN_OUTPUT_ACTIVATIONS:
            raise ConfigError(
                f"--g-out-activation {self.g_out_activation!r}: choose one of "
                f"{', '.join(GAN_OUTPUT_ACTIVATIONS)}"
            )
        if self.transform not in GAN_TRANSFORMS:
            raise ConfigError(
                f"--transform {self.transform!r}: choose one of {', '.join(GAN_TRANSFORMS)}"
            )
        if self.preset not in PRESETS:
            raise ConfigError(f"--preset {self.preset!r}: choose one of {', '.join(PRESETS)}")

    @classmethod
    def book(cls, **overrides: Any) -> GanConfig:
        """The book's chapter-3 curve GAN: G 2-16-32-2 and D 2-256-128-64-1 with ReLU and
        dropout 0.3, Adam lr 5e-4 with default betas, batch 128, raw columns, no weight
        averaging, up to 10,000 epochs. Still genlab's: one discriminator step on the real
        and the fake batch (the book takes two), early stopping on the validation part, the
        best generator restored."""
        base: dict[str, Any] = dict(
            latent_dim=2,
            g_hidden=(16, 32),
            d_hidden=(256, 128, 64),
            g_activation="relu",
            d_activation="relu",
            g_out_activation="none",
            d_dropout=0.3,
            lr=5e-4,
            beta1=0.9,
            beta2=0.999,
            batch_size=128,
            epochs=10_000,
            ema=0.0,
            transform="none",
            preset="book",
        )
        base.update(overrides)
        return cls(**base)
