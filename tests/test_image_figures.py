"""Tests for the judge-feature figures on sets whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.linalg import hadamard
from scipy.linalg import sqrtm as scipy_sqrtm

from genlab.errors import DataError
from genlab.evaluation import image_figures
from genlab.evaluation.image_figures import (
    REAL_FLOOR_NOTE,
    class_coverage,
    class_fidelity,
    class_shares,
    frechet_distance,
    kernel_distance,
    precision_recall,
)


def gaussian(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(seed))
    x[:, 0] += shift
    return x


def exact_diagonal_set(order: int, mean: list[float], std: list[float]) -> torch.Tensor:
    """Rows whose sample mean is ``mean`` and sample covariance is exactly diagonal.

    Columns of a Hadamard matrix (except the all-ones one) are +-1, orthogonal and zero-mean,
    so the sample covariance (N-1) is ``std**2 * order / (order - 1)`` on the diagonal.
    """
    d = len(mean)
    signs = torch.tensor(hadamard(order)[:, 1 : d + 1], dtype=torch.float32)
    return torch.tensor(mean) + signs * torch.tensor(std)


# --- Fréchet distance -------------------------------------------------------------------


def test_frechet_of_a_set_with_itself_is_zero():
    x = gaussian(500, 16, seed=1)
    scale = float(x.double().var(dim=0).sum())
    assert 0.0 <= frechet_distance(x, x) < 1e-6 * scale


def test_frechet_small_for_one_gaussian_and_grows_with_the_shift():
    same = frechet_distance(gaussian(2000, 8, seed=1), gaussian(2000, 8, seed=2))
    shifted = [
        frechet_distance(gaussian(2000, 8, seed=1), gaussian(2000, 8, seed=2, shift=s))
        for s in (0.5, 1.0, 2.0)
    ]
    assert same < 0.05
    assert shifted[0] > 5 * same
    assert shifted[0] < shifted[1] < shifted[2]
    # The mean term dominates: about shift**2.
    for s, value in zip((0.5, 1.0, 2.0), shifted, strict=True):
        assert value == pytest.approx(s**2, rel=0.2)


def test_frechet_matches_closed_form_for_diagonal_gaussians():
    mu_a, sd_a = [0.0, 0.5, -1.0, 2.0, 0.25], [1.0, 0.5, 2.0, 1.5, 0.75]
    mu_b, sd_b = [1.0, 0.5, 0.0, -2.0, 0.75], [0.5, 0.5, 1.0, 3.0, 0.25]
    a = exact_diagonal_set(16, mu_a, sd_a)
    b = exact_diagonal_set(32, mu_b, sd_b)
    s_a = np.square(sd_a) * 16 / 15
    s_b = np.square(sd_b) * 32 / 31
    expected = np.sum(np.square(np.subtract(mu_a, mu_b))) + np.sum(
        s_a + s_b - 2 * np.sqrt(s_a * s_b)
    )
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(b, a) == pytest.approx(expected, rel=1e-6)


def test_frechet_is_unchanged_by_a_rotation_of_both_sets():
    # Rotation makes the covariances full, so this checks the matrix square root too.
    a = exact_diagonal_set(16, [0.0, 1.0, 0.0, 0.5], [1.0, 2.0, 0.5, 1.0])
    b = exact_diagonal_set(16, [1.0, 0.0, 0.0, 0.0], [2.0, 1.0, 1.0, 0.5])
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(3)))
    assert frechet_distance(a @ q, b @ q) == pytest.approx(frechet_distance(a, b), rel=1e-4)


def test_frechet_retries_with_eps_when_the_square_root_is_not_finite(monkeypatch):
    calls = []

    def flaky_sqrtm(matrix):
        calls.append(matrix)
        return np.full_like(matrix, np.nan) if len(calls) == 1 else scipy_sqrtm(matrix)

    monkeypatch.setattr(image_figures, "sqrtm", flaky_sqrtm)
    a = exact_diagonal_set(16, [0.0, 1.0], [1.0, 2.0])
    b = exact_diagonal_set(16, [1.0, 0.0], [2.0, 0.5])
    s_a = np.square([1.0, 2.0]) * 16 / 15 + 1e-6
    s_b = np.square([2.0, 0.5]) * 16 / 15 + 1e-6
    # The retry adds eps to the covariances inside the square root only.
    expected = 2.0 + np.sum(s_a + s_b - 2e-6 - 2 * np.sqrt(s_a * s_b))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert len(calls) == 2
    assert np.allclose(calls[1], np.diag(s_a * s_b), rtol=1e-12, atol=0)


def test_frechet_with_fewer_rows_than_features_is_finite():
    value = frechet_distance(gaussian(5, 20, seed=1), gaussian(6, 20, seed=2))
    assert math.isfinite(value) and value >= 0.0


@pytest.mark.parametrize(
    "a, b",
    [
        (torch.zeros(1, 4), torch.zeros(5, 4)),
        (torch.zeros(5, 4), torch.zeros(1, 4)),
        (torch.zeros(5, 4), torch.zeros(5, 3)),
        (torch.zeros(5), torch.zeros(5, 1)),
    ],
)
def test_bad_shapes_raise_data_error(a, b):
    with pytest.raises(DataError):
        frechet_distance(a, b)
    with pytest.raises(DataError):
        kernel_distance(a, b, subsets=2, subset_size=4)


# --- kernel distance ---------------------------------------------------------------------


def test_kid_near_zero_for_one_distribution_and_large_for_a_shift():
    real = gaussian(1000, 16, seed=1)
    mean, se = kernel_distance(real, gaussian(1000, 16, seed=2), subsets=50, subset_size=200)
    assert se > 0
    assert abs(mean) < 3 * se
    shifted = gaussian(1000, 16, seed=2, shift=2.0)
    mean, se = kernel_distance(real, shifted, subsets=50, subset_size=200)
    assert se > 0
    assert mean > 20 * se


def test_kid_is_deterministic_for_a_seed():
    a, b = gaussian(300, 8, seed=1), gaussian(300, 8, seed=2)
    first = kernel_distance(a, b, subsets=10, subset_size=100, seed=7)
    assert kernel_distance(a, b, subsets=10, subset_size=100, seed=7) == first
    assert kernel_distance(a, b, subsets=10, subset_size=100, seed=8) != first


def test_kid_on_whole_sets_is_the_unbiased_mmd():
    a, b = gaussian(60, 5, seed=1).double(), gaussian(60, 5, seed=2, shift=0.5).double()
    mean, se = kernel_distance(a.float(), b.float(), subsets=1, subset_size=1000)

    def k(x, y):
        return (x @ y.T / 5 + 1) ** 3

    n = 60
    k_aa, k_bb = k(a, a), k(b, b)
    expected = (
        (k_aa.sum() - k_aa.trace()) / (n * (n - 1))
        + (k_bb.sum() - k_bb.trace()) / (n * (n - 1))
        - 2 * k(a, b).mean()
    )
    assert mean == pytest.approx(float(expected), rel=1e-5)
    assert se == 0.0


# --- precision / recall ------------------------------------------------------------------


def test_identical_sets_have_full_precision_and_recall():
    real = gaussian(300, 8, seed=1)
    assert precision_recall(real, real.clone()) == (1.0, 1.0)


def test_far_away_fake_set_has_zero_precision_and_recall():
    real = gaussian(300, 8, seed=1)
    assert precision_recall(real, gaussian(300, 8, seed=2) + 100.0) == (0.0, 0.0)


def test_collapsed_fake_set_has_high_precision_and_low_recall():
    real = gaussian(300, 8, seed=1)
    noise = 0.01 * gaussian(300, 8, seed=2)
    fake = real[:5].repeat(60, 1) + noise
    precision, recall = precision_recall(real, fake)
    assert precision > 0.95
    assert recall < 0.05


def test_kth_neighbour_excludes_the_point_itself():
    # k=1 radii: real 1, 1, 1, 1, 7; fake 19.5, 1, 1, 1, 1.
    real = torch.tensor([[0.0], [1.0], [2.0], [3.0], [10.0]])
    fake = torch.tensor([[0.5], [20.0], [21.0], [22.0], [23.0]])
    assert precision_recall(real, fake, k=1) == (0.2, 1.0)


def test_chunking_does_not_change_the_answer():
    real = gaussian(700, 8, seed=1)
    fake = gaussian(500, 8, seed=2, shift=1.0)
    small = precision_recall(real, fake, chunk=64)
    assert small == precision_recall(real, fake, chunk=100_000)
    assert 0.0 < small[0] < 1.0 and 0.0 < small[1] < 1.0


def test_precision_recall_needs_more_rows_than_k():
    with pytest.raises(DataError):
        precision_recall(torch.zeros(3, 2), torch.zeros(10, 2), k=3)


# --- class figures -----------------------------------------------------------------------

PREDICTED = torch.tensor([0, 0, 1, 3, 3, 3, 3, 0])
NAMES = ["a", "b", "c", "d", "e"]


def test_class_shares():
    shares = class_shares(PREDICTED, 5)
    assert shares == [3 / 8, 1 / 8, 0.0, 4 / 8, 0.0]
    assert sum(shares) == pytest.approx(1.0)


def test_class_coverage():
    coverage = class_coverage(PREDICTED, NAMES, min_share=0.2)
    assert coverage == {
        "classes_found": 2,
        "min_share": 0.0,
        "shares": {"a": 0.375, "b": 0.125, "c": 0.0, "d": 0.5, "e": 0.0},
    }
    assert class_coverage(PREDICTED, NAMES, min_share=0.125)["classes_found"] == 3
    assert class_coverage(PREDICTED, NAMES)["classes_found"] == 3
    assert class_coverage(torch.arange(4).repeat(2), NAMES[:4])["min_share"] == 0.25


def test_class_fidelity():
    predicted = torch.tensor([0, 1, 1, 2, 2, 2])
    requested = torch.tensor([0, 1, 2, 2, 2, 0])
    fidelity = class_fidelity(predicted, requested, ["a", "b", "c", "d"])
    assert fidelity["overall"] == pytest.approx(4 / 6)
    assert fidelity["per_class"] == pytest.approx({"a": 0.5, "b": 1.0, "c": 2 / 3})
    assert list(fidelity["per_class"]) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "predicted, requested",
    [
        (torch.tensor([0, 5]), torch.tensor([0, 1])),
        (torch.tensor([0, -1]), torch.tensor([0, 1])),
        (torch.tensor([0, 1, 1]), torch.tensor([0, 1])),
        (torch.tensor([0.0, 1.0]), torch.tensor([0, 1])),
        (torch.tensor([], dtype=torch.int64), torch.tensor([], dtype=torch.int64)),
    ],
)
def test_bad_labels_raise_data_error(predicted, requested):
    with pytest.raises(DataError):
        class_fidelity(predicted, requested, ["a", "b", "c"])


def test_real_floor_note_is_one_line():
    assert REAL_FLOOR_NOTE and "\n" not in REAL_FLOOR_NOTE
    assert "floor" in REAL_FLOOR_NOTE
