"""`genlab compare`: settings that differ, figures side by side, curves overlaid, one page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import genlab
from genlab.cli import main
from genlab.errors import ConfigError, RunFileError
from tests.test_report import write_gan_run


@pytest.fixture(scope="module")
def two_classifiers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from tests.conftest import write_fashion

    root = tmp_path_factory.mktemp("compare")
    data = write_fashion(root / "fashion", n_train=300, n_test=100)
    runs = []
    for name, lr in (("slow", "0.0005"), ("fast", "0.005")):
        out = root / name
        args = ["classify", "train", "--epochs", "2", "--lr", lr, "--data-dir", str(data)]
        assert main([*args, "--out", str(out), "--quiet", "--no-report"]) == 0
        runs.append(out)
    return runs[0], runs[1]


def test_compare_lists_what_differs_and_the_figures(
    two_classifiers: tuple[Path, Path], tmp_path: Path
) -> None:
    result = genlab.compare(two_classifiers, out=tmp_path / "cmp")
    assert result.names == ["slow", "fast"]
    assert ("lr", [0.0005, 0.005]) in result.differing
    assert all(key != "seed" for key, _ in result.differing)  # the same in both
    figures = dict(result.figures)
    for run, value in zip(two_classifiers, figures["test_accuracy"], strict=True):
        assert value == json.loads((run / "summary.json").read_text())["test_accuracy"]
    page = result.page.read_text()
    assert result.page.name == "compare.html"
    assert "Settings that differ" in page and "val_loss" in page and "data:image/png" in page
    text = result.text()
    assert "setting lr" in text and "slow" in text.splitlines()[0]
    # the module behind genlab.compare does not shadow the function
    assert callable(genlab.compare)


def test_cli_compare_prints_and_writes(
    two_classifiers: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "cmp"
    assert main(["compare", *map(str, two_classifiers), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "setting lr" in printed and f"page: {out / 'compare.html'}" in printed
    page = tmp_path / "pages" / "lr.html"  # a page's own path
    assert main(["compare", *map(str, two_classifiers), "--out", str(page)]) == 0
    assert page.is_file() and f"page: {page}" in capsys.readouterr().out


def test_compare_refuses_runs_of_different_kinds_and_missing_runs(
    two_classifiers: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    gan = write_gan_run(tmp_path / "gan-exp")
    with pytest.raises(ConfigError, match="different kinds"):
        genlab.compare([two_classifiers[0], gan])
    with pytest.raises(RunFileError, match="not a finished run folder"):
        genlab.compare([two_classifiers[0], tmp_path / "nothing"])
    with pytest.raises(ConfigError, match="at least two"):
        genlab.compare([two_classifiers[0]])
    assert main(["compare", str(two_classifiers[0]), str(gan)]) == 2
    assert main(["compare", str(two_classifiers[0]), str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("genlab: error:") for line in err)


def test_compare_page_in_a_browser(two_classifiers: tuple[Path, Path], tmp_path: Path) -> None:
    from tests.test_report_browser import (
        FIGURES_JS,
        IMAGES_JS,
        DevTools,
        console_errors,
        evaluate,
        find_chromium,
        open_page,
    )

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium for the browser check")
    result = genlab.compare(two_classifiers, out=tmp_path / "cmp")
    summaries = [json.loads((run / "summary.json").read_text()) for run in two_classifiers]
    browser = DevTools(chromium, tmp_path / "profile", tmp_path / "chromium.log")
    try:
        before = len(browser.events)
        session = open_page(browser, result.page.resolve().as_uri())
        images = evaluate(browser, session, IMAGES_JS)
        figures = evaluate(browser, session, FIGURES_JS)
        events = browser.events[before:]
    finally:
        browser.close()
    assert images and all(i["complete"] and i["width"] > 0 for i in images)
    assert figures
    for figure in figures:
        index, _, key = figure["key"].partition(":")
        assert json.loads(figure["value"]) == summaries[int(index)][key]
    assert console_errors(events) == []
