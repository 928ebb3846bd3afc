"""Inference that leaves a module as the caller had it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Put ``module`` (and its children) in eval mode for the block, then give every
    submodule back the train/eval mode it had before (a caller's training loop keeps its
    dropout on; a model in eval mode stays there)."""
    before = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for submodule, training in before:
            submodule.training = training
