"""Figures of a synthetic table against a real one: the SDV ecosystem's own.

* ``quality``: SDMetrics' definitions, computed with the ``sdmetrics`` package's column and
  pair metrics (an extra: ``pip install genlab[table]``). ``column_shapes`` = the mean over
  columns of KSComplement (numbers, dates) or TVComplement (categories; an empty cell is a
  category of its own); ``pair_trends`` = the mean over **all** column pairs of
  CorrelationSimilarity (two numeric columns, Pearson, on rows where both have a value) or
  ContingencySimilarity (otherwise; numbers binned in 10); ``quality`` = their mean. Each
  metric's association threshold is 0 (every pair counts).
* ``ml_efficacy``: a scikit-learn HistGradientBoosting model (regressor for a number,
  classifier for a category) trained on the synthetic rows, scored on the real test rows
  (R² or accuracy) for one target column; ``ml_efficacy_real`` the same model trained on
  the real train rows.
* ``missing_gap``: the largest difference, over columns, between the synthetic and the real
  share of empty cells (percentage points / 100).

Tables come in as :func:`metric_frame` makes them: numbers (dates as seconds) as float
columns with NaN, categories as text with empty cells spelt :data:`EMPTY`.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np

from genlab.errors import ConfigError

__all__ = ["EMPTY", "metric_frame", "ml_efficacy", "ml_score", "quality"]

#: How an empty category cell is spelt in the metric tables.
EMPTY = "(empty)"


def _sdmetrics() -> Any:
    try:
        import sdmetrics  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the table figures need the sdmetrics package: pip install 'genlab[table]'"
        ) from None
    from sdmetrics import column_pairs, single_column

    return single_column, column_pairs


def metric_frame(codec: Any, frame: Any) -> Any:
    """A table (text cells as read, or :meth:`TableCodec.frame`'s typed cells) -> the metric
    table of its modelled columns: numbers and dates as float (dates in seconds), categories
    as text."""
    import pandas as pd

    from genlab.data.table import _codes_of

    out = {}
    for spec in codec.modelled:
        column = frame[spec.name]
        if spec.numeric:
            if spec.type == "datetime":
                text = column.astype(object).where(column.notna(), None)
                out[spec.name] = _codes_of(spec, text)
            else:
                out[spec.name] = pd.to_numeric(column, errors="coerce").astype(float).to_numpy()
        else:
            cells = column.astype(object).where(column.notna(), EMPTY).astype(str)
            out[spec.name] = cells.to_numpy()
    return pd.DataFrame(out)


def quality(real: Any, synthetic: Any, numeric: list[str]) -> dict[str, float]:
    """``column_shapes``, ``pair_trends`` and ``quality`` of ``synthetic`` against ``real``
    (metric tables; ``numeric``: their number and date columns)."""
    single_column, column_pairs = _sdmetrics()
    shapes = []
    for name in real.columns:
        if name in numeric:
            r, s = real[name].dropna(), synthetic[name].dropna()
            score = single_column.KSComplement.compute(r, s) if len(r) and len(s) else 0.0
        else:
            score = single_column.TVComplement.compute(real[name], synthetic[name])
        shapes.append(float(score))
    pairs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for a, b in itertools.combinations(list(real.columns), 2):
            if a in numeric and b in numeric:
                r, s = real[[a, b]].dropna(), synthetic[[a, b]].dropna()
                if len(r) < 2 or len(s) < 2 or r[a].std() == 0 or r[b].std() == 0:
                    score = 1.0 if len(s) else 0.0
                elif s[a].std() == 0 or s[b].std() == 0:
                    score = 0.5
                else:
                    score = column_pairs.CorrelationSimilarity.compute(
                        r, s, coefficient="Pearson", real_correlation_threshold=0
                    )
            else:
                score = _contingency(real[[a, b]], synthetic[[a, b]], numeric, column_pairs)
            pairs.append(float(score))
    column_shapes = float(np.mean(shapes)) if shapes else 1.0
    pair_trends = float(np.mean(pairs)) if pairs else column_shapes
    return {
        "quality": 0.5 * (column_shapes + pair_trends),
        "column_shapes": column_shapes,
        "pair_trends": pair_trends,
    }


def _contingency(real: Any, synthetic: Any, numeric: list[str], column_pairs: Any) -> float:
    """ContingencySimilarity with numbers binned in 10; a number's empty cells form a bin of
    their own (sdmetrics would drop them)."""
    continuous = [c for c in real.columns if c in numeric]
    if any(real[c].isna().any() or synthetic[c].isna().any() for c in continuous):
        real, synthetic = real.copy(), synthetic.copy()
        for c in continuous:
            edges = np.unique(np.nanquantile(real[c].to_numpy(dtype=float), np.linspace(0, 1, 11)))
            for frame in (real, synthetic):
                values = frame[c].to_numpy(dtype=float)
                bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
                frame[c] = np.where(np.isnan(values), EMPTY, bins.astype(str)).astype(object)
        continuous = []
    return float(
        column_pairs.ContingencySimilarity.compute(
            real,
            synthetic,
            continuous_column_names=continuous or None,
            num_discrete_bins=10,
            real_association_threshold=0,
        )
    )


#: Levels of one category a HistGradientBoosting model takes (scikit-learn's limit).
MAX_MODEL_LEVELS = 255


def ml_score(
    fit_on: Any,
    test: Any,
    target: str,
    numeric: list[str],
    *,
    seed: int = 0,
    levels_from: list[Any] | None = None,
) -> float:
    """scikit-learn's HistGradientBoosting model of ``target`` (a regressor for a ``numeric``
    column, else a classifier) fitted on ``fit_on``, scored on ``test`` (R² or accuracy;
    NaN with nothing to learn from). Metric tables in; a category's levels are those of
    ``levels_from`` (more tables), ``fit_on`` and ``test``, the model's most common ones
    (:data:`MAX_MODEL_LEVELS`) counted in the first of them."""
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    frames = [*(levels_from or []), fit_on, test]
    reference = frames[0]
    features = [c for c in reference.columns if c != target]
    regression = target in numeric
    categories = {}
    for c in features:
        if c in numeric:
            continue
        levels = sorted(set().union(*(set(frame[c]) for frame in frames)))
        if len(levels) > MAX_MODEL_LEVELS:  # the model's limit: the reference's most
            counts = reference[c].value_counts()  # common levels; the rest as empty
            levels = sorted(counts.index[:MAX_MODEL_LEVELS])
        categories[c] = levels

    def prepare(frame: Any) -> tuple[Any, Any]:
        rows = frame[frame[target].notna()] if regression else frame
        x = rows[features].copy()
        for c, levels in categories.items():
            x[c] = pd.Categorical(x[c], categories=levels)
        return x, rows[target].to_numpy()

    x, y = prepare(fit_on)
    x_test, y_test = prepare(test)
    if not features or len(y) < 2 or len(y_test) < 2:  # nothing to learn from
        return float("nan")
    if regression:
        model: Any = HistGradientBoostingRegressor(
            random_state=seed, categorical_features="from_dtype"
        )
    else:
        if len(set(y)) < 2:  # one class only: it predicts that class
            return float(np.mean(y_test == y[0]))
        model = HistGradientBoostingClassifier(random_state=seed, categorical_features="from_dtype")
    model.fit(x, y)
    return float(model.score(x_test, y_test))


def ml_efficacy(
    train: Any, synthetic: Any, test: Any, target: str, numeric: list[str], *, seed: int = 0
) -> dict[str, Any]:
    """Train on synthetic rows and on real train rows, score both on the real test rows (R²
    for a numeric ``target``, accuracy for a category; :func:`ml_score`). Metric tables
    in."""

    def score(fit_on: Any) -> float:
        return ml_score(fit_on, test, target, numeric, seed=seed, levels_from=[train, synthetic])

    return {
        "ml_efficacy": score(synthetic),
        "ml_efficacy_real": score(train),
        "ml_target": target,
        "ml_task": "R2" if target in numeric else "accuracy",
    }
