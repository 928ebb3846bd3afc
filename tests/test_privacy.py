"""Your data stays yours: no row of a CSV in the model file or an export, and memorisation
measured (``privacy``, ``copies``) and never rewarded by the selection score."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import genlab.gan
from genlab.errors import ConfigError, DataError
from genlab.evaluation.privacy import (
    copy_share,
    distance_space,
    nearest_distance,
    privacy_figures,
)
from genlab.gan.adapter import fingerprint
from genlab.gan.curves import CurveGanData, make_curve_gan_data, split_rows
from genlab.gan.export import export_generator
from genlab.training import runs

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")

NUMERIC = torch.zeros(2, dtype=torch.bool)


def _write(path: Path, rows: np.ndarray, header: str) -> Path:
    np.savetxt(path, rows, delimiter=",", header=header, comments="")
    return path


def _three_columns(n: int, seed: int) -> np.ndarray:
    """A 3-column table: y a noisy function of x, z noise (no column a function of another)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 100, n)
    y = 0.05 * (x - 50) ** 2 + rng.normal(0, 10, n)
    z = rng.lognormal(1.0, 0.5, n)
    return np.stack([x, y, z], 1)


def _spiral(n: int, seed: int) -> np.ndarray:
    t = np.random.default_rng(seed).uniform(0, 3 * np.pi, n)
    return np.stack([t * np.cos(t), t * np.sin(t)], 1) / 10


# --------------------------------------------------------------------------- privacy figures


def _normal(n: int, seed: int) -> torch.Tensor:
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_copies_of_training_rows_score_no_privacy() -> None:
    train, test = _normal(500, 0), _normal(400, 1)
    figures = privacy_figures(train[:300].clone(), train, test, NUMERIC)
    assert figures["copies"] == 1.0 and figures["p"] == 1.0
    assert figures["privacy"] < 0.05 and figures["copies_real"] == 0.0


def test_fresh_rows_score_full_privacy() -> None:
    train, test = _normal(500, 0), _normal(400, 1)
    figures = privacy_figures(_normal(2000, 2), train, test, NUMERIC)
    assert figures["copies"] == 0.0
    assert figures["privacy"] > 0.9 and abs(figures["p"] - figures["p_real"]) < 0.08
    # half copies, half fresh: in between
    mixed = torch.cat([train[:1000], _normal(1000, 3)])
    assert 0.2 < privacy_figures(mixed, train, test, NUMERIC)["privacy"] < 0.8


