"""How close generated rows come to the training rows: ``privacy`` and ``copies``.

Both figures compare a synthetic sample with the rows a model trained on, and calibrate the
comparison with *fresh* real rows (the test part, which training never saw):

* ``privacy``: split the test part in two halves A and B. ``p`` is the share of synthetic rows
  that lie nearer some training row (all of them) than any row of A; ``p_real`` is the same
  share for B's rows, which are real rows the model never saw (each is averaged with the same
  share the other way round, B as the holdout and A as the probe: less noise).
  ``privacy = min(1, (1 - p) / (1 - p_real))``: 1 means the synthetic rows are no closer to the training rows than fresh
  real rows are; a generator that copies its training rows scores about 0.
* ``copies``: the share of synthetic rows equal to some training row in every column;
  ``copies_real`` the same share for B's rows (tables of few categories repeat rows, so a
  real row can equal a training row too).

The distance is SDMetrics' DCR distance: per column, numbers ``|a - b| / range`` capped at 1,
categories 0 (same) or 1 (different), a missing cell against a value 1 and two missing cells
0; then the mean over columns. Callers give every table as one float tensor ``(N, C)`` in
*distance space* (:func:`distance_space`): numbers divided by their training range,
categories as their codes, missing cells NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["PRIVACY_KEYS", "distance_space", "nearest_distance", "privacy_figures"]

#: The figures :func:`privacy_figures` returns.
PRIVACY_KEYS = ("privacy", "copies", "copies_real", "p", "p_real")
#: Query rows per block of the pairwise distances (bounds memory: block x reference x 4 bytes).
BLOCK_BYTES = 64 * 2**20
#: At most this many synthetic rows are scored (a seeded subsample beyond).
MAX_QUERY = 10_000


def distance_space(
    values: torch.Tensor, categorical: torch.Tensor, ranges: torch.Tensor
) -> torch.Tensor:
    """``values`` (N, C) (NaN = missing; categories as codes) -> distance space: numeric
    columns divided by their ``ranges`` (C,) (a zero range counts as 1), categories kept."""
    values = values.double()
    scale = torch.where(categorical | (ranges <= 0), torch.ones_like(ranges.double()), ranges)
    return values / scale


def nearest_distance(
    query: torch.Tensor, reference: torch.Tensor, categorical: torch.Tensor
) -> torch.Tensor:
    """For each query row (Q, C), the DCR distance to its nearest ``reference`` row (R, C);
    both in distance space. Blocked, so memory stays bounded for large tables."""
    query, reference = query.double(), reference.double()
    q_nan, r_nan = torch.isnan(query), torch.isnan(reference)
    q_val, r_val = torch.nan_to_num(query), torch.nan_to_num(reference)
    n_cols = query.shape[1]
    rows = max(1, BLOCK_BYTES // max(1, reference.shape[0] * 8 * 3))
    out = []
    for start in range(0, query.shape[0], rows):
        qv, qn = q_val[start : start + rows], q_nan[start : start + rows]
        total = torch.zeros(qv.shape[0], reference.shape[0], dtype=torch.float64)
        for j in range(n_cols):
            a, b = qv[:, j : j + 1], r_val[:, j].unsqueeze(0)  # (q, 1), (1, R)
            if bool(categorical[j]):
                column = (a != b).double()
            else:
                column = (a - b).abs().clamp_max(1.0)
            one_missing = qn[:, j : j + 1] ^ r_nan[:, j].unsqueeze(0)
            both_missing = qn[:, j : j + 1] & r_nan[:, j].unsqueeze(0)
            column = torch.where(one_missing, 1.0, torch.where(both_missing, 0.0, column))
            total += column
        out.append(total.min(dim=1).values / n_cols)
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.float64)


def _row_keys(values: torch.Tensor) -> np.ndarray:
    """Each row as one hashable byte string (NaN -> one fixed value, -0.0 -> 0.0)."""
    array = torch.nan_to_num(values.double(), nan=-1.2345e300).numpy() + 0.0
    array = np.ascontiguousarray(array)
    return array.view(np.dtype((np.void, array.dtype.itemsize * array.shape[1]))).ravel()


def copy_share(query: torch.Tensor, reference: torch.Tensor) -> float:
    """Share of ``query`` rows equal (every column) to some ``reference`` row."""
    if query.shape[0] == 0:
        return 0.0
    return float(np.isin(_row_keys(query), _row_keys(reference)).mean())


def privacy_figures(
    synthetic: torch.Tensor,
    train: torch.Tensor,
    test: torch.Tensor,
    categorical: torch.Tensor,
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """``privacy``, ``copies`` and their real-row probes (see the module docstring) of
    ``synthetic`` rows against the ``train`` rows, calibrated by the ``test`` rows (split in
    two halves with ``seed``). All three in distance space (:func:`distance_space`)."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(test.shape[0], generator=generator)
    half = test.shape[0] // 2
    holdout_a, holdout_b = test[order[:half]], test[order[half:]]
    if synthetic.shape[0] > MAX_QUERY:
        keep = torch.randperm(synthetic.shape[0], generator=generator)[:MAX_QUERY]
        synthetic = synthetic[keep]
    finite = ~torch.isinf(synthetic).any(dim=1)
    synthetic = synthetic[finite]
    if synthetic.shape[0] == 0 or half == 0:
        return {"privacy": float("nan"), "copies": float("nan"), "copies_real": float("nan"),
                "p": float("nan"), "p_real": float("nan")}  # fmt: skip
    # Both ways round (A as the holdout and B as the probe, then B and A): the same figure,
    # half the noise.
    to_train = nearest_distance(synthetic, train, categorical)
    p = 0.5 * sum(
        float((to_train < nearest_distance(synthetic, h, categorical)).double().mean())
        for h in (holdout_a, holdout_b)
    )
    p_real = 0.5 * sum(
        float(
            (
                nearest_distance(probe, train, categorical)
                < nearest_distance(probe, h, categorical)
            ).double().mean()
        )
        for probe, h in ((holdout_b, holdout_a), (holdout_a, holdout_b))
    )
    privacy = 1.0 if p <= p_real else min(1.0, (1.0 - p) / max(1.0 - p_real, 1e-12))
    return {
        "privacy": privacy,
        "copies": copy_share(synthetic, train),
        "copies_real": copy_share(holdout_b, train),
        "p": p,
        "p_real": p_real,
    }
