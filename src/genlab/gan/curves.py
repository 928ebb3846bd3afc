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
* **Held-out points.** Early stopping and evaluation compare generated points with real points
  the networks never saw: for a named shape or a formula, 10,000 fresh points drawn from the
  same distribution with another seed; for a CSV, a seeded 20% of its rows (all rows when the
  file is too small to split).
* **Figures.** :meth:`CurveGanData.evaluate` returns
  :func:`genlab.evaluation.samples.curve_metrics` plus ``score``;
  :meth:`CurveGanData.quick_evaluate` returns ``score`` and its parts in a few milliseconds,
  for the checks every few epochs. ``score`` (lower is better) is, in model space, the sliced
  1-D Wasserstein distance (mean over fixed directions, the axes among them) + the RMS distance
  of generated y from f(x) (when the relation is known; each point's term capped at 1) + the
  fraction of points whose x lies outside the real x range.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

from genlab.data.batching import batch_indices, epoch_permutation, num_batches
from genlab.data.curves import SHAPES, CurveDataset, load_curve_dataset
from genlab.errors import ConfigError, DataError, RunFileError
from genlab.evaluation.samples import curve_metrics
from genlab.expressions import Expression, parse_formula

__all__ = [
    "REFERENCE_POINTS",
    "TRANSFORMS",
    "ColumnTransform",
    "CurveGanData",
    "make_curve_gan_data",
]

#: Held-out points drawn for a named shape or a formula.
REFERENCE_POINTS = 10_000
#: Share of a CSV's rows held out (when it has at least :data:`MIN_ROWS_TO_SPLIT` rows).
CSV_HELDOUT_FRACTION = 0.2
MIN_ROWS_TO_SPLIT = 20
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
#: Seed offset of the held-out draw for named shapes and formulas.
HELDOUT_SEED_OFFSET = 1


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


class CurveGanData:
    """Curve points for a GAN (see the module docstring). Implements ``GanData``."""

    kind = "curve"
    monitor = "score"
    monitor_mode = "min"

    def __init__(
        self,
        name: str,
        columns: list[str],
        transform: ColumnTransform,
        reference: torch.Tensor,
        *,
        train: torch.Tensor | None = None,
        relation: Expression | None = None,
        x_range: tuple[float, float] | None = None,
        spec: dict[str, Any] | None = None,
        batch_size: int = 128,
    ) -> None:
        self.name = name
        self.columns = list(columns)
        self.dim = len(self.columns)
        self.transform = transform
        self.reference = reference.float()
        self.train = None if train is None else train.float()
        self.relation = relation
        self.x_range = x_range
        self.spec = dict(spec or {})
        self.batch_size = batch_size
        self._train_model: dict[torch.device, torch.Tensor] = {}
        self._decoders: dict[torch.device, ColumnTransform] = {}
        self._ref_model = transform.encode(self.reference)
        self._ref_quantiles: dict[int, torch.Tensor] = {}
        self._directions = _slice_directions(self.dim)
        self._x_lo = float(self.reference[:, 0].min())
        self._x_hi = float(self.reference[:, 0].max())
        if train is not None:
            self._x_lo = min(self._x_lo, float(train[:, 0].min()))
            self._x_hi = max(self._x_hi, float(train[:, 0].max()))

    # ---------------------------------------------------------------- GanData protocol

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

    def evaluate(self, samples: torch.Tensor) -> dict[str, float]:
        """All figures (:func:`curve_metrics` against the held-out points) plus ``score``."""
        samples = samples.detach().cpu().float()
        figures = curve_metrics(
            samples, self.reference, relation=self.relation, columns=self.columns
        )
        figures.update(self.quick_evaluate(samples))
        return figures

    @torch.no_grad()
    def quick_evaluate(self, samples: torch.Tensor) -> dict[str, float]:
        """``score`` and its parts (model space; cheap enough for every epoch)."""
        samples = samples.detach().cpu().float()
        finite = torch.isfinite(samples).all(dim=1)
        model = self.transform.encode(samples[finite])
        if model.shape[0] < 2:
            return {
                "score": math.inf,
                "sliced_w1": math.inf,
                "relation_rms": math.inf,
                "x_out": 1.0,
            }
        # Sliced W1: sort the projections, compare with the reference's quantiles.
        projected = (model @ self._directions).sort(dim=0).values  # (n, slices)
        reference = self._reference_quantiles(model.shape[0])
        sliced = float((projected - reference).abs().mean())
        x = samples[finite, 0]
        x_out = 1.0 - float(((x >= self._x_lo) & (x <= self._x_hi)).sum()) / samples.shape[0]
        figures = {"sliced_w1": sliced, "x_out": x_out}
        score = sliced + x_out
        if self.relation is not None and self.dim >= 2:
            residual = self._relation_residual(samples[finite], model)
            figures["relation_rms"] = float(residual.pow(2).mean().sqrt())
            score += figures["relation_rms"]
        figures["score"] = score
        return figures

    def to_dict(self) -> dict[str, Any]:
        """What :meth:`from_dict` needs to decode and evaluate (no training points)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "columns": list(self.columns),
            "relation": None if self.relation is None else self.relation.text,
            "x_range": None if self.x_range is None else list(self.x_range),
            "spec": dict(self.spec),
            "transform": self.transform.to_dict(),
            "reference": self.reference.clone(),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CurveGanData:
        """Rebuild for decoding and evaluation (``real_batches`` needs the training points)."""
        try:
            relation = None if values.get("relation") is None else parse_formula(values["relation"])
            x_range = values.get("x_range")
            return cls(
                values["name"],
                list(values["columns"]),
                ColumnTransform.from_dict(values["transform"]),
                values["reference"],
                relation=relation,
                x_range=None if x_range is None else tuple(x_range),
                spec=values.get("spec", {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RunFileError(
                f"the model file's curve data description is damaged ({exc})"
            ) from exc

    # ---------------------------------------------------------------- helpers

    def describe(self) -> str:
        """One line: what the data is and how it is transformed."""
        n = "?" if self.train is None else str(self.train.shape[0])
        return (
            f"{self.name}: {n} training points, {self.reference.shape[0]} held out; "
            + "; ".join(self.transform.describe(self.columns))
        )

    def _require_train(self) -> torch.Tensor:
        if self.train is None:
            raise DataError(
                "this curve data was loaded from a model file and has no "
                "training points; rebuild it with make_curve_gan_data"
            )
        return self.train

    def _reference_quantiles(self, n: int) -> torch.Tensor:
        cached = self._ref_quantiles.get(n)
        if cached is None:
            projected = (self._ref_model @ self._directions).sort(dim=0).values
            levels = (torch.arange(n, dtype=torch.float32) + 0.5) / n
            position = levels * (projected.shape[0] - 1)
            lower = position.floor().long()
            upper = (lower + 1).clamp_max(projected.shape[0] - 1)
            weight = (position - lower).unsqueeze(1)
            cached = projected[lower] * (1 - weight) + projected[upper] * weight
            self._ref_quantiles[n] = cached
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
) -> CurveGanData:
    """Build the GAN data for a curve dataset of ``kind`` (exp, sine, formula, csv).

    The training points are :func:`~genlab.data.curves.load_curve_dataset`'s (the book's
    exact data for exp/sine with ``data_seed=0``). Held-out points: 10,000 fresh points for a
    named shape or a formula (seed ``data_seed + 1``), a seeded 20% of a CSV's rows.
    """
    dataset: CurveDataset = load_curve_dataset(
        kind, formula=formula, x_range=x_range, csv=csv, n=n, seed=data_seed
    )
    spec: dict[str, Any] = {"source": kind, "n": n, "data_seed": data_seed, "transform": transform}
    if kind == "formula":
        spec.update(formula=formula, x_range=list(dataset.x_range or ()))
    if kind == "csv":
        spec.update(csv=str(csv), n=int(dataset.points.shape[0]))
    points = dataset.points
    if kind == "csv":
        train, reference = _split_rows(points, data_seed)
    else:
        train = points
        reference = load_curve_dataset(
            kind,
            formula=formula,
            x_range=x_range,
            n=REFERENCE_POINTS,
            seed=data_seed + HELDOUT_SEED_OFFSET,
        ).points
    name = kind if kind in SHAPES else dataset.name
    return CurveGanData(
        name,
        dataset.columns,
        ColumnTransform.fit(train, transform),
        reference,
        train=train,
        relation=dataset.relation,
        x_range=dataset.x_range,
        spec=spec,
        batch_size=batch_size,
    )


def _split_rows(points: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, held-out) rows of a CSV; both all rows when there are too few to split."""
    n = points.shape[0]
    if n < MIN_ROWS_TO_SPLIT:
        return points, points
    held = max(2, round(CSV_HELDOUT_FRACTION * n))
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return points[order[held:]], points[order[:held]]
