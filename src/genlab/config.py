"""One frozen dataclass per job. The CLI builds it; every run folder and model file stores it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

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


@dataclass(frozen=True)
class ClassifierConfig:
    """Settings of one classifier run. Defaults are the book's (Adam 1e-3, batch 64, up to
    100 epochs, early stopping on validation loss with patience 10), plus min_delta and the
    best weights restored at the end."""

    task: str = "multiclass"
    model: str = "mlp"
    epochs: int = 100
    patience: int | None = 10
    min_delta: float = 0.0
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 42
    threshold: float = 0.5
    restore_best: bool = True
    val_size: int | None = None
    device: str = "auto"
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
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"--threshold must be between 0 and 1 (exclusive), not {self.threshold}")
        if self.preset not in PRESETS:
            raise ConfigError(f"--preset {self.preset!r}: choose one of {', '.join(PRESETS)}")

    @classmethod
    def book(cls, task: str = "multiclass", **overrides: Any) -> ClassifierConfig:
        """The book's exact training settings for ``task``.

        10-class: up to 100 epochs, patience 10, no min_delta, best weights NOT restored;
        binary: a fixed 50 epochs (no early stopping). Both Adam 1e-3, batch 64.
        """
        base = dict(task=task, epochs=100, patience=10, min_delta=0.0, batch_size=64, lr=1e-3,
                    restore_best=False, preset="book")
        if task == "binary":
            base.update(epochs=50, patience=None)
        base.update(overrides)
        return cls(**base)

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for JSON and model files."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ClassifierConfig:
        """Rebuild from :meth:`to_dict` output (unknown keys ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def with_(self, **changes: Any) -> ClassifierConfig:
        """A copy with some settings changed."""
        return replace(self, **changes)
