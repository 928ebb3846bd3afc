"""Image GAN networks for 28x28 grey images: sizes in, tensors out. No training, no I/O.

Model space is what the engine sees: flat images ``(B, 784)`` in [-1, 1] (the book's
``Normalize([0.5], [0.5])`` scale). Every network here takes ``(noise, labels)`` /
``(images, labels)``; ``labels`` (int64 ``(B,)``) is used by class-conditional networks
(``n_classes > 0``) and must be None for unconditional ones.

* :class:`ConvGenerator` / :class:`ConvDiscriminator`: genlab's default, a small DCGAN-style
  pair (Radford et al. 2016). G: noise (+ a learned class embedding) -> Linear -> 7x7 maps ->
  two stride-2 transposed convolutions (batch norm, ReLU) -> 28x28, Tanh. D: two stride-2
  convolutions (LeakyReLU 0.2) -> one logit and, when conditional, a projection term
  ``<embed(y), h>`` (Miyato & Koyama 2018). Both are ``width`` channels wide. Chosen on
  Fashion-MNIST, unconditional, one thread beside another run, by the validation
  ``fid_judge`` of 2,000 images after 5 epochs (exploratory runs, not in ``bench/``): a
  plain D twice as wide as G 112 (719 s); as wide as G 90 (346 s: half the compute per
  step and better per step; 41 after 20 epochs); the same with D's learning rate halved to
  1e-4, 74 (391 s); doubled to 4e-4, 115; half as wide as G, 82 (D loss drifting to chance).
  A D too strong for G slows G down here. Spectral normalisation, a wider G (64) or a
  minibatch-deviation feature in D changed little after 2-3 epochs.
* The book's chapter-4 pair is the plain MLPs of :mod:`genlab.models.gan` (G 100-256-512-
  1024-784 ReLU/Tanh, D 784-1024-512-256-1 ReLU as the book's notebook has it, dropout
  0.3): unconditional.
"""

from __future__ import annotations

import torch
from torch import nn

from genlab.models.gan import LEAKY_SLOPE

__all__ = ["ConvDiscriminator", "ConvGenerator", "build_conv_networks"]

SIDE = 28


def _check_labels(labels: torch.Tensor | None, n_classes: int, who: str) -> None:
    if n_classes and labels is None:
        raise ValueError(f"this {who} is class-conditional: give labels")
    if not n_classes and labels is not None:
        raise ValueError(f"this {who} is unconditional: give no labels")


class ConvGenerator(nn.Module):
    """Noise ``(B, latent_dim)`` (+ labels ``(B,)``) -> flat images ``(B, 784)`` in [-1, 1].

    ``width`` sets the channels: ``2 * width`` maps of 7x7, then ``width`` of 14x14.
    """

    def __init__(self, latent_dim: int = 64, n_classes: int = 0, width: int = 32) -> None:
        super().__init__()
        self.latent_dim = int(latent_dim)
        self.n_classes = int(n_classes)
        self.width = int(width)
        embed = 32 if n_classes else 0
        self.embed = nn.Embedding(n_classes, embed) if n_classes else None
        self.project = nn.Sequential(
            nn.Linear(latent_dim + embed, 2 * width * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * width * 7 * 7),
            nn.ReLU(),
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),  # 7 -> 14
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, 2, 1),  # 14 -> 28
            nn.Tanh(),
        )

    def forward(self, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """(B, latent_dim) [+ (B,)] -> (B, 784)."""
        _check_labels(labels, self.n_classes, "generator")
        if self.embed is not None:
            noise = torch.cat([noise, self.embed(labels)], dim=1)
        maps = self.project(noise).view(-1, 2 * self.width, 7, 7)
        return self.up(maps).flatten(1)


class ConvDiscriminator(nn.Module):
    """Flat images ``(B, 784)`` (+ labels) -> one logit per image ``(B, 1)``; a class
    projection when conditional. ``width`` channels, then ``2 * width``."""

    def __init__(self, n_classes: int = 0, width: int = 32) -> None:
        super().__init__()
        self.n_classes = int(n_classes)
        features = 2 * width * 7 * 7
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1),  # 28 -> 14
            nn.LeakyReLU(LEAKY_SLOPE),
            nn.Conv2d(width, 2 * width, 4, 2, 1),  # 14 -> 7
            nn.LeakyReLU(LEAKY_SLOPE),
            nn.Flatten(),
        )
        self.out = nn.Linear(features, 1)
        self.embed = nn.Embedding(n_classes, features) if n_classes else None
        if self.embed is not None:
            nn.init.zeros_(self.embed.weight)  # the projection starts neutral

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 784) [+ (B,)] -> (B, 1) logits."""
        _check_labels(labels, self.n_classes, "discriminator")
        h = self.features(images.view(-1, 1, SIDE, SIDE))  # (B, features)
        logit = self.out(h)
        if self.embed is not None:
            logit = logit + (self.embed(labels) * h).sum(dim=1, keepdim=True)
        return logit


def build_conv_networks(
    latent_dim: int, n_classes: int = 0, width: int = 32, d_width: int | None = None
) -> tuple[ConvGenerator, ConvDiscriminator]:
    """genlab's image pair for 28x28 images: a generator of ``width`` channels and a
    discriminator of ``d_width`` (default: ``width``; see the module's notes)."""
    return (
        ConvGenerator(latent_dim, n_classes, width),
        ConvDiscriminator(n_classes, d_width or width),
    )
