"""How close generated rows come to the training rows: ``privacy`` and ``copies``.

Both figures compare a synthetic sample with the rows a model trained on, and calibrate the
comparison with *fresh* real rows (the test part, which training never saw):

* ``privacy``: split the test part in two halves A and B. ``p`` is the share of synthetic rows
  that lie nearer some training row (all of them) than any row of A; ``p_real`` is the same
  share for B's rows, which are real rows the model never saw (each is averaged with the same
  share the other way round, B as the holdout and A as the probe). Both are averaged over
  :data:`HALVINGS` seeded halvings of the test part: one halving is one draw of the
  calibration, and on gss_wages (12,339 test rows) one halving's ``p_real`` moved by 0.002
  (sd over 40 halvings), which moves privacy by about 0.02.
  ``privacy = min(1, (1 - p) / (1 - p_real))``: 1 means the synthetic rows are no closer
  to the training rows than fresh real rows are; a generator that copies its training rows
  scores about 0.
* ``copies``: the share of synthetic rows equal to some training row in every column;
  ``copies_real`` the same share for the test rows (tables of few categories repeat rows,
  so a real row can equal a training row too).

Each row's distance to the nearest training row, and its :data:`NEIGHBOURS` nearest test
rows, are found once; a halving then only looks up the nearest of them in the half wanted
(when none is, with probability about 2^-NEIGHBOURS, that row's distance is computed in
full).

The distance is SDMetrics' DCR distance: per column, numbers ``|a - b| / range`` capped at 1,
categories 0 (same) or 1 (different), a missing cell against a value 1 and two missing cells
0; then the mean over columns. Callers give every table as one float tensor ``(N, C)`` in
*distance space* (:func:`distance_space`): numbers divided by their training range,
categories as their codes, missing cells NaN.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

__all__ = [
    "PRIVACY_KEYS",
    "distance_space",
    "halvings",
    "nearest_distance",
    "nearest_rows",
    "privacy_figures",
]

#: The figures :func:`privacy_figures` returns.
PRIVACY_KEYS = ("privacy", "copies", "copies_real", "p", "p_real")
#: Bytes of one block of pairwise distances (query rows x reference rows x 4 bytes; a few
#: such blocks are alive at once).
BLOCK_BYTES = 64 * 2**20
#: At most this many synthetic rows are scored, and at most twice as many test rows probe the
#: train rows (a seeded subsample beyond: a million-row table's 150,000 test rows against
#: its 700,000 train rows would take an hour).
MAX_QUERY = 10_000
#: The test part's seeded halvings that ``p`` and ``p_real`` are averaged over.
HALVINGS = 32
#: How many nearest test rows each row keeps for the halvings' lookups.
NEIGHBOURS = 48


def distance_space(
    values: torch.Tensor, categorical: torch.Tensor, ranges: torch.Tensor
) -> torch.Tensor:
    """``values`` (N, C) (NaN = missing; categories as codes) -> distance space: numeric
    columns divided by their ``ranges`` (C,) (a zero range counts as 1), categories kept."""
    values = values.double()
    scale = torch.where(categorical | (ranges <= 0), torch.ones_like(ranges.double()), ranges)
    return values / scale


def nearest_distance(
    query: torch.Tensor,
    reference: torch.Tensor,
    categorical: torch.Tensor,
    bounds: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """For each query row (Q, C), the DCR distance to its nearest ``reference`` row (R, C);
    both in distance space. Blocked, so memory stays bounded for large tables (see
    :func:`_distance_blocks`)."""
    if query.shape[0] == 0 or reference.shape[0] == 0:
        return torch.zeros(query.shape[0], dtype=torch.float64)
    blocks = _distance_blocks(query, reference, categorical, bounds)
    return torch.cat([block.min(dim=1).values.double() for block in blocks]) / query.shape[1]


def nearest_rows(
    query: torch.Tensor,
    reference: torch.Tensor,
    categorical: torch.Tensor,
    bounds: tuple[torch.Tensor, torch.Tensor] | None = None,
    k: int = NEIGHBOURS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query row, its ``k`` (at most R) nearest ``reference`` rows: their DCR
    distances (Q, k) float64, nearest first, and their indices (Q, k)."""
    k = min(k, reference.shape[0])
    if query.shape[0] == 0 or k == 0:
        return torch.zeros(query.shape[0], k, dtype=torch.float64), torch.zeros(
            query.shape[0], k, dtype=torch.long
        )
    values, indices = [], []
    for block in _distance_blocks(query, reference, categorical, bounds):
        nearest = block.topk(k, dim=1, largest=False, sorted=True)
        values.append(nearest.values.double() / query.shape[1])
        indices.append(nearest.indices)
    return torch.cat(values), torch.cat(indices)


