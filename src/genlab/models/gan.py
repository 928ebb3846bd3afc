"""GAN networks: a generator and a discriminator, sizes in, tensors out. No training, no I/O.

Both are plain multilayer perceptrons built from a list of hidden widths, so one builder makes
the book's curve networks (G: latent 2 -> 16 -> 32 -> 2, ReLU; D: 2 -> 256 -> 128 -> 64 -> 1,
ReLU and dropout 0.3), its integer networks (G: Linear(100, 100) + ReLU; D: Linear(100, 1) +
Sigmoid) and genlab's wider, LeakyReLU defaults.

The discriminator returns a *logit*: the book's final Sigmoid is folded into the loss
(``BCEWithLogitsLoss`` is ``Sigmoid`` + ``BCELoss`` computed stably), so
``torch.sigmoid(discriminator(x))`` is the book's output.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "silu")
OUTPUT_ACTIVATIONS = ("none", "relu", "sigmoid", "tanh", "softmax")
LEAKY_SLOPE = 0.2


def make_activation(name: str) -> nn.Module:
    """The activation module called ``name`` (one of :data:`ACTIVATIONS` or ``"none"``)."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(LEAKY_SLOPE)
    if name == "elu":
        return nn.ELU()
    if name == "tanh":
        return nn.Tanh()
    if name == "silu":
        return nn.SiLU()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "softmax":
        return nn.Softmax(dim=-1)
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    dropout: float = 0.0,
    out_activation: str = "none",
    batch_norm: bool = False,
) -> nn.Sequential:
    """Linear layers of ``sizes`` (input and output included) with ``activation`` (and
    ``dropout`` if > 0) after every hidden layer and ``out_activation`` after the last;
    ``batch_norm``: each hidden layer batch-normalised before its activation."""
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"an MLP needs at least two positive sizes, got {list(sizes)}")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(int(n_in), int(n_out)))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(int(n_out)))
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    if out_activation != "none":
        layers.append(make_activation(out_activation))
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """Noise ``(B, latent_dim)`` -> model-space samples ``(B, out_dim)``."""

    def __init__(
        self,
        latent_dim: int = 2,
        out_dim: int = 2,
        hidden: Sequence[int] = (16, 32),
        activation: str = "relu",
        out_activation: str = "none",
    ) -> None:
        super().__init__()
        self.latent_dim = int(latent_dim)
        self.out_dim = int(out_dim)
        self.net = mlp((latent_dim, *hidden, out_dim), activation, 0.0, out_activation)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) -> (B, out_dim)."""
        return self.net(noise)


class Discriminator(nn.Module):
    """Model-space samples ``(B, in_dim)`` -> one logit per sample ``(B, 1)``."""

    def __init__(
        self,
        in_dim: int = 2,
        hidden: Sequence[int] = (256, 128, 64),
        activation: str = "relu",
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.in_dim = int(in_dim)
        self.net = mlp((in_dim, *hidden, 1), activation, dropout)

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        """(B, in_dim) -> (B, 1) logits (``sigmoid`` of it is P(real))."""
        return self.net(samples)


def build_generator(
    latent_dim: int,
    out_dim: int,
    hidden: Sequence[int] = (16, 32),
    activation: str = "relu",
    out_activation: str = "none",
) -> Generator:
    """A generator sized for data ``out_dim`` wide (book curve G: ``(2, 2, (16, 32))``;
    book integer G: ``(100, 100, (), out_activation="relu")``)."""
    return Generator(latent_dim, out_dim, hidden, activation, out_activation)


def build_discriminator(
    in_dim: int,
    hidden: Sequence[int] = (256, 128, 64),
    activation: str = "relu",
    dropout: float = 0.3,
) -> Discriminator:
    """A discriminator for data ``in_dim`` wide (book curve D: ``(2, (256, 128, 64))``,
    dropout 0.3; book integer D: ``(100, ())``: one Linear, then the sigmoid in the loss)."""
    return Discriminator(in_dim, hidden, activation, dropout)
