"""Curve data for the one GAN engine: the :class:`~genlab.gan.adapter.GanData` adapter.

:class:`CurveGanData` wraps a :class:`~genlab.data.curves.CurveDataset` (a named shape, a
formula or a CSV) for training:

* **Model space.** Each column goes through a :class:`ColumnTransform` before the networks see
  it. ``transform="auto"`` (the default) maps x (column 0), and every column that is a
  monotone function of x, through its empirical CDF and then the inverse normal CDF
  ("quantile"): the generator only has to produce Gaussian-looking columns, decoding can
  never leave the real range of a column, and a monotone curve such as the book's
  ``y = 1.08**x`` becomes the straight line ``y' = x'``. Other strictly positive, right-skewed
  columns get a logarithm, the rest are standardised. Decoding inverts all of it, so samples
  come back in the user's units; the transform's numbers travel in the model file (a
  quantile column keeps at most one knot per :data:`KNOT_ROWS` training rows, each a mean of
  its share of the quantile function: :func:`smoothed_quantiles`).
  (Measured on the book's exp data: standardised x and logged y reached 0.2-0.6% median
  relative error of y, but w1 of x stayed at 0.042-0.046 with 0.3-0.4% of x out of range
  after 600 epochs; with the quantile transform the default run stops at epoch ~570 with
  0.15%, 0.016 and nothing out of range.)
* **Three parts.** The discriminator sees the train part only. For a named shape or a formula
  (which can draw as many points as it likes) the train part is the book's points
  (``--data-seed``), and validation and test are 10,000 fresh points each from seeds
  ``data_seed + 1`` and ``data_seed + 2``. A CSV's rows are shuffled with ``--data-seed`` and
  split 15% validation, 15% test (at least 2 rows each), the rest train; fewer than 10 rows
  are refused and a test part under 200 rows gets a warning. Nothing about the held-out
  parts reaches the model: a CSV's x domain is its train part's.
* **No rows in the model file.** :meth:`CurveGanData.to_dict` holds summaries only (the
  column transform, the support filter's grid, the parts' sizes and seeds, the train part's
  fingerprint); a named shape's or a formula's held-out parts are drawn again from their
  seeds. A CSV's adapter says :attr:`holds_data` False, and loaded from a model file it
  has no parts: ``gan eval`` rebuilds it from the CSV (checked against the fingerprint).
* **Figures.** :meth:`CurveGanData.validation_figures` (every few epochs, in milliseconds)
  returns ``score`` and its parts against the validation part; ``score`` (lower is better)
  is, in model space, the sliced 1-D Wasserstein distance (mean over fixed directions, the
  axes among them) + the fraction of points whose x lies outside the data's x domain + with
  ``select="formula"`` (named shapes and formulas by default) the RMS distance of generated
  y from f(x) (each point's term capped at 1), or with ``select="data"`` (CSV data) the share
  the support filter rejects + 0.3 x ``nn_excess`` (nearest-neighbour distances between
  generated and validation points, both ways, over those of the training points, minus 1)
  + 0.5 x the excess of ``too_close`` over 0.1 (the share of generated points nearer a
  training point than 90% of validation points are: 0.1 for fresh points, 1 for copies;
  scaled so that copies add 0.5): a generator that returns its training rows scores worse
  than one that returns fresh rows.
* **Support filter.** For CSV data a :class:`SupportFilter` redraws generated points that lie
  in no kept cell of a grid (a cell whose block of neighbours holds at least
  :data:`SUPPORT_MIN_COUNT` training rows): the bridges a generator draws between separate
  parts of the data.
  :meth:`CurveGanData.test_figures` returns :func:`genlab.evaluation.samples.curve_metrics`
  against the test part, the relation figures from the formula itself; with the filter, of
  the samples it keeps, and ``rejected``, the share it redrew; for a CSV, also ``privacy``
  and ``copies`` (:mod:`genlab.evaluation.privacy`).
"""

from __future__ import annotations

import argparse
import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from scipy.spatial import cKDTree
from torch import nn

from genlab.config import GanConfig
from genlab.data.batching import batch_indices, epoch_permutation, num_batches
from genlab.data.curves import SHAPES, CurveDataset, load_curve_dataset
from genlab.errors import ConfigError, DataError, RunFileError
from genlab.evaluation.samples import curve_metrics
from genlab.expressions import Expression, parse_formula
from genlab.gan.adapter import GanAdapter, fingerprint
from genlab.gan.registry import DataKind

__all__ = [
    "REFERENCE_POINTS",
    "TRANSFORMS",
    "ColumnTransform",
    "CurveGanData",
    "CurveParts",
    "make_curve_gan_data",
]

#: Points in each of the validation and test parts of a named shape or a formula.
REFERENCE_POINTS = 10_000
#: Share of a CSV's rows in each of the validation and test parts.
HOLDOUT_FRACTION = 0.15
#: Rows at least in each of a CSV's validation and test parts.
MIN_HOLDOUT = 2
#: A CSV needs this many rows (2 validation + 2 test + 6 train).
MIN_ROWS = 10
#: A test part smaller than this gets a warning: its distribution figures are rough.
SMALL_TEST_PART = 200
#: Column transforms: "auto" (log for positive skewed columns, then standardise),
#: "standard" (standardise only), "none" (raw values, as the book does).
TRANSFORMS = ("auto", "standard", "quantile", "none")
#: Per-column modes of a :class:`ColumnTransform` (stored by index).
MODES = ("none", "standard", "log", "quantile")
_LOG = 2
_QUANTILE = 3
#: Distinct values a column needs before ``auto`` gives it a quantile transform.
MIN_DISTINCT = 20
#: At most this many knots in a quantile column's piecewise-linear CDF.
QUANTILE_KNOTS = 1025
#: Training rows behind each quantile knot: a column of N training values keeps at most
#: ``N // KNOT_ROWS`` knots (at least 2), each the mean of its share of the interpolated
#: quantile function, so no knot is one row's value (see :func:`smoothed_quantiles`).
KNOT_ROWS = 8
#: Quantile levels are kept in [eps, 1 - eps] before the inverse normal CDF (|z| <= 4.75).
QUANTILE_EPS = 1e-6
#: A positive column is log-transformed when its skewness exceeds this and the log reduces it.
LOG_SKEW_THRESHOLD = 1.0
#: Random directions (beyond the axes) of the sliced Wasserstein distance in ``score``.
SLICES = 14
#: Cap on one point's relation residual (model-space std units) inside ``score``.
RESIDUAL_CAP = 1.0
#: How a curve GAN picks its generator: "formula" (the known y = f(x)), "data" (nothing but
#: the validation points) or "auto" (formula where one is known).
SELECTIONS = ("auto", "formula", "data")
#: ``score`` of a check with fewer than 2 usable samples.
WORST_SCORE = 100.0
#: ``--support``: the support filter on, off, or "auto" (on for CSV data).
SUPPORTS = ("auto", "on", "off")
#: Weight of ``nn_excess`` in the data-only ``score``.
NN_WEIGHT = 0.3
#: ``too_close``: the share of generated points nearer a training point than this quantile
#: of the validation points' distances to their nearest training point (fresh data: this).
CLOSE_QUANTILE = 0.1
#: Weight of the copying term in the data-only ``score``: a generator that returns training
#: rows (``too_close`` 1) gets this much added.
COPY_WEIGHT = 0.5
#: The support filter's grid keeps a cell when at least this many training rows lie in its
#: block (the cell and its neighbours, one step in each column: 3 x 3 cells for 2 columns):
#: the minimum count of a published frequency table's cell (statistical disclosure control's
#: threshold rule).
SUPPORT_MIN_COUNT = 10
#: ... and takes the finest cell width at which the cells it keeps hold this share of the
#: training rows (coarser widths are tried in turn; none: no filter). Measured on
#: bench/csv_gan.py's shapes: 0.4-5% of fresh rows fall outside, no bridge gets through.
SUPPORT_COVERAGE = 0.97
#: Cell widths tried, in standard deviations of each column: 0.05 * 2**(i / 4).
SUPPORT_WIDTHS = tuple(0.05 * 2 ** (i / 4) for i in range(32))
#: At most this many kept cells (a finer grid with more is skipped).
SUPPORT_CELLS = 16_384
#: At most this many cells counted while fitting (a finer grid with more is skipped).
SUPPORT_BLOCK_CELLS = 4_000_000
#: A test figures' ``rejected`` share above this gets a warning.
REJECTED_WARNING = 0.25
#: Seed offsets of the validation and test draws of named shapes and formulas.
VALIDATION_SEED_OFFSET = 1
TEST_SEED_OFFSET = 2