def test_dcr_distance_numbers_categories_and_missing_cells() -> None:
    categorical = torch.tensor([False, True])
    nan = float("nan")
    reference = torch.tensor([[0.0, 1.0], [1.0, 1.0]])  # the number's range: [0, 1]
    query = torch.tensor(
        [
            [0.25, 1.0],  # a quarter of the range from the nearest row, same category
            [0.5, 2.0],  # half a range off, and another category
            [-3.0, 1.0],  # beyond the range: counts as its end (at most one range away)
            [0.0, 1.0],  # equal to a row
        ]
    )
    distances = nearest_distance(query, reference, categorical)
    expected = torch.tensor([0.125, 0.75, 0.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(distances, expected)
    # missing cells: against a value 1, against a missing cell 0
    gappy = torch.tensor([[nan, 1.0], [0.5, 1.0]])
    both = nearest_distance(torch.tensor([[nan, 1.0]]), gappy, categorical)
    one = nearest_distance(torch.tensor([[nan, 1.0]]), reference, categorical)
    assert float(both) == 0.0 and float(one) == 0.5
    missing_category = nearest_distance(torch.tensor([[0.0, nan]]), reference, categorical)
    assert float(missing_category) == 0.5  # an empty category is a level of its own
    # distance space: numbers over their range (a zero range counts as 1), categories as codes
    values = torch.tensor([[10.0, 3.0, 5.0]])
    space = distance_space(
        values, torch.tensor([False, True, False]), torch.tensor([4.0, 9.0, 0.0])
    )
    torch.testing.assert_close(space, torch.tensor([[2.5, 3.0, 5.0]], dtype=torch.float64))
    assert copy_share(torch.tensor([[1.0, nan], [1.0, 2.0]]), torch.tensor([[1.0, nan]])) == 0.5


def test_privacy_figures_of_nothing_are_nan() -> None:
    figures = privacy_figures(torch.zeros(0, 2), _normal(10, 0), _normal(10, 1), NUMERIC)
    assert all(math.isnan(v) for v in figures.values())


# --------------------------------------------------------------------------- CSV data


@pytest.fixture(scope="module")
def spiral(tmp_path_factory: pytest.TempPathFactory) -> CurveGanData:
    path = _write(tmp_path_factory.mktemp("csv") / "spiral.csv", _spiral(2048, 0), "x,y")
    return make_curve_gan_data("csv", csv=str(path))


def test_selection_scores_copies_worse_than_fresh_rows(spiral: CurveGanData) -> None:
    """A fake generator that returns the training rows scores worse than one that returns
    fresh rows of the same distribution (as many)."""
    train = spiral.train
    fresh = torch.from_numpy(_spiral(train.shape[0], 1)).float()
    copied = spiral.validation_figures(train)
    new = spiral.validation_figures(fresh)
    assert copied["too_close"] > 0.95 and new["too_close"] < 0.2
    assert copied["score"] > new["score"] + 0.3
    # the nearest-neighbour term alone would not tell them apart
    assert copied["nn_excess"] <= new["nn_excess"] + 0.1


def test_csv_test_figures_measure_memorisation(spiral: CurveGanData) -> None:
    copied = spiral.test_figures(spiral.train)
    fresh = spiral.test_figures(torch.from_numpy(_spiral(5000, 2)).float())
    assert copied["copies"] == 1.0 and copied["privacy"] < 0.05
    assert fresh["copies"] == 0.0 and fresh["privacy"] > 0.8
    assert 0.0 <= fresh["rejected"] < 0.1  # the support filter's share, beside the figures
    assert "privacy" not in make_curve_gan_data("exp").test_figures(spiral.train)  # CSV only


def test_csv_x_range_comes_from_the_train_part(tmp_path: Path) -> None:
    rows = np.stack([np.arange(100.0), np.arange(100.0) ** 0.5], 1)
    path = str(_write(tmp_path / "p.csv", rows, "a,b"))
    data = make_curve_gan_data("csv", csv=path, data_seed=7)  # 98 and 99 are held out
    assert data.x_range == (0.0, 97.0) == (float(data.train[:, 0].min()), 97.0)
    assert float(torch.cat([data.validation, data.test])[:, 0].max()) == 99.0


def test_model_file_description_holds_no_parts(spiral: CurveGanData) -> None:
    stored = spiral.to_dict()
    assert "validation" not in stored and "test" not in stored
    assert stored["fingerprint"] == fingerprint(spiral.train)
    again = CurveGanData.from_dict(stored)
    assert again.holds_data is False and spiral.holds_data is False  # the file holds no rows
    assert again.splits() == spiral.splits() and again.real_points(10).shape == (0, 2)
    model = torch.randn(200, 2)
    assert torch.equal(again.decode(model), spiral.decode(model))
    samples = spiral.decode(model)
    assert torch.equal(again.support()(samples), spiral.support()(samples))
    assert again.to_dict()["fingerprint"] == stored["fingerprint"]
    assert spiral.name in again.describe()
    with pytest.raises(DataError, match="--csv"):
        again.test_figures(samples)
    with pytest.raises(DataError, match="no validation part"):
        again.validation_figures(samples)
    # a named shape draws its held-out parts again from their seeds
    exp = make_curve_gan_data("exp")
    rebuilt = CurveGanData.from_dict(exp.to_dict())
    assert "test" not in exp.to_dict() and torch.equal(rebuilt.test, exp.test)


def test_knots_are_few_and_interpolated(tmp_path: Path) -> None:
    rows = _three_columns(300, 0)
    data = make_curve_gan_data("csv", csv=str(_write(tmp_path / "t.csv", rows, "x,y,z")))
    knots = data.transform.knots
    n_train = data.train.shape[0]
    assert knots.shape[0] <= n_train // 8
    quantile = [j for j, m in enumerate(data.transform.mode_names()) if m == "quantile"]
    assert quantile == [0]
    values = data.train[:, 0]
    gaps = (knots[:, 0].unsqueeze(1) - values.unsqueeze(0)).abs().min(dim=1).values
    assert float(gaps.min()) > 1e-4  # no knot is a value of the file
    assert bool((knots[:, 1:] == 0).all())  # nothing kept for columns that need no knots
    lo, hi = float(values.min()), float(values.max())
    assert lo < float(knots[0, 0]) and float(knots[-1, 0]) < hi  # inside, never the ends


# --------------------------------------------------------------------------- no rows in files


def _tensors(value: Any) -> Iterator[torch.Tensor]:
    """Every tensor (and list of numbers) in a nested model-file payload."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)
    elif isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            yield torch.tensor(value, dtype=torch.float64)
        else:
            for item in value:
                yield from _tensors(item)


def _found(tensor: torch.Tensor, rows: torch.Tensor, tol: float = 1e-4) -> int:
    """How many of ``rows`` (R, C) ``tensor`` holds: C consecutive values (row-major), or a
    column of a (C, N) tensor, each within ``tol``."""
    if tensor.dtype == torch.bool or tensor.numel() < rows.shape[1]:
        return 0
    width = rows.shape[1]
    candidates = [tensor.detach().double().flatten().unfold(0, width, 1)]
    if tensor.dim() == 2 and tensor.shape[0] == width:
        candidates.append(tensor.detach().double().t())
    hit = torch.zeros(rows.shape[0], dtype=torch.bool)
    for windows in candidates:
        for start in range(0, windows.shape[0], 4096):
            block = windows[start : start + 4096]
            distance = torch.cdist(rows.unsqueeze(0), block.unsqueeze(0), p=math.inf)[0]
            hit |= (distance <= tol).any(dim=1)
    return int(hit.sum())


def _variants(rows: torch.Tensor, data: CurveGanData) -> dict[str, torch.Tensor]:
    """The rows raw, standardised (by all rows and by the train part, either std) and as
    the networks see them."""
    out = {"raw": rows, "model space": data.transform.encode(rows.float()).double()}
    for name, part in (("all", rows), ("train", data.train.double())):
        for ddof in (0, 1):
            std = part.std(dim=0, unbiased=bool(ddof))
            out[f"standardised ({name}, ddof {ddof})"] = (rows - part.mean(dim=0)) / std
    return out


def _stored_tensors(run_dir: Path, exports: list[Path]) -> dict[str, list[torch.Tensor]]:
    found = {"model.pt": list(_tensors(torch.load(run_dir / runs.MODEL_FILE, weights_only=True)))}
    for path in exports:
        if path.suffix == ".pt2":
            program = torch.export.load(str(path))
            tensors = [*program.state_dict.values(), *program.constants.values()]
            tensors += [b for _, b in program.module().named_buffers()]
        else:
            module = torch.jit.load(str(path))
            tensors = [*module.state_dict().values()]
            tensors += [b for _, b in module.named_buffers()]
            tensors += [p for _, p in module.named_parameters()]
            for sub in module.modules():
                try:
                    tensors += list(sub.code_with_constants[1].const_mapping.values())
                except (AttributeError, RuntimeError):
                    pass
        found[path.name] = [t for t in tensors if isinstance(t, torch.Tensor)]
    return found


CASES = {
    # the case: 300 rows, 3 columns; a grid of its own and a quantile column
    "three columns": (lambda: _three_columns(300, 0), "x,y,z", "auto"),
    # every column a monotone function of x: each quantile knot pair lies on the curve
    "monotone curve": (
        lambda: np.stack([x := np.random.default_rng(1).uniform(0, 50, 400), 1.08**x], 1),
        "x,y",
        "off",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_no_row_of_the_csv_in_the_model_file_or_exports(tmp_path: Path, case: str) -> None:
    make_rows, header, support = CASES[case]
    rows = make_rows()
    path = _write(tmp_path / "data.csv", rows, header)
    out = tmp_path / "run"
    run = genlab.gan.train(
        "csv", csv=str(path), support=support, out=out, quiet=True, plots=False, epochs=15
    )
    assert run.data.holds_data is False
    exports = []
    for fmt, name in (("export", "g.pt2"), ("torchscript", "g.pt")):
        try:
            exports.append(export_generator(out, tmp_path / name, fmt))
        except ConfigError:  # torch.export cannot hold a support filter's varying size
            assert fmt == "export" and run.data.support() is not None
    assert exports
    everything = torch.from_numpy(rows).double()
    variants = _variants(everything, run.data)
    stored = _stored_tensors(out, exports)
    assert sum(len(tensors) for tensors in stored.values()) > 5
    hits = {
        (file, variant): count
        for file, tensors in stored.items()
        for variant, probe in variants.items()
        if (count := sum(_found(t, probe) for t in tensors))
    }
    assert hits == {}
    # the probe does find rows where they are
    assert _found(everything[:5].float(), everything) == 5
    # the loaded run samples and exports without rows, and evaluates from the CSV
    loaded = genlab.gan.load(out)
    assert loaded.data.holds_data is False and loaded.sample_tensor(50).shape[0] == 50
    figures = genlab.gan.evaluate(out, 2000)
    assert {"privacy", "copies", "p", "p_real", "copies_real"} <= figures.keys()
    if support == "auto" and run.data.support() is not None:
        assert "rejected" in figures


def test_evaluating_a_csv_run_checks_the_data(tmp_path: Path) -> None:
    path = _write(tmp_path / "data.csv", _spiral(300, 3), "x,y")
    out = tmp_path / "run"
    genlab.gan.train("csv", csv=str(path), out=out, quiet=True, plots=False, epochs=5)
    other = _write(tmp_path / "other.csv", _spiral(300, 4), "x,y")
    with pytest.raises(DataError, match="not the data"):
        genlab.gan.evaluate(out, 500, data=str(other))
    path.unlink()
    with pytest.raises(DataError, match="--csv"):
        genlab.gan.evaluate(out, 500)
    assert split_rows(torch.zeros(10, 2), 0).train.shape == (6, 2)


def test_big_test_parts_probe_with_a_bounded_subsample(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test part larger than 2 x MAX_QUERY probes the train rows with a seeded subsample
    of that many rows, and at most MAX_QUERY synthetic rows are scored (a million-row table
    stays affordable); a smaller one is used whole, so its figures do not change with the
    cap."""
    import genlab.evaluation.privacy as privacy

    train, test, fresh = _normal(500, 0), _normal(400, 1), _normal(300, 2)
    whole = privacy_figures(fresh, train, test, NUMERIC)
    probes: list[int] = []
    real = privacy.nearest_distance

    def spy(query: torch.Tensor, reference: torch.Tensor, *args: Any) -> torch.Tensor:
        if reference is train:
            probes.append(query.shape[0])
        return real(query, reference, *args)

    monkeypatch.setattr(privacy, "nearest_distance", spy)
    monkeypatch.setattr(privacy, "MAX_QUERY", 1000)
    assert privacy_figures(fresh, train, test, NUMERIC) == whole
    assert probes == [300, 400]  # the synthetic rows, then every test row
    monkeypatch.setattr(privacy, "MAX_QUERY", 50)
    probes.clear()
    capped = privacy_figures(fresh, train, test, NUMERIC)
    assert probes == [50, 100]
    assert capped["privacy"] > 0.8 and capped["copies"] == 0.0


def test_privacy_is_the_mean_over_halvings_of_the_test_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """p and p_real are the means over HALVINGS seeded halvings of the test part, each
    computed both ways round (A the holdout and B the probe, then B and A), exactly as a
    brute force over every half gives, also where a row's nearest test rows kept for the
    lookups hold none of the half it needs (then computed in full); a halving of one draw
    only differs."""
    import genlab.evaluation.privacy as privacy

    nan = float("nan")
    categorical = torch.tensor([False, False, True])

    def table(n: int, seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        rows = torch.randn(n, 3, generator=generator, dtype=torch.float64)
        rows[:, 2] = torch.randint(0, 3, (n,), generator=generator).double()
        rows[torch.rand(n, generator=generator) < 0.1, 0] = nan  # empty cells
        return rows

    train, test = table(400, 1), table(201, 2)
    synthetic = torch.cat([table(150, 3), train[:150]])  # half are copies
    bounds = privacy.column_bounds(train)

    def nearest(query: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        return nearest_distance(query, reference, categorical, bounds)

    to_train, probe_to_train = nearest(synthetic, train), nearest(test, train)
    ps, p_reals = [], []
    halves = privacy.halvings(len(test), 0)
    assert halves.shape == (privacy.HALVINGS, 201) and bool((halves.sum(1) == 100).all())
    assert len({tuple(h.tolist()) for h in halves}) == privacy.HALVINGS
    for in_a in halves:
        a, b = test[in_a], test[~in_a]
        ps.append(0.5 * float((to_train < nearest(synthetic, a)).double().mean()
                              + (to_train < nearest(synthetic, b)).double().mean()))  # fmt: skip
        b_vs_a = (probe_to_train[~in_a] < nearest(b, a)).double().mean()
        a_vs_b = (probe_to_train[in_a] < nearest(a, b)).double().mean()
        p_reals.append(0.5 * float(b_vs_a + a_vs_b))
    p, p_real = sum(ps) / len(ps), sum(p_reals) / len(p_reals)
    figures = privacy_figures(synthetic, train, test, categorical)
    assert figures["p"] == pytest.approx(p, abs=1e-12)
    assert figures["p_real"] == pytest.approx(p_real, abs=1e-12)
    assert figures["privacy"] == pytest.approx((1 - p) / (1 - p_real), abs=1e-12)
    assert figures["copies"] == 0.5
    assert min(ps) < p < max(ps) and min(p_reals) < p_real < max(p_reals)
    monkeypatch.setattr(privacy, "NEIGHBOURS", 1)  # most nearest rows in the wrong half
    assert privacy_figures(synthetic, train, test, categorical) == figures
