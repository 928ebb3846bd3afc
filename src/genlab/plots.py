"""Figures a person would rather look at than read. matplotlib with the Agg backend only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_curves(
    history: Sequence[Mapping[str, Any]], keys: Sequence[str], path: str | Path,
    title: str = "", ylabel: str = "loss", best_epoch: int | None = None,
) -> Path:
    """Line plot of ``keys`` over epochs (each key only where present), with the best epoch."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for key in keys:
        points = [(row["epoch"], row[key]) for row in history if row.get(key) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, label=key, marker="." if len(xs) < 40 else None)
    if best_epoch:
        ax.axvline(best_epoch, color="grey", linestyle="--", linewidth=1,
                   label=f"best epoch {best_epoch}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def plot_confusion_matrix(matrix: torch.Tensor, class_names: Sequence[str], path: str | Path,
                          title: str = "confusion matrix (test)") -> Path:
    """Heat map of counts, row = true class, column = predicted class."""
    n = len(class_names)
    fig, ax = plt.subplots(figsize=(1.0 + 0.65 * n, 0.8 + 0.6 * n))
    values = matrix.cpu().numpy()
    ax.imshow(values, cmap="Blues")
    ax.set_xticks(range(n), class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = values.max() / 2 if values.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(values[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if values[i, j] > threshold else "black")
    return _save(fig, path)


def plot_prediction_grid(
    images: torch.Tensor, targets: Sequence[int], predictions: Sequence[int],
    class_names: Sequence[str], path: str | Path, columns: int = 8,
) -> Path:
    """Test images with predicted and true labels; wrong predictions in red."""
    n = len(images)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.9 * rows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(images[k].cpu().numpy(), cmap="gray_r")
        right = int(targets[k]) == int(predictions[k])
        ax.set_title(f"{class_names[int(predictions[k])]}\n(true: {class_names[int(targets[k])]})",
                     fontsize=7, color="black" if right else "red")
    return _save(fig, path)
