"""Numbers that say how close generated points are to real ones (curve GANs).

:func:`curve_metrics` compares an ``(M, C)`` tensor of generated points with an ``(N, C)``
tensor of real points and returns plain floats (JSON-ready). It is fast enough to run every
few epochs for early stopping: about 0.1 s for 10,000 generated vs 2,048 real points on an
idle 2-core CPU (up to about 0.35 s with the cores busy).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist
from scipy.special import rel_entr
from scipy.stats import wasserstein_distance

from genlab.errors import DataError
from genlab.expressions import Expression

__all__ = ["HIST_BINS", "MMD_BANDWIDTH", "MMD_MAX_POINTS", "PR_K", "PR_MAX_POINTS", "curve_metrics"]

#: Bins per axis of the histogram behind ``kl`` and ``js``.
HIST_BINS = 20
#: Fraction of the real range added on each side of the histogram.
HIST_MARGIN = 0.10
#: Additive smoothing of histogram probabilities (then renormalised).
HIST_SMOOTHING = 1e-6
#: RBF kernel bandwidth (sigma) for ``mmd``, on standardised data.
MMD_BANDWIDTH = 1.0
#: Points of each set used for ``mmd`` (seeded subsample beyond this).
MMD_MAX_POINTS = 2000
#: Neighbours for the k-NN manifolds of ``precision`` / ``recall``.
PR_K = 5
#: Points of each set used for ``precision`` / ``recall`` (seeded subsample beyond this).
PR_MAX_POINTS = 5000
#: Rows per block when testing points against k-NN balls (bounds memory).
_BLOCK = 1024
#: Nats per bit: divergences are reported in bits.
_LN2 = math.log(2.0)


def _as_array(points: torch.Tensor | np.ndarray, what: str) -> np.ndarray:
    if isinstance(points, torch.Tensor):
        array = points.detach().to("cpu", torch.float64).numpy()
    else:
        array = np.asarray(points, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] < 1:
        raise DataError(f"{what} points must be a 2-D array (rows, columns); got {array.shape}")
    return array


def _subsample(array: np.ndarray, limit: int, seed: int) -> np.ndarray:
    if len(array) <= limit:
        return array
    rng = np.random.default_rng(seed)
    return array[np.sort(rng.choice(len(array), size=limit, replace=False))]


def _safe_scale(std: np.ndarray) -> np.ndarray:
    """A column's std, or 1 where it is 0 (a constant column), so divisions stay finite."""
    return np.where(std > 0, std, 1.0)


def _relation_errors(gen: np.ndarray, real: np.ndarray, relation: Expression) -> dict[str, float]:
    if gen.shape[1] < 2:
        raise DataError("a relation y = f(x) needs points with at least 2 columns (x, y)")
    x = torch.from_numpy(np.ascontiguousarray(gen[:, 0]))
    with torch.no_grad():
        fx = relation(x).to(torch.float64).numpy()
    y = gen[:, 1]
    with np.errstate(all="ignore"):
        diff = np.abs(y - fx)
        rmse = math.sqrt(float(np.mean(diff**2)))
        y_std = float(_safe_scale(np.array([real[:, 1].std()]))[0])
        rel = diff / np.abs(fx)
        rel[diff == 0] = 0.0  # exact hits, including f(x) == 0
        rel[np.isnan(rel)] = np.inf  # f(x) undefined at that x
    return {
        "relation_nrmse": rmse / y_std,
        "relation_median_rel_error": float(np.median(rel)),
    }


