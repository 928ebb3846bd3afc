"""The GAN engine's contract after the redesign: the registry, the three parts and fresh test
noise, the discriminator step with batch statistics, ranks' shares of a batch, the caller's
module mode, resume checks, divergences in bits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import genlab.gan
from genlab.cli import main
from genlab.config import GanConfig
from genlab.errors import ConfigError
from genlab.evaluation.samples import curve_metrics
from genlab.gan import registry
from genlab.gan.curves import make_curve_gan_data
from genlab.gan.engine import (
    build_networks,
    discriminator_step,
    final_noise_seed,
    generate,
    has_batch_statistics,
    load_gan,
    rank_shards,
)
from genlab.training import runs

TINY = {"epochs": 3, "eval_every": 1, "eval_samples": 256, "plot_every": 2}


# --------------------------------------------------------------------------- the registry


@pytest.fixture
def with_gauss(monkeypatch: pytest.MonkeyPatch):
    """The registry with one more module: tests/gan_kind_example.py."""
    monkeypatch.setattr(registry, "MODULES", (*registry.MODULES, "tests.gan_kind_example"))
    registry.kinds.cache_clear()
    registry._families.cache_clear()
    yield
    registry.kinds.cache_clear()
    registry._families.cache_clear()


def test_one_registry_serves_the_api_the_cli_and_the_loader(
    with_gauss: None, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert list(genlab.gan.kinds()) == [
        "exp", "sine", "formula", "csv", "integers", "fashion", "gauss"
    ]  # fmt: skip
    run = genlab.gan.train("gauss", mu=2.0, out=tmp_path / "api", quiet=True, **TINY)
    assert run.summary["data"]["name"] == "normal around 2"
    out = tmp_path / "cli"
    assert main(["gan", "train", "gauss", "--mu", "2", "--epochs", "3", "--out", str(out),
                 "--quiet", "--no-report"]) == 0  # fmt: skip
    again = load_gan(out)  # the model file names its adapter family; the registry finds it
    assert again.data.mu == 2.0 and again.evaluate(500)["gap"] >= 0
    assert main(["data", "show", "gauss", "--mu", "1", "--out", str(tmp_path / "d.png")]) == 0


def test_unknown_kinds_and_options_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown data kind 'spiral'"):
        genlab.gan.train("spiral")
    with pytest.raises(ConfigError, match="takes no option colour"):
        genlab.gan.train("exp", colour="red")


# --------------------------------------------------------------------------- parts and noise


def test_summary_says_where_each_figure_comes_from(tmp_path: Path) -> None:
    run = genlab.gan.train("sine", n=256, out=tmp_path / "s", quiet=True, plots=False, **TINY)
    summary = runs.read_json(tmp_path / "s" / "summary.json")
    assert summary["splits"]["train"] == 256 and summary["splits"]["test"] == 10_000
    assert summary["test_noise_seed"] == final_noise_seed(0) != summary["validation_noise_seed"]
    assert summary["figure_split"]["metrics"].startswith("test part")
    assert summary["units"] == {"js": "bits", "kl": "bits"}
    assert summary["data"]["origin"] == {"kind": "sine", "options": {"n": 256}}
    # the reported figures are those of fresh noise on the test part, which eval repeats
    data = run.data
    noise_figures = data.test_figures(run.sample(10_000, seed=final_noise_seed(0)))
    assert noise_figures == pytest.approx(summary["metrics"], rel=1e-5)
    assert genlab.gan.evaluate(tmp_path / "s") == pytest.approx(summary["metrics"], rel=1e-5)


def test_divergences_are_in_bits() -> None:
    real = torch.rand(2000, 2)
    far = real + 100.0  # every generated point in the overflow cell: disjoint distributions
    figures = curve_metrics(far, real)
    assert figures["js"] == pytest.approx(1.0, abs=0.01)  # log2(2); in nats it was 0.693
    same = curve_metrics(real, real)
    assert same["js"] == 0.0 and same["kl"] == 0.0


# --------------------------------------------------------------------------- engine fixes


def test_discriminator_step_keeps_real_and_fake_batch_statistics_apart() -> None:
    torch.manual_seed(0)
    discriminator = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
    generator = nn.Linear(2, 2)
    real = torch.randn(64, 2) + 5.0
    noise = torch.randn(64, 2)
    reference = nn.Sequential(*[__import__("copy").deepcopy(m) for m in discriminator])
    with torch.no_grad():
        fake = generator(noise)
        bce = nn.BCEWithLogitsLoss()
        real_logits, fake_logits = reference(real), reference(fake)
        expected = bce(real_logits, torch.ones_like(real_logits)) + bce(
            fake_logits, torch.zeros_like(fake_logits)
        )
    optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.0)
    loss = discriminator_step(generator, discriminator, optimizer, real, noise)
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)
    assert has_batch_statistics(discriminator)  # so the engine never sends them jointly
    # one concatenated batch would have mixed the statistics: a different loss
    with torch.no_grad():
        both = reference(torch.cat([real, fake]))
        mixed = bce(both[:64], torch.ones(64, 1)) + bce(both[64:], torch.zeros(64, 1))
    assert abs(float(mixed) - float(expected)) > 1e-3


def test_joint_step_equals_separate_step_without_batch_statistics() -> None:
    torch.manual_seed(0)
    generator, discriminator = build_networks(GanConfig(), 2)
    assert not has_batch_statistics(discriminator)
    twin = __import__("copy").deepcopy(discriminator)
    real, noise = torch.randn(64, 2), torch.randn(48, 2)
    opt = torch.optim.Adam(discriminator.parameters(), lr=1e-3)
    twin_opt = torch.optim.Adam(twin.parameters(), lr=1e-3)
    joint = discriminator_step(generator, discriminator, opt, real, noise, joint=True)
    apart = discriminator_step(generator, twin, twin_opt, real, noise)
    assert float(joint) == pytest.approx(float(apart), rel=1e-6)
    for a, b in zip(discriminator.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_ranks_never_get_an_empty_share() -> None:
    batches = [torch.arange(10.0).view(5, 2), torch.arange(2.0).view(1, 2)]  # 5 rows, then 1
    shares = [list(rank_shards(batches, rank, 2)) for rank in (0, 1)]
    assert [s.shape[0] for s in shares[0]] == [3] and [s.shape[0] for s in shares[1]] == [2]
    together = torch.cat([shares[0][0], shares[1][0]])[:, 0].sort().values
    assert torch.equal(together, torch.tensor([0.0, 2.0, 4.0, 6.0, 8.0]))
    assert len(list(rank_shards(batches, 0, 1))) == 2  # one process keeps every batch


def test_generate_leaves_the_callers_mode() -> None:
    generator, _ = build_networks(GanConfig(d_dropout=0.0), 2)
    data = make_curve_gan_data("sine", n=64)
    generator.train()
    generate(generator, data, 10)
    assert generator.training and all(m.training for m in generator.modules())
    generator.eval()
    generate(generator, data, 10)
    assert not generator.training


# --------------------------------------------------------------------------- resume


def test_resume_refuses_other_flags_and_takes_the_stored_data(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "run"
    first = genlab.gan.train("sine", n=128, out=out, quiet=True, plots=False, **TINY)
    with pytest.raises(ConfigError, match=r"--lr 0\.5 here but 0\.001 in the run"):
        genlab.gan.train("sine", out=out, resume=True, lr=0.5)
    with pytest.raises(ConfigError, match="--n 64 here but 128"):
        genlab.gan.train("sine", out=out, resume=True, n=64)
    with pytest.raises(ConfigError, match="trained on 'sine' data, not 'exp'"):
        genlab.gan.train("exp", out=out, resume=True)
    code = main(["gan", "train", "sine", "--resume", str(out), "--batch-size", "7", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--batch-size 7 here but 128" in err[0]
    # as if stopped after its last checkpoint; no flags: the stored data and settings
    (out / "summary.json").unlink()
    again = genlab.gan.train("sine", out=out, resume=True, quiet=True, plots=False, threads=2)
    assert again.config.threads == 2  # where it runs may change
    assert again.data.train.shape[0] == 128
    assert again.summary["metrics"] == pytest.approx(first.summary["metrics"], rel=1e-5)


def test_sample_checks_its_count() -> None:
    run = genlab.gan.train("sine", n=64, quiet=True, plots=False, **TINY)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ConfigError, match="positive whole number"):
            run.sample(bad)
    assert isinstance(np.asarray(run.sample(3)), np.ndarray)
