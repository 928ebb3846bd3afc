"""Things a newcomer tripped over (issue: what a newcomer runs into)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from genlab.training import runs


def test_version_answers_without_importing_torch() -> None:
    code = (
        "import sys; from genlab.cli import main; main(['--version']); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    from genlab import __version__

    assert out.stdout.split() == ["genlab", __version__, "False"]


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    before = os.umask(0o022)
    try:
        runs.atomic_write_bytes(tmp_path / "a.json", b"{}")
        runs.write_json(tmp_path / "b.json", {"x": 1})
        os.umask(0o077)
        runs.atomic_write_bytes(tmp_path / "private.json", b"{}")
    finally:
        os.umask(before)
    for name, mode in (("a.json", 0o644), ("b.json", 0o644), ("private.json", 0o600)):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


def test_a_rule_with_a_lone_equals_hints_at_double_equals(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from genlab.cli import main

    code = main(["gan", "train", "integers", "--rule", "n % 3 = 1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "write '==', not '='" in err[0]
    assert not (tmp_path / "r").exists()


def test_export_into_a_missing_folder_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import genlab.gan
    from genlab.cli import main

    out = tmp_path / "run"
    genlab.gan.train("integers", out=out, quiet=True, plots=False, epochs=1)
    target = tmp_path / "missing" / "g.pt"
    code = main(["gan", "export", str(out), "--out", str(target), "--format", "torchscript"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "does not exist" in err[0]
    assert not target.parent.exists()


def _axes_of(draw):  # noqa: ANN001, ANN202
    """The axes of the figure that ``draw()`` saves through genlab.plots."""
    from genlab import plots

    captured = {}
    original = plots._save

    def keep(fig, path):  # noqa: ANN001, ANN202
        captured["ax"] = fig.axes[0]
        return original(fig, path)

    plots._save = keep
    try:
        draw()
    finally:
        plots._save = original
    return captured["ax"]


def test_epoch_axes_have_whole_number_ticks(tmp_path: Path) -> None:
    from matplotlib.ticker import MaxNLocator

    from genlab import plots

    history = [{"epoch": e, "loss": 1.0 / e} for e in (1, 2, 3)]
    ax = _axes_of(lambda: plots.plot_curves(history, ["loss"], tmp_path / "loss.png"))
    ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
    assert isinstance(ax.xaxis.get_major_locator(), MaxNLocator)
    assert all(float(t).is_integer() for t in ticks)


def test_generated_over_real_shows_both_sets(tmp_path: Path) -> None:
    import numpy as np
    import torch
    from PIL import Image

    from genlab import plots

    x = torch.rand(4000) * 10
    real = torch.stack([x, torch.sin(x)], 1)
    generated = real + 0.01 * torch.randn_like(real)  # a good generator: right on top
    path = plots.plot_generated_vs_real(real, generated, tmp_path / "g.png")
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    reddish = ((r > 150) & (g < 140) & (b < 140)).sum()
    greenish = ((g > 90) & (r < 120) & (b < 120)).sum()
    assert reddish > 500 and greenish > 500  # neither set hides the other


def test_interpolation_plot_has_a_legend(tmp_path: Path) -> None:
    import torch

    from genlab import plots

    walks = torch.randn(3, 5, 2)
    ax = _axes_of(lambda: plots.plot_interpolation(torch.randn(200, 2), walks, tmp_path / "w.png"))
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert "walk start" in texts and "walk end" in texts and "real data" in texts


def test_interpolation_plot_without_real_points(tmp_path: Path) -> None:
    """A CSV run loaded from its model file has no real rows: the walks alone, axes on them."""
    import torch

    from genlab import plots

    walks = torch.randn(3, 5, 2) * torch.tensor([100.0, 0.01]) + torch.tensor([1000.0, -5.0])
    ax = _axes_of(lambda: plots.plot_interpolation(torch.zeros(0, 2), walks, tmp_path / "w.png"))
    assert (tmp_path / "w.png").is_file()
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "walk start" in texts and "walk end" in texts and "real data" not in texts
    flat = walks.reshape(-1, 2)
    for (low, high), column in zip((ax.get_xlim(), ax.get_ylim()), flat.T, strict=True):
        lo, hi = float(column.min()), float(column.max())
        assert low < lo and hi < high  # every walk point is on the plot
        assert high - low < 1.5 * (hi - lo)  # and the axes are fitted to the walks


def test_report_rounds_numbers_and_shows_no_null(tmp_path: Path) -> None:
    from genlab.report import _cell

    assert _cell("31.8323") == "31.8323"  # under 100: four decimals
    assert _cell("131.8323") == "131.8"  # seconds and the like: one decimal
    assert _cell("0.123456789") == "0.1235"
    assert _cell("12") == "12"
    assert _cell("") == "—" and _cell(None) == "—"


def test_index_lists_each_run_once(tmp_path: Path) -> None:
    from genlab import report
    from tests.test_report import write_gan_run

    run = write_gan_run(tmp_path / "gan-exp")
    index = report.write_index(tmp_path, [run, run, tmp_path / "gan-exp"])
    assert "1 run;" in index.read_text()


class _Recorder:
    """A reporter that keeps what it was told."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.shown: list[dict] = []

    def start(self, total: int, description: str = "", initial: int = 0) -> None:
        pass

    def log(self, step: int, row: object) -> None:
        pass

    def update(self, step: int, values: dict) -> None:
        self.shown.append(dict(values))

    def message(self, text: str) -> None:
        self.messages.append(text)

    def close(self) -> None:
        pass