def _histogram(points: np.ndarray, lo: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Counts in ``HIST_BINS**d`` cells plus one overflow cell (last) for points outside."""
    d = points.shape[1]
    cell = np.floor((points - lo) / width * HIST_BINS)
    inside = np.all((cell >= 0) & (cell < HIST_BINS), axis=1)
    index = np.zeros(len(points), dtype=np.int64)
    for j in range(d):
        index = index * HIST_BINS + np.where(inside, cell[:, j], 0).astype(np.int64)
    index[~inside] = HIST_BINS**d
    return np.bincount(index, minlength=HIST_BINS**d + 1).astype(np.float64)


def _kl_js(gen: np.ndarray, real: np.ndarray) -> tuple[float, float]:
    real2 = real[:, :2]
    gen2 = gen[:, :2]
    r_min, r_max = real2.min(axis=0), real2.max(axis=0)
    span = _safe_scale(r_max - r_min)
    lo = r_min - HIST_MARGIN * span
    width = span * (1 + 2 * HIST_MARGIN)
    p = _histogram(real2, lo, width)
    q = _histogram(gen2, lo, width)
    p = p / p.sum() + HIST_SMOOTHING
    q = q / q.sum() + HIST_SMOOTHING
    p /= p.sum()
    q /= q.sum()
    m = 0.5 * (p + q)
    # rel_entr is in nats; dividing by ln 2 gives bits (JS then lies in [0, 1]).
    kl = float(np.sum(rel_entr(p, q))) / _LN2
    js = float(0.5 * np.sum(rel_entr(p, m)) + 0.5 * np.sum(rel_entr(q, m))) / _LN2
    return max(kl, 0.0), min(max(js, 0.0), 1.0)


def _mean_kernel(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean of the RBF kernel over all pairs, in float32 (``|a-b|^2 = a.a + b.b - 2 a.b``)."""
    gamma = 1.0 / (2.0 * MMD_BANDWIDTH**2)
    kernel = a @ b.T
    kernel.mul_(2.0).sub_(a.square().sum(dim=1, keepdim=True)).sub_(b.square().sum(dim=1))
    kernel.clamp_(max=0.0).mul_(gamma).exp_()
    return float(kernel.mean())


def _mmd2(gen_points: np.ndarray, real_points: np.ndarray) -> float:
    gen = torch.from_numpy(gen_points).to(torch.float32)
    real = torch.from_numpy(real_points).to(torch.float32)
    mmd2 = _mean_kernel(real, real) + _mean_kernel(gen, gen) - 2.0 * _mean_kernel(real, gen)
    return max(mmd2, 0.0)


def _knn_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point."""
    k = min(k, len(points) - 1)
    distances, _ = cKDTree(points).query(points, k=k + 1)
    return distances[:, -1]


def _covered(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """For each query: does it lie in at least one ball ``(centre, radius)``?"""
    # Fast path: most queries lie in the ball of their nearest centre.
    distance, nearest = cKDTree(centres).query(queries, k=1)
    covered = distance <= radii[nearest]
    todo = np.flatnonzero(~covered)
    if len(todo) == 0:
        return covered
    # Exact check for the rest: a farther centre with a larger ball may still cover a query.
    # Only centres whose radius reaches past the query's nearest-centre distance can.
    todo = todo[np.argsort(distance[todo])]
    for start in range(0, len(todo), _BLOCK):
        rows = todo[start : start + _BLOCK]
        useful = radii >= distance[rows[0]]
        if not useful.any():
            break
        d = cdist(queries[rows], centres[useful])
        covered[rows] = np.any(d <= radii[useful][None, :], axis=1)
    return covered


def _check_inputs(gen: np.ndarray, real: np.ndarray, columns: list[str] | None) -> list[str]:
    """Refuse mismatched or unusable inputs; the column names to use."""
    if gen.shape[1] != real.shape[1]:
        raise DataError(
            f"generated points have {gen.shape[1]} columns but real points have "
            f"{real.shape[1]}; they must match"
        )
    if len(real) < 2:
        raise DataError(f"need at least 2 real points to compare with, got {len(real)}")
    if not np.isfinite(real).all():
        raise DataError("the real points contain nan or inf; clean the data first")
    n_cols = real.shape[1]
    if columns is None:
        return ["x", "y", *(f"col{j}" for j in range(2, n_cols))][:n_cols]
    if len(columns) != n_cols:
        raise DataError(f"{len(columns)} column names given for {n_cols} columns")
    return list(columns)


def curve_metrics(
    generated: torch.Tensor,
    real: torch.Tensor,
    *,
    relation: Expression | None = None,
    columns: list[str] | None = None,
    seed: int = 0,
    x_range: tuple[float, float] | None = None,
) -> dict[str, float]:
    """Distances between generated and real points, as a dict of plain floats.

    Both inputs are ``(rows, C)`` tensors (or arrays) with the same ``C``. Keys:

    * ``relation_nrmse``, ``relation_median_rel_error`` (only with ``relation``): with
      ``x`` = column 0 and ``y`` = column 1 of the generated points,
      ``sqrt(mean((y - f(x))**2)) / std(y_real)`` and ``median(|y - f(x)| / |f(x)|)``.
      Either may be ``inf`` when ``f`` overflows or is undefined at a generated ``x``.
    * ``w1_<column>``: 1-D Wasserstein-1 distance per column (:func:`scipy.stats.
      wasserstein_distance`) divided by the real column's std; ``w1``: their mean.
    * ``kl``: KL(real || generated) and ``js``: Jensen-Shannon divergence, both in bits
      (base 2; JS lies in [0, 1]), on a histogram of the first two columns (one column: of
      that one): 20 bins per axis spanning the real range widened by 10% on each side, plus
      one overflow cell that counts every
      generated point outside that box (none are clipped into edge bins). Each probability
      gets 1e-6 added (additive smoothing), then the histogram is renormalised.
    * ``mmd``: squared MMD, biased (V-statistic, never negative) estimate, RBF kernel with a
      fixed bandwidth sigma = 1.0 on data standardised by the real mean and std, on a seeded
      subsample of at most 2,000 points of each set (computed in float32: accurate to about
      1e-6).
    * ``precision`` / ``recall``: k-NN manifold precision and recall (Kynkaanniemi et al.,
      2019) with k = 5 on standardised data, on seeded subsamples of at most 5,000 points:
      the fraction of generated points inside some real point's k-NN ball, and of real points
      inside some generated point's k-NN ball.
    * ``out_of_range``: the fraction of generated points whose column 0 lies outside
      ``x_range`` (default: ``[min, max]`` of the real column 0).
    * ``nonfinite``: the fraction of generated rows holding ``nan`` or ``inf``. Those rows
      count as out of range and as imprecise; every other metric uses the finite rows only.

    A column whose real std is 0 is scaled by 1 instead. ``columns`` names the columns for
    the ``w1_*`` keys (default: ``x``, ``y``, then ``col2``, ...). ``seed`` fixes the
    subsamples. Raises :class:`DataError` for mismatched shapes, fewer than 2 real or finite
    generated rows, or non-finite real points.
    """
    gen_all = _as_array(generated, "generated")
    real = _as_array(real, "real")
    columns = _check_inputs(gen_all, real, columns)

    finite_rows = np.isfinite(gen_all).all(axis=1)
    gen = gen_all[finite_rows]
    if len(gen) < 2:
        raise DataError(
            f"only {len(gen)} of {len(gen_all)} generated points are finite; need at least 2"
        )
    finite_fraction = len(gen) / len(gen_all)

    out: dict[str, float] = {}
    if relation is not None:
        out.update(_relation_errors(gen, real, relation))

    mean = real.mean(axis=0)
    scale = _safe_scale(real.std(axis=0))
    w1 = []
    for j, name in enumerate(columns):
        w1.append(float(wasserstein_distance(gen[:, j], real[:, j])) / float(scale[j]))
        out[f"w1_{name}"] = w1[-1]
    out["w1"] = float(np.mean(w1))

    out["kl"], out["js"] = _kl_js(gen, real)

    # Each subsample draws from a fresh generator with the same seed, so two equal sets of
    # equal size get equal subsamples (identical inputs give exactly 0 and 1).
    gen_z = (gen - mean) / scale
    real_z = (real - mean) / scale
    gen_mmd = _subsample(gen_z, MMD_MAX_POINTS, seed)
    real_mmd = _subsample(real_z, MMD_MAX_POINTS, seed)
    out["mmd"] = _mmd2(gen_mmd, real_mmd)

    gen_pr = _subsample(gen_z, PR_MAX_POINTS, seed)
    real_pr = _subsample(real_z, PR_MAX_POINTS, seed)
    precision = float(_covered(gen_pr, real_pr, _knn_radii(real_pr, PR_K)).mean())
    recall = float(_covered(real_pr, gen_pr, _knn_radii(gen_pr, PR_K)).mean())
    out["precision"] = precision * finite_fraction
    out["recall"] = recall

    x0 = gen_all[:, 0]
    x_lo, x_hi = x_range if x_range is not None else (real[:, 0].min(), real[:, 0].max())
    with np.errstate(invalid="ignore"):
        inside = (x0 >= x_lo) & (x0 <= x_hi) & finite_rows
    out["out_of_range"] = float(1.0 - inside.mean())
    out["nonfinite"] = float(1.0 - finite_fraction)
    return {key: float(value) for key, value in out.items()}
