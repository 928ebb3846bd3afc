"""Reports that say each thing once, in plain numbers (issue 21: 9), with the verdict on top.

One tiny real exp run (seconds), and run folders written by hand for the image GAN and the
classifier (as their training writes them); the plots are checked on their matplotlib
figures.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import genlab
from genlab import plots, report
from genlab.cli import main
from genlab.verdict import verdict
from tests.test_report import png_bytes, write_run


@pytest.fixture(scope="module")
def exp_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("tidy") / "exp"
    args = ["gan", "train", "exp", "--epochs", "4", "--eval-every", "2", "--plot-every", "2"]
    assert main([*args, "--final-samples", "500", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    return (out / "report.html").read_text(), summary


def section(page: str, name: str) -> str:
    start = page.index(f'<section id="{name}">')
    return page[start : page.index("</section>", start)]


def test_no_internal_keys_and_each_split_once(exp_page: tuple[str, dict[str, Any]]) -> None:
    page, summary = exp_page
    assert summary["world_size"] == 1 and summary["ranks_consistent"] is True  # in the file
    for internal in ("ranks_consistent", "world_size", "fingerprint", "origin", "book_reference"):
        assert internal not in page, internal
    assert "figure_split" not in page  # one line per part instead of a row per figure
    assert "Where each figure is measured" in page
    assert "validation part, fixed noise (validation_noise_seed): <code>best_value</code>" in page
    # the parts' sizes and seeds once, in the data section (not in settings nor figures)
    assert page.count("train_seed") == 1 and "<code>parts.train_seed</code>" in section(
        page, "data"
    )
    assert "splits." not in page
    # settings: nothing unset (d_lr, d_width null) nor meant for other networks (width)
    settings = section(page, "settings")
    assert "<code>lr</code>" in settings and "<code>g_hidden</code>" in settings
    for hidden in ("d_lr", "d_width", "<code>width</code>", "clusters", "null"):
        assert hidden not in settings, hidden


def test_numbers_are_written_for_people(exp_page: tuple[str, dict[str, Any]]) -> None:
    page, summary = exp_page
    assert report.format_value(592.8961, "train_seconds") == "592.9"
    assert report.format_value(0.04284, "seconds_per_epoch") == "0.043"
    assert report.format_value(4.0, "metrics.classes_found") == "4"
    assert report.format_value(4.0, "metrics.fid_judge") == "4.0000"  # not a count
    assert report.format_value(113.68966, "metrics.fid_judge") == "113.7"
    shown = re.search(r'data-key="train_seconds" data-value="[^"]*">([^<]*)<', page)
    assert shown is not None and shown[1] == report.format_value(
        summary["train_seconds"], "train_seconds"
    )
    assert re.fullmatch(r"\d+\.\d|0\.0*\d\d?", shown[1])  # never 1.2854
    metrics = section(page, "metrics")
    assert '<th class="num">seconds since start</th>' in metrics
    assert '<th class="num">best epoch so far</th>' in metrics
    header = re.findall(r"<th[^>]*>([^<]*)</th>", metrics)
    column = header.index("seconds since start")
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in metrics.split("<tr")[2:]]
    seconds = [row[column] for row in rows]
    assert len(seconds) == 4 and all(re.fullmatch(r"\d+\.\d|0\.0*\d\d?", s) for s in seconds)


def test_the_verdict_opens_the_page(exp_page: tuple[str, dict[str, Any]]) -> None:
    page, summary = exp_page
    assert page.index('id="verdict"') < page.index('id="headline"')
    text = section(page, "verdict")
    assert "In plain words" in text
    for sentence in verdict(summary):
        assert html.escape(sentence) in text
    assert "This run is " in text and "Next: " in text


def test_every_plot_has_a_caption_and_progress_follows_its_figure(
    exp_page: tuple[str, dict[str, Any]],
) -> None:
    page, _ = exp_page
    shown = re.findall(r'data-file="([^"]+)"><figcaption>([^<]*)<code>', page)
    files = [name for name, _ in shown]
    assert files.index("progress.png") == files.index("score.png") + 1
    captions = dict(shown)
    assert captions["progress.png"].startswith("The other figures checked on the validation")
    assert "score.png" in captions["progress.png"]
    assert "early stopping watches" in captions["score.png"]
    for name, caption in shown:
        if not name.startswith("epoch_"):
            assert caption.strip() != name.removesuffix(".png"), name  # not just the stem


def image_run(folder: Path) -> Path:
    """An image GAN run folder as `gan train fashion` writes it (figures trimmed)."""
    config = {
        "latent_dim": 64,
        "g_hidden": [64, 64],
        "d_hidden": [128, 128],
        "d_lr": None,
        "architecture": "conv",
        "width": 32,
        "d_width": 64,
        "clusters": 40,
        "preset": "genlab",
    }
    data = {"kind": "images", "name": "Fashion-MNIST", "clusters": 40, "judge": "/runs/judge"}
    data |= {"judge_sha256": "9bd4d4", "book_reference": "gan-fashion"}
    summary = {
        "kind": "gan",
        "data": data,
        "splits": {"train": "training images less 5,000", "judge": {"folder": "/runs/judge"}},
        "epochs_run": 10,
        "best_epoch": 9,
        "monitor": "fid_judge",
        "train_seconds": 592.8961,
        "metrics": {"fid_judge": 17.6, "floor_fid_judge": 0.43, "classes_found": 4.0},
        "headline": "metrics.fid_judge",
        "world_size": 1,
        "ranks_consistent": True,
        "config": config,
    }
    plots_ = {"fid_judge.png": png_bytes(), "progress.png": png_bytes()}
    plots_ |= {f"snapshots/epoch_{e:05d}.png": png_bytes(20, 20) for e in (1, 2)}
    return write_run(folder, summary, {**config, "data": data}, [], plots_)


def test_image_runs_list_their_own_settings_once(tmp_path: Path) -> None:
    page = report.write_report(image_run(tmp_path / "img")).read_text()
    assert page.count("<code>clusters</code>") == 1  # a setting, not again under data
    for mlp in ("g_hidden", "d_hidden", "d_lr", "judge_sha256", "9bd4d4"):
        assert mlp not in page, mlp
    assert page.count("/runs/judge") == 1  # the judge's folder once (its part)
    assert "Generated images from fixed noise" in page and "points" not in page
    assert ">592.9<" in page and "592.8961" not in page.replace('data-value="592.8961"', "")
    assert ">4</span>" in page and "4.0000" not in page


def test_a_classifier_lists_where_figures_come_from_in_three_lines(tmp_path: Path) -> None:
    parts = {"train_loss": "train", "val_loss": "validation", "best_epoch": "validation"}
    parts |= {k: "test" for k in ("test_loss", "test_accuracy", "test_correct", "test_total")}
    config = {"task": "multiclass", "model": "mlp", "val_size": None, "lr": 0.002}
    summary = {
        "kind": "classifier",
        "task": "multiclass",
        "model": "mlp",
        "test_accuracy": 0.89,
        "splits": {"train": 50000, "validation": 10000, "test": 10000, "seed": 42},
        "figure_split": parts,
        "config": config,
    }
    page = report.write_report(write_run(tmp_path / "c", summary, config, [], {})).read_text()
    assert "val_size" not in page and "figure_split" not in page
    notes = re.findall(r"<li>(train|validation|test): ", page)
    assert notes == ["train", "validation", "test"]
    assert "<li>test: <code>test_loss</code>, <code>test_accuracy</code>" in page
    assert page.count("50000") == 1


def test_compare_pages_leave_out_how_the_data_is_stored(tmp_path: Path) -> None:
    folders = []
    for name, top in (("m100", 100), ("m50", 50)):
        data = {
            "kind": "integers",
            "name": f"multiples of 5 in [0, {top})",
            "pattern": {"values": list(range(0, top, 5))},
            "codec": {"name": "onehot", "size": top, "width": top},
            "origin": {"kind": "integers", "options": {"max_value": top}},
        }
        config = {"lr": 0.0015, "d_lr": None if top == 100 else 0.01, "data": data}
        summary = {"kind": "gan", "data": data, "metrics": {"validity": 1.0}, "config": config}
        folders.append(write_run(tmp_path / name, summary, config, [], {}))
    result = genlab.compare(folders, out=tmp_path / "cmp")
    differing = dict(result.differing)
    assert not [k for k in differing if k.startswith(("data.codec", "data.origin"))]
    assert differing["d_lr"] == [None, 0.01]
    text = result.text()
    assert "default" in text and "None" not in text  # d_lr unset: the default
    assert "[0, 5, 10, …, 95] (20 items)" in text  # a long list, shortened
    page = (tmp_path / "cmp" / "compare.html").read_text()
    assert "codec" not in page and "origin" not in page


# --------------------------------------------------------------------------- plots


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The matplotlib figures the plot functions save (kept open for inspection)."""
    figures: list[Any] = []

    def keep(fig: Any, path: str | Path) -> Path:
        figures.append(fig)
        return Path(path)

    monkeypatch.setattr(plots, "_save", keep)
    yield figures
    for fig in figures:
        plots.plt.close(fig)


