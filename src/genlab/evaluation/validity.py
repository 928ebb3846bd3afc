"""Validity, coverage and mode collapse for generated integers.

:func:`integer_metrics` compares generated integers with an
:class:`~genlab.data.integers.IntegerPattern`; :func:`collapse_warning` turns the numbers into
a one-line warning when the generator misses valid values or its distribution is far from the
real one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.spatial.distance import jensenshannon

from genlab.data.integers import IntegerPattern
from genlab.errors import DataError

__all__ = ["JS_WARN_THRESHOLD", "collapse_warning", "integer_metrics"]

#: A JS divergence (base 2, in [0, 1]) above this triggers :func:`collapse_warning`.
#: A perfect generator's empirical distribution over K values from N samples has an expected
#: divergence of about (K - 1) / (8 N ln 2): 0.0034 for K = 20, N = 1000.
JS_WARN_THRESHOLD = 0.05


def integer_metrics(generated: torch.Tensor, pattern: IntegerPattern) -> dict[str, Any]:
    """Measure generated integers against a pattern; return plain, JSON-ready numbers.

    Keys:
        ``n_samples``: number of generated integers.
        ``validity``: fraction of generated integers that are valid values.
        ``coverage``: fraction of the valid values generated at least once.
        ``covered``: number of valid values generated at least once.
        ``n_valid_values``: number of valid values in the pattern.
        ``js``: the Jensen-Shannon **divergence** (base 2, so in [0, 1]; the square of
            scipy's Jensen-Shannon *distance*) between the generated distribution and the real
            one ``pattern.probs``, on the support ``[0, max_value)`` plus one bucket for values
            outside it. The real distribution is zero on every invalid value, and each invalid
            value's term in the divergence is linear in its generated share, so all invalid
            values (in range or not) are pooled into one bucket: the result is the same.
        ``unique``: number of distinct generated integers (valid or not).
        ``top_share``: the largest fraction of the samples that one integer takes.

    Coverage depends on the sample size: a perfect generator drawing N samples from K equally
    likely values misses about ``K (1 - 1/K)**N`` of them, so evaluate with N >> K (e.g. 50 K).

    Raises:
        DataError: ``generated`` is empty or not integers.
    """
    ints = torch.as_tensor(generated).detach()
    if ints.dtype.is_floating_point or ints.dtype.is_complex or ints.dtype == torch.bool:
        raise DataError(f"generated values must be integers, got dtype {ints.dtype}")
    ints = ints.reshape(-1).to(device="cpu", dtype=torch.int64)
    n_samples = int(ints.numel())
    if n_samples == 0:
        raise DataError("there are no generated values to evaluate; generate at least one")

    values = pattern.values
    k = int(values.numel())
    # Index of each generated integer among the valid values, or k for an invalid one.
    pos = torch.searchsorted(values, ints).clamp_(max=k - 1)
    valid = values[pos] == ints
    bucket = torch.where(valid, pos, torch.full_like(pos, k))
    counts = torch.bincount(bucket, minlength=k + 1)

    n_valid = int(counts[:k].sum())
    covered = int((counts[:k] > 0).sum())
    _, value_counts = torch.unique(ints, return_counts=True)

    p = counts.to(torch.float64).numpy() / n_samples
    q = np.append(pattern.probs.numpy(), 0.0)
    js = float(jensenshannon(p, q, base=2) ** 2)
    js = min(max(js, 0.0), 1.0) if np.isfinite(js) else 1.0

    return {
        "n_samples": n_samples,
        "validity": n_valid / n_samples,
        "coverage": covered / k,
        "covered": covered,
        "n_valid_values": k,
        "js": js,
        "unique": int(value_counts.numel()),
        "top_share": int(value_counts.max()) / n_samples,
    }


def collapse_warning(
    metrics: dict[str, Any], js_threshold: float = JS_WARN_THRESHOLD
) -> str | None:
    """Return a one-line warning about mode collapse, or ``None`` when all looks well.

    It warns when some valid values were never generated (coverage < 1) or when the JS
    divergence exceeds ``js_threshold`` (default 0.05, base 2). ``metrics`` is the output of
    :func:`integer_metrics`.
    """
    parts: list[str] = []
    covered = int(metrics["covered"])
    total = int(metrics["n_valid_values"])
    if covered < total:
        parts.append(f"mode collapse: only {covered} of {total} valid values generated")
    js = float(metrics["js"])
    if js > js_threshold:
        parts.append(
            f"generated distribution far from the real one: "
            f"JS divergence {js:.3f} > {js_threshold:g}"
        )
    return "; ".join(parts) if parts else None
