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
  come back in the user's units; the transform's numbers travel in the model file.
  (Measured on the book's exp data: standardised x and logged y reached 0.2-0.6% median
  relative error of y, but w1 of x stayed at 0.042-0.046 with 0.3-0.4% of x out of range
  after 600 epochs; with the quantile transform the default run stops at epoch ~570 with
  0.15%, 0.016 and nothing out of range.)
* **Three parts.** The discriminator sees the train part only. For a named shape or a formula
  (which can draw as many points as it likes) the train part is the book's points
  (``--data-seed``), and validation and test are 10,000 fresh points each from seeds
  ``data_seed + 1`` and ``data_seed + 2``. A CSV's rows are shuffled with ``--data-seed`` and
  split 15% validation, 15% test (at least 2 rows each), the rest train; fewer than 10 rows
  are refused and a test part under 200 rows gets a warning.
* **Figures.** :meth:`CurveGanData.validation_figures` (every few epochs, in milliseconds)
  returns ``score`` and its parts against the validation part; ``score`` (lower is better)
  is, in model space, the sliced 1-D Wasserstein distance (mean over fixed directions, the
  axes among them) + the fraction of points whose x lies outside the data's x domain + with
  ``select="formula"`` (named shapes and formulas by default) the RMS distance of generated
  y from f(x) (each point's term capped at 1), or with ``select="data"`` (CSV data) the share
  the support filter rejects + 0.3 x ``nn_excess`` (nearest-neighbour distances between
  generated and validation points, both ways, over those of the training points, minus 1).
* **Support filter.** For CSV data a :class:`SupportFilter` redraws generated points that lie
  outside every training point's k-NN ball: the bridges a generator draws between separate
  parts of the data. :meth:`CurveGanData.test_figures` returns
  :func:`genlab.evaluation.samples.curve_metrics` against the test part, the relation figures
  from the formula itself.
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
from genlab.gan.adapter import GanAdapter
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
#: Knots of a quantile column's piecewise-linear CDF.
QUANTILE_KNOTS = 1025
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
#: Neighbours behind each training point's ball in the support filter.
SUPPORT_K = 5
#: At most this many training points carry balls (a seeded subsample beyond).
SUPPORT_POINTS = 8192
#: Seed offsets of the validation and test draws of named shapes and formulas.
VALIDATION_SEED_OFFSET = 1
TEST_SEED_OFFSET = 2


def _skewness(values: torch.Tensor) -> float:
    values = values.double()
    std = values.std(unbiased=False)
    if float(std) == 0.0:
        return 0.0
    return float((((values - values.mean()) / std) ** 3).mean())


class ColumnTransform(nn.Module):
    """Per-column maps between user units and model space; invertible.

    Each column has a mode: ``standard`` (``(v - mean) / std``), ``log`` (``log v``, then
    standardised), ``quantile`` (the column's empirical CDF, linear between
    :data:`QUANTILE_KNOTS` knots, then the standard normal's inverse CDF: any distribution
    becomes a standard normal, and decoding can only give values inside the training range)
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
        levels = torch.linspace(0, 1, QUANTILE_KNOTS, dtype=torch.float64)
        knots = torch.quantile(points, levels, dim=0)  # (Q, C)
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


class SupportFilter(nn.Module):
    """Keeps the samples that lie on the data: within the k-NN ball of some training point
    (the ball reaches that point's :data:`SUPPORT_K`-th nearest training neighbour: the
    manifold of Kynkaanniemi et al.'s precision), in the data's units standardised per column
    (not in model space, whose quantile columns close the gaps between separate parts). A
    generator maps one connected noise space onto the data, so it draws thin bridges between
    separate parts (clusters, a spiral's arms); those samples fall outside every ball and are
    redrawn. ``forward`` gives the bool mask of samples to keep; plain torch, so it exports.
    """

    points: torch.Tensor
    radii: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self, points: torch.Tensor, radii: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
    ) -> None:
        super().__init__()
        for name, value in (("points", points), ("radii", radii), ("mean", mean), ("std", std)):
            self.register_buffer(name, torch.as_tensor(value, dtype=torch.float32).clone())

    @classmethod
    def fit(cls, points: torch.Tensor, k: int = SUPPORT_K) -> SupportFilter:
        """The balls of (at most :data:`SUPPORT_POINTS`, seeded) training points, given in
        the data's units."""
        points = points.double()
        mean = points.mean(dim=0)
        std = points.std(dim=0).clamp_min(1e-12)
        scaled = (points - mean) / std
        if scaled.shape[0] > SUPPORT_POINTS:
            keep = torch.randperm(scaled.shape[0], generator=torch.Generator().manual_seed(0))
            scaled = scaled[keep[:SUPPORT_POINTS]]
        k = min(k, scaled.shape[0] - 1)
        distances, _ = cKDTree(scaled.numpy()).query(scaled.numpy(), k=k + 1)
        return cls(scaled, torch.from_numpy(distances[:, -1]), mean, std)

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        """(N, dim) samples in the data's units -> (N,) bool: inside some ball."""
        scaled = (samples.float() - self.mean) / self.std
        return (torch.cdist(scaled, self.points) <= self.radii).any(dim=1)


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
        # The data's x domain: out-of-range figures count generated x outside it.
        if x_range is None:
            known = torch.cat(
                [p for p in (parts.train, parts.validation, parts.test) if p is not None]
            )
            x_range = (float(known[:, 0].min()), float(known[:, 0].max()))
        self.x_range = (float(x_range[0]), float(x_range[1]))
        self._train_model: dict[torch.device, torch.Tensor] = {}
        self._decoders: dict[torch.device, ColumnTransform] = {}
        self._val_model = transform.encode(parts.validation)
        self._val_quantiles: dict[int, torch.Tensor] = {}
        self._directions = _slice_directions(self.dim)
        self._support = support
        # Data-only selection: how far generated points lie from the validation points, over
        # how far real (training) points lie from them.
        self._val_tree = cKDTree(self._val_model.double().numpy())
        self._nn_floor: tuple[float, float] | None = None

    @property
    def train(self) -> torch.Tensor | None:
        """The train part (None when loaded from a model file)."""
        return self.parts.train

    @property
    def validation(self) -> torch.Tensor:
        """The validation part (what the checks during training compare with)."""
        return self.parts.validation

    @property
    def test(self) -> torch.Tensor:
        """The test part (what the reported figures compare with)."""
        return self.parts.test

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
        out of range: x outside the data's x domain)."""
        samples = samples.detach().cpu().float()
        return curve_metrics(
            samples,
            self.parts.test,
            relation=self.relation,
            columns=self.columns,
            x_range=self.x_range,
        )

    @torch.no_grad()
    def validation_figures(self, samples: torch.Tensor) -> dict[str, float]:
        """``score`` and its parts against the validation part (model space; milliseconds)."""
        samples = samples.detach().cpu().float()
        finite = torch.isfinite(samples).all(dim=1)
        model = self.transform.encode(samples[finite])
        rejected = 0.0
        if self._support is not None and model.shape[0]:
            keep = self._support(samples[finite])
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
        figures["score"] = score
        return figures

    def warnings(self, figures: dict[str, Any]) -> list[str]:
        """A warning when the test part is too small for its figures to mean much."""
        n_test = int(self.parts.test.shape[0])
        if n_test >= SMALL_TEST_PART:
            return []
        return [
            f"the test part has only {n_test} rows: distribution figures (w1, js, mmd, "
            "precision/recall) on so few points are rough; more rows give firmer figures"
        ]

    # ---------------------------------------------------------------- description

    def splits(self) -> dict[str, Any]:
        """Sizes and seeds of the three parts."""
        return {**self.parts.sizes(), **self.parts.seeds}

    def real_points(self, n: int) -> torch.Tensor:
        """Up to ``n`` test points (the data's units), for plots."""
        return self.parts.test[:n].clone()

    def to_dict(self) -> dict[str, Any]:
        """What :meth:`from_dict` needs to decode and evaluate (validation and test parts,
        not the training points)."""
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
            "validation": self.parts.validation.clone(),
            "test": self.parts.test.clone(),
            **({} if self._support is None else {"support": dict(self._support.state_dict())}),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CurveGanData:
        """Rebuild for decoding and evaluation (``real_batches`` needs the training points)."""
        try:
            relation = None if values.get("relation") is None else parse_formula(values["relation"])
            seeds = {k: v for k, v in values.get("splits", {}).items() if k.endswith("seed")}
            return cls(
                values["name"],
                list(values["columns"]),
                ColumnTransform.from_dict(values["transform"]),
                CurveParts(None, values["validation"].float(), values["test"].float(), seeds),
                relation=relation,
                x_range=tuple(values["x_range"]),
                spec=values.get("spec", {}),
                book_reference=values.get("book_reference"),
                select=values.get("select", "auto"),
                support=None if "support" not in values else SupportFilter(**values["support"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RunFileError(
                f"the model file's curve data description is damaged or from an older genlab "
                f"({exc}); train the run again"
            ) from exc

    def describe(self) -> str:
        """One line: what the data is, its parts and how it is transformed."""
        sizes = self.parts.sizes()
        return (
            f"{self.name}: {sizes['train']} training, {sizes['validation']} validation and "
            f"{sizes['test']} test points; " + "; ".join(self.transform.describe(self.columns))
        )

    # ---------------------------------------------------------------- helpers

    def _require_train(self) -> torch.Tensor:
        if self.parts.train is None:
            raise DataError(
                "this curve data was loaded from a model file and has no "
                "training points; rebuild it with make_curve_gan_data"
            )
        return self.parts.train

    def _nn_excess(self, model: torch.Tensor) -> float:
        """How much farther generated points and validation points lie from each other than
        training and validation points do (model space, nearest neighbours both ways; 0 for
        a sample of the data). Points off the data (scatter around a curve, bridges) raise the
        first half; missing parts of the data (collapsed modes, too narrow clusters) the
        second."""
        validation = self._val_model.double().numpy()
        if self._nn_floor is None:
            reference = self.parts.train if self.parts.train is not None else self.parts.test
            points = self.transform.encode(reference).double().numpy()
            to_validation = self._val_tree.query(points)[0].mean()
            from_validation = cKDTree(points).query(validation)[0].mean()
            self._nn_floor = (max(float(to_validation), 1e-12), max(float(from_validation), 1e-12))
        generated = model.double().numpy()
        to_validation = self._val_tree.query(generated)[0].mean() / self._nn_floor[0]
        from_validation = cKDTree(generated).query(validation)[0].mean() / self._nn_floor[1]
        return float(0.5 * (to_validation + from_validation)) - 1.0

    def support(self) -> nn.Module | None:
        """The support filter (CSV data by default; see :class:`SupportFilter`): decoded
        samples -> keep mask; or None."""
        return self._support

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
    the discriminator sees; None when loaded from a model file), ``validation`` (the checks
    during training) and ``test`` (the reported figures); ``seeds`` records how they were
    drawn."""

    train: torch.Tensor | None
    validation: torch.Tensor
    test: torch.Tensor
    seeds: dict[str, int] = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        """Rows per part (train: 0 when unknown)."""
        return {
            "train": 0 if self.train is None else int(self.train.shape[0]),
            "validation": int(self.validation.shape[0]),
            "test": int(self.test.shape[0]),
        }


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
        fresh = [
            load_curve_dataset(
                kind, formula=formula, x_range=x_range, n=REFERENCE_POINTS, seed=data_seed + k
            ).points
            for k in (VALIDATION_SEED_OFFSET, TEST_SEED_OFFSET)
        ]
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
        x_range=dataset.x_range,
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
        help="redraw generated points that lie off the training data (outside every training "
        "point's 5-nearest-neighbour ball): removes bridges between separate parts; auto (the "
        "default): on for CSV data, off for shapes and formulas",
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
#: The curve kinds (see :mod:`genlab.gan.registry`).
KINDS = (
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
ADAPTERS = (CurveGanData,)
