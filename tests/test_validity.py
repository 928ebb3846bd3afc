"""Tests for genlab.evaluation.validity: integer validity, coverage, JS and mode collapse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon

from genlab.data.integers import make_pattern, sample_real
from genlab.errors import DataError
from genlab.evaluation.validity import JS_WARN_THRESHOLD, collapse_warning, integer_metrics

KEYS = {
    "n_samples",
    "validity",
    "coverage",
    "covered",
    "n_valid_values",
    "js",
    "unique",
    "top_share",
}


@pytest.fixture
def fives():
    return make_pattern(max_value=100, multiple_of=5)


def test_exact_real_distribution(fives) -> None:
    generated = torch.arange(0, 100, 5).repeat(7)
    m = integer_metrics(generated, fives)
    assert set(m) == KEYS
    assert m["validity"] == 1.0
    assert m["coverage"] == 1.0
    assert m["covered"] == 20
    assert m["n_valid_values"] == 20
    assert m["n_samples"] == 140
    assert m["unique"] == 20
    assert m["top_share"] == pytest.approx(1 / 20)
    assert m["js"] == pytest.approx(0.0, abs=1e-12)
    assert collapse_warning(m) is None


def test_all_valid_but_skewed(fives) -> None:
    generated = torch.tensor([0, 0, 0, 5, 10, 95])
    m = integer_metrics(generated, fives)
    assert m["validity"] == 1.0
    assert m["covered"] == 4
    assert m["coverage"] == pytest.approx(4 / 20)
    assert m["top_share"] == pytest.approx(0.5)


def test_one_value_only_is_mode_collapse(fives) -> None:
    m = integer_metrics(torch.full((50,), 35), fives)
    assert m["validity"] == 1.0
    assert m["coverage"] == pytest.approx(1 / 20)
    assert m["covered"] == 1
    assert m["unique"] == 1
    assert m["top_share"] == 1.0
    warning = collapse_warning(m)
    assert warning is not None
    assert "mode collapse: only 1 of 20 valid values generated" in warning
    assert "JS divergence" in warning
    assert "\n" not in warning


def test_half_invalid(fives) -> None:
    valid = torch.arange(0, 100, 5)
    invalid = valid + 1
    m = integer_metrics(torch.cat([valid, invalid]), fives)
    assert m["validity"] == 0.5
    assert m["coverage"] == 1.0
    assert m["unique"] == 40
    # Half the mass on values the real distribution never takes.
    p = np.r_[np.full(20, 0.025), 0.5]
    q = np.r_[np.full(20, 0.05), 0.0]
    assert m["js"] == pytest.approx(jensenshannon(p, q, base=2) ** 2)
    assert m["js"] > JS_WARN_THRESHOLD
    warning = collapse_warning(m)
    assert warning is not None and "mode collapse" not in warning


def test_out_of_range_values_are_invalid(fives) -> None:
    # A binary decoder can produce values >= max_value; negative ones are invalid too.
    m = integer_metrics(torch.tensor([0, 5, 100, 125, -5, 127]), fives)
    assert m["validity"] == pytest.approx(2 / 6)
    assert m["unique"] == 6
    assert m["covered"] == 2


def test_js_disjoint_is_one(fives) -> None:
    m = integer_metrics(torch.tensor([1, 2, 3, 4]), fives)
    assert m["validity"] == 0.0
    assert m["covered"] == 0
    assert m["js"] == pytest.approx(1.0)


def test_js_equals_the_full_support_definition() -> None:
    """Pooling invalid values into one bucket gives the same divergence as [0, max) + 1."""
    pattern = make_pattern(max_value=30, rule="n % 4 == 1 or n == 6")
    gen = torch.Generator().manual_seed(0)
    generated = torch.randint(-3, 40, (500,), generator=gen)
    m = integer_metrics(generated, pattern)

    full = torch.where((generated >= 0) & (generated < 30), generated, torch.tensor(30))
    p = torch.bincount(full, minlength=31).double().numpy()
    q = np.zeros(31)
    q[pattern.values.numpy()] = pattern.probs.numpy()
    expected = jensenshannon(p / p.sum(), q, base=2) ** 2
    assert m["js"] == pytest.approx(expected, abs=1e-12)


def test_file_pattern_exact_frequencies_give_zero_js(tmp_path: Path) -> None:
    path = tmp_path / "n.txt"
    path.write_text("4 4 4 9\n")
    pattern = make_pattern(from_file=path)
    m = integer_metrics(torch.tensor([4, 9, 4, 4] * 5), pattern)
    assert m["js"] == pytest.approx(0.0, abs=1e-12)
    uniform = integer_metrics(torch.tensor([4, 9] * 10), pattern)
    assert uniform["js"] > 0.01
    assert uniform["coverage"] == 1.0


def test_metrics_are_plain_json(fives) -> None:
    m = integer_metrics(torch.tensor([[0, 5], [7, 95]], dtype=torch.int32), fives)
    assert m["n_samples"] == 4  # any shape is flattened
    for key in ("n_samples", "covered", "n_valid_values", "unique"):
        assert type(m[key]) is int
    for key in ("validity", "coverage", "js", "top_share"):
        assert type(m[key]) is float
    assert json.loads(json.dumps(m)) == m


def test_bad_generated_input(fives) -> None:
    with pytest.raises(DataError, match="no generated values"):
        integer_metrics(torch.tensor([], dtype=torch.int64), fives)
    with pytest.raises(DataError, match="must be integers"):
        integer_metrics(torch.tensor([5.0]), fives)


def test_real_samples_score_well(fives) -> None:
    generated = sample_real(fives, 2000, torch.Generator().manual_seed(0))
    m = integer_metrics(generated, fives)
    assert m["validity"] == 1.0
    assert m["coverage"] == 1.0
    assert m["js"] < 0.01
    assert collapse_warning(m) is None


def test_collapse_warning_thresholds() -> None:
    base = {"covered": 20, "n_valid_values": 20, "js": 0.0}
    assert collapse_warning(base) is None
    assert collapse_warning({**base, "js": JS_WARN_THRESHOLD}) is None
    high = collapse_warning({**base, "js": 0.12})
    assert high == "generated distribution far from the real one: JS divergence 0.120 > 0.05"
    assert collapse_warning({**base, "js": 0.12}, js_threshold=0.2) is None
    partial = collapse_warning({**base, "covered": 16})
    assert partial == "mode collapse: only 16 of 20 valid values generated"
