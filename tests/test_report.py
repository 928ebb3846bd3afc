"""``genlab report``: self-contained pages, figures that match summary.json, escaping, index.

Run folders are written by hand here (a classifier's and two GANs'), so these tests take
well under a second and do not wait for the GAN commands; the browser test trains a real run.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from genlab import book, report
from genlab.cli import main
from genlab.errors import RunFileError
from genlab.training import runs

HOSTILE = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'


def png_bytes(width: int = 40, height: int = 30, colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def gif_bytes(frames: int = 3) -> bytes:
    images = [Image.new("RGB", (32, 24), c) for c in ("red", "green", "blue")[:frames]]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=100)
    return buffer.getvalue()


def write_run(
    folder: Path,
    summary: dict[str, Any],
    config: dict[str, Any],
    metrics: list[dict[str, Any]],
    plots: dict[str, bytes],
) -> Path:
    """A finished run folder with the given files (what the training functions write)."""
    folder.mkdir(parents=True)
    runs.write_json(folder / runs.SUMMARY_FILE, summary)
    runs.write_json(folder / runs.CONFIG_FILE, config)
    runs.write_metrics_csv(folder / runs.METRICS_FILE, metrics)
    for name, data in plots.items():
        (folder / "plots" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "plots" / name).write_bytes(data)
    return folder


@pytest.fixture
def classifier_run(tmp_path: Path) -> Path:
    config = {
        "task": "multiclass",
        "model": "mlp",
        "epochs": 3,
        "lr": 0.001,
        "seed": 42,
        "preset": "book",
        "data_dir": HOSTILE,
    }
    summary = {
        "kind": "classifier",
        "task": "multiclass",
        "model": "mlp",
        "epochs_run": 3,
        "best_epoch": 2,
        "stopped_early": False,
        "best_val_loss": 0.3551847040653229,
        "test_loss": 0.38,
        "test_accuracy": 0.8613,
        "test_correct": 8613,
        "test_total": 10000,
        "per_class_accuracy": {"T-shirt/top": 0.808, HOSTILE: 0.5},
        "confusion_matrix": [[1, 0], [0, 1]],
        "train_seconds": 65.66791678899995,
        "seconds_per_epoch": 21.88,
        "device": "cpu",
        "restored_best": False,
        "config": config,
        "versions": {"genlab": "0.1.0", "torch": "2.13.0+cpu"},
    }
    metrics = [
        {"epoch": e, "train_loss": 0.5 / e, "val_loss": 0.4 / e, "val_accuracy": 0.8}
        for e in (1, 2, 3)
    ]
    plots = {
        "loss.png": png_bytes(),
        "confusion_matrix.png": png_bytes(colour="blue"),
        "predictions.png": png_bytes(900, 200),
    }
    return write_run(tmp_path / "fm-multiclass", summary, config, metrics, plots)


def write_gan_run(folder: Path) -> Path:
    """A finished exp-curve GAN run: 1,200 epochs, PNG plots, an animated GIF, snapshots."""
    data = {
        "kind": "curve",
        "name": "exp",
        "columns": ["x", "y"],
        "relation": "1.08**x",
        "book_reference": "gan-exp",
    }
    config = {"config": {"epochs": 2000, "lr": 0.0005, "latent_dim": 2}, "data": data}
    summary = {
        "kind": "gan",
        "data": data,
        "epochs_run": 1200,
        "best_epoch": 200,
        "stopped_early": True,
        "monitor": "score",
        "best_value": 0.05,
        "train_seconds": 200.5,
        "metrics": {
            "relation_median_rel_error": 0.0312,
            "w1": 0.1,
            "precision": 0.9,
            "recall": 0.8,
            "score": 0.05,
            "js": None,
        },
        "config": config["config"],
    }
    metrics = [{"epoch": e, "d_loss": 1.3, "g_loss": 0.7, "score": 1.0 / e} for e in range(1, 1201)]
    plots = {
        "real.png": png_bytes(),
        "generated.png": png_bytes(),
        "training.gif": gif_bytes(),
        "loss.png": png_bytes(),
        "score.png": png_bytes(),
    }
    plots.update({f"snapshots/epoch_{e:05d}.png": png_bytes(20, 20) for e in range(0, 1200, 25)})
    return write_run(folder, summary, config, metrics, plots)


@pytest.fixture
def exp_gan_run(tmp_path: Path) -> Path:
    return write_gan_run(tmp_path / "gan-exp")


@pytest.fixture
def integer_gan_run(tmp_path: Path) -> Path:
    data = {
        "kind": "integers",
        "name": "multiples of 5 in [0, 100)",
        "codec": "onehot",
        "book_reference": "gan-multiples-of-5",
    }
    summary = {
        "kind": "gan",
        "data": data,
        "epochs_run": 1300,
        "best_epoch": 500,
        "stopped_early": True,
        "monitor": "js",
        "best_value": 0.02,
        "train_seconds": 4.2,
        "metrics": {"validity": 0.999, "coverage": 0.85, "covered": 17, "js": 0.02},
    }
    metrics = [{"epoch": e, "d_loss": 1.0, "g_loss": 1.0} for e in range(1, 11)]
    return write_run(
        tmp_path / "gan-int",
        summary,
        {"config": {}, "data": data},
        metrics,
        {"histogram.png": png_bytes()},
    )


def figures_in(page: str) -> dict[str, list[tuple[Any, str]]]:
    """data-key -> [(value from data-value, shown text)] for every tagged element."""
    found: dict[str, list[tuple[Any, str]]] = {}
    pattern = r'data-key="([^"]*)" data-value="([^"]*)">([^<]*)<'
    for key, value, text in re.findall(pattern, page):
        found.setdefault(html.unescape(key), []).append(
            (json.loads(html.unescape(value)), html.unescape(text))
        )
    return found


def embedded_images(page: str) -> list[tuple[str, bytes]]:
    return [
        (mime, base64.b64decode(data))
        for mime, data in re.findall(r'src="data:(image/[a-z+]+);base64,([A-Za-z0-9+/=]+)"', page)
    ]


def assert_self_contained(page: str) -> None:
    assert not re.search(r"https?://", page), "the page refers to the network"
    assert "<script" not in page.lower()
    assert not re.search(r'\b(?:src|href)="(?!data:|#)', page), "a non-inline resource"


def headline_of(page: str) -> str:
    return page[page.index('id="headline"') : page.index('id="plots"')]


def assert_book_sources(page: str, job: str) -> None:
    """Every book figure of ``job`` in the headline links a footnote that quotes its source."""
    headline = headline_of(page)
    footnotes = dict(re.findall(r'<li id="(book-source-\d+)" data-source="([^"]+)">', headline))
    assert sorted(footnotes.values()) == sorted({f.source for f in book.BOOK[job]})
    links = re.findall(r'href="#(book-source-\d+)" title="([^"]*)"', headline)
    assert len(links) == len(book.BOOK[job])  # one per book figure shown
    for target, title in links:
        assert html.unescape(title) == f"Source: {book.SOURCES[footnotes[target]]}"
    for source in footnotes.values():
        assert html.escape(book.SOURCES[source]) in headline


def test_classifier_report(classifier_run: Path) -> None:
    path = report.write_report(classifier_run)
    assert path == classifier_run / "report.html"
    page = path.read_text()
    assert_self_contained(page)
    images = embedded_images(page)
    assert sorted(data for _, data in images) == sorted(
        p.read_bytes() for p in (classifier_run / "plots").iterdir()
    )
    figures = figures_in(page)
    summary = json.loads((classifier_run / "summary.json").read_text())
    for key in ("test_accuracy", "epochs_run", "best_epoch", "best_val_loss", "train_seconds"):
        assert key in figures
    for key, shown in figures.items():
        expected = report.lookup(summary, key)
        for value, text in shown:
            assert value == expected and text == report.format_value(expected, key), key
    headline = headline_of(page)
    assert "0.8820" in headline and "−0.0207" in headline and ">19<" in headline
    assert_book_sources(page, "classify-multiclass")
    # Settings come from config.json; the metrics table has every row.
    assert "0.001" in page and "All 3 rows" in page


def test_hostile_strings_are_escaped(classifier_run: Path) -> None:
    page = report.write_report(classifier_run).read_text()
    assert "<script>" not in page and "<img src=x" not in page
    assert html.escape(HOSTILE) in page  # shown as text, in settings and in the figures
    assert_self_contained(page)
    assert f"per_class_accuracy.{HOSTILE}" in figures_in(page)


def test_exp_gan_report_thins_long_tables(exp_gan_run: Path) -> None:
    page = report.write_report(exp_gan_run).read_text()
    assert_self_contained(page)
    mimes = [mime for mime, _ in embedded_images(page)]
    assert mimes.count("image/gif") == 1
    assert mimes.count("image/png") == 4 + report.MAX_SNAPSHOTS
    assert "training.gif" in page and "16 of 48" in page and "epoch 1175" in page
    rows = re.findall(r"<tr(?: class=\"best\")?><td class=\"num\">(\d+)</td>", page)
    assert len(rows) <= report.MAX_TABLE_ROWS + 2
    assert {"1", "200", "1200"} <= set(rows)  # first, best, last
    assert "Showing" in page and "1,200" in page
    figures = figures_in(page)
    assert set(figures["metrics.relation_median_rel_error"]) == {(0.0312, "0.0312")}
    assert set(figures["metrics.js"]) == {(None, "—")}
    assert book.job_key(json.loads((exp_gan_run / "summary.json").read_text())) == "gan-exp"
    assert "0.0300" in page  # the book's ~3%
    assert_book_sources(page, "gan-exp")


def test_integer_gan_report_compares_with_the_book(integer_gan_run: Path) -> None:
    page = report.write_report(integer_gan_run).read_text()
    figures = figures_in(page)
    assert set(figures["metrics.validity"]) == {(0.999, "0.9990")}
    assert set(figures["metrics.covered"]) == {(17, "17")}
    assert "0.9980–1.0000" in page and "16–17" in page
    assert headline_of(page).count("within the book&#x27;s range") == 3
    assert "gan-multiples-of-5" in headline_of(page)
    assert_book_sources(page, "gan-multiples-of-5")


def test_the_job_comes_from_book_reference_not_the_name(tmp_path: Path) -> None:
    """The book's pattern without a ``book_reference`` is not matched by its name or spec."""
    data = {"kind": "integers", "name": "multiples of 5 in [0, 100)", "multiple_of": 5}
    summary = {"kind": "gan", "data": data, "epochs_run": 3, "metrics": {"validity": 1.0}}
    run = write_run(tmp_path / "m5", summary, {}, [], {})
    page = report.write_report(run).read_text()
    assert "reports no figures" in page and "book-source" not in page
    assert "0.9980–1.0000" not in page


