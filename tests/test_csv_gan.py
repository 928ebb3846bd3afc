"""Your own data without a formula: data-only selection figures, the support filter that
removes bridges, and CSV runs that reach the named kinds' figures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import genlab.gan
from genlab.cli import main
from genlab.gan.curves import (
    CLOSE_QUANTILE,
    SUPPORT_CELLS,
    SupportFilter,
    make_curve_gan_data,
)


def _write(path: Path, points: np.ndarray) -> Path:
    np.savetxt(path, points, delimiter=",", header="x,y", comments="")
    return path


def _clusters(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[-3.0, 0.0], [3.0, 0.0]])
    return centres[rng.integers(0, 2, n)] + 0.4 * rng.standard_normal((n, 2))


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory):
    path = _write(tmp_path_factory.mktemp("csv") / "clusters.csv", _clusters(2048, 0))
    return make_curve_gan_data("csv", csv=str(path))


def test_csv_defaults_select_on_the_data_and_filter(clusters) -> None:
    assert clusters.select == "data" and clusters.support() is not None
    exp = make_curve_gan_data("exp")
    assert exp.select == "formula" and exp.support() is None
    assert make_curve_gan_data("exp", select="data").select == "data"
    with pytest.raises(genlab.errors.ConfigError, match="needs a known y = f"):
        make_curve_gan_data("csv", csv=clusters.spec["csv"], select="formula")


def test_selection_figures_are_about_zero_for_a_sample_of_the_data(clusters) -> None:
    fresh = torch.from_numpy(_clusters(2048, 1)).float()
    figures = clusters.validation_figures(fresh)
    assert abs(figures["nn_excess"]) < 0.15
    assert figures["rejected"] < 0.05 and figures["sliced_w1"] < 0.1
    assert abs(figures["too_close"] - CLOSE_QUANTILE) < 0.05
    itself = clusters.validation_figures(clusters.validation)
    assert itself["sliced_w1"] < 0.03  # the same set: only the quantiles' interpolation


def test_a_bridge_of_five_percent_is_detected(clusters) -> None:
    clean = torch.from_numpy(_clusters(2000, 2)).float()
    bridged = clean.clone()
    bridged[:100, 0] = torch.linspace(-1.5, 1.5, 100)  # 5% on the line between the clusters
    bridged[:100, 1] = 0.0
    clean_figures = clusters.validation_figures(clean)
    bridge_figures = clusters.validation_figures(bridged)
    assert bridge_figures["rejected"] - clean_figures["rejected"] >= 0.045  # the filter sees it
    assert bridge_figures["score"] > clean_figures["score"] + 0.04
    keep = clusters.support()(bridged)
    assert int((~keep[:100]).sum()) >= 85  # all but the ends inside the clusters
    assert float(keep[100:].float().mean()) > 0.97


def test_support_filter_grid_keeps_dense_blocks_only() -> None:
    rng = np.random.default_rng(5)
    dense = torch.from_numpy(_clusters(3000, 5)).float()
    lone = torch.tensor([[0.0, 3.0], [0.1, 3.0], [0.0, 3.1]])  # three rows: too few for a cell
    support = SupportFilter.fit(torch.cat([dense, lone]))
    assert support is not None and support.cells.numel() <= SUPPORT_CELLS
    assert float(support.mask(torch.from_numpy(_clusters(3000, 6)).float()).float().mean()) > 0.95
    far = torch.tensor([[0.0, 0.0], [0.0, 3.05], [30.0, 0.0], [float("nan"), 0.0]])
    assert support.mask(far).tolist() == [False, False, False, False]  # gap, sparse, outside
    # integer keys of cells, the columns' mean and std, the grid's corner: no row
    assert {name for name, _ in support.named_buffers()} == {
        "mean",
        "std",
        "width",
        "offset",
        "radix",
        "cells",
        "stride",
    }
    assert all(b.dtype == torch.int64 for n, b in support.named_buffers() if n not in
               ("mean", "std", "width"))  # fmt: skip
    # plain torch: it exports (traced, as gan export does) and gives the same mask
    traced = torch.jit.trace(support, torch.zeros(4, 2))
    noise = torch.from_numpy(rng.normal(0, 3, (500, 2))).float()
    assert torch.equal(traced(noise), support.mask(noise))
    assert SupportFilter.fit(dense[:9]) is None  # fewer rows than a cell needs: no filter


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_filtered_sampling_and_export(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _write(tmp_path / "c.csv", _clusters(400, 3))
    out = tmp_path / "run"
    run = genlab.gan.train("csv", csv=str(path), out=out, quiet=True, plots=False, epochs=20)
    assert run.summary["data"]["select"] == "data"
    samples = run.sample(500, seed=4)
    assert samples.shape == (500, 2)
    keep = run.data.support()(samples)
    assert float(keep.float().mean()) > 0.99  # every sample the filter kept (or the cap's fill)
    assert torch.equal(samples, run.sample(500, seed=4))
    from genlab.gan.engine import latent_noise

    script = tmp_path / "g.pt"
    genlab.gan.export_generator(run, script, "torchscript")
    kept = torch.jit.load(str(script))(latent_noise(500, run.config.latent_dim, 4))
    assert torch.equal(kept, samples[: kept.shape[0]])  # the same points, in the same order
    code = main(["gan", "export", str(out), "--out", str(tmp_path / "g.pt2")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--format torchscript" in err[0]


@pytest.mark.slow
def test_csv_sine_reaches_the_named_kinds_figure(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-5, 5, 2048)
    path = _write(tmp_path / "sine.csv", np.stack([x, np.sin(x)], 1))
    run = genlab.gan.train("csv", csv=str(path), quiet=True, plots=False)
    g = run.sample(10_000).numpy().astype(np.float64)
    nrmse = math.sqrt(np.mean((g[:, 1] - np.sin(g[:, 0])) ** 2)) / np.std(np.sin(x))
    assert nrmse <= 0.1


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["exp", "sine"])
def test_named_kinds_keep_their_figures_selecting_on_the_data(kind: str) -> None:
    run = genlab.gan.train(kind, select="data", quiet=True, plots=False)
    metrics = run.summary["metrics"]
    if kind == "exp":
        assert metrics["relation_median_rel_error"] <= 0.01 and metrics["w1_x"] <= 0.04
        assert metrics["out_of_range"] <= 0.01
    else:
        assert metrics["relation_nrmse"] <= 0.1