def test_generated_points_are_drawn_over_the_real_ones(captured: list[Any]) -> None:
    real = np.random.default_rng(0).normal(size=(500, 2))
    plots.plot_generated_vs_real(real, real + 0.1, "unused.png", columns=["a", "b"])
    lines = {line.get_label(): line for line in captured[0].axes[0].lines}
    assert lines["generated"].get_zorder() > lines["real"].get_zorder()


def test_a_circle_stays_round_and_a_sine_fills_the_plot(captured: list[Any]) -> None:
    t = np.linspace(0, 2 * np.pi, 400)
    circle = np.stack([3 * np.cos(t) + 1, 3 * np.sin(t) - 2], axis=1)
    sine = np.stack([np.linspace(-5, 5, 400), np.sin(np.linspace(-5, 5, 400))], axis=1)
    plots.plot_points(circle, "unused.png")
    plots.plot_generated_vs_real(sine, sine, "unused.png")
    assert captured[0].axes[0].get_aspect() == 1.0
    assert captured[1].axes[0].get_aspect() == "auto"


def test_one_snapshot_is_no_animation(tmp_path: Path) -> None:
    real = np.random.default_rng(0).normal(size=(200, 2))
    gif = tmp_path / "training.gif"
    gif.write_bytes(b"an older run's animation")
    written = plots.training_snapshots(real, [(1, real)], tmp_path, gif)
    assert not gif.exists() and [p.name for p in written] == ["epoch_00001.png"]
    plots.training_snapshots(real, [(1, real), (2, real)], tmp_path, gif)
    assert gif.exists()
    images = np.zeros((4, 28, 28), np.uint8)
    assert plots.image_snapshots([(1, images)], tmp_path, gif) == [
        tmp_path / "snapshots" / "epoch_00001.png"
    ]
    assert not gif.exists()


def test_image_pair_titles_do_not_overlap() -> None:
    images = np.zeros((64, 28, 28), np.uint8)
    classes = "T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag"
    long = f"real test images: Fashion-MNIST ({classes})"  # the run's name: 9 of 10 classes
    fig = plots.image_pair_figure(images, images, (long, "generated (best generator, epoch 10)"))
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        left, right = (ax.title.get_window_extent(renderer) for ax in fig.axes)
        assert not left.overlaps(right) and left.x1 < right.x0
    finally:
        plots.plt.close(fig)