def test_no_plots_and_unknown_job(tmp_path: Path) -> None:
    summary = {
        "kind": "gan",
        "data": {"kind": "curve", "name": "sine"},
        "epochs_run": 5,
        "metrics": {"w1": 0.2},
    }
    run = write_run(tmp_path / "sine", summary, {}, [], {})
    page = report.write_report(run, out=tmp_path / "elsewhere.html").read_text()
    assert "No plots" in page and "reports no figures" in page
    assert "book-source" not in page and "Where the book" not in page
    assert "No metrics.csv" in page
    assert not (run / "report.html").exists()


def test_unfinished_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    with pytest.raises(RunFileError, match="no finished run"):
        report.write_report(tmp_path / "run")
    with pytest.raises(RunFileError, match="not a folder"):
        report.write_report(tmp_path / "missing")


def test_index_links_every_report(
    tmp_path: Path, classifier_run: Path, exp_gan_run: Path, integer_gan_run: Path
) -> None:
    report.write_report(classifier_run)
    index = report.write_index(tmp_path, [classifier_run, exp_gan_run, integer_gan_run])
    assert index == tmp_path / "index.html"
    page = index.read_text()
    assert_self_contained_index(page)
    links = re.findall(r'<a href="([^"]+)">', page)
    assert links == ["fm-multiclass/report.html", "gan-exp/report.html", "gan-int/report.html"]
    for link in links:
        assert (tmp_path / link).exists()  # missing reports were written
    figures = figures_in(page)
    assert figures["test_accuracy"] == [(0.8613, "0.8613")]
    # The book's column: the figure, with its source as a tooltip.
    tooltips = re.findall(r'<span class="book" title="([^"]*)">([^<]*)</span>', page)
    assert [(html.unescape(t), v) for t, v in tooltips] == [
        (f"Source: {book.SOURCES['ch2-notebook']}", "0.8820"),
        (f"Source: {book.SOURCES['ch3-run']}", "0.0300"),
        (f"Source: {book.SOURCES['ch3-run']}", "0.9980–1.0000"),
    ]
    # A run trained again (newer summary.json) gets a fresh report.
    summary_path = classifier_run / "summary.json"
    summary = json.loads(summary_path.read_text())
    runs.write_json(summary_path, {**summary, "test_accuracy": 0.9})
    stamp = (classifier_run / "report.html").stat().st_mtime
    os.utime(summary_path, (stamp + 5, stamp + 5))
    report.write_index(tmp_path, [classifier_run])
    assert figures_in((classifier_run / "report.html").read_text())["test_accuracy"][0][0] == 0.9
    assert figures["metrics.relation_median_rel_error"] == [(0.0312, "0.0312")]
    assert figures["metrics.validity"] == [(0.999, "0.9990")]


