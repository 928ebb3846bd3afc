"""The GAN engine: the two steps, column transforms, the curve adapter, training, save/load.

Fast tests train for a few epochs; the two ``slow`` tests train the exponential and sine GANs
with the default settings and check the issue's figures on 10,000 samples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from genlab.config import GanConfig
from genlab.errors import ConfigError, DataError, RunFileError, TrainingError
from genlab.gan.adapter import GanAdapter
from genlab.gan.curves import (
    ColumnTransform,
    CurveGanData,
    make_curve_gan_data,
)
from genlab.gan.engine import (
    build_networks,
    discriminator_step,
    final_noise_seed,
    generate,
    generator_step,
    interpolate,
    latent_noise,
    load_gan,
    train_gan,
)
from genlab.training import runs
from genlab.training.loop import make_adam
from tests.conftest import interrupted_then_resumed

FAST = GanConfig(epochs=12, eval_every=3, patience=None, eval_samples=512, plot_every=4)


def _params(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _same(before: list[torch.Tensor], module: nn.Module) -> bool:
    return all(torch.equal(a, b) for a, b in zip(before, module.parameters(), strict=True))


# --------------------------------------------------------------------------- the two steps


@pytest.fixture
def networks() -> tuple[nn.Module, nn.Module, torch.optim.Optimizer, torch.optim.Optimizer]:
    generator, discriminator = build_networks(GanConfig(), 2)
    return (
        generator,
        discriminator,
        make_adam(generator.parameters(), 1e-3),
        make_adam(discriminator.parameters(), 1e-3),
    )


def test_discriminator_step_changes_only_the_discriminator(networks: Any) -> None:
    generator, discriminator, _, d_optimizer = networks
    g_before, d_before = _params(generator), _params(discriminator)
    loss = discriminator_step(
        generator, discriminator, d_optimizer, torch.randn(32, 2), torch.randn(32, 2)
    )
    assert loss.dim() == 0 and bool(torch.isfinite(loss)) and not loss.requires_grad
    assert _same(g_before, generator)
    assert not _same(d_before, discriminator)
    assert all(p.grad is None for p in generator.parameters())


def test_generator_step_changes_only_the_generator(networks: Any) -> None:
    generator, discriminator, g_optimizer, _ = networks
    g_before, d_before = _params(generator), _params(discriminator)
    loss = generator_step(generator, discriminator, g_optimizer, torch.randn(32, 2))
    assert loss.dim() == 0 and bool(torch.isfinite(loss))
    assert _same(d_before, discriminator)
    assert not _same(g_before, generator)
    assert all(p.grad is None for p in discriminator.parameters())
    assert all(p.requires_grad for p in discriminator.parameters())  # unfrozen afterwards


def test_the_steps_push_in_opposite_directions(networks: Any) -> None:
    """A D step makes D more confident that fakes are fake; a G step makes it less so."""
    generator, discriminator, g_optimizer, d_optimizer = networks
    noise = torch.randn(256, 2)

    def p_fake_is_real() -> float:
        with torch.no_grad():
            return float(torch.sigmoid(discriminator(generator(noise))).mean())

    start = p_fake_is_real()
    for _ in range(5):
        real = torch.randn(256, 2) + 3.0  # real points far from the fakes
        discriminator_step(generator, discriminator, d_optimizer, real, noise)
    after_d = p_fake_is_real()
    for _ in range(5):
        generator_step(generator, discriminator, g_optimizer, noise)
    assert after_d < start
    assert p_fake_is_real() > after_d


# --------------------------------------------------------------------------- transforms


def _inside_knots(transform: ColumnTransform, points: torch.Tensor) -> torch.Tensor:
    """(N,) mask of the rows whose quantile columns all lie within knots[0]..knots[-1] (the
    smoothed end knots sit strictly inside the data's range, issue 20); other columns always
    count as inside."""
    quantile = torch.tensor([m == "quantile" for m in transform.mode_names()])
    lo, hi = transform.knots[0], transform.knots[-1]
    inside = (points >= lo) & (points <= hi)
    return (inside | ~quantile).all(dim=1)


def _assert_round_trip(transform: ColumnTransform, points: torch.Tensor) -> None:
    """Rows inside the knots come back exactly; rows past an end knot come back clamped to it,
    and they are only the few extreme rows."""
    back = transform.decode(transform.encode(points))
    inside = _inside_knots(transform, points)
    assert float(inside.float().mean()) > 0.98
    torch.testing.assert_close(back[inside], points[inside], rtol=1e-4, atol=1e-4)
    quantile = torch.tensor([m == "quantile" for m in transform.mode_names()])
    clamped = torch.where(quantile, points.clamp(transform.knots[0], transform.knots[-1]), points)
    torch.testing.assert_close(back, clamped, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["standard", "quantile", "none"])
def test_transforms_round_trip(mode: str) -> None:
    points = make_curve_gan_data("exp").train
    transform = ColumnTransform.fit(points, mode)
    if mode != "quantile":
        assert bool(_inside_knots(transform, points).all())
    _assert_round_trip(transform, points)


def test_auto_transform_choices() -> None:
    exp = make_curve_gan_data("exp").transform.mode_names()
    sine = make_curve_gan_data("sine").transform.mode_names()
    parabola = make_curve_gan_data("formula", formula="x**2", x_range=(-3, 3))
    assert exp == ["quantile", "quantile"]  # y = 1.08^x is monotone in x: a line in model space
    assert sine == ["quantile", "standard"]
    assert parabola.transform.mode_names() == ["quantile", "standard"]
    skewed = torch.stack([torch.randn(500), torch.rand(500).mul(6).exp()], dim=1)
    assert ColumnTransform.fit(skewed, "auto").mode_names() == ["quantile", "log"]
    _assert_round_trip(ColumnTransform.fit(skewed, "auto"), skewed)


def test_standardised_model_space() -> None:
    data = make_curve_gan_data("sine", transform="standard")
    model = data.transform.encode(data.train)
    torch.testing.assert_close(model.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(model.std(0, unbiased=False), torch.ones(2), atol=1e-5, rtol=0)


def test_quantile_decoding_stays_in_the_real_range() -> None:
    data = make_curve_gan_data("exp")
    extreme = torch.tensor([[-50.0, -50.0], [50.0, 50.0], [0.0, 0.0]])
    decoded = data.decode(extreme)
    knots = data.transform.knots
    assert data.transform.mode_names() == ["quantile", "quantile"]
    # The ends decode to the end knots, which sit strictly inside the training data's range
    # (smoothed knots: no decoded value is a training row's min or max, issue 20).
    torch.testing.assert_close(decoded[0], knots[0])
    torch.testing.assert_close(decoded[1], knots[-1])
    lo, hi = data.train.min(0).values, data.train.max(0).values
    assert bool((decoded > lo).all()) and bool((decoded < hi).all())


def test_unknown_transform_is_refused() -> None:
    with pytest.raises(ConfigError, match="--transform"):
        ColumnTransform.fit(torch.randn(10, 2), "rank")


# --------------------------------------------------------------------------- the curve adapter


def test_curve_data_is_gan_data() -> None:
    data = make_curve_gan_data("exp")
    assert isinstance(data, GanAdapter)
    assert (data.kind, data.name, data.dim, data.monitor, data.monitor_mode) == (
        "curve",
        "exp",
        2,
        "score",
        "min",
    )
    assert data.train.shape == (2048, 2)
    assert data.validation.shape == data.test.shape == (10_000, 2)
    assert data.book_reference == "gan-exp"
    batches = data.real_batches(128, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert len(batches) == data.batches_per_epoch == 16
    assert all(b.shape == (128, 2) for b in batches)
    # one epoch is a permutation of the (model-space) training points
    everything = torch.cat(batches)
    expected = data.transform.encode(data.train)
    assert torch.equal(everything.sort(0).values, expected.sort(0).values)


def test_three_parts_are_disjoint_draws() -> None:
    data = make_curve_gan_data("exp")
    train, validation, test = data.train, data.validation, data.test
    # independent draws: apart from float32 ties, no point appears in two parts
    xs = [set(part[:, 0].tolist()) for part in (train, validation, test)]
    assert max(len(xs[0] & xs[1]), len(xs[0] & xs[2]), len(xs[1] & xs[2])) < 20
    assert data.splits() == {
        "train": 2048,
        "validation": 10_000,
        "test": 10_000,
        "train_seed": 0,
        "validation_seed": 1,
        "test_seed": 2,
    }
    rows = make_curve_gan_data("sine", n=100)
    assert rows.train.shape == (100, 2)
    assert data.x_range == (0.0, 50.0)  # the shape's domain, not a part's min and max


def test_csv_rows_are_split_in_three(tmp_path: Path) -> None:
    csv = tmp_path / "points.csv"
    rows = "\n".join(f"{i},{i * i}" for i in range(100))
    csv.write_text("a,b\n" + rows + "\n")
    data = make_curve_gan_data("csv", csv=str(csv))
    assert data.columns == ["a", "b"] and data.relation is None
    sizes = data.splits()
    assert (sizes["train"], sizes["validation"], sizes["test"]) == (70, 15, 15)
    together = torch.cat([data.train, data.validation, data.test])[:, 0].sort().values
    assert torch.equal(together, torch.arange(100.0))  # disjoint, and nothing lost
    # x_range is the train part's x range: nothing about the held-out parts reaches selection
    train_x = data.train[:, 0]
    assert data.x_range == (float(train_x.min()), float(train_x.max()))
    assert data.warnings({}) and "only 15 rows" in data.warnings({})[0]
    again = make_curve_gan_data("csv", csv=str(csv))
    assert torch.equal(again.test, data.test)  # the same seed gives the same split
    other = make_curve_gan_data("csv", csv=str(csv), data_seed=1)
    assert not torch.equal(other.test, data.test)
    # this split leaves x = 99 out of its train part, and x_range with it
    assert 99.0 not in other.train[:, 0].tolist()
    assert other.x_range == (float(other.train[:, 0].min()), float(other.train[:, 0].max()))
    assert other.x_range[1] < 99.0


def test_small_csv_rule(tmp_path: Path) -> None:
    ten = tmp_path / "ten.csv"
    ten.write_text("".join(f"{i},{2 * i}\n" for i in range(10)))
    sizes = make_curve_gan_data("csv", csv=str(ten)).splits()
    assert (sizes["train"], sizes["validation"], sizes["test"]) == (6, 2, 2)
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("1,2\n3,4\n5,7\n")
    with pytest.raises(DataError, match="3 rows; a GAN needs at least 10"):
        make_curve_gan_data("csv", csv=str(tiny))


def test_validation_score_is_small_for_real_points_and_grows_with_error() -> None:
    data = make_curve_gan_data("exp")
    fresh = make_curve_gan_data("exp", data_seed=7).train
    good = data.validation_figures(fresh)
    shifted = fresh.clone()
    shifted[:, 1] *= 1.05  # y 5% off the curve
    bad = data.validation_figures(shifted)
    assert good["score"] < 0.05 and good["relation_rms"] < 5e-3 and good["x_out"] == 0.0
    assert bad["relation_rms"] > 0.02 and bad["score"] > good["score"]
    outside = fresh.clone()
    outside[:100, 0] = 60.0
    assert data.validation_figures(outside)["x_out"] == pytest.approx(100 / 2048)
    test = data.test_figures(fresh)
    assert test["relation_median_rel_error"] < 1e-5 and "score" not in test


def test_validation_and_test_figures_use_their_own_parts() -> None:
    data = make_curve_gan_data("sine")
    # the validation part scores about 0 against itself, the test part clearly more
    own = data.validation_figures(data.validation)["sliced_w1"]
    assert own < 0.2 * data.validation_figures(data.test)["sliced_w1"]
    assert data.test_figures(data.test)["w1"] == 0.0
    assert data.test_figures(data.validation)["w1"] > 0.0


def test_curve_data_round_trips_through_its_dict() -> None:
    data = make_curve_gan_data("formula", formula="x**2/10 - 3", x_range=(-5, 5), n=300)
    again = CurveGanData.from_dict(data.to_dict())
    model = torch.randn(50, 2)
    assert torch.equal(again.decode(model), data.decode(model))
    assert again.test_figures(data.train) == data.test_figures(data.train)
    assert again.validation_figures(data.train) == data.validation_figures(data.train)
    assert again.splits() == {**data.splits(), "train": 0}
    with pytest.raises(RunFileError, match="damaged"):
        CurveGanData.from_dict({"kind": "curve"})


# --------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gan") / "exp"
    train_gan(make_curve_gan_data("exp"), FAST, out=out, plots=False, final_samples=2000)
    return out


def test_run_folder_and_summary(trained: Path) -> None:
    summary = runs.read_json(trained / "summary.json")
    for key in (
        "kind",
        "data",
        "epochs_run",
        "best_epoch",
        "stopped_early",
        "train_seconds",
        "seconds_per_epoch",
        "metrics",
        "seed",
        "config",
    ):
        assert key in summary, key
    assert summary["kind"] == "gan" and summary["data"]["name"] == "exp"
    assert summary["epochs_run"] == 12 and summary["stopped_early"] is False
    assert {"relation_median_rel_error", "w1_x", "out_of_range", "kl", "mmd"} <= set(
        summary["metrics"]
    )
    assert runs.read_json(trained / "config.json")["g_hidden"] == list(FAST.g_hidden)
    lines = (trained / "metrics.csv").read_text().splitlines()
    assert len(lines) == 13 and lines[0].startswith("epoch,d_loss,g_loss")
    # the best epoch is the one with the lowest score among the checks
    checks = [r for r in train_history(trained) if r.get("score")]
    best = min(checks, key=lambda r: r["score"])
    assert int(best["epoch"]) == summary["best_epoch"]
    assert summary["best_value"] == pytest.approx(best["score"], rel=1e-5)


def train_history(run_dir: Path) -> list[dict[str, float]]:
    import csv

    with open(run_dir / "metrics.csv") as handle:
        return [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(handle)]


def test_save_load_sample_is_identical(trained: Path) -> None:
    gan = load_gan(trained)
    again = load_gan(trained / "model.pt")
    first = gan.sample(500, seed=3)
    assert first.shape == (500, 2)
    assert torch.equal(first, again.sample(500, seed=3))
    assert not torch.equal(first, gan.sample(500, seed=4))
    noise = latent_noise(500, 2, seed=3)
    assert torch.equal(first, generate(gan.generator, gan.data, noise=noise))
    assert gan.config == FAST
    assert gan.summary["kind"] == "gan"


def test_model_file_is_plain_tensors(trained: Path) -> None:
    payload = torch.load(trained / "model.pt", weights_only=True)
    assert payload["kind"] == "gan" and payload["data"]["kind"] == "curve"
    assert set(payload["data"]["transform"]) == {"modes", "mean", "std", "knots"}


def test_same_seed_same_training() -> None:
    data = make_curve_gan_data("sine", n=256)
    config = FAST.with_(epochs=4, ema=0.0)
    first = train_gan(data, config, final_samples=500)
    second = train_gan(data, config, final_samples=500)
    for a, b in zip(
        first.generator.state_dict().values(), second.generator.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert first.summary["metrics"] == second.summary["metrics"]
    other = train_gan(data, config.with_(seed=1), final_samples=500)
    assert not torch.equal(first.sample(10), other.sample(10))


def test_interpolate_walks() -> None:
    gan_data = make_curve_gan_data("sine", n=128)
    generator, _ = build_networks(GanConfig(), 2)
    walks = interpolate(generator, gan_data, 6, walks=3, seed=0)
    assert walks.shape == (3, 6, 2)
    ends = latent_noise(6, 2, 0).view(3, 2, 2)
    torch.testing.assert_close(walks[:, 0], generate(generator, gan_data, noise=ends[:, 0]))
    torch.testing.assert_close(walks[:, -1], generate(generator, gan_data, noise=ends[:, 1]))


def test_load_refuses_other_models(tmp_path: Path) -> None:
    runs.save_model_file(tmp_path / "model.pt", "classifier", {}, {"w": torch.zeros(1)})
    with pytest.raises(RunFileError, match="holds a classifier model, not a gan model"):
        load_gan(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunFileError, match="not a genlab run folder"):
        load_gan(tmp_path / "empty")
    with pytest.raises(RunFileError, match="does not exist"):
        load_gan(tmp_path / "nothing")


class NoisyData(GanAdapter):
    """A tiny non-curve adapter: 1-D Gaussian data, for engine tests; NaN when ``poison``.
    Its validation figure ``gap`` and its test figure ``test_gap`` differ in name, so a test
    can tell which one the engine used where."""

    kind = "test"
    name = "gaussian"
    dim = 1
    monitor = "gap"
    monitor_mode = "min"
    batches_per_epoch = 4

    def __init__(self, poison_from: int | None = None) -> None:
        self.poison_from = poison_from
        self.epoch = 0
        self.test_sizes: list[int] = []

    def real_batches(
        self, batch_size: int, generator: torch.Generator, device: torch.device
    ) -> list[torch.Tensor]:
        self.epoch += 1
        batches = [torch.randn(batch_size, 1, generator=generator) + 3 for _ in range(4)]
        if self.poison_from is not None and self.epoch >= self.poison_from:
            batches[0][0, 0] = float("nan")
        return [b.to(device) for b in batches]

    def decode(self, model_space: torch.Tensor) -> torch.Tensor:
        return model_space

    def validation_figures(self, samples: torch.Tensor) -> dict[str, float]:
        return {"gap": float((samples.mean() - 3).abs() + (samples.std() - 1).abs())}

    def test_figures(self, samples: torch.Tensor) -> dict[str, float]:
        self.test_sizes.append(samples.shape[0])
        return {"test_gap": self.validation_figures(samples)["gap"]}

    def decoder(self) -> nn.Module:
        return nn.Identity()

    def real_points(self, n: int) -> torch.Tensor:
        return torch.randn(n, 1, generator=torch.Generator().manual_seed(0)) + 3

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}


def test_engine_is_data_agnostic() -> None:
    config = GanConfig(epochs=60, eval_every=5, patience=None, eval_samples=500, batch_size=64)
    threads = torch.get_num_threads()
    run = train_gan(NoisyData(), config.with_(threads=1), final_samples=1000)
    assert torch.get_num_threads() == threads  # restored
    checks = [row["gap"] for row in run.history if "gap" in row]
    assert len(checks) == 12
    assert all("test_gap" not in row for row in run.history)  # checks see validation only
    assert run.summary["metrics"]["test_gap"] < checks[0]  # it learned something
    assert run.summary["best_value"] == min(checks)
    assert run.data.test_sizes == [1000]  # the test figures: once, at the end
    assert run.summary["test_noise_seed"] == final_noise_seed(config.seed)
    assert run.summary["validation_noise_seed"] != run.summary["test_noise_seed"]


class PerfectData(NoisyData):
    """NoisyData whose figure has a floor the engine can stop at."""

    monitor_target = 10.0  # every check reaches it
    progress_keys = ("gap",)


def test_reaching_the_target_stops_at_once() -> None:
    config = GanConfig(epochs=50, eval_every=4, patience=None, eval_samples=200, batch_size=32)
    run = train_gan(PerfectData(), config, final_samples=500)
    assert run.summary["epochs_run"] == 4 and run.summary["stopped_early"] is True
    assert run.summary["best_epoch"] == 4


def test_separate_discriminator_learning_rate() -> None:
    data = make_curve_gan_data("sine", n=128)
    slow_d = train_gan(data, FAST.with_(epochs=2, d_lr=1e-9), final_samples=200)
    normal = train_gan(data, FAST.with_(epochs=2), final_samples=200)
    assert slow_d.summary["metrics"] != normal.summary["metrics"]
    assert GanConfig.from_dict(FAST.with_(d_lr=0.01).to_dict()).d_lr == 0.01
    with pytest.raises(ConfigError, match="--d-lr"):
        GanConfig(d_lr=0.0)


def test_non_finite_loss_stops_with_a_message(tmp_path: Path) -> None:
    config = GanConfig(epochs=30, eval_every=2, patience=None, eval_samples=200, batch_size=32)
    with pytest.raises(TrainingError, match="training diverged at epoch 7"):
        train_gan(NoisyData(poison_from=7), config, out=tmp_path / "run", plots=False)
    saved = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    assert saved["best_epoch"] in (2, 4, 6)  # the best generator before it broke
    assert not (tmp_path / "run" / "summary.json").exists()


def test_interrupted_run_resumes_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = GanConfig(epochs=10, eval_every=2, patience=None, eval_samples=256)
    data = make_curve_gan_data("sine", n=256)
    whole, resumed = interrupted_then_resumed(
        data, config, tmp_path / "run", monkeypatch, interrupt_at=4, final_samples=500
    )  # Ctrl-C during epoch 4
    assert resumed.summary["epochs_run"] == 10
    assert resumed.summary["metrics"] == whole.summary["metrics"]


# --------------------------------------------------------------------------- the figures


@pytest.mark.slow
def test_exp_gan_reaches_the_figures() -> None:
    run = train_gan(make_curve_gan_data("exp"), GanConfig())
    metrics = run.summary["metrics"]
    assert metrics["relation_median_rel_error"] <= 0.01
    assert metrics["w1_x"] <= 0.04
    assert metrics["out_of_range"] <= 0.01


@pytest.mark.slow
def test_sine_gan_reaches_the_figures() -> None:
    run = train_gan(make_curve_gan_data("sine"), GanConfig())
    assert run.summary["metrics"]["relation_nrmse"] <= 0.1
