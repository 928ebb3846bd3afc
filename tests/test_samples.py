"""Tests for curve_metrics on distributions whose answers are known."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
import torch

from genlab.data.curves import book_shape, formula_points
from genlab.errors import DataError
from genlab.evaluation.samples import curve_metrics
from genlab.expressions import parse_formula

EXP = parse_formula("1.08**x")


@pytest.fixture(scope="module")
def real() -> torch.Tensor:
    return book_shape("exp")


def test_keys_are_plain_floats_and_json_ready(real):
    metrics = curve_metrics(real[:500], real, relation=EXP)
    expected = {
        "relation_nrmse",
        "relation_median_rel_error",
        "w1_x",
        "w1_y",
        "w1",
        "kl",
        "js",
        "mmd",
        "precision",
        "recall",
        "out_of_range",
        "nonfinite",
    }
    assert set(metrics) == expected
    assert all(type(v) is float for v in metrics.values())
    assert json.loads(json.dumps(metrics)) == metrics
    assert "relation_nrmse" not in curve_metrics(real[:500], real)


def test_identical_samples(real):
    m = curve_metrics(real, real, relation=EXP)
    assert m["w1"] == pytest.approx(0.0, abs=1e-12)
    assert m["kl"] == pytest.approx(0.0, abs=1e-12)
    assert m["js"] == pytest.approx(0.0, abs=1e-12)
    assert m["mmd"] == pytest.approx(0.0, abs=1e-12)
    assert m["precision"] == 1.0
    assert m["recall"] == 1.0
    assert m["out_of_range"] == 0.0
    assert m["nonfinite"] == 0.0
    # float32 pow vs the float64 relation: ~1e-6 apart, no more.
    assert m["relation_median_rel_error"] < 1e-5
    assert m["relation_nrmse"] < 1e-5


def test_two_draws_of_the_same_distribution_are_close(real):
    other = book_shape("exp", n=2048, seed=1)
    m = curve_metrics(other, real)
    assert m["w1"] < 0.05
    assert m["kl"] < 0.2
    assert m["mmd"] < 0.005
    assert m["precision"] > 0.9 and m["recall"] > 0.9


def test_shift_by_one_std_gives_w1_of_one(real):
    std = real.double().std(dim=0, unbiased=False)
    shifted = real.double() + std
    m = curve_metrics(shifted, real)
    assert m["w1_x"] == pytest.approx(1.0, rel=1e-6)
    assert m["w1_y"] == pytest.approx(1.0, rel=1e-6)
    assert m["w1"] == pytest.approx(1.0, rel=1e-6)
    assert m["kl"] > 1.0
    assert m["mmd"] > 0.1
    assert m["precision"] < 0.2 and m["recall"] < 0.2


def test_relation_errors_on_exact_and_scaled_points():
    x = torch.linspace(0.0, 50.0, 1000, dtype=torch.float64)
    exact = torch.stack([x, 1.08**x], dim=1)
    m = curve_metrics(exact, exact, relation=EXP)
    assert m["relation_nrmse"] == pytest.approx(0.0, abs=1e-12)
    assert m["relation_median_rel_error"] == pytest.approx(0.0, abs=1e-12)
    scaled = exact.clone()
    scaled[:, 1] *= 1.01
    m = curve_metrics(scaled, exact, relation=EXP)
    assert m["relation_median_rel_error"] == pytest.approx(0.01, rel=1e-9)
    expected_nrmse = math.sqrt(float(((0.01 * exact[:, 1]) ** 2).mean())) / float(
        exact[:, 1].std(unbiased=False)
    )
    assert m["relation_nrmse"] == pytest.approx(expected_nrmse, rel=1e-9)


def test_relation_error_where_f_is_zero():
    x = torch.tensor([0.0, 0.0, 1.0, 2.0], dtype=torch.float64)
    points = torch.stack([x, torch.sin(x)], dim=1)
    points[1, 1] = 0.5  # f(0) = 0 but y = 0.5: infinite relative error
    m = curve_metrics(points, points, relation=parse_formula("sin(x)"))
    assert m["relation_median_rel_error"] == pytest.approx(0.0, abs=1e-12)  # median of 0, inf, 0, 0


def test_out_of_range_is_counted(real):
    gen = real[:100].clone()
    gen[:7, 0] = 50.5  # above max
    gen[7:10, 0] = -1.0  # below min
    gen[10, 0] = real[:, 0].max()  # on the edge: inside
    m = curve_metrics(gen, real)
    assert m["out_of_range"] == pytest.approx(0.10)


def test_kl_counts_points_outside_the_box(real):
    inside = real[:1000]
    outside = inside.clone()
    outside[:500] += 1e6  # far away: overflow cell, not the edge bins
    m_in = curve_metrics(inside, real)
    m_out = curve_metrics(outside, real)
    assert m_out["kl"] > m_in["kl"] + 0.5
    assert m_out["js"] > m_in["js"]


def test_precision_recall_on_half_the_support():
    rng = np.random.default_rng(0)
    real = torch.from_numpy(rng.uniform(size=(4000, 2)))
    half = real[real[:, 0] < 0.5]
    m = curve_metrics(half, real)
    assert m["precision"] == 1.0
    assert 0.45 < m["recall"] < 0.6
    m = curve_metrics(real, half)
    assert m["recall"] == 1.0
    assert 0.45 < m["precision"] < 0.6


def test_non_finite_generated_rows(real):
    gen = real[:100].clone()
    gen[:5, 1] = float("nan")
    gen[5:10, 0] = float("inf")
    m = curve_metrics(gen, real, relation=EXP)
    assert m["nonfinite"] == pytest.approx(0.10)
    assert m["out_of_range"] == pytest.approx(0.10)
    assert m["precision"] == pytest.approx(0.90)
    assert all(math.isfinite(v) for v in m.values())
    with pytest.raises(DataError, match="finite"):
        curve_metrics(torch.full((10, 2), float("nan")), real)


def test_one_and_three_columns():
    rng = np.random.default_rng(1)
    a = torch.from_numpy(rng.normal(size=(500, 1)))
    m = curve_metrics(a, a)
    assert m["w1_x"] == 0.0 and m["kl"] == pytest.approx(0.0, abs=1e-12)
    b = torch.from_numpy(rng.normal(size=(500, 3)))
    m = curve_metrics(b + 1.0, b, columns=["a", "b", "c"])
    assert {"w1_a", "w1_b", "w1_c"} <= set(m)


def test_constant_real_column_does_not_divide_by_zero():
    real = torch.stack([torch.linspace(0, 1, 50), torch.ones(50)], dim=1)
    m = curve_metrics(real + 0.5, real)
    assert all(math.isfinite(v) for v in m.values())
    assert m["w1_y"] == pytest.approx(0.5)


def test_seed_makes_subsamples_repeatable(real):
    gen = formula_points("1.08**x", (0.0, 60.0), n=6000, seed=2)
    assert curve_metrics(gen, real, seed=3) == curve_metrics(gen, real, seed=3)


@pytest.mark.parametrize(
    ("generated", "real_points", "pattern"),
    [
        (torch.zeros(10, 3), torch.zeros(10, 2), "columns"),
        (torch.zeros(10, 2), torch.zeros(1, 2), "at least 2 real"),
        (torch.zeros(10, 2), torch.tensor([[0.0, 1.0], [float("nan"), 1.0]]), "real points"),
        (torch.zeros(2, 2, 2), torch.zeros(10, 2), "2-D"),
    ],
)
def test_bad_inputs(generated, real_points, pattern):
    with pytest.raises(DataError, match=pattern):
        curve_metrics(generated, real_points)


def test_columns_and_relation_checks(real):
    with pytest.raises(DataError, match="column names"):
        curve_metrics(real, real, columns=["x"])
    one = real[:, :1]
    with pytest.raises(DataError, match="2 columns"):
        curve_metrics(one, one, relation=EXP)


def test_fast_enough_for_early_stopping(real):
    gen = formula_points("1.08**x", (0.0, 60.0), n=10_000, seed=1)
    gen[:, 1] += 0.5 * torch.randn(10_000, generator=torch.Generator().manual_seed(0))
    curve_metrics(gen[:100], real)  # warm up
    start = time.perf_counter()
    curve_metrics(gen, real, relation=EXP)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"curve_metrics took {elapsed:.2f} s"