def assert_self_contained_index(page: str) -> None:
    assert not re.search(r"https?://", page) and "<script" not in page.lower()


def test_cli(
    classifier_run: Path, exp_gan_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["report", str(classifier_run)]) == 0
    assert f"report: {classifier_run / 'report.html'}" in capsys.readouterr().out
    index = tmp_path / "all" / "runs.html"
    assert main(["report", str(classifier_run), str(exp_gan_run), "--index", str(index)]) == 0
    assert "../fm-multiclass/report.html" in index.read_text()
    assert main(["report", str(classifier_run), str(exp_gan_run), "--out", "x.html"]) == 2
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_format_value() -> None:
    assert report.format_value(0.8613) == "0.8613"
    assert report.format_value(1e-5) == "1.000e-05"
    assert report.format_value(1234.56) == "1,234.6"
    assert report.format_value(8613) == "8,613"
    assert report.format_value(True) == "yes"
    assert report.format_value(None) == "—"
    assert report.format_book((16, 17)) == "16–17"


def test_report_flag(tmp_path: Path, classifier_run: Path, capsys: pytest.CaptureFixture) -> None:
    import argparse

    from genlab.commands.report import add_report_flag, report_after_training

    parser = argparse.ArgumentParser()
    parser.add_argument_group("output")
    add_report_flag(parser)
    assert report_after_training(parser.parse_args(["--no-report"]), classifier_run) is None
    assert not (classifier_run / "report.html").exists()
    path = report_after_training(parser.parse_args([]), classifier_run)
    assert path == classifier_run / "report.html" and path.exists()
    assert report_after_training(parser.parse_args([]), tmp_path / "gone") is None
    assert "warning: no report" in capsys.readouterr().err