def _skewness(values: torch.Tensor) -> float:
    values = values.double()
    std = values.std(unbiased=False)
    if float(std) == 0.0:
        return 0.0
    return float((((values - values.mean()) / std) ** 3).mean())


def knot_count(rows: int) -> int:
    """Knots of a quantile column fitted on ``rows`` training values: ``rows //``
    :data:`KNOT_ROWS`, at least 2 and at most :data:`QUANTILE_KNOTS`."""
    return max(2, min(QUANTILE_KNOTS, rows // KNOT_ROWS))


def smoothed_quantiles(values: torch.Tensor, n_knots: int) -> torch.Tensor:
    """``n_knots`` knots of the column ``values`` (N,) at the levels ``i / (n_knots - 1)``:
    knot i is the mean of the quantile function (linear between the sorted values) over the
    levels nearest its own, ``[l_i - d/2, l_i + d/2]`` clipped to [0, 1] with ``d = 1 /
    (n_knots - 1)``; the two end knots then extend the line through their window's mean and
    the next knot to levels 0 and 1 (an estimate of the column's ends, not its min and max;
    where that passes the min or max, halfway from the window's mean to it, so that decoding
    stays inside the training range).
    The windows tile [0, 1], so with :func:`knot_count`'s knots each averages about
    :data:`KNOT_ROWS` or more neighbouring values: no knot is one row's value unless that many
    rows share it, and the knots rise with the level. Float64, (n_knots,)."""
    ordered = values.double().flatten().sort().values
    n = ordered.shape[0]
    if n == 1:
        return ordered.expand(n_knots).clone()
    # Integral of the piecewise-linear quantile function from position 0 to each position i.
    segments = 0.5 * (ordered[1:] + ordered[:-1])
    cumulative = torch.cat([torch.zeros(1, dtype=torch.float64), segments.cumsum(0)])

    def integral(position: torch.Tensor) -> torch.Tensor:
        index = position.floor().long().clamp(0, n - 2)
        frac = position - index
        low, high = ordered[index], ordered[index + 1]
        return cumulative[index] + frac * (low + 0.5 * frac * (high - low))

    step = 1.0 / (n_knots - 1)
    centres = torch.arange(n_knots, dtype=torch.float64) * step
    start = (centres - step / 2).clamp(0, 1) * (n - 1)
    end = (centres + step / 2).clamp(0, 1) * (n - 1)
    knots = (integral(end) - integral(start)) / (end - start)
    # An end window's mean is the quantile function's value a quarter step in (where the
    # function is straight): extend the line through it and its neighbour to levels 0 and 1.
    inner = 0.75 if n_knots == 2 else 1.0  # the neighbour's level, in steps
    reach = 0.25 / (inner - 0.25)
    low, high = knots[0].clone(), knots[-1].clone()
    knots[0] = low - reach * (knots[1] - low)
    knots[-1] = high + reach * (high - knots[-2])
    # Past the column's own ends (a tail that bends): halfway from the window's mean to them,
    # so that decoding stays inside the training range without keeping its min or max.
    if bool(knots[0] <= ordered[0]):
        knots[0] = 0.5 * (low + ordered[0])
    if bool(knots[-1] >= ordered[-1]):
        knots[-1] = 0.5 * (high + ordered[-1])
    return knots


class ColumnTransform(nn.Module):
    """Per-column maps between user units and model space; invertible.

    Each column has a mode: ``standard`` (``(v - mean) / std``), ``log`` (``log v``, then
    standardised), ``quantile`` (the column's empirical CDF, linear between
    :func:`knot_count` knots of :func:`smoothed_quantiles`, then the standard normal's inverse
    CDF: any distribution becomes a standard normal, and decoding can only give values inside
    the training range)
    or ``none`` (raw values). ``encode`` maps user units to model space; ``forward`` (=
    ``decode``) maps back. Its numbers are buffers, so ``state_dict`` stores them and the
    module exports with the generator (decoding uses plain torch ops only).
    """

    modes: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    knots: torch.Tensor

    def __init__(
        self, modes: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, knots: torch.Tensor
    ) -> None:
        super().__init__()
        self.register_buffer(
            "modes", torch.as_tensor(modes, dtype=torch.int64).contiguous().clone()
        )
        self.register_buffer(
            "mean", torch.as_tensor(mean, dtype=torch.float32).contiguous().clone()
        )
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).contiguous().clone())
        # (Q, C): column j's values at CDF levels 0, 1/(Q-1), ..., 1 (unused unless quantile).
        self.register_buffer(
            "knots", torch.as_tensor(knots, dtype=torch.float32).contiguous().clone()
        )

    @classmethod
    def fit(cls, points: torch.Tensor, mode: str = "auto") -> ColumnTransform:
        """Choose the transform for ``points`` (N, C) in user units.

        ``mode``: ``standard``, ``quantile`` or ``none`` for every column, or ``auto``:

        * column 0 (x) -> ``quantile`` when it has at least :data:`MIN_DISTINCT` distinct
          values: the generator then only has to make Gaussian-looking x, and x can never
          leave the real range;
        * another column that is a monotone function of column 0 (``y = 1.08**x``) ->
          ``quantile`` too: the curve becomes the straight line ``y' = x'`` in model space;
        * other strictly positive columns with skewness above 1 that the log reduces ->
          ``log``; the rest -> ``standard``.
        """
        if mode not in TRANSFORMS:
            raise ConfigError(f"--transform {mode!r}: choose one of {', '.join(TRANSFORMS)}")
        points = points.double()
        n_cols = points.shape[1]
        modes = torch.full((n_cols,), MODES.index(mode if mode != "auto" else "standard"))
        if mode == "auto":
            continuous = [
                int(torch.unique(points[:, j]).numel()) >= MIN_DISTINCT for j in range(n_cols)
            ]
            by_x = points[torch.argsort(points[:, 0])]
            for j in range(n_cols):
                column = points[:, j]
                steps = by_x[:, j].diff()
                monotone = j == 0 or bool((steps >= 0).all()) or bool((steps <= 0).all())
                if continuous[0] and continuous[j] and monotone:
                    modes[j] = MODES.index("quantile")
                elif float(column.min()) > 0:
                    raw, logged = _skewness(column), _skewness(column.log())
                    if raw > LOG_SKEW_THRESHOLD and abs(logged) < abs(raw):
                        modes[j] = MODES.index("log")
        # Knots only where a column is quantile-mapped (zeros elsewhere: nothing unused kept).
        n_knots = knot_count(points.shape[0])
        knots = torch.zeros(n_knots, n_cols, dtype=torch.float64)
        for j in range(n_cols):
            if int(modes[j]) == _QUANTILE:
                knots[:, j] = smoothed_quantiles(points[:, j], n_knots)
        is_log = modes == MODES.index("log")
        logged = torch.where(is_log, points.clamp_min(1e-30).log(), points)
        mean = logged.mean(dim=0)
        std = logged.std(dim=0, unbiased=False)
        std = torch.where(std > 0, std, torch.ones_like(std))
        plain = (modes == MODES.index("none")) | (modes == MODES.index("quantile"))
        mean = torch.where(plain, torch.zeros_like(mean), mean)
        std = torch.where(plain, torch.ones_like(std), std)
        return cls(modes, mean.float(), std.float(), knots.float())

    def mode_names(self) -> list[str]:
        """Each column's mode, by name."""
        return [MODES[int(m)] for m in self.modes]

    def encode(self, points: torch.Tensor) -> torch.Tensor:
        """User units (N, C) -> model space (N, C)."""
        points = points.float()
        is_log = self.modes == MODES.index("log")
        values = torch.where(is_log, points.clamp_min(1e-30).log(), points)
        values = (values - self.mean) / self.std
        quantile = self.modes == MODES.index("quantile")
        if bool(quantile.any()):
            n_knots = self.knots.shape[0]
            eps = QUANTILE_EPS
            columns = []
            for j in range(points.shape[1]):
                if not bool(quantile[j]):
                    columns.append(values[:, j])
                    continue
                knots = self.knots[:, j].contiguous()
                upper = torch.searchsorted(knots, points[:, j].contiguous()).clamp(1, n_knots - 1)
                lo, hi = knots[upper - 1], knots[upper]
                frac = ((points[:, j] - lo) / (hi - lo).clamp_min(1e-30)).clamp(0, 1)
                level = ((upper - 1).float() + frac) / (n_knots - 1)
                columns.append(torch.special.ndtri(level.clamp(eps, 1 - eps)))
            values = torch.stack(columns, dim=1)
        return values

    def forward(self, model_space: torch.Tensor) -> torch.Tensor:
        """Model space (N, C) -> user units (N, C)."""
        values = model_space * self.std + self.mean
        values = torch.where(self.modes == _LOG, values.exp(), values)
        # Quantile columns: normal CDF -> level in [0, 1] -> linear between knots.
        n_knots = self.knots.shape[0]
        position = torch.special.ndtr(model_space) * (n_knots - 1)
        lower = position.floor().clamp(0, n_knots - 2)
        frac = position - lower
        index = lower.long()
        low = torch.gather(self.knots, 0, index)
        high = torch.gather(self.knots, 0, index + 1)
        inverse = low + frac * (high - low)
        return torch.where(self.modes == _QUANTILE, inverse, values)

    decode = forward

    def describe(self, columns: list[str]) -> list[str]:
        """One phrase per column, e.g. ``"y: log, then (v - 1.92) / 1.11"``."""
        out = []
        for j, name in enumerate(columns):
            mode = MODES[int(self.modes[j])]
            if mode == "quantile":
                out.append(f"{name}: quantile (empirical CDF -> standard normal)")
            elif mode == "none":
                out.append(f"{name}: raw")
            else:
                log = "log, then " if mode == "log" else ""
                out.append(
                    f"{name}: {log}(v - {float(self.mean[j]):.4g}) / {float(self.std[j]):.4g}"
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Tensors, for the model file."""
        return {
            "modes": self.modes.clone(),
            "mean": self.mean.clone(),
            "std": self.std.clone(),
            "knots": self.knots.clone(),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ColumnTransform:
        """Rebuild from :meth:`to_dict`."""
        return cls(values["modes"], values["mean"], values["std"], values["knots"])


#: The most recent draw of samples through :meth:`CurveGanData.support` (each
#: :func:`genlab.gan.engine.generate` call asks for the filter once, which starts a new
#: draw): how many samples the filter saw and kept, and the first it kept. The test figures
#: report the draw's ``rejected`` share when they are handed that draw's samples.
_LAST_DRAW: dict[str, Any] = {"seen": 0, "kept": 0, "first": None}


def _new_draw() -> None:
    _LAST_DRAW.update(seen=0, kept=0, first=None)


@torch.jit.unused
def _tally(samples: torch.Tensor, keep: torch.Tensor) -> None:
    """Count one call's verdicts into the current draw (eager mode only; never exported)."""
    if _LAST_DRAW["first"] is None and bool(keep.any()):
        _LAST_DRAW["first"] = samples[keep][0].detach().float().cpu()
    _LAST_DRAW["seen"] += int(keep.numel())
    _LAST_DRAW["kept"] += int(keep.sum())


def _block_counts(
    rows: torch.Tensor, stride: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor] | tuple[None, None]:
    """Every cell within one step (in each column) of a row's cell, with the rows in its
    3 x 3 x ... block: the row counts summed along each column in turn (keys ``rows``: each
    row's cell, ``sum(coord * stride)``). Sorted keys and their counts; (None, None) past
    :data:`SUPPORT_BLOCK_CELLS` cells."""
    cells, counts = torch.unique(rows, return_counts=True)
    for step in stride.tolist():
        shifted = torch.cat([cells - step, cells, cells + step])
        cells, inverse = torch.unique(shifted, return_inverse=True)
        if cells.numel() > SUPPORT_BLOCK_CELLS:
            return None, None
        counts = torch.zeros(cells.numel(), dtype=torch.int64).index_add_(
            0, inverse, counts.repeat(3)
        )
    return cells, counts


class SupportFilter(nn.Module):
    """Keeps the samples that lie on the data: those in a kept cell of a grid over the
    columns (standardised by the training mean and std). A cell is kept when its block (the
    cell and its neighbours, one step in each column) holds at least
    :data:`SUPPORT_MIN_COUNT` training rows. A generator maps one connected noise space onto
    the data, so it draws thin bridges between separate parts (clusters, a spiral's arms);
    those samples fall in cells far from every dense block and are redrawn.

    The filter holds no rows: only the columns' mean and std, the cell width, the grid's
    corner and size, and the kept cells as integer keys (at most :data:`SUPPORT_CELLS`).
    Whether a cell is kept says only that some block of 3**C cells holds
    :data:`SUPPORT_MIN_COUNT` or more rows (sparse blocks are dropped), never where one row
    lies. :meth:`fit` takes the finest width of :data:`SUPPORT_WIDTHS` at which the kept
    cells hold :data:`SUPPORT_COVERAGE` of the training rows. ``forward`` gives the bool mask
    of samples to keep; plain torch, so it exports.
    """

    mean: torch.Tensor
    std: torch.Tensor
    width: torch.Tensor
    offset: torch.Tensor
    radix: torch.Tensor
    cells: torch.Tensor
    stride: torch.Tensor

    def __init__(
        self,
        mean: torch.Tensor,
        std: torch.Tensor,
        width: torch.Tensor | float,
        offset: torch.Tensor,
        radix: torch.Tensor,
        cells: torch.Tensor,
    ) -> None:
        super().__init__()
        for name, value in (("mean", mean), ("std", std), ("width", width)):
            self.register_buffer(name, torch.as_tensor(value, dtype=torch.float32).clone())
        for name, value in (("offset", offset), ("radix", radix), ("cells", cells)):
            self.register_buffer(name, torch.as_tensor(value, dtype=torch.int64).clone())
        radix = self.radix
        stride = torch.cat([torch.ones(1, dtype=torch.int64), radix[:-1].cumprod(0)])
        self.register_buffer("stride", stride, persistent=False)

    @classmethod
    def fit(
        cls,
        points: torch.Tensor,
        min_count: int = SUPPORT_MIN_COUNT,
        coverage: float = SUPPORT_COVERAGE,
    ) -> SupportFilter | None:
        """The grid of training ``points`` (N, C) in the data's units (see the class); None
        when no width of :data:`SUPPORT_WIDTHS` keeps ``coverage`` of the rows (too few rows,
        or too many columns, for a grid)."""
        points = points.double()
        points = points[torch.isfinite(points).all(dim=1)]
        if points.shape[0] < max(2, min_count):
            return None
        mean = points.mean(dim=0)
        std = points.std(dim=0)
        std = torch.where(std > 0, std, torch.ones_like(std))
        scaled = (points - mean) / std
        for width in SUPPORT_WIDTHS:
            # One empty cell of margin on each side, so that a block never leaves the grid.
            coords = torch.floor(scaled / width).long()
            offset = coords.min(dim=0).values - 1
            radix = coords.max(dim=0).values - offset + 2
            if math.prod(int(r) for r in radix) >= 2**62:
                continue  # too many cells for one int64 key
            stride = torch.cat([torch.ones(1, dtype=torch.int64), radix[:-1].cumprod(0)])
            rows = ((coords - offset) * stride).sum(dim=1)
            cells, counts = _block_counts(rows, stride)
            if cells is None:
                continue  # too many cells to count
            kept = cells[counts >= min_count]
            if kept.numel() > SUPPORT_CELLS:
                continue
            index = torch.searchsorted(kept, rows).clamp_max(max(kept.numel() - 1, 0))
            held = kept.numel() > 0 and float((kept[index] == rows).double().mean()) >= coverage
            if held:
                return cls(mean, std, width, offset, radix, kept)
        return None

    def mask(self, samples: torch.Tensor) -> torch.Tensor:
        """(N, C) samples in the data's units -> (N,) bool: in a kept cell."""
        scaled = (samples.float() - self.mean) / self.std / self.width
        finite = torch.isfinite(scaled).all(dim=1)
        scaled = torch.nan_to_num(scaled, nan=0.0, posinf=0.0, neginf=0.0).clamp(-1e9, 1e9)
        coords = scaled.floor().long() - self.offset
        inside = ((coords >= 0) & (coords < self.radix)).all(dim=1)
        coords = torch.minimum(coords.clamp_min(0), self.radix - 1)
        keys = (coords * self.stride).sum(dim=1)
        index = torch.searchsorted(self.cells, keys).clamp_max(self.cells.shape[0] - 1)
        return finite & inside & (self.cells[index] == keys)

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        """(N, C) samples in the data's units -> (N,) bool: in a kept cell (counted into the
        current draw, see :meth:`CurveGanData.test_figures`)."""
        keep = self.mask(samples)
        if not torch.jit.is_scripting():
            if not torch.jit.is_tracing():
                _tally(samples, keep)
        return keep

    def describe(self) -> str:
        """One phrase: the grid's size."""
        return (
            f"{self.cells.shape[0]} grid cells {float(self.width):.3g} std wide, each with "
            f">= {SUPPORT_MIN_COUNT} training rows in its block"
        )


class CurveGanData(GanAdapter):
    """Curve points for a GAN, in three disjoint parts (see the module docstring)."""

    kind = "curve"
    monitor = "score"
    monitor_mode = "min"
    progress_keys = ("sliced_w1", "relation_rms", "x_out")

    def __init__(
        self,
        name: str,
        columns: list[str],
        transform: ColumnTransform,
        parts: CurveParts,
        *,
        relation: Expression | None = None,
        x_range: tuple[float, float] | None = None,
        spec: dict[str, Any] | None = None,
        batch_size: int = 128,
        book_reference: str | None = None,
        select: str = "auto",
        support: SupportFilter | None = None,
        fingerprint: str | None = None,
        stored_splits: dict[str, Any] | None = None,
    ) -> None:
        if select not in SELECTIONS:
            raise ConfigError(f"--select {select!r}: choose one of {', '.join(SELECTIONS)}")
        self.select = (
            ("formula" if relation is not None else "data") if select == "auto" else select
        )
        if self.select == "formula" and relation is None:
            raise ConfigError("--select formula needs a known y = f(x); this data has none")
        self.name = name
        self.columns = list(columns)
        self.dim = len(self.columns)
        self.transform = transform
        self.parts = parts
        self.relation = relation
        self.spec = dict(spec or {})
        self.batch_size = batch_size
        self.book_reference = book_reference
        # The data's x domain: out-of-range figures count generated x outside it. Without a
        # known domain, the train part's (nothing about the held-out parts reaches selection).
        if x_range is None:
            known = next(p for p in (parts.train, parts.validation, parts.test) if p is not None)
            x_range = (float(known[:, 0].min()), float(known[:, 0].max()))
        self.x_range = (float(x_range[0]), float(x_range[1]))
        # Whether the model file holds what test_figures needs: a named shape's or a formula's
        # parts are drawn again from their seeds; a CSV's rows are never stored (one loaded
        # from a model file has no parts: genlab.gan.evaluate rebuilds it from the file).
        self.holds_data = self.spec.get("source") != "csv"
        self._fingerprint = fingerprint
        self._stored_splits = dict(stored_splits or {})
        self._train_model: dict[torch.device, torch.Tensor] = {}
        self._decoders: dict[torch.device, ColumnTransform] = {}
        self._val_quantiles: dict[int, torch.Tensor] = {}
        self._directions = _slice_directions(self.dim)
        self._support = support
        # Data-only selection: how far generated points lie from the validation points, over
        # how far real (training) points lie from them; how many lie closer to a training
        # point than validation points do.
        self._val_model: torch.Tensor | None = None
        self._val_tree: cKDTree | None = None
        if parts.validation is not None:
            self._val_model = transform.encode(parts.validation)
            self._val_tree = cKDTree(self._val_model.double().numpy())
        self._nn_floor: tuple[float, float] | None = None
        self._close: tuple[cKDTree, float] | None = None

    @property
    def train(self) -> torch.Tensor | None:
        """The train part (None when loaded from a model file)."""
        return self.parts.train

    @property
    def validation(self) -> torch.Tensor:
        """The validation part (what the checks during training compare with)."""
        return self._require("validation")

    @property
    def test(self) -> torch.Tensor:
        """The test part (what the reported figures compare with)."""
        return self._require("test")

    @property
    def is_csv(self) -> bool:
        """Whether this is a user's CSV (whose rows the model file never holds)."""
        return self.spec.get("source") == "csv"

    # ---------------------------------------------------------------- training

    @property
    def batches_per_epoch(self) -> int:
        """Batches in one pass over the training points."""
        return num_batches(self._require_train().shape[0], self.batch_size)

    def real_batches(
        self, batch_size: int, generator: torch.Generator, device: torch.device
    ) -> list[torch.Tensor]:
        """One epoch of shuffled model-space training batches, each (batch_size, dim)."""
        device = torch.device(device)
        points = self._train_model.get(device)
        if points is None:
            points = self.transform.encode(self._require_train()).to(device)
            self._train_model[device] = points
        order = epoch_permutation(points.shape[0], generator, device)
        return [points[idx] for idx in batch_indices(order, batch_size)]

    # ---------------------------------------------------------------- decoding

    def decode(self, model_space: torch.Tensor) -> torch.Tensor:
        """Model-space points (N, dim) -> points in the data's units (N, dim)."""
        if model_space.device.type == "cpu":
            return self.transform.decode(model_space)
        transform = self._decoders.get(model_space.device)
        if transform is None:  # a copy per device; self.transform stays on the CPU
            transform = copy.deepcopy(self.transform).to(model_space.device)
            self._decoders[model_space.device] = transform
        return transform.decode(model_space)

    def decoder(self) -> nn.Module:
        """The decoding as a module (plain torch ops; for export): model space -> units."""
        return copy.deepcopy(self.transform).cpu().eval()

    # ---------------------------------------------------------------- figures

    def headline(self, figures: dict[str, Any]) -> str:
        """The book's figure for its exp job (median relative error of y); the relation's
        normalised RMSE where a formula is known; else the scaled Wasserstein-1 distance."""
        if self.book_reference == "gan-exp" and "relation_median_rel_error" in figures:
            return "relation_median_rel_error"
        return "relation_nrmse" if "relation_nrmse" in figures else "w1"

    def test_figures(self, samples: torch.Tensor) -> dict[str, float]:
        """:func:`curve_metrics` against the test part (relation figures from the formula;
        out of range: x outside the data's x domain).

        With the support filter, the figures are of the samples it kept, and ``rejected`` is
        the share of generated samples it redrew in the draw that gave ``samples`` (for
        samples from elsewhere: the share of ``samples`` it would reject). For a CSV, also
        :func:`genlab.evaluation.privacy.privacy_figures` (``privacy``, ``copies``, ...) of
        ``samples`` against the train part, calibrated by the test part, every column divided
        by its range in the train part. Raises :class:`DataError` without a test part (a
        CSV's model file holds none: :func:`genlab.gan.evaluate` rebuilds it)."""
        test = self._require("test")
        samples = samples.detach().cpu().float()
        figures = curve_metrics(
            samples,
            test,
            relation=self.relation,
            columns=self.columns,
            x_range=self.x_range,
        )
        if self._support is not None:
            figures["rejected"] = self._rejected(samples)
        if self.is_csv and self.parts.train is not None:
            figures.update(self._privacy(samples, self.parts.train, test))
        return figures

    def _rejected(self, samples: torch.Tensor) -> float:
        """The support filter's share of rejected samples behind ``samples``."""
        assert self._support is not None
        first = _LAST_DRAW["first"]
        if (
            _LAST_DRAW["seen"]
            and first is not None
            and samples.shape[0]
            and first.shape == samples[0].shape
            and torch.equal(samples[0], first)
        ):
            return 1.0 - _LAST_DRAW["kept"] / _LAST_DRAW["seen"]
        if samples.shape[0] == 0:
            return 0.0
        return 1.0 - float(self._support.mask(samples).float().mean())

    def _privacy(
        self, samples: torch.Tensor, train: torch.Tensor, test: torch.Tensor
    ) -> dict[str, float]:
        """:func:`~genlab.evaluation.privacy.privacy_figures` of the finite ``samples``: all
        columns numeric, each divided by its range in the train part."""
        from genlab.evaluation.privacy import distance_space, privacy_figures

        train = train.double()
        ranges = train.max(dim=0).values - train.min(dim=0).values
        categorical = torch.zeros(self.dim, dtype=torch.bool)
        finite = samples[torch.isfinite(samples).all(dim=1)]
        figures = privacy_figures(
            distance_space(finite, categorical, ranges),
            distance_space(train, categorical, ranges),
            distance_space(test, categorical, ranges),
            categorical,
        )
        return {key: float(value) for key, value in figures.items()}

    @torch.no_grad()
    def validation_figures(self, samples: torch.Tensor) -> dict[str, float]:
        """``score`` and its parts against the validation part (model space; milliseconds)."""
        self._require("validation")
        samples = samples.detach().cpu().float()
        finite = torch.isfinite(samples).all(dim=1)
        model = self.transform.encode(samples[finite])
        rejected = 0.0
        if self._support is not None and model.shape[0]:
            keep = self._support.mask(samples[finite])
            rejected = 1.0 - float(keep.sum()) / samples.shape[0]
            samples, model = samples[finite][keep], model[keep]
            finite = torch.ones(samples.shape[0], dtype=torch.bool)
        if model.shape[0] < 2:  # nothing to measure: the worst score, finite (not a divergence)
            return {"score": WORST_SCORE, "x_out": 1.0, "rejected": rejected}
        # Sliced W1: sort the projections, compare with the validation part's quantiles.
        projected = (model @ self._directions).sort(dim=0).values  # (n, slices)
        sliced = float((projected - self._validation_quantiles(model.shape[0])).abs().mean())
        x = samples[finite, 0]
        lo, hi = self.x_range
        x_out = 1.0 - float(((x >= lo) & (x <= hi)).sum()) / samples.shape[0]
        figures = {"sliced_w1": sliced, "x_out": x_out}
        score = sliced + x_out
        if self._support is not None:  # samples the filter redraws count against the generator
            figures["rejected"] = rejected
            score += rejected
        if self.relation is not None and self.dim >= 2:
            residual = self._relation_residual(samples[finite], model)
            figures["relation_rms"] = float(residual.pow(2).mean().sqrt())
        if self.select == "formula":
            score += figures["relation_rms"]
        else:
            figures["nn_excess"] = self._nn_excess(model)
            score += NN_WEIGHT * max(figures["nn_excess"], 0.0)
            # Copying: generated points closer to the training points than fresh points are.
            figures["too_close"] = self._too_close(model)
            excess = (figures["too_close"] - CLOSE_QUANTILE) / (1.0 - CLOSE_QUANTILE)
            score += COPY_WEIGHT * max(excess, 0.0)
        figures["score"] = score
        return figures

    def warnings(self, figures: dict[str, Any]) -> list[str]:
        """A warning when the test part is too small for its figures to mean much, and when
        the support filter redrew many samples (the figures are of those it kept)."""
        out = []
        n_test = int(self.splits().get("test", 0))
        if n_test < SMALL_TEST_PART:
            out.append(
                f"the test part has only {n_test} rows: distribution figures (w1, js, mmd, "
                "precision/recall) on so few points are rough; more rows give firmer figures"
            )
        rejected = figures.get("rejected")
        if isinstance(rejected, float) and rejected > REJECTED_WARNING:
            out.append(
                f"the support filter redrew {rejected:.1%} of the generated samples (off the "
                "training data's grid): every figure is of the samples it kept; often a sign "
                "of an undertrained generator (train longer)"
            )
        return out

    # ---------------------------------------------------------------- description

    def splits(self) -> dict[str, Any]:
        """Sizes and seeds of the three parts (as the model file recorded them, when it is
        all there is)."""
        if self.parts.test is None and self._stored_splits:
            return dict(self._stored_splits)
        return {**self.parts.sizes(), **self.parts.seeds}

    def real_points(self, n: int) -> torch.Tensor:
        """Up to ``n`` test points (the data's units), for plots; none (0 rows) for data
        loaded from a model file that holds no rows."""
        if self.parts.test is None:
            return torch.zeros(0, self.dim)
        return self.parts.test[:n].clone()

    def fingerprint(self) -> str | None:
        """:func:`genlab.gan.adapter.fingerprint` of the train part (the recorded one when
        loaded from a model file)."""
        if self._fingerprint is None and self.parts.train is not None:
            self._fingerprint = fingerprint(self.parts.train)
        return self._fingerprint

    def to_dict(self) -> dict[str, Any]:
        """What :meth:`from_dict` needs to decode and sample: no rows of any part. The
        column transform's summaries, the support filter's grid, the split's sizes and seeds,
        and the train part's fingerprint; a named shape's or a formula's validation and test
        parts are drawn again from their seeds."""
        return {
            "kind": self.kind,
            "name": self.name,
            "columns": list(self.columns),
            "relation": None if self.relation is None else self.relation.text,
            "x_range": list(self.x_range),
            "spec": dict(self.spec),
            "book_reference": self.book_reference,
            "select": self.select,
            "splits": self.splits(),
            "transform": self.transform.to_dict(),
            "fingerprint": self.fingerprint(),
            **({} if self._support is None else {"support": dict(self._support.state_dict())}),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CurveGanData:
        """Rebuild for decoding and sampling (``real_batches`` needs the training points). A
        named shape or formula draws its validation and test parts again from their seeds;
        a CSV has no parts (:attr:`holds_data` False)."""
        try:
            relation = None if values.get("relation") is None else parse_formula(values["relation"])
            splits = dict(values.get("splits", {}))
            seeds = {k: v for k, v in splits.items() if k.endswith("seed")}
            spec = dict(values.get("spec", {}))
            support = None
            if "support" in values:
                if "cells" not in values["support"]:
                    raise RunFileError(
                        "this model file is from an older genlab, whose support filter held "
                        "training rows; train the run again"
                    )
                support = SupportFilter(**values["support"])
            if "validation" in values and "test" in values:  # an older model file held them
                parts = CurveParts(None, values["validation"].float(), values["test"].float())
            elif spec.get("source") in (*SHAPES, "formula"):
                parts = CurveParts(None, *_reference_parts(spec))
            else:
                parts = CurveParts(None, None, None)
            parts.seeds = seeds
            return cls(
                values["name"],
                list(values["columns"]),
                ColumnTransform.from_dict(values["transform"]),
                parts,
                relation=relation,
                x_range=tuple(values["x_range"]),
                spec=spec,
                book_reference=values.get("book_reference"),
                select=values.get("select", "auto"),
                support=support,
                fingerprint=values.get("fingerprint"),
                stored_splits=splits,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RunFileError(
                f"the model file's curve data description is damaged or from an older genlab "
                f"({exc}); train the run again"
            ) from exc

    def describe(self) -> str:
        """One line: what the data is, its parts, how it is transformed and filtered."""
        sizes = self.splits()
        text = (
            f"{self.name}: {sizes.get('train', 0)} training, {sizes.get('validation', 0)} "
            f"validation and {sizes.get('test', 0)} test points; "
            + "; ".join(self.transform.describe(self.columns))
        )
        if self._support is not None:
            text += (
                f"; support filter: {self._support.describe()} (figures are of the samples "
                "it keeps; rejected: the share it redrew)"
            )
        return text

    # ---------------------------------------------------------------- helpers

    def _require_train(self) -> torch.Tensor:
        if self.parts.train is None:
            raise DataError(
                "this curve data was loaded from a model file and has no "
                "training points; rebuild it with make_curve_gan_data"
            )
        return self.parts.train

    def _require(self, part: str) -> torch.Tensor:
        value = getattr(self.parts, part)
        if value is None:
            raise DataError(
                f"this {self.name} data was loaded from a model file, which holds no rows of "
                f"it (your data stays yours), so it has no {part} part: evaluate with the "
                "data, e.g. genlab gan eval RUN --csv FILE"
            )
        return value

    def _nn_excess(self, model: torch.Tensor) -> float:
        """How much farther generated points and validation points lie from each other than
        training and validation points do (model space, nearest neighbours both ways; 0 for
        a sample of the data). Points off the data (scatter around a curve, bridges) raise the
        first half; missing parts of the data (collapsed modes, too narrow clusters) the
        second."""
        assert self._val_model is not None and self._val_tree is not None
        validation = self._val_model.double().numpy()
        if self._nn_floor is None:
            points = self.transform.encode(self._require_train()).double().numpy()
            to_validation = self._val_tree.query(points)[0].mean()
            from_validation = cKDTree(points).query(validation)[0].mean()
            self._nn_floor = (max(float(to_validation), 1e-12), max(float(from_validation), 1e-12))
        generated = model.double().numpy()
        to_validation = self._val_tree.query(generated)[0].mean() / self._nn_floor[0]
        from_validation = cKDTree(generated).query(validation)[0].mean() / self._nn_floor[1]
        return float(0.5 * (to_validation + from_validation)) - 1.0

    def _too_close(self, model: torch.Tensor) -> float:
        """Share of generated points (model space) nearer their nearest training point than
        the :data:`CLOSE_QUANTILE` quantile of the validation points' distances to theirs:
        about :data:`CLOSE_QUANTILE` for fresh points of the data, 1 for copies of training
        points."""
        if self._close is None:
            assert self._val_model is not None
            tree = cKDTree(self.transform.encode(self._require_train()).double().numpy())
            distances = torch.from_numpy(tree.query(self._val_model.double().numpy())[0])
            self._close = (tree, float(torch.quantile(distances, CLOSE_QUANTILE)))
        tree, radius = self._close
        if model.shape[0] == 0:
            return 0.0
        return float((tree.query(model.double().numpy())[0] < radius).mean())

    def support(self) -> nn.Module | None:
        """The support filter (CSV data by default; see :class:`SupportFilter`): decoded
        samples -> keep mask; or None. A copy (callers move it to their device); asking
        starts a new draw, whose rejected share :meth:`test_figures` reports."""
        if self._support is None:
            return None
        _new_draw()
        return copy.deepcopy(self._support)

    def _validation_quantiles(self, n: int) -> torch.Tensor:
        cached = self._val_quantiles.get(n)
        if cached is None:
            projected = (self._val_model @ self._directions).sort(dim=0).values
            levels = (torch.arange(n, dtype=torch.float32) + 0.5) / n
            position = levels * (projected.shape[0] - 1)
            lower = position.floor().long()
            upper = (lower + 1).clamp_max(projected.shape[0] - 1)
            weight = (position - lower).unsqueeze(1)
            cached = projected[lower] * (1 - weight) + projected[upper] * weight
            self._val_quantiles[n] = cached
        return cached

    def _relation_residual(self, samples: torch.Tensor, model: torch.Tensor) -> torch.Tensor:
        """|model-space y - model-space f(x)| per point, capped (undefined -> the cap)."""
        assert self.relation is not None
        x = samples[:, 0]
        fx = self.relation(x.double()).float()
        truth = samples.clone()
        truth[:, 1] = fx
        residual = (model[:, 1] - self.transform.encode(truth)[:, 1]).abs()
        undefined = ~torch.isfinite(residual) | ~torch.isfinite(fx)
        if bool((self.transform.modes[1] == MODES.index("log")).item()):
            undefined |= fx <= 0
        return torch.where(
            undefined, torch.full_like(residual, RESIDUAL_CAP), residual.clamp_max(RESIDUAL_CAP)
        )


def _slice_directions(dim: int) -> torch.Tensor:
    """Unit directions (dim, k): the axes, then fixed pseudo-random ones (evenly spaced in 2-D)."""
    if dim == 1:
        return torch.ones(1, 1)
    if dim == 2:
        angles = torch.arange(SLICES + 2, dtype=torch.float64) * math.pi / (SLICES + 2)
        return torch.stack([angles.cos(), angles.sin()]).float()
    extra = torch.randn(
        dim, SLICES, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    extra = extra / extra.norm(dim=0, keepdim=True)
    return torch.cat([torch.eye(dim, dtype=torch.float64), extra], dim=1).float()


@dataclass
class CurveParts:
    """The three disjoint parts of curve data, in the user's units: ``train`` (the only points
    the discriminator sees), ``validation`` (the checks during training) and ``test`` (the
    reported figures); ``seeds`` records how they were drawn. Loaded from a model file:
    train is None, and so are validation and test for a CSV (whose rows it never holds)."""

    train: torch.Tensor | None
    validation: torch.Tensor | None
    test: torch.Tensor | None
    seeds: dict[str, int] = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        """Rows per part (0 when unknown)."""
        return {
            name: 0 if part is None else int(part.shape[0])
            for name, part in (
                ("train", self.train),
                ("validation", self.validation),
                ("test", self.test),
            )
        }


def _reference_parts(spec: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """A named shape's or a formula's validation and test parts: :data:`REFERENCE_POINTS`
    fresh points each, drawn with seeds ``data_seed + 1`` and ``data_seed + 2``."""
    kind, seed = spec["source"], int(spec.get("data_seed", 0))
    formula = spec.get("formula") if kind == "formula" else None
    x_range = spec.get("x_range") if kind == "formula" else None
    validation, test = (
        load_curve_dataset(
            kind,
            formula=formula,
            x_range=None if x_range is None else tuple(x_range),
            n=REFERENCE_POINTS,
            seed=seed + k,
        ).points
        for k in (VALIDATION_SEED_OFFSET, TEST_SEED_OFFSET)
    )
    return validation, test


def make_curve_gan_data(
    kind: str,
    *,
    formula: str | None = None,
    x_range: tuple[float, float] | None = None,
    csv: str | None = None,
    n: int = 2048,
    data_seed: int = 0,
    transform: str = "auto",
    batch_size: int = 128,
    select: str = "auto",
    support: str = "auto",
) -> CurveGanData:
    """Build the GAN data for a curve dataset of ``kind`` (exp, sine, formula, csv).

    The training points are :func:`~genlab.data.curves.load_curve_dataset`'s (the book's
    exact data for exp/sine with ``data_seed=0``). A named shape or a formula can draw as many
    points as it likes: validation and test are :data:`REFERENCE_POINTS` fresh points each
    (seeds ``data_seed + 1`` and ``data_seed + 2``). A CSV's rows are split by
    :func:`split_rows`. ``select``: see :data:`SELECTIONS`; ``support``: "on" / "off" for the
    :class:`SupportFilter`, "auto": on for a CSV (whose parts may be separate), off for the
    named shapes and formulas (one connected curve each).
    """
    if support not in SUPPORTS:
        raise ConfigError(f"--support {support!r}: choose one of {', '.join(SUPPORTS)}")
    dataset: CurveDataset = load_curve_dataset(
        kind, formula=formula, x_range=x_range, csv=csv, n=n, seed=data_seed
    )
    spec: dict[str, Any] = {"source": kind, "n": n, "data_seed": data_seed, "transform": transform}
    if kind == "formula":
        spec.update(formula=formula, x_range=list(dataset.x_range or ()))
    if kind == "csv":
        spec.update(csv=str(csv), n=int(dataset.points.shape[0]))
        parts = split_rows(dataset.points, data_seed, source=str(csv))
    else:
        fresh = _reference_parts(spec)
        seeds = {
            "train_seed": data_seed,
            "validation_seed": data_seed + VALIDATION_SEED_OFFSET,
            "test_seed": data_seed + TEST_SEED_OFFSET,
        }
        parts = CurveParts(dataset.points, fresh[0], fresh[1], seeds)
    assert parts.train is not None
    columns = ColumnTransform.fit(parts.train, transform)
    filtered = support == "on" or (support == "auto" and kind == "csv")
    return CurveGanData(
        kind if kind in SHAPES else dataset.name,
        dataset.columns,
        columns,
        parts,
        relation=dataset.relation,
        # a CSV's x domain is its train part's (the file's would tell selection the held-out
        # parts' extremes)
        x_range=None if kind == "csv" else dataset.x_range,
        spec=spec,
        batch_size=batch_size,
        book_reference="gan-exp" if kind == "exp" else None,
        select=select,
        support=SupportFilter.fit(parts.train) if filtered else None,
    )


def split_rows(points: torch.Tensor, seed: int, source: str = "the data") -> CurveParts:
    """A CSV's rows in three disjoint parts, shuffled with ``seed``: :data:`HOLDOUT_FRACTION`
    of the rows (at least :data:`MIN_HOLDOUT` each) for validation and for test, the rest for
    training. Fewer than :data:`MIN_ROWS` rows are refused."""
    n = points.shape[0]
    if n < MIN_ROWS:
        raise DataError(
            f"{source} has {n} rows; a GAN needs at least {MIN_ROWS} (at least {MIN_HOLDOUT} "
            f"for validation, {MIN_HOLDOUT} for test, the rest to train)"
        )
    held = max(MIN_HOLDOUT, round(HOLDOUT_FRACTION * n))
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    validation, test, train = order[:held], order[held : 2 * held], order[2 * held :]
    return CurveParts(points[train], points[validation], points[test], {"split_seed": seed})


# --------------------------------------------------------------------------- data kinds


def _add_data_flags(parser: argparse.ArgumentParser, kind: str) -> None:
    """The flags of curve kind ``kind`` (their ``dest``s are the Python API's options)."""
    group = parser.add_argument_group("data")
    if kind == "csv":
        group.add_argument(
            "--csv",
            required=True,
            metavar="FILE",
            help="numeric columns, header optional (tab, ; or , separated); the rows are split "
            "70%% train / 15%% validation / 15%% test (at least 10 rows)",
        )
    else:
        group.add_argument("--n", type=int, metavar="N", help="training points (default 2048)")
    if kind == "formula":
        group.add_argument(
            "--formula",
            required=True,
            metavar="EXPR",
            help="y = f(x), e.g. 'x**2/10 - 3' or 'sin(x)*exp(-x/5)' (numbers, x, + - * / **, "
            "parentheses, sin cos tan exp log sqrt abs tanh ..., pi, e)",
        )
        group.add_argument(
            "--x-range",
            type=float,
            nargs=2,
            metavar=("LOW", "HIGH"),
            help="x is drawn uniformly from [LOW, HIGH) (default -5 5)",
        )
    group.add_argument(
        "--select",
        choices=SELECTIONS,
        help="what picks the generator on the validation part: formula (distance from the "
        "known y = f(x)), data (distribution and distance to the real points only) or auto "
        "(formula where one is known; the default)",
    )
    group.add_argument(
        "--support",
        choices=SUPPORTS,
        help="redraw generated points that lie off the training data (in a grid cell with "
        f"fewer than {SUPPORT_MIN_COUNT} training rows in its block of neighbours): removes "
        "bridges between separate parts; auto (the default): on for CSV data, off for shapes "
        "and formulas",
    )
    group.add_argument(
        "--data-seed",
        type=int,
        metavar="N",
        help="seed of the rows' split"
        if kind == "csv"
        else "seed of the data (default 0: "
        "the book's points; validation and test use this seed + 1 and + 2)",
    )


def _curve_kind(kind: str, help_text: str, options: tuple[str, ...]) -> DataKind:
    def build(given: Mapping[str, Any], config: GanConfig) -> GanAdapter:
        options = dict(given)
        if options.get("x_range") is not None:
            options["x_range"] = tuple(options["x_range"])
        return make_curve_gan_data(
            kind, transform=config.transform, batch_size=config.batch_size, **options
        )

    def base_config(preset: str, given: Mapping[str, Any]) -> GanConfig:
        if preset == "book":
            return GanConfig.book()
        # A CSV selects on the data alone, which keeps improving slowly on hard shapes (a
        # spiral): at most CSV_EPOCHS keeps a 2,048-row run within a minute here.
        return GanConfig(epochs=CSV_EPOCHS) if kind == "csv" else GanConfig()

    def show(given: Mapping[str, Any]) -> tuple[torch.Tensor, list[str] | None, str]:
        options = {k: v for k, v in given.items() if k not in CHOICES}
        seed = options.pop("data_seed", 0)
        dataset = load_curve_dataset(kind, seed=seed, **options)
        return dataset.points, dataset.columns, dataset.name

    return DataKind(
        kind,
        help_text,
        options,
        lambda parser: _add_data_flags(parser, kind),
        build,
        base_config,
        show,
    )


#: genlab's default epoch cap for CSV data (measured: bench/csv_gan.py).
CSV_EPOCHS = 1200
#: Options every curve kind takes besides its data's.
CHOICES = ("select", "support")
#: The curve kinds (see :mod:`genlab.gan.registry`); they alone transform columns.
KINDS = tuple(
    kind.with_(extra_flags=("transform",))
    for kind in (
        _curve_kind(
            "exp",
            "y = 1.08^x, x in [0, 50): the book's data (2048 points)",
            ("n", "data_seed", *CHOICES),
        ),
        _curve_kind(
            "sine", "y = sin(x), x in [-5, 5): the book's exercise", ("n", "data_seed", *CHOICES)
        ),
        _curve_kind(
            "formula",
            "y = f(x) for a formula you type",
            ("formula", "x_range", "n", "data_seed", *CHOICES),
        ),
        _curve_kind("csv", "numeric columns from a CSV file", ("csv", "data_seed", *CHOICES)),
    )
)
ADAPTERS = (CurveGanData,)
