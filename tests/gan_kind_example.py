"""A complete extra GAN data kind, as a user or the next issue would add one: one module (this
one) plus one line in ``genlab.gan.registry.MODULES`` (the tests add it with monkeypatch).

``gauss``: 1-D normal data with mean ``--mu``; train part drawn fresh every epoch, validation
and test figures against the known distribution.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from genlab.config import GanConfig
from genlab.gan.adapter import GanAdapter
from genlab.gan.registry import DataKind


class GaussData(GanAdapter):
    kind = "gauss-family"
    monitor = "gap"
    progress_keys = ("gap",)

    def __init__(self, mu: float = 3.0) -> None:
        self.mu = float(mu)
        self.name = f"normal around {self.mu:g}"
        self.dim = 1
        self.columns = ["v"]
        self.batches_per_epoch = 4

    def real_batches(
        self, batch_size: int, generator: torch.Generator, device: torch.device
    ) -> list[torch.Tensor]:
        return [
            (torch.randn(batch_size, 1, generator=generator) + self.mu).to(device)
            for _ in range(self.batches_per_epoch)
        ]

    def decode(self, model_space: torch.Tensor) -> torch.Tensor:
        return model_space

    def decoder(self) -> nn.Module:
        return nn.Identity()

    def validation_figures(self, samples: torch.Tensor) -> dict[str, float]:
        return {"gap": float((samples.mean() - self.mu).abs() + (samples.std() - 1).abs())}

    def test_figures(self, samples: torch.Tensor) -> dict[str, float]:
        return {"mean": float(samples.mean()), **self.validation_figures(samples)}

    def real_points(self, n: int) -> torch.Tensor:
        return torch.randn(n, 1, generator=torch.Generator().manual_seed(0)) + self.mu

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "mu": self.mu}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GaussData:
        return cls(values["mu"])


def _flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mu", type=float, help="the mean")


def _build(given: Mapping[str, Any], config: GanConfig) -> GanAdapter:
    return GaussData(**given)


def _base_config(preset: str, given: Mapping[str, Any]) -> GanConfig:
    return GanConfig(latent_dim=1, g_hidden=(8,), d_hidden=(8,), eval_every=1, transform="none")


def _show(given: Mapping[str, Any]) -> tuple[torch.Tensor, list[str] | None, str]:
    data = GaussData(**given)
    return data.real_points(100), data.columns, data.name


KINDS = (DataKind("gauss", "1-D normal data", ("mu",), _flags, _build, _base_config, _show),)
ADAPTERS = (GaussData,)
