"""Monotone maps of numbers onto the standard normal, shared by the table GAN's calibration
(:func:`genlab.gan.table.calibrate`, the critic's maps) and its target model: knots at
:data:`CALIBRATION_LEVELS` quantile levels of generated values, mapped piecewise-linearly
onto the normal's quantiles at the same levels (the train part's own model-space marginal)."""

from __future__ import annotations

import torch

#: Quantile levels of a map (its knots).
CALIBRATION_LEVELS = 200


def _levels() -> torch.Tensor:
    return (torch.arange(CALIBRATION_LEVELS, dtype=torch.float64) + 0.5) / CALIBRATION_LEVELS


def normal_quantiles() -> torch.Tensor:
    """(1, :data:`CALIBRATION_LEVELS`) standard normal quantiles at the levels' midpoints."""
    return torch.special.ndtri(_levels()).float().unsqueeze(0)


def quantile_knots(values: torch.Tensor) -> torch.Tensor | None:
    """(:data:`CALIBRATION_LEVELS`,) strictly increasing quantiles of ``values`` at the
    levels (the "from" knots of a map onto :func:`normal_quantiles`); None with fewer values
    than levels."""
    if values.numel() < CALIBRATION_LEVELS:
        return None
    knots = torch.quantile(values.double(), _levels()).float()
    # strictly increasing (a generator that repeats a value makes flat steps)
    knots = knots + 1e-6 * torch.arange(CALIBRATION_LEVELS, dtype=torch.float32)
    return torch.cummax(knots, dim=0).values


def piecewise_linear(x: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """Row-wise monotone map of ``x`` (C, B) through the knots ``xs`` -> ``ys`` (C, K, both
    increasing): linear between knots, slope 1 beyond the end ones."""
    k = xs.shape[1]
    upper = torch.searchsorted(xs, x).clamp(1, k - 1)
    x0, x1 = xs.gather(1, upper - 1), xs.gather(1, upper)
    y0, y1 = ys.gather(1, upper - 1), ys.gather(1, upper)
    inside = y0 + (x - x0) * (y1 - y0) / (x1 - x0).clamp_min(1e-12)
    below = ys[:, :1] + (x - xs[:, :1])
    above = ys[:, -1:] + (x - xs[:, -1:])
    return torch.where(x < xs[:, :1], below, torch.where(x > xs[:, -1:], above, inside))
