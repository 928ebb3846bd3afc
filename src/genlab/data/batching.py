"""Tensor-resident batching: no per-sample Python, no DataLoader workers.

A whole split lives in one tensor on the training device. Each epoch draws one permutation
from a seeded ``torch.Generator`` and yields index slices of it; indexing the data tensor with
a slice of indices gathers a batch in one kernel call.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


def epoch_permutation(
    n: int,
    generator: torch.Generator,
    device: torch.device | str = "cpu",
    rank: int = 0,
    world_size: int = 1,
) -> torch.Tensor:
    """One epoch's shuffled order of ``range(n)``; with several ranks, this rank's shard.

    The permutation is drawn on the CPU (so it is the same on every device and rank for the
    same generator state); shard ``rank`` takes every ``world_size``-th index after dropping
    the tail that does not divide evenly, so every rank does the same number of steps.
    """
    perm = torch.randperm(n, generator=generator)
    if world_size > 1:
        usable = (n // world_size) * world_size
        perm = perm[:usable][rank::world_size]
    return perm.to(device)


def batch_indices(
    order: torch.Tensor, batch_size: int, drop_last: bool = False
) -> Iterator[torch.Tensor]:
    """Slices of ``order`` of length ``batch_size`` (the last one shorter unless dropped)."""
    n = order.shape[0]
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def num_batches(n: int, batch_size: int, drop_last: bool = False) -> int:
    """How many batches :func:`batch_indices` yields for ``n`` items."""
    return n // batch_size if drop_last else -(-n // batch_size)
