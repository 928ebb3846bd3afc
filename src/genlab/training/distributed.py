"""Several processes with PyTorch's own engine: ``torchrun`` + ``torch.distributed`` + DDP.

``torchrun --nproc-per-node N -m genlab ...`` starts N processes and sets ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK``; :func:`init_distributed` connects them (gloo on CPU, nccl
on GPUs, one GPU per local rank). Without those variables everything here is a no-op and
genlab runs as one process.

Batch rule: ``--batch-size`` is the GLOBAL batch and must be a multiple of N
(:func:`check_global_batch` refuses others before any process joins). Each epoch's shuffled
permutation is drawn from the same seeded generator on every rank; rank r takes every N-th
index of it (after dropping the tail that does not divide evenly) and steps through its shard
in local batches of ``batch_size / N``. DDP averages the gradients, so one step sees the same
global batch as one process would, and the learning rate stays the same (no scaling rule is
needed).
Validation and test figures are summed over ranks with all-reduce; only rank 0 writes files
and shows progress; early stopping is decided on rank 0 and broadcast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from genlab.device import resolve_device
from genlab.errors import ConfigError


@dataclass(frozen=True)
class DistContext:
    """Where this process stands among the processes of one run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """Whether several processes take part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files and shows progress."""
        return self.rank == 0

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all ranks (in place; returned for convenience)."""
        if self.enabled:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def smallest(self, value: int, device: torch.device) -> int:
        """The smallest of every rank's ``value`` (``device``: where the backend reduces:
        the rank's GPU under nccl)."""
        if not self.enabled:
            return value
        tensor = torch.tensor([value], dtype=torch.int64, device=device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MIN)
        return int(tensor.item())

    def broadcast_flag(self, flag: bool, device: torch.device) -> bool:
        """Rank 0's value of ``flag`` on every rank."""
        if not self.enabled:
            return flag
        value = torch.tensor([1 if flag else 0], device=device)
        dist.broadcast(value, src=0)
        return bool(value.item())

    def broadcast_buffers(self, module: torch.nn.Module) -> None:
        """Rank 0's buffers (batch-norm running statistics) in ``module`` on every rank:
        each rank updates them from its own shard of a batch."""
        if self.enabled:
            for buffer in module.buffers():
                dist.broadcast(buffer, src=0)

    def same_everywhere(self, tensor: torch.Tensor) -> bool:
        """Whether ``tensor`` is bit-identical on every rank."""
        if not self.enabled:
            return True
        flat = tensor.detach().flatten().double()
        low, high = flat.clone(), flat.clone()
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        return bool(torch.equal(low, high))


def world_size_from_env() -> int:
    """The number of processes torchrun started (``$WORLD_SIZE``; 1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def check_global_batch(batch_size: int, world_size: int | None = None) -> None:
    """Refuse a global batch that ``world_size`` processes cannot share evenly.

    ``world_size`` defaults to torchrun's (:func:`world_size_from_env`). Each process steps
    through batches of ``batch_size / world_size`` images, so the division must be exact:
    otherwise every step would silently see a smaller batch than asked for.
    """
    world_size = world_size_from_env() if world_size is None else world_size
    if world_size > 1 and batch_size % world_size:
        nearest = max(1, round(batch_size / world_size)) * world_size
        raise ConfigError(
            f"--batch-size {batch_size} is not a multiple of the {world_size} processes "
            f"(torchrun --nproc-per-node {world_size}): it is the global batch, shared evenly; "
            f"use a multiple of {world_size} such as {nearest}"
        )


def init_distributed(device_name: str = "auto") -> tuple[DistContext, torch.device]:
    """Join the torchrun process group if there is one; return the context and the device."""
    world_size = world_size_from_env()
    if world_size <= 1:
        return DistContext(), resolve_device(device_name)
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_name in ("auto", "cuda") and torch.cuda.is_available()
    if device_name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is available here; use --device cpu")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
        # N processes share the cores: do not let each start one thread per core.
        torch.set_num_threads(
            max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", world_size)))
        )
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return DistContext(rank, world_size, local_rank), device


def shutdown(ctx: DistContext, failed: bool = False) -> None:
    """Leave the process group: after a barrier when the run ended normally; at once when it
    failed on this rank (a barrier would wait for ranks still training; torchrun stops them)."""
    if ctx.enabled and dist.is_initialized():
        if not failed:
            dist.barrier()
        dist.destroy_process_group()


class ProcessGroup:
    """``with ProcessGroup(device_name) as (ctx, device):`` joins torchrun's group (if any) and
    leaves it at the end, without waiting for other ranks when the block raised."""

    def __init__(self, device_name: str) -> None:
        self.device_name = device_name
        self.ctx = DistContext()

    def __enter__(self) -> tuple[DistContext, torch.device]:
        self.ctx, device = init_distributed(self.device_name)
        return self.ctx, device

    def __exit__(self, exc_type: object, *rest: object) -> None:
        shutdown(self.ctx, failed=exc_type is not None)


def flat_weights(module: torch.nn.Module) -> torch.Tensor:
    """All of a module's parameters and buffers as one flat tensor (for consistency checks)."""
    parts = [
        t.detach().flatten().double() for t in module.state_dict().values() if t.is_floating_point()
    ]
    return torch.cat(parts) if parts else torch.zeros(0)