def test_gan_progress_shows_early_stopping_and_ends_with_one_line(tmp_path: Path) -> None:
    import genlab.gan

    recorder = _Recorder()
    genlab.gan.train(
        "sine",
        out=tmp_path / "s",
        reporter=recorder,
        epochs=200,
        eval_every=1,
        patience=1,
        plots=False,
        final_samples=300,
    )
    assert any("no better for" in values for values in recorder.shown)
    assert recorder.shown[-1]["no better for"] == "1/1 checks"
    end = [m for m in recorder.messages if "kept the generator of epoch" in m]
    assert len(end) == 1 and end[0].startswith("stopped early at epoch")


def test_resume_says_where_it_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    import genlab.gan
    from genlab.errors import Interrupted
    from genlab.gan import curves

    out = tmp_path / "r"
    calls = {"n": 0}
    original = curves.CurveGanData.real_batches

    def interrupting(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(curves.CurveGanData, "real_batches", interrupting)
    with pytest.raises(Interrupted):
        genlab.gan.train("sine", out=out, epochs=6, plots=False, quiet=True, final_samples=300)
    monkeypatch.setattr(curves.CurveGanData, "real_batches", original)
    recorder = _Recorder()
    genlab.gan.train("sine", out=out, resume=True, reporter=recorder, plots=False)
    first = recorder.messages[0]
    assert first.startswith("resuming from epoch ") and first.endswith(f" of {out}")
    assert 1 <= int(first.split()[3]) < 6


def test_one_headline_figure_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import json

    from genlab import report
    from genlab.cli import main

    out = tmp_path / "sine"
    args = ["gan", "train", "sine", "--epochs", "4", "--no-plots", "--quiet"]
    assert main([*args, "--out", str(out), "--final-samples", "500"]) == 0
    printed = capsys.readouterr().out.splitlines()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["headline"] == "metrics.relation_nrmse"
    assert printed[1].split()[:2] == ["headline:", "relation_nrmse"]  # the first figure
    assert report.headline_keys(summary)[0] == "metrics.relation_nrmse"
    index = report.write_index(tmp_path, [out]).read_text()
    assert 'data-key="metrics.relation_nrmse"' in index
    assert "best monitored value" not in index
    assert "best monitored value" not in (out / "report.html").read_text()


def test_readme_says_why_the_demo_classifiers_differ_from_the_results_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The demo's classifiers run the book's settings; the README's table genlab's defaults.
    The README says so (issue item 7)."""
    import genlab.demo
    from genlab.config import ClassifierConfig

    seen: list[ClassifierConfig] = []

    class Stop(Exception):
        pass

    def fake_train(config: ClassifierConfig, **_: object) -> None:
        seen.append(config)
        raise Stop

    monkeypatch.setattr(genlab.demo, "train_classifier", fake_train)
    with pytest.raises(Stop):
        genlab.demo.main(["--out", str(tmp_path), "--quiet"])
    assert seen == [ClassifierConfig.book("binary")]
    assert seen[0] != ClassifierConfig(task="binary")  # the table's defaults differ
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    assert "Its classifiers run with the book's settings (`--preset book`)" in readme
    assert "the results table below gives genlab's defaults" in readme
