"""Image GANs (the ``fashion`` kind) on tiny synthetic Fashion-MNIST-shaped files: the adapter,
the judge, conditional sampling, the CLI, export. Real-data runs are in test_image_gan_real.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import genlab.gan
from genlab.cli import main
from genlab.errors import ConfigError, RunFileError
from genlab.gan.images import (
    ImageDecoder,
    ImageGanData,
    class_key,
    kmeans,
    parse_class,
    parse_classes,
    split_train,
    to_model_space,
)
from genlab.gan.judge import load_judge, train_judge
from tests.conftest import write_fashion

QUICK = ["--epochs", "2", "--quiet", "--no-report", "--threads", "1", "--final-samples", "600"]


@pytest.fixture(scope="module")
def fashion(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fashion(tmp_path_factory.mktemp("img") / "fashion", n_train=400, n_test=100)


@pytest.fixture(scope="module")
def judge(fashion: Path) -> Path:
    return train_judge(fashion.parent / "judge", fashion, quiet=True, epochs=6, patience=None)


@pytest.fixture(scope="module")
def conditional_run(fashion: Path, judge: Path) -> Path:
    out = fashion.parent / "fc"
    args = ["gan", "train", "fashion", "--conditional", "--out", str(out), *QUICK]
    args += ["--data-dir", str(fashion), "--judge", str(judge), "--classes", "sneaker,bag,0"]
    assert main(args) == 0
    return out


def test_class_names_in_any_case_or_index() -> None:
    assert parse_class("ankle boot") == 9
    assert parse_class("Ankle Boot") == 9
    assert parse_class("t-shirt") == 0
    assert parse_class("7") == 7
    assert parse_class(3) == 3
    assert parse_classes("sneaker, BAG") == (7, 8)
    assert parse_classes(None) == tuple(range(10))
    with pytest.raises(ConfigError, match="unknown class 'hat'"):
        parse_class("hat")
    with pytest.raises(ConfigError, match="out of range"):
        parse_class(10)


def test_decoding_round_trips_the_pixels() -> None:
    images = torch.randint(0, 256, (5, 28, 28), dtype=torch.uint8)
    model_space = to_model_space(images)
    assert model_space.shape == (5, 784)
    assert float(model_space.min()) >= -1.0 and float(model_space.max()) <= 1.0
    assert torch.equal(ImageDecoder()(model_space), images)


def test_the_parts_are_disjoint_and_seeded(fashion: Path) -> None:
    train_images, _ = split_train(fashion)
    val_images, _ = split_train(fashion, part="validation")
    assert train_images.shape[0] + val_images.shape[0] == 400
    assert val_images.shape[0] == 40
    again, _ = split_train(fashion, part="validation")
    assert torch.equal(again, val_images)
    flat_train = {bytes(x.numpy()) for x in train_images}
    assert not any(bytes(x.numpy()) in flat_train for x in val_images)


def test_judge_features_and_identical_sets(fashion: Path, judge: Path) -> None:
    loaded = load_judge(judge)
    images, labels = split_train(fashion, part="validation")
    features, predicted = loaded.features_and_labels(images)
    assert features.shape == (images.shape[0], 128)
    assert predicted.shape == labels.shape
    # the synthetic classes are easy: the judge gets most right
    assert float((predicted == labels).float().mean()) > 0.6  # chance: 0.1
    data = ImageGanData(classes=range(10), conditional=False, judge=loaded, data_dir=str(fashion))
    same = data._pair_figures(features, features)
    assert same["fid_judge"] < 1e-3
    assert same["precision"] == 1.0 and same["recall"] == 1.0
    shifted = data._pair_figures(features, features + 1.0)
    assert shifted["fid_judge"] > 10 * max(same["fid_judge"], 1e-3)


def test_a_judge_of_the_wrong_kind_is_refused(
    fashion: Path, judge: Path, conditional_run: Path, tmp_path: Path
) -> None:
    with pytest.raises(RunFileError, match="not a usable classifier"):
        load_judge(conditional_run)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.pt").write_bytes(b"not a model")
    with pytest.raises(RunFileError):
        load_judge(broken)
    with pytest.raises(RunFileError, match="has changed"):
        load_judge(judge, expect_digest="0" * 64)


def test_conditional_run_files_and_summary(conditional_run: Path, judge: Path) -> None:
    summary = json.loads((conditional_run / "summary.json").read_text())
    metrics = summary["metrics"]
    for key in ("fid_judge", "kid_judge", "kid_judge_se", "precision", "recall"):
        assert key in metrics and f"floor_{key}" in metrics
    assert {"class_fidelity", "fidelity_sneaker", "fidelity_bag", "fidelity_tshirttop"} <= set(
        metrics
    )
    assert summary["data"]["judge_sha256"] == load_judge(judge).digest
    assert summary["splits"]["classes"] == ["T-shirt/top", "Sneaker", "Bag"]
    for name in ("generated.png", "classes.png", "loss.png", "fid_judge.png", "training.gif"):
        assert (conditional_run / "plots" / name).is_file(), name


def test_conditional_sampling_draws_the_asked_class(conditional_run: Path) -> None:
    run = genlab.gan.load(conditional_run)
    boots = run.sample(6, seed=1, label="sneaker")
    assert boots.shape == (6, 28, 28) and boots.dtype == torch.uint8
    assert torch.equal(genlab.gan.sample_labels(run, 6, "Sneaker"), torch.full((6,), 7))
    assert genlab.gan.sample_labels(run, 4).tolist() == [0, 7, 8, 0]
    # the label reaches the generator: another class, the same noise, other images
    bags = run.sample(6, seed=1, label=8)
    assert not torch.equal(boots, bags)
    assert torch.equal(run.sample(6, seed=1, label="sneaker"), boots)
    with pytest.raises(ConfigError, match="did not learn 'Coat'"):
        run.sample(2, label="coat")


def test_cli_sample_png_and_npz(conditional_run: Path, tmp_path: Path) -> None:
    png, npz = tmp_path / "boots.png", tmp_path / "s.npz"
    args = ["gan", "sample", str(conditional_run), "-n", "16", "--seed", "1", "--quiet"]
    assert main([*args, "--class", "Sneaker", "--out", str(png)]) == 0
    with Image.open(png) as image:
        assert image.size[0] > 100
    assert main([*args, "--out", str(npz)]) == 0
    arrays = np.load(npz)
    assert arrays["images"].shape == (16, 28, 28) and arrays["images"].dtype == np.uint8
    assert arrays["labels"].tolist() == [0, 7, 8] * 5 + [0]


@pytest.mark.parametrize(
    "extra",
    [
        ["-n", "0", "--out", "x.png"],
        ["-n", "4", "--class", "hat", "--out", "x.png"],
        ["-n", "4", "--out", "x.csv"],
        ["-n", "4"],
    ],
)
def test_cli_sample_bad_input(
    conditional_run: Path, tmp_path: Path, extra: list[str], capsys: pytest.CaptureFixture
) -> None:
    args = ["gan", "sample", str(conditional_run), *extra]
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    assert main(args) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_export_gives_the_same_images(conditional_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "g.pt2"
    assert main(["gan", "export", str(conditional_run), "--out", str(out)]) == 0
    module = torch.export.load(str(out)).module()
    noise = torch.randn(5, 64, generator=torch.Generator().manual_seed(3))
    labels = torch.tensor([7, 8, 0, 7, 8])
    run = genlab.gan.load(conditional_run)
    from genlab.gan.engine import generate

    expected = generate(run.generator, run.data, noise=noise, labels=labels)
    assert torch.equal(module(noise, labels), expected)


def test_eval_and_interpolate(conditional_run: Path, tmp_path: Path, capsys) -> None:
    assert main(["gan", "eval", str(conditional_run), "-n", "300"]) == 0
    printed = capsys.readouterr().out
    assert "fid_judge" in printed and "(real images:" in printed
    walk = tmp_path / "walk.png"
    assert (
        main(["gan", "interpolate", str(conditional_run), "--steps", "6", "--out", str(walk)]) == 0
    )
    assert walk.is_file()


def test_unconditional_run_refuses_a_class(fashion: Path, judge: Path, tmp_path: Path) -> None:
    out = tmp_path / "fg"
    args = ["gan", "train", "fashion", "--out", str(out), *QUICK, "--epochs", "1"]
    assert main([*args, "--data-dir", str(fashion), "--judge", str(judge)]) == 0
    run = genlab.gan.load(out)
    assert run.sample(3).shape == (3, 28, 28)
    assert genlab.gan.sample_labels(run, 3).tolist() == [-1, -1, -1]
    with pytest.raises(ConfigError, match="class-conditional"):
        run.sample(3, label="bag")
    summary = json.loads((out / "summary.json").read_text())
    assert "classes_found" in summary["metrics"] and "class_fidelity" not in summary["metrics"]


def test_interrupted_conditional_run_resumes_exactly(
    fashion: Path, judge: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genlab.gan.images import make_image_gan_data, recommended_config
    from tests.conftest import interrupted_then_resumed

    config = recommended_config("genlab", True).with_(epochs=3, threads=1, patience=None)
    data = make_image_gan_data(conditional=True, classes="0,1,2", judge=judge, data_dir=fashion)
    whole, resumed = interrupted_then_resumed(
        data, config, tmp_path / "run", monkeypatch, interrupt_at=2, final_samples=300
    )  # Ctrl-C during epoch 2
    assert resumed.summary["epochs_run"] == 3
    assert resumed.summary["metrics"] == whole.summary["metrics"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--classes", "hat"], "unknown class 'hat'"),
        (["--classes", "bag", "--conditional"], "at least two classes"),
        (["--judge", "JUDGE_GAN"], "not a usable classifier"),
        (["--judge", "BROKEN"], "--judge"),
        (["--preset", "book", "--conditional"], "unconditional"),
        (["--conditional", "--clusters", "4"], "--clusters is for unconditional runs"),
        (["--preset", "book", "--clusters", "4"], "--clusters needs the conv networks"),
        (["--clusters", "-1"], "clusters"),
    ],
)
def test_cli_train_bad_input(
    fashion: Path,
    judge: Path,
    conditional_run: Path,
    tmp_path: Path,
    extra: list[str],
    message: str,
    capsys: pytest.CaptureFixture,
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.pt").write_bytes(b"\x00corrupt")
    swap = {"JUDGE_GAN": str(conditional_run), "BROKEN": str(broken)}
    extra = [swap.get(a, a) for a in extra]
    if "--judge" not in extra:
        extra += ["--judge", str(judge)]
    out = tmp_path / "run"
    args = ["gan", "train", "fashion", "--out", str(out), *QUICK, "--data-dir", str(fashion)]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (out / "model.pt").exists()


def test_data_show_writes_a_grid(fashion: Path, tmp_path: Path) -> None:
    out = tmp_path / "real.png"
    args = ["data", "show", "fashion", "--data-dir", str(fashion), "--classes", "bag,coat"]
    assert main([*args, "--out", str(out)]) == 0
    with Image.open(out) as image:
        assert image.size[0] > 100


def test_print_run_is_short(conditional_run: Path) -> None:
    text = repr(genlab.gan.load(conditional_run))
    assert text.startswith("<genlab GAN on Fashion-MNIST") and "fid_judge" in text
    assert len(text) < 300 and "\n" not in text


def test_book_preset_is_the_books_gan(fashion: Path, judge: Path, tmp_path: Path) -> None:
    out = tmp_path / "book4"
    args = ["gan", "train", "fashion", "--preset", "book", "--out", str(out), *QUICK]
    assert main([*args, "--epochs", "1", "--data-dir", str(fashion), "--judge", str(judge)]) == 0
    run = genlab.gan.load(out)
    config = run.config
    assert (config.architecture, config.latent_dim, config.batch_size) == ("mlp", 100, 32)
    assert (config.g_hidden, config.d_hidden, config.lr) == (
        (256, 512, 1024),
        (1024, 512, 256),
        1e-4,
    )
    assert (config.d_activation, config.d_dropout, config.ema) == ("relu", 0.3, 0.0)
    linears = [m for m in run.generator.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [256, 512, 1024, 784]
    assert run.sample(4).shape == (4, 28, 28)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["data"]["book_reference"] == "gan-fashion"


def test_unconditional_runs_are_self_conditioned_and_conditional_ones_use_the_classes() -> None:
    from genlab.gan.images import DEFAULT_CLUSTERS, _base_config, image_networks, recommended_config

    plain, conditional = recommended_config("genlab"), recommended_config("genlab", True)
    assert _base_config("genlab", {"conditional": True}) == conditional
    assert _base_config("genlab", {}) == plain
    assert (plain.clusters, conditional.clusters) == (DEFAULT_CLUSTERS, 0)
    assert plain.with_(clusters=0) == conditional  # otherwise the same measured settings
    g_plain, d_plain = image_networks(plain, 0)
    g_conditional, d_conditional = image_networks(conditional, 10)
    assert g_plain.embed.num_embeddings == d_plain.embed.num_embeddings == DEFAULT_CLUSTERS
    assert g_conditional.embed.num_embeddings == d_conditional.embed.num_embeddings == 10
    assert d_plain.features[0].out_channels == d_conditional.features[0].out_channels == 64
    custom = plain.with_(d_width=16, clusters=0)
    g_custom, d_custom = image_networks(custom, 0)
    assert d_custom.features[0].out_channels == 16 and g_custom.embed is None


def test_kmeans_finds_separated_groups_and_is_seeded() -> None:
    rng = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    truth = torch.arange(300) % 3
    points = centres[truth] + 0.5 * torch.randn(300, 2, generator=rng)
    found = kmeans(points, 3, seed=1)
    # each true group is one cluster, and the three clusters differ
    assert all(found[truth == g].unique().numel() == 1 for g in range(3))
    assert found[:3].unique().numel() == 3
    assert torch.equal(found, kmeans(points, 3, seed=1))
    with pytest.raises(ValueError, match="k-means"):
        kmeans(points, 301)


def test_self_conditioned_generator_draws_clusters_in_their_shares() -> None:
    from genlab.models.image_gan import ConvGenerator

    generator = ConvGenerator(16, width=4, clusters=4)
    generator.set_cluster_shares(torch.tensor([0.5, 0.0, 0.3, 0.2]))
    noise = torch.randn(100_000, 16, generator=torch.Generator().manual_seed(0))
    moved, clusters = generator.split_noise(noise)
    shares = torch.bincount(clusters, minlength=4) / clusters.numel()
    assert torch.allclose(shares, torch.tensor([0.5, 0.0, 0.3, 0.2]), atol=0.01)
    assert torch.equal(moved[:, 1:], noise[:, 1:])
    for c in (0, 2, 3):  # within each cluster the first coordinate is standard normal again
        first = moved[clusters == c, 0]
        assert abs(float(first.mean())) < 0.05 and abs(float(first.std()) - 1) < 0.05
    assert generator(noise[:3]).shape == (3, 784)
    with pytest.raises(ValueError, match="shares"):
        generator.set_cluster_shares(torch.tensor([1.0, 0.0]))


def test_self_conditioned_run_samples_exports_and_resumes(
    fashion: Path, judge: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genlab.gan.engine import generate
    from genlab.gan.images import make_image_gan_data, recommended_config
    from tests.conftest import interrupted_then_resumed

    out = tmp_path / "fs"
    args = ["gan", "train", "fashion", "--clusters", "6", "--out", str(out), *QUICK]
    assert main([*args, "--epochs", "1", "--data-dir", str(fashion), "--judge", str(judge)]) == 0
    run = genlab.gan.load(out)
    assert run.config.clusters == 6 and "self-conditioned on 6 clusters" in run.data.name
    ends = run.generator.cluster_ends
    assert ends.shape == (6,) and float(ends[-1]) == 1.0 and bool((ends.diff() >= 0).all())
    assert genlab.gan.sample_labels(run, 3).tolist() == [-1, -1, -1]
    with pytest.raises(ConfigError, match="class-conditional"):
        run.sample(3, label="bag")
    exported = tmp_path / "g.pt2"
    assert main(["gan", "export", str(out), "--out", str(exported)]) == 0
    noise = torch.randn(5, 64, generator=torch.Generator().manual_seed(3))
    module = torch.export.load(str(exported)).module()
    assert torch.equal(module(noise), generate(run.generator, run.data, noise=noise))

    config = recommended_config("genlab").with_(epochs=3, threads=1, patience=None, clusters=5)
    data = make_image_gan_data(judge=judge, data_dir=fashion, clusters=5)
    whole, resumed = interrupted_then_resumed(
        data, config, tmp_path / "run", monkeypatch, interrupt_at=2, final_samples=300
    )
    assert resumed.summary["metrics"] == whole.summary["metrics"]


def test_data_and_networks_must_agree_on_the_clusters(fashion: Path, judge: Path) -> None:
    from genlab.gan.images import make_image_gan_data
    from genlab.models.image_gan import ConvGenerator

    data = make_image_gan_data(judge=judge, data_dir=fashion, clusters=3)
    with pytest.raises(ConfigError, match="same --clusters"):
        data.setup_generator(ConvGenerator(16, width=4))
    generator = ConvGenerator(16, width=4, clusters=3)
    data.setup_generator(generator)
    counts = torch.bincount(data.cluster_of, minlength=3)
    assert counts.min() > 0 and counts.sum() == data.train_part[0].shape[0]
    assert torch.allclose(generator.cluster_ends, (counts / counts.sum()).double().cumsum(0))


def test_figures_far_from_the_real_images_are_warnings() -> None:
    """A recall of 0.017 beside the real images' 0.85 is a warning, not a number in a table
    (issue 21: the demo's 2-epoch image run)."""
    from genlab.gan.images import ImageGanData

    data = ImageGanData.__new__(ImageGanData)
    data.classes = list(range(10))
    good = {"recall": 0.6, "floor_recall": 0.85, "fid_judge": 9.0, "floor_fid_judge": 0.4,
            "min_class_share": 0.08}  # fmt: skip
    assert data.warnings(good) == []
    bad = {**good, "recall": 0.017, "fid_judge": 120.0}
    lines = data.warnings(bad)
    assert len(lines) == 2
    assert lines[0].startswith("recall 0.017 is far from the real images' 0.85")
    assert lines[1].startswith("fid_judge 120 is far from the real images' 0.4")


def test_floors_use_images_the_judge_never_trained_on(fashion: Path, judge: Path) -> None:
    """The real-images floors compare the judge's validation images (never trained on) with
    the test images: none of the judge's training images is among them."""
    from genlab.data.fashion_mnist import load_split, split_indices

    loaded = load_judge(judge)
    summary = json.loads((judge / "summary.json").read_text())
    sizes = summary["splits"]
    n = sizes["train"] + sizes["validation"]
    trained_on, held_out = split_indices(n, sizes["validation"], sizes["seed"])
    assert torch.equal(loaded.held_out, held_out)
    data = ImageGanData(classes=range(10), conditional=False, judge=loaded, data_dir=str(fashion))
    images, labels = data.floor_images()
    all_images, all_labels = load_split(fashion, "train")
    assert torch.equal(images, all_images[held_out]) and torch.equal(labels, all_labels[held_out])
    assert not set(held_out.tolist()) & set(trained_on.tolist())
    assert set(data.floors) >= {"fid_judge", "precision", "recall"}


def test_recall_per_class_finds_where_the_generator_is_thin(fashion: Path, judge: Path) -> None:
    """Samples that leave one class out reach none of that class's real images: its
    recall_<class> falls to about 0 while the others stay, and a warning names it."""
    loaded = load_judge(judge)
    data = ImageGanData(classes=range(10), conditional=False, judge=loaded, data_dir=str(fashion))
    images, labels = split_train(fashion, part="validation")
    features, _ = loaded.features_and_labels(images)
    test_images, test_labels, test_features, _ = data.test_part
    fake = test_features[test_labels != 3]  # every class but dress
    figures = data._pair_figures(test_features, fake, test_labels)
    assert figures["recall_dress"] < 0.3
    others = [figures[f"recall_{class_key(c)}"] for c in range(10) if c != 3]
    assert min(others) == 1.0  # each real image is its own fake neighbour
    floors = {
        f"floor_{k}": v for k, v in data._pair_figures(test_features, features, test_labels).items()
    }
    warnings = data.warnings({**figures, **floors, "min_class_share": 0.08})
    assert any("Dress" in w and "recall per class" in w for w in warnings)


def test_a_second_judge_counts_the_classes_again(
    fashion: Path, judge: Path, tmp_path: Path
) -> None:
    """A second judge (another architecture and seed) gives second_share_<class> and
    second_min_class_share for the samples and the real images; the run keeps it, and
    gan eval reloads it (a changed file is refused)."""
    second = train_judge(tmp_path / "second", fashion, quiet=True, model="mlp", seed=1,
                         epochs=3, patience=None)  # fmt: skip
    out = tmp_path / "run"
    args = ["gan", "train", "fashion", "--data-dir", str(fashion), "--judge", str(judge),
            "--second-judge", str(second), "--out", str(out), *QUICK]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((out / "summary.json").read_text())["metrics"]
    shares = [metrics[f"second_share_{class_key(c)}"] for c in range(10)]
    assert sum(shares) == pytest.approx(1.0) and min(shares) == metrics["second_min_class_share"]
    # its floor: the second judge's own count on the training images it never trained on
    from genlab.data.fashion_mnist import load_split

    second_judge = load_judge(second)
    images, _ = load_split(fashion, "train")
    _, predicted = second_judge.features_and_labels(images[second_judge.held_out])
    counts = torch.bincount(predicted, minlength=10)
    floor = metrics["floor_second_min_class_share"]
    assert floor == pytest.approx(float(counts.min()) / predicted.numel())
    assert genlab.gan.evaluate(out)["second_min_class_share"] == metrics["second_min_class_share"]
    (second / "model.pt").write_bytes((second / "model.pt").read_bytes() + b"x")
    with pytest.raises(RunFileError, match="has changed"):
        genlab.gan.load(out)


def test_mode_seeking_pairs_conditions_and_pushes_pairs_apart(
    fashion: Path, judge: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import genlab.gan.engine as engine
    import genlab.gan.images as images

    off = images.make_image_gan_data(judge=judge, data_dir=fashion, clusters=3)
    on = images.make_image_gan_data(judge=judge, data_dir=fashion, clusters=3, mode_seeking=2.0)
    assert not off.paired_conditions and on.paired_conditions
    noise = torch.randn(8, 16, generator=torch.Generator().manual_seed(0))
    same = torch.zeros(8, 784)
    apart = torch.cat([torch.full((4, 784), -0.5), torch.full((4, 784), 0.5)])
    assert off.generator_penalty(apart, apart, noise) is None
    distance = float((noise[:4] - noise[4:]).abs().mean())
    assert float(on.generator_penalty(apart, apart, noise)) == pytest.approx(
        2.0 / (1.0 / distance + 1e-5), rel=1e-5
    )
    assert float(on.generator_penalty(same, same, noise)) > 1e4  # collapsed pairs: punished

    asked: list[torch.Tensor] = []
    step = engine.generator_step

    def spy(*args, labels=None, **kwargs):  # the G step's conditions
        asked.append(labels)
        return step(*args, labels=labels, **kwargs)

    monkeypatch.setattr(engine, "generator_step", spy)
    common = dict(data_dir=str(fashion), judge=str(judge), epochs=1, threads=1, quiet=True)
    out = tmp_path / "ms"
    run = genlab.gan.train(
        "fashion",
        out=out,
        clusters=3,
        batch_size=10,
        final_samples=200,
        mode_seeking=1.0,
        **common,
    )
    assert run.data.mode_seeking == 1.0 and genlab.gan.load(out).config.mode_seeking == 1.0
    assert asked and all(torch.equal(a[:5], a[5:10]) for a in asked if a.shape[0] == 10)
    asked.clear()
    book = genlab.gan.train("fashion", preset="book", final_samples=200, **common)
    assert book.config.mode_seeking == 0.0 and not book.data.paired_conditions
    with pytest.raises(ConfigError, match="--mode-seeking must be >= 0"):
        genlab.gan.train("fashion", mode_seeking=-1.0, **common)
    with pytest.raises(ConfigError, match="no option mode_seeking"):
        genlab.gan.train("exp", mode_seeking=1.0, epochs=1)


def test_noise_scale_is_set_after_training_and_old_files_sample_as_before(
    fashion: Path, judge: Path, tmp_path: Path
) -> None:
    from genlab.gan.engine import generate
    from genlab.models.image_gan import ConvGenerator

    common = dict(data_dir=str(fashion), judge=str(judge), epochs=1, threads=1, quiet=True)
    out = tmp_path / "scaled"
    run = genlab.gan.train("fashion", out=out, clusters=3, noise_scale=0.5, final_samples=200,
                           **common)  # fmt: skip
    loaded = genlab.gan.load(out)
    assert float(loaded.generator.noise_scale) == 0.5 == loaded.config.noise_scale
    noise = torch.randn(6, 64, generator=torch.Generator().manual_seed(1))
    state = {k: v for k, v in run.generator.state_dict().items() if k != "noise_scale"}
    plain = ConvGenerator(64, clusters=3)
    plain.load_state_dict(state)  # a model file from before: scale 1
    plain.eval()
    assert float(plain.noise_scale) == 1.0
    halved = torch.cat([noise[:, :1], noise[:, 1:] * 0.5], dim=1)  # not the cluster's coordinate
    assert torch.equal(generate(loaded.generator, loaded.data, noise=noise),
                       generate(plain, loaded.data, noise=halved))  # fmt: skip
    plain.train()  # training never sees the scale
    with torch.no_grad():
        loaded.generator.train()
        torch.manual_seed(0)
        a = loaded.generator(halved)
        torch.manual_seed(0)
        b = plain(halved)
    assert torch.equal(a, b)
    with pytest.raises(ConfigError, match="--noise-scale needs the conv networks"):
        genlab.gan.train("fashion", preset="book", noise_scale=0.8, **common)
