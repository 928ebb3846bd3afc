"""Figures that compare two sets of images through a judge classifier.

The judge is a classifier trained on the real images. Its penultimate-layer features (float32
tensors of shape ``(N, D)``) feed :func:`frechet_distance`, :func:`kernel_distance` and
:func:`precision_recall`; its predicted labels feed :func:`class_shares`,
:func:`class_coverage` and :func:`class_fidelity`. All figures are plain floats (JSON-ready).

These are *not* Inception FID/KID: the features come from the judge, so the numbers are only
comparable between runs that use the same judge. See :data:`REAL_FLOOR_NOTE`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from scipy.linalg import sqrtm

from genlab.errors import ConfigError, DataError

__all__ = [
    "REAL_FLOOR_NOTE",
    "class_coverage",
    "class_fidelity",
    "class_shares",
    "frechet_distance",
    "kernel_distance",
    "precision_and_recalled",
    "precision_recall",
]

#: How to read every figure here: the real-vs-real comparison is the best a generator can do.
REAL_FLOOR_NOTE = (
    "Real test images scored against real training images give each figure's floor "
    "(the best a generator can reach with this judge); read generated figures against it."
)

#: Added to both covariances' diagonals when the matrix square root is not finite.
_FRECHET_EPS = 1e-6


def _features(x: torch.Tensor, what: str, min_rows: int = 2) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] < 1:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise DataError(f"{what} features must be a 2-D tensor (rows, features); got {shape}")
    if x.shape[0] < min_rows:
        raise DataError(f"{what} features need at least {min_rows} rows; got {x.shape[0]}")
    return x.detach().cpu()


def _pair(
    a: torch.Tensor, b: torch.Tensor, names: tuple[str, str], min_rows: int = 2
) -> tuple[torch.Tensor, torch.Tensor]:
    a = _features(a, names[0], min_rows)
    b = _features(b, names[1], min_rows)
    if a.shape[1] != b.shape[1]:
        raise DataError(
            f"{names[0]} and {names[1]} features differ in width: {a.shape[1]} vs {b.shape[1]}"
        )
    return a, b


def _mean_cov(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    array = x.to(torch.float64).numpy()
    mean = array.mean(axis=0)
    centred = array - mean
    return mean, centred.T @ centred / (len(array) - 1)


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        # A singular product (fewer rows than features) warns; finiteness is checked instead.
        warnings.simplefilter("ignore")
        return np.asarray(sqrtm(matrix))


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two sets of the judge's features.

    The formula of FID, ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``, but in the
    judge classifier's feature space, not Inception's: compare only runs with the same judge.

    Args:
        a: ``(N, D)`` features of one set (at least 2 rows).
        b: ``(M, D)`` features of the other set (at least 2 rows, same ``D``).

    Returns:
        The distance (>= 0); 0 for identical sets.

    Raises:
        DataError: A set is not 2-D, has fewer than 2 rows, or the widths differ.
    """
    a, b = _pair(a, b, ("first", "second"))
    mu_a, cov_a = _mean_cov(a)
    mu_b, cov_b = _mean_cov(b)
    covmean = _sqrtm(cov_a @ cov_b)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(cov_a)) * _FRECHET_EPS
        covmean = _sqrtm((cov_a + offset) @ (cov_b + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(covmean)
    return max(float(value), 0.0)


def _poly_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def kernel_distance(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel distance (KID) between two sets of the judge's features.

    The unbiased MMD^2 with the kernel ``k(x, y) = (x.y / D + 1)^3``, averaged over
    ``subsets`` random subsets of ``min(subset_size, len(a), len(b))`` rows of each set.

    Args:
        a: ``(N, D)`` features of one set (at least 2 rows).
        b: ``(M, D)`` features of the other set (at least 2 rows, same ``D``).
        subsets: Number of random subsets to average over.
        subset_size: Rows drawn (without replacement) from each set per subset.
        seed: Seed of the ``torch.Generator`` that draws the subsets.

    Returns:
        ``(mean, standard error)``; the mean may be slightly negative for equal distributions.

    Raises:
        DataError: A set is not 2-D, has fewer than 2 rows, or the widths differ.
        ConfigError: ``subsets < 1`` or ``subset_size < 2``.
    """
    if subsets < 1 or subset_size < 2:
        raise ConfigError(
            f"KID needs subsets >= 1 and subset_size >= 2; got {subsets}, {subset_size}"
        )
    a, b = _pair(a, b, ("first", "second"))
    a = a.to(torch.float64)
    b = b.to(torch.float64)
    m = min(subset_size, len(a), len(b))
    generator = torch.Generator().manual_seed(seed)
    values = torch.empty(subsets, dtype=torch.float64)
    for i in range(subsets):
        x = a[torch.randperm(len(a), generator=generator)[:m]]
        y = b[torch.randperm(len(b), generator=generator)[:m]]
        k_xx = _poly_kernel(x, x)
        k_yy = _poly_kernel(y, y)
        k_xy = _poly_kernel(x, y)
        within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (
            m * (m - 1)
        )
        values[i] = within - 2.0 * k_xy.mean()
    mean = float(values.mean())
    std = float(values.std(correction=1)) if subsets > 1 else 0.0
    return mean, std / math.sqrt(subsets)


def _kth_radii(x: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Distance from each row of ``x`` to its k-th nearest *other* row."""
    radii = torch.empty(len(x), dtype=torch.float32)
    for start in range(0, len(x), chunk):
        block = x[start : start + chunk]
        dist = torch.cdist(block, x)
        rows = torch.arange(len(block))
        dist[rows, rows + start] = math.inf
        radii[start : start + len(block)] = dist.kthvalue(k, dim=1).values
    return radii


def _inside(
    points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int
) -> torch.Tensor:
    """Whether each of ``points`` lies within ``radii`` of at least one of ``centres`` (N,)."""
    inside = torch.zeros(len(points), dtype=torch.bool)
    for start in range(0, len(points), chunk):
        dist = torch.cdist(points[start : start + chunk], centres)
        inside[start : start + chunk] = (dist <= radii[None, :]).any(dim=1)
    return inside


def precision_recall(
    real: torch.Tensor, fake: torch.Tensor, *, k: int = 3, chunk: int = 2048
) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) in the judge's features.

    Each point's ball reaches its k-th nearest other point of the same set. Precision is the
    share of fake points inside at least one real ball; recall is the share of real points
    inside at least one fake ball. Distances are computed ``chunk`` rows at a time, so at most
    a ``(chunk, N)`` matrix is held.

    Args:
        real: ``(N, D)`` features of real images (more than ``k`` rows).
        fake: ``(M, D)`` features of generated images (more than ``k`` rows, same ``D``).
        k: Neighbour that sets each ball's radius.
        chunk: Rows per block of pairwise distances.

    Returns:
        ``(precision, recall)``, each in [0, 1].

    Raises:
        DataError: A set is not 2-D, has ``k`` rows or fewer, or the widths differ.
        ConfigError: ``k < 1`` or ``chunk < 1``.
    """
    precision, reached = precision_and_recalled(real, fake, k=k, chunk=chunk)
    return precision, float(reached.double().mean())


def precision_and_recalled(
    real: torch.Tensor, fake: torch.Tensor, *, k: int = 3, chunk: int = 2048
) -> tuple[float, torch.Tensor]:
    """:func:`precision_recall`'s precision, and which real points the fake set reaches
    (``(N,)`` bool: inside at least one fake point's ball). Recall is that mask's mean; its
    mean over one class's real points is the class's recall: where the generator is thin."""
    if k < 1 or chunk < 1:
        raise ConfigError(f"precision/recall needs k >= 1 and chunk >= 1; got {k}, {chunk}")
    real, fake = _pair(real, fake, ("real", "fake"), min_rows=k + 1)
    real = real.to(torch.float32).contiguous()
    fake = fake.to(torch.float32).contiguous()
    precision = float(_inside(fake, real, _kth_radii(real, k, chunk), chunk).double().mean())
    return precision, _inside(real, fake, _kth_radii(fake, k, chunk), chunk)


def _labels(x: torch.Tensor, n_classes: int, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 1 or len(x) == 0:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise DataError(f"{what} labels must be a non-empty 1-D tensor; got {shape}")
    if x.dtype.is_floating_point or x.dtype.is_complex:
        raise DataError(f"{what} labels must be integers; got {x.dtype}")
    x = x.detach().cpu().to(torch.int64)
    low, high = int(x.min()), int(x.max())
    if low < 0 or high >= n_classes:
        raise DataError(f"{what} labels must lie in 0..{n_classes - 1}; got {low}..{high}")
    return x


def class_shares(predicted: torch.Tensor, n_classes: int) -> list[float]:
    """Share of samples the judge puts in each class.

    Args:
        predicted: ``(N,)`` int64 class indices in ``0..n_classes-1``.
        n_classes: Number of classes.

    Returns:
        ``n_classes`` shares that sum to 1.

    Raises:
        DataError: Labels are empty, not 1-D integers, or out of range.
        ConfigError: ``n_classes < 1``.
    """
    if n_classes < 1:
        raise ConfigError(f"n_classes must be at least 1; got {n_classes}")
    predicted = _labels(predicted, n_classes, "predicted")
    counts = torch.bincount(predicted, minlength=n_classes)
    return [int(c) / len(predicted) for c in counts]


def class_coverage(
    predicted: torch.Tensor, class_names: Sequence[str], *, min_share: float = 0.01
) -> dict[str, Any]:
    """How many classes the samples cover, by the judge's predictions.

    Args:
        predicted: ``(N,)`` int64 class indices.
        class_names: Name of each class index.
        min_share: Share a class needs to count as found.

    Returns:
        ``{"classes_found": int, "min_share": float, "shares": {name: share}}``, where
        ``min_share`` is the smallest share among all classes.
    """
    shares = class_shares(predicted, len(class_names))
    return {
        "classes_found": sum(share >= min_share for share in shares),
        "min_share": min(shares),
        "shares": dict(zip(class_names, shares, strict=True)),
    }


def class_fidelity(
    predicted: torch.Tensor, requested: torch.Tensor, class_names: Sequence[str]
) -> dict[str, Any]:
    """How often the judge sees the class that a conditional generator was asked for.

    Args:
        predicted: ``(N,)`` int64 class indices the judge predicts.
        requested: ``(N,)`` int64 class indices the generator was asked for.
        class_names: Name of each class index.

    Returns:
        ``{"overall": share correct, "per_class": {name: share correct}}``; ``per_class``
        holds only classes requested at least once, in class order.

    Raises:
        DataError: Labels are empty, not 1-D integers, out of range, or differ in length.
    """
    n_classes = len(class_names)
    predicted = _labels(predicted, n_classes, "predicted")
    requested = _labels(requested, n_classes, "requested")
    if len(predicted) != len(requested):
        raise DataError(
            f"predicted and requested labels differ in length: {len(predicted)} vs {len(requested)}"
        )
    correct = predicted == requested
    per_class = {}
    for index, name in enumerate(class_names):
        mask = requested == index
        if mask.any():
            per_class[name] = float(correct[mask].double().mean())
    return {"overall": float(correct.double().mean()), "per_class": per_class}