def _distance_blocks(
    query: torch.Tensor,
    reference: torch.Tensor,
    categorical: torch.Tensor,
    bounds: tuple[torch.Tensor, torch.Tensor] | None,
) -> Iterator[torch.Tensor]:
    """The query rows' DCR distances to every ``reference`` row, times the number of columns
    (float32), in blocks of query rows.

    Fast: numbers are clipped to ``bounds`` (the training rows' range per column; by
    default the reference's) first, so ``|a - b|`` needs no cap (a number is at most one
    range away; a value beyond the range counts as the range's end), and summed by
    ``torch.cdist(p=1)``; categories (an empty cell a level of its own) count mismatches
    as ``columns - one_hot(a) @ one_hot(b).T``; only numbers with empty cells go column by
    column."""
    q_nan, r_nan = torch.isnan(query), torch.isnan(reference)
    low, high = bounds if bounds is not None else column_bounds(reference)
    number = ~categorical
    gappy = number & (q_nan.any(dim=0) | r_nan.any(dim=0))
    dense = number & ~gappy
    q_num = query[:, dense].clamp(low[dense], high[dense]).float()
    r_num = reference[:, dense].clamp(low[dense], high[dense]).float()
    q_hot, r_hot = _one_hot(query, reference, categorical)
    n_cat = int(categorical.sum())
    gappy_columns = torch.nonzero(gappy).squeeze(1).tolist()
    # blocks of 64 MB: above glibc's largest mmap threshold (32 MB), so each is mapped and
    # returned on free; smaller ones stayed in the heap and a million-row table's 1,400
    # blocks grew the process by over 10 GB
    rows = max(1, BLOCK_BYTES // max(1, reference.shape[0] * 4))
    for start in range(0, query.shape[0], rows):
        stop = start + rows
        total = torch.zeros(min(stop, query.shape[0]) - start, reference.shape[0])
        if q_num.shape[1]:
            total += torch.cdist(q_num[start:stop], r_num, p=1)
        if n_cat:
            total += n_cat - q_hot[start:stop] @ r_hot.T
        for j in gappy_columns:
            a = query[start:stop, j].clamp(low[j], high[j]).float().unsqueeze(1)
            b = reference[:, j].clamp(low[j], high[j]).float().unsqueeze(0)
            a_nan, b_nan = q_nan[start:stop, j].unsqueeze(1), r_nan[:, j].unsqueeze(0)
            column = torch.nan_to_num((a - b).abs(), nan=0.0)
            total += torch.where(a_nan ^ b_nan, 1.0, torch.where(a_nan & b_nan, 0.0, column))
        yield total


def column_bounds(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each column's (min, max), ignoring NaN (0 for an empty column)."""
    low = torch.nan_to_num(values, nan=float("inf")).min(dim=0).values
    high = torch.nan_to_num(values, nan=float("-inf")).max(dim=0).values
    return torch.where(torch.isfinite(low), low, 0.0), torch.where(torch.isfinite(high), high, 0.0)


def _one_hot(
    query: torch.Tensor, reference: torch.Tensor, categorical: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The categorical columns of both tables one-hot (float32), over the levels either has
    (NaN = a level of its own)."""
    columns = torch.nonzero(categorical).squeeze(1).tolist()
    if not columns:
        return torch.zeros(query.shape[0], 0), torch.zeros(reference.shape[0], 0)
    q_parts, r_parts = [], []
    for j in columns:
        both = torch.cat([query[:, j], reference[:, j]])
        both = torch.nan_to_num(both, nan=float("-inf"))
        _, codes = torch.unique(both, return_inverse=True)
        hot = torch.nn.functional.one_hot(codes, int(codes.max()) + 1).float()
        q_parts.append(hot[: query.shape[0]])
        r_parts.append(hot[query.shape[0] :])
    return torch.cat(q_parts, dim=1), torch.cat(r_parts, dim=1)


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


def halvings(n: int, seed: int = 0) -> torch.Tensor:
    """(:data:`HALVINGS`, n) bool: for each seeded halving of ``n`` test rows, which rows are
    in half A (``n // 2`` of them; the rest are B)."""
    generator = torch.Generator().manual_seed(seed)
    in_a = torch.zeros(HALVINGS, n, dtype=torch.bool)
    for h in range(HALVINGS):
        in_a[h, torch.randperm(n, generator=generator)[: n // 2]] = True
    return in_a


def _nearest_of_half(
    near: tuple[torch.Tensor, torch.Tensor],
    query: torch.Tensor,
    test: torch.Tensor,
    member: torch.Tensor,
    flip: torch.Tensor,
    categorical: torch.Tensor,
    bounds: tuple[torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    """Each query row's distance to its nearest ``test`` row of one half: ``member`` (n,)
    marks half A; row i wants A, or B where ``flip[i]``. Looked up among the row's ``near``
    test rows (distances, indices; nearest first); computed in full for a row with none of
    its half there."""
    values, indices = near
    wanted = member[indices] ^ flip.unsqueeze(1)
    out = values.gather(1, wanted.to(torch.uint8).argmax(dim=1, keepdim=True)).squeeze(1)
    for i in torch.nonzero(~wanted.any(dim=1)).squeeze(1).tolist():
        half = test[member ^ flip[i]]
        out[i] = nearest_distance(query[i : i + 1], half, categorical, bounds)[0]
    return out


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
    two halves :data:`HALVINGS` times, with ``seed``). All three in distance space
    (:func:`distance_space`)."""
    generator = torch.Generator().manual_seed(seed)
    if synthetic.shape[0] > MAX_QUERY:
        keep = torch.randperm(synthetic.shape[0], generator=generator)[:MAX_QUERY]
        synthetic = synthetic[keep]
    finite = ~torch.isinf(synthetic).any(dim=1)
    synthetic = synthetic[finite]
    n = test.shape[0]
    if synthetic.shape[0] == 0 or n // 2 == 0:
        return {"privacy": float("nan"), "copies": float("nan"), "copies_real": float("nan"),
                "p": float("nan"), "p_real": float("nan")}  # fmt: skip
    # the probes: the test rows (a seeded subsample of 2 x MAX_QUERY beyond)
    probes = torch.arange(n)
    if n > 2 * MAX_QUERY:
        probes = torch.randperm(n, generator=generator)[: 2 * MAX_QUERY]
    probe_rows = test[probes]
    bounds = column_bounds(train)
    to_train = nearest_distance(synthetic, train, categorical, bounds)
    probe_to_train = nearest_distance(probe_rows, train, categorical, bounds)
    near = nearest_rows(synthetic, test, categorical, bounds, NEIGHBOURS)
    # a probe's own row is among its nearest test rows, and always in its own half
    probe_near = nearest_rows(probe_rows, test, categorical, bounds, NEIGHBOURS + 1)
    no_flip = torch.zeros(synthetic.shape[0], dtype=torch.bool)
    ps, p_reals = [], []
    for in_a in halvings(n, seed):
        # synthetic rows: A as the holdout, then B
        ps.append(
            0.5
            * sum(
                float((to_train < _nearest_of_half(near, synthetic, test, half, no_flip,
                                                   categorical, bounds)).double().mean())
                for half in (in_a, ~in_a)
            )
        )  # fmt: skip
        # each probe against the other half: B's rows against A, A's against B
        side = in_a[probes]
        other = _nearest_of_half(probe_near, probe_rows, test, in_a, side, categorical, bounds)
        nearer = (probe_to_train < other).double()
        p_reals.append(0.5 * (float(nearer[~side].mean()) + float(nearer[side].mean())))
    p, p_real = sum(ps) / len(ps), sum(p_reals) / len(p_reals)
    privacy = 1.0 if p <= p_real else min(1.0, (1.0 - p) / max(1.0 - p_real, 1e-12))
    return {
        "privacy": privacy,
        "copies": copy_share(synthetic, train),
        "copies_real": copy_share(probe_rows, train),
        "p": p,
        "p_real": p_real,
    }
