"""Tensor-resident batching: each index once per epoch, seeded, sharded per rank."""

from __future__ import annotations

import torch

from genlab.data.batching import batch_indices, epoch_permutation, num_batches


def test_each_index_once_per_epoch() -> None:
    gen = torch.Generator().manual_seed(0)
    order = epoch_permutation(1000, gen)
    batches = list(batch_indices(order, 64))
    assert len(batches) == num_batches(1000, 64) == 16
    assert [len(b) for b in batches[:-1]] == [64] * 15 and len(batches[-1]) == 1000 - 15 * 64
    assert sorted(torch.cat(batches).tolist()) == list(range(1000))
    assert len(list(batch_indices(order, 64, drop_last=True))) == num_batches(1000, 64, True) == 15


def test_epochs_differ_and_seed_repeats() -> None:
    gen = torch.Generator().manual_seed(5)
    first, second = epoch_permutation(100, gen), epoch_permutation(100, gen)
    assert not torch.equal(first, second)
    again = epoch_permutation(100, torch.Generator().manual_seed(5))
    assert torch.equal(first, again)


def test_rank_shards_are_disjoint_and_equal_sized() -> None:
    shards = [
        epoch_permutation(101, torch.Generator().manual_seed(3), rank=r, world_size=2)
        for r in range(2)
    ]
    assert len(shards[0]) == len(shards[1]) == 50
    assert not set(shards[0].tolist()) & set(shards[1].tolist())
