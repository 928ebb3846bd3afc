"""Exact classification figures: counts over the whole set, never means of batch means."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def confusion_matrix(
    predictions: torch.Tensor, targets: torch.Tensor, n_classes: int
) -> torch.Tensor:
    """(n_classes, n_classes) int64 counts; row = true class, column = predicted class."""
    index = targets.long().cpu() * n_classes + predictions.long().cpu()
    return torch.bincount(index, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def accuracy(predictions: torch.Tensor, targets: torch.Tensor) -> float:
    """Correct predictions / all predictions."""
    return float((predictions.cpu() == targets.cpu()).sum()) / max(targets.numel(), 1)


def per_class_accuracy(matrix: torch.Tensor, class_names: Sequence[str]) -> dict[str, float]:
    """Class name -> fraction of that class's images predicted right (recall)."""
    totals = matrix.sum(dim=1)
    return {
        name: (float(matrix[i, i]) / float(totals[i])) if totals[i] > 0 else float("nan")
        for i, name in enumerate(class_names)
    }
