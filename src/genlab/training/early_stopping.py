"""Early stopping: a tiny object that watches one figure per epoch."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn


class EarlyStopping:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` checks.

    ``update(value, epoch, state)`` returns True when training should stop. An improvement
    is ``value < best - min_delta`` (mode "min") or ``value > best + min_delta`` (mode
    "max"). With ``min_delta=0`` this is the book's ``EarlyStop``: it counts checks whose value
    is not better than the best and stops when the count reaches ``patience``.
    ``patience=None`` never stops (the book's fixed-length binary run). A copy of ``state``
    (a ``state_dict``) is kept at each improvement so the best weights can be restored.
    """

    def __init__(
        self, patience: int | None = 10, min_delta: float = 0.0, mode: str = "min"
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', not {mode!r}")
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = 0
        self.bad_checks = 0
        self.best_state: dict[str, Any] | None = None

    def is_improvement(self, value: float) -> bool:
        """Whether ``value`` beats the best so far by more than ``min_delta``."""
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, value: float, epoch: int, state: Mapping[str, Any] | None = None) -> bool:
        """Record this check's ``value``; return True when training should stop."""
        if self.is_improvement(value):
            self.best = float(value)
            self.best_epoch = epoch
            self.bad_checks = 0
            if state is not None:
                self.best_state = _detached_copy(state)
        else:
            self.bad_checks += 1
        return self.patience is not None and self.bad_checks >= self.patience

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to go on from here (for checkpoints)."""
        return {
            "patience": self.patience,
            "min_delta": self.min_delta,
            "mode": self.mode,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "bad_checks": self.bad_checks,
            "best_state": self.best_state,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        for key in ("patience", "min_delta", "mode", "best", "best_epoch", "bad_checks"):
            setattr(self, key, state[key])
        self.best_state = state.get("best_state")


@torch.no_grad()
def fit_with_stopping(
    net: nn.Module,
    outputs: Callable[[torch.Tensor], torch.Tensor],
    loss: nn.Module,
    data: tuple[torch.Tensor, torch.Tensor],
    held: tuple[torch.Tensor, torch.Tensor],
    *,
    seed: int,
    generator: torch.Generator,
    lr: float,
    batch: int,
    epochs: int,
    patience: int,
    noise: float = 0.0,
    min_delta: float = 1e-4,
) -> tuple[int, float]:
    """Fit a small network after the GAN's training (the table GAN's critic and target
    model): ``net``'s linear layers reset from ``seed``, then Adam on ``loss(outputs(rows),
    labels)`` over ``data`` = (rows, labels) in shuffled batches (``generator`` shuffles and
    draws the normal ``noise`` added to each batch's rows), until the loss on ``held`` (the
    validation part) has not fallen by ``min_delta`` for ``patience`` epochs (at most
    ``epochs``). The best epoch's weights are kept; ``net`` is left in eval mode, taking no
    gradient. Returns the epochs run and the best held loss (inf with no epoch run)."""
    rows, labels = data
    held_rows, held_labels = held
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for layer in net.modules():
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()
    net.requires_grad_(True)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    stopper = EarlyStopping(patience, min_delta, "min")
    run = 0
    for epoch in range(epochs):
        run = epoch + 1
        net.train()
        order = torch.randperm(rows.shape[0], generator=generator)
        for at in range(0, rows.shape[0], batch):
            picked = order[at : at + batch]
            seen = rows[picked]
            if noise > 0:
                seen = seen + noise * torch.randn(seen.shape, generator=generator)
            optimizer.zero_grad()
            with torch.enable_grad():
                loss(outputs(seen), labels[picked]).backward()
            optimizer.step()
        net.eval()
        if stopper.update(float(loss(outputs(held_rows), held_labels)), run, net.state_dict()):
            break
    net.requires_grad_(False)
    if stopper.best_state is not None:
        net.load_state_dict(stopper.best_state)
    net.eval()
    return run, stopper.best


def _detached_copy(state: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in state.items():
        if isinstance(value, torch.Tensor):
            out[key] = value.detach().clone()
        elif isinstance(value, Mapping):
            out[key] = _detached_copy(value)
        else:
            out[key] = copy.deepcopy(value)
    return out
