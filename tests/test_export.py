"""Exported generators: plain torch loads them and gets the same points as ``gan sample``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from genlab.config import GanConfig
from genlab.errors import ConfigError, RunFileError
from genlab.gan.curves import make_curve_gan_data
from genlab.gan.engine import latent_noise, load_gan, train_gan
from genlab.gan.export import export_generator, sampler_module
from genlab.training import runs

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")

LOADERS = {
    "export": lambda path: torch.export.load(str(path)).module(),
    "torchscript": lambda path: torch.jit.load(str(path)),
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "exp"
    config = GanConfig(epochs=6, eval_every=3, patience=None, eval_samples=256)
    train_gan(make_curve_gan_data("exp"), config, out=out, plots=False, final_samples=500)
    return out


@pytest.mark.parametrize("fmt", ["export", "torchscript"])
def test_exported_module_gives_the_sampled_points(run_dir: Path, tmp_path: Path, fmt: str) -> None:
    path = export_generator(run_dir, tmp_path / f"g.{fmt}", fmt)
    module = LOADERS[fmt](path)
    gan = load_gan(run_dir)
    for n, seed in ((1, 0), (7, 1), (3000, 2)):  # any batch size
        noise = latent_noise(n, gan.config.latent_dim, seed)
        assert torch.equal(module(noise), gan.sample(n, seed=seed))


@pytest.mark.parametrize("fmt", ["export", "torchscript"])
def test_plain_torch_runs_it_without_genlab(run_dir: Path, tmp_path: Path, fmt: str) -> None:
    path = export_generator(run_dir, tmp_path / "generator", fmt)
    expected = load_gan(run_dir).sample(100, seed=5)
    torch.save(expected, tmp_path / "expected.pt")
    load = "torch.export.load(path).module()" if fmt == "export" else "torch.jit.load(path)"
    script = textwrap.dedent(
        f"""
        import sys, torch
        path = {str(path)!r}
        module = {load}
        noise = torch.randn(100, 2, generator=torch.Generator().manual_seed(5))
        points = module(noise)
        assert torch.equal(points, torch.load({str(tmp_path / "expected.pt")!r}))
        assert not any(name.startswith("genlab") for name in sys.modules), "genlab imported"
        print("ok", tuple(points.shape))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "ok (100, 2)" in result.stdout


def test_export_into_a_folder_picks_a_name(run_dir: Path, tmp_path: Path) -> None:
    assert export_generator(run_dir, tmp_path).name == "generator.pt2"
    assert export_generator(run_dir, tmp_path, "torchscript").name == "generator.pt"


def test_export_refuses_bad_requests(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--format"):
        export_generator(run_dir, tmp_path / "g", "onnx")
    runs.save_model_file(tmp_path / "model.pt", "classifier", {}, {"w": torch.zeros(1)})
    with pytest.raises(RunFileError, match="not a gan model"):
        export_generator(tmp_path, tmp_path / "g.pt2")


def test_sampler_module_decodes_in_original_units(run_dir: Path) -> None:
    gan = load_gan(run_dir)
    module = sampler_module(gan.generator, gan.data)
    with torch.no_grad():
        points = module(torch.randn(1000, 2))
        lowest = gan.data.decode(torch.full((1, 2), -9.0))
    # exp: y > 0 and x inside the training range (quantile decoding cannot leave it)
    assert bool((points[:, 1] > 0).all())
    assert float(points[:, 0].min()) >= float(lowest[0, 0])
