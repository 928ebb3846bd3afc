"""Full training checkpoints, exact resume, and Ctrl-C that stops at an epoch boundary.

A checkpoint holds everything the rest of a run depends on: the models, the optimizers, the
epoch, the early-stopping state (best weights included), the metrics history, the elapsed
time, and every random-number state (the global CPU/CUDA states, which dropout uses, and each
named ``torch.Generator`` for batch order and noise). It is written with
:func:`genlab.training.runs.atomic_write_bytes` (temporary file, flush, fsync, rename), so a
crash at any instant leaves the previous checkpoint readable; it holds tensors and plain values
only, so reading it never runs code.

Because checkpoints are taken only at epoch boundaries, and an epoch depends only on the
state saved, a run killed at any moment and resumed ends with the same weights, bit for bit on
the CPU, as the same run uninterrupted (on GPUs, non-deterministic kernels may differ).
"""

from __future__ import annotations

import io
import signal
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from genlab.errors import RunFileError
from genlab.training import runs

CHECKPOINT_FILE = runs.CHECKPOINT_FILE


class Checkpoint:
    """Saves and restores a run's full state in ``run_dir/checkpoint.pt``.

    ``modules``, ``optimizers`` and ``generators`` are named so the file is readable; ``extra``
    returns further plain state to keep (e.g. plot snapshots) and ``restore_extra`` takes it
    back. ``interval`` (seconds) skips saves that come sooner than that after the last one;
    the final epoch, an early stop and Ctrl-C always save. ``writer=False`` (ranks other
    than 0) restores from the file but never writes it.
    """

    def __init__(
        self,
        run_dir: str | Path,
        modules: Mapping[str, nn.Module],
        optimizers: Mapping[str, torch.optim.Optimizer],
        generators: Mapping[str, torch.Generator] | None = None,
        extra: Callable[[], dict[str, Any]] | None = None,
        restore_extra: Callable[[dict[str, Any]], None] | None = None,
        interval: float = 0.0,
        writer: bool = True,
    ) -> None:
        self.path = Path(run_dir) / CHECKPOINT_FILE
        self.run_dir = Path(run_dir)
        self.modules = dict(modules)
        self.optimizers = dict(optimizers)
        self.generators = dict(generators or {})
        self.extra = extra
        self.restore_extra = restore_extra
        self.interval = interval
        self.writer = writer  # False on ranks other than 0: they restore but never write
        self._last_save = -float("inf")

    def due(self, now: float) -> bool:
        """Whether the interval since the last save has passed."""
        return now - self._last_save >= self.interval

    def save(
        self,
        epoch: int,
        history: list[dict[str, Any]],
        callback_states: dict[str, Any],
        elapsed: float,
        now: float,
    ) -> None:
        """Write the state at the end of ``epoch`` (atomically)."""
        if not self.writer:
            return
        payload = {
            "format": runs.FORMAT,
            "version": runs.FORMAT_VERSION,
            "kind": "checkpoint",
            "epoch": epoch,
            "history": history,
            "callbacks": callback_states,
            "elapsed": elapsed,
            "modules": {k: m.state_dict() for k, m in self.modules.items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "generators": {k: g.get_state() for k, g in self.generators.items()},
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "extra": self.extra() if self.extra is not None else {},
        }
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        runs.atomic_write_bytes(self.path, buffer.getvalue())
        self._last_save = now

    def exists(self) -> bool:
        """Whether a checkpoint file is there."""
        return self.path.exists()

    def load(self) -> dict[str, Any]:
        """Restore every module, optimizer, generator and RNG; return epoch/history/callbacks."""
        payload = runs.load_model_file(self.path, "checkpoint")
        try:
            for name, module in self.modules.items():
                module.load_state_dict(payload["modules"][name])
            for name, optimizer in self.optimizers.items():
                optimizer.load_state_dict(payload["optimizers"][name])
            for name, gen in self.generators.items():
                gen.set_state(payload["generators"][name])
        except (KeyError, RuntimeError, ValueError) as exc:
            raise RunFileError(
                f"{self.path} does not match this run's models (was it written by another "
                "command or other settings?)"
            ) from exc
        torch.set_rng_state(payload["rng_cpu"])
        if payload["rng_cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(payload["rng_cuda"])
        if self.restore_extra is not None:
            self.restore_extra(payload.get("extra", {}))
        return payload


class GracefulInterrupt:
    """While active, the first Ctrl-C asks the loop to stop after the current epoch (and save);
    a second one interrupts at once."""

    def __init__(self, on_request: Callable[[], None] | None = None) -> None:
        self.requested = False
        self.on_request = on_request
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.on_request is not None:
            self.on_request()

    def __enter__(self) -> GracefulInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
