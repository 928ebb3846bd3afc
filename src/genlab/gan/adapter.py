"""What the one GAN training loop needs from a dataset (curves, integer patterns, ...).

The loop never looks inside the data: it asks for real batches in *model space* (the space
the networks see: standardised columns, one-hot codes, ...), hands generated model-space
points back to :meth:`GanData.decode` to get them in the user's units, and asks
:meth:`GanData.evaluate` for the figures (early stopping watches ``monitor``).
Everything needed to decode and evaluate again later is in :meth:`GanData.to_dict`, which
the model file stores, so ``gan sample`` / ``gan eval`` need nothing but that file.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch


@runtime_checkable
class GanData(Protocol):
    """A GAN's training data and its evaluation."""

    kind: str  # "curve" or "integers": names the adapter for from_dict
    name: str  # e.g. "exp", "sine", "formula", "csv", "multiples of 5 in [0, 100)"
    dim: int  # width of one model-space sample
    monitor: str  # the evaluate() key early stopping watches
    monitor_mode: str  # "min" or "max"
    batches_per_epoch: int  # real batches that make one epoch

    def real_batches(
        self, batch_size: int, generator: torch.Generator, device: torch.device
    ) -> list[torch.Tensor]:
        """One epoch of real model-space batches, each (batch_size, dim)."""
        ...

    def decode(self, model_space: torch.Tensor) -> torch.Tensor:
        """Model-space points (N, dim) -> points/values in the user's units."""
        ...

    def evaluate(self, samples: torch.Tensor) -> dict[str, float]:
        """Figures for decoded samples (plain floats, JSON-ready)."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """Plain values (and tensors) that rebuild this object for decode/evaluate."""
        ...
