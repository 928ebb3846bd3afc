"""Fashion-MNIST classifiers: sizes in, logits out. No training, no I/O."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class MLPClassifier(nn.Module):
    """A multilayer perceptron on flattened 28x28 images, returning logits.

    ``sizes`` lists every layer's width, input and output included (the book's 10-class model
    is 784-256-128-64-10). ReLU follows every hidden layer; ``dropout`` (if > 0) follows each
    hidden ReLU, never the output: dropout on a single output (as the book's binary model has,
    in train mode) turns a quarter of its predictions into a coin toss.
    """

    def __init__(self, sizes: Sequence[int] = (784, 256, 128, 64, 10), dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) or (B, 784) -> (B, n_out) logits."""
        return self.net(images)


class CNNClassifier(nn.Module):
    """A small convolutional network: two conv blocks, then a hidden layer, returning logits."""

    def __init__(
        self,
        n_classes: int = 10,
        channels: Sequence[int] = (16, 32),
        hidden: int = 128,
        dropout: float = 0.25,
    ):
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, c1, 14, 14)
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, c2, 7, 7)
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(c2 * 7 * 7, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) -> (B, n_classes) logits."""
        if images.dim() == 2:
            images = images.view(-1, 1, 28, 28)
        return self.head(self.features(images))


MODELS = ("mlp", "cnn")


def build_classifier(
    model: str, task: str, hidden: Sequence[int] | None = None, dropout: float | None = None
) -> nn.Module:
    """The classifier for ``model`` ("mlp" or "cnn") and ``task`` ("multiclass"/"binary").

    Binary models have one output (a logit for the positive class); multiclass ten.
    """
    n_out = 1 if task == "binary" else 10
    if model == "mlp":
        if hidden is None:
            hidden = (256, 128, 32) if task == "binary" else (256, 128, 64)
        if dropout is None:
            dropout = 0.25 if task == "binary" else 0.0
        return MLPClassifier((784, *hidden, n_out), dropout=dropout)
    if model == "cnn":
        return CNNClassifier(n_out, dropout=0.25 if dropout is None else dropout)
    raise ValueError(f"unknown model {model!r}")
