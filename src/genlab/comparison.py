"""Compare finished runs of one kind: the settings that differ, the headline figures side by
side, and the training curves overlaid, on one self-contained page.

    import genlab
    table = genlab.compare(["runs/book", "runs/fm10"], out="runs/compare")
    print(table.text())                    # what `genlab compare` prints
    table.page                             # runs/compare/compare.html

Runs of different kinds (a classifier and a GAN, a curve GAN and an image GAN) are refused
with one line: their figures do not compare.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genlab.errors import ConfigError, RunFileError
from genlab.training import runs

__all__ = ["Comparison", "compare"]

#: The file written into ``out``.
PAGE_FILE = "compare.html"
#: Per-epoch figures worth overlaying, by kind (when metrics.csv has them).
CURVES = {
    "classifier": ("train_loss", "val_loss", "val_accuracy"),
    "gan": ("d_loss", "g_loss"),
}
#: Settings that say where or how fast a run went, not what it computed.
IGNORED_SETTINGS = ("device", "threads", "data_dir", "checkpoint_interval", "plot_every")


@dataclass
class Comparison:
    """What :func:`compare` found: run names, settings that differ, headline figures."""

    names: list[str]
    differing: list[tuple[str, list[Any]]]
    figures: list[tuple[str, list[Any]]]
    page: Path | None = None
    kind: str = ""
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        """A plain-text table: settings that differ, then the headline figures."""
        from genlab.report import format_value

        rows = [("", *self.names)]
        rows += [(f"setting {k}", *map(_setting_text, v)) for k, v in self.differing]
        rows += [
            (k, *("—" if x is None else format_value(x, k) for x in v)) for k, v in self.figures
        ]
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
        ]
        return "\n".join(line.rstrip() for line in lines)


def _setting_text(value: Any) -> str:
    """A setting in the table: unset (null) is the default; long lists shortened."""
    from genlab.report import setting_text

    return "default" if value is None else setting_text(value)


def _bookkeeping(key: str) -> bool:
    """Settings that say where or how fast a run went, or how its data is stored (the
    data's codec, origin, fingerprint): not what it computed."""
    from genlab.report import INTERNAL_DATA

    head, _, rest = key.partition(".")
    return key.startswith(IGNORED_SETTINGS) or (
        head == "data" and rest.split(".")[0] in INTERNAL_DATA
    )


def _kind(summary: Mapping[str, Any]) -> str:
    kind = str(summary.get("kind", "?"))
    if kind == "gan":
        data = summary.get("data") or {}
        return f"gan/{data.get('kind', '?')}"
    return kind


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _load(run: str | Path) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, str]]]:
    folder = Path(run)
    summary_path = folder / runs.SUMMARY_FILE
    if not summary_path.is_file():
        raise RunFileError(f"{run} is not a finished run folder (it has no summary.json)")
    summary = runs.read_json(summary_path)
    config_path = folder / runs.CONFIG_FILE
    config = runs.read_json(config_path) if config_path.exists() else summary.get("config", {})
    if not isinstance(summary, dict) or not isinstance(config, dict):
        raise RunFileError(f"{run}: summary.json or config.json is not a genlab file")
    from genlab.report import read_metrics

    _, rows = read_metrics(folder / runs.METRICS_FILE)
    return summary, config, rows


def compare(run_dirs: Sequence[str | Path], out: str | Path | None = None) -> Comparison:
    """Compare finished runs of one kind; with ``out``, write ``out/compare.html`` (or
    ``out`` itself when it names an ``.html`` file).

    Raises:
        ConfigError: fewer than two runs, or runs of different kinds.
        RunFileError: a folder that is not a finished run.
    """
    if len(run_dirs) < 2:
        raise ConfigError("compare needs at least two run folders")
    loaded = [_load(run) for run in run_dirs]
    kinds = [_kind(summary) for summary, _, _ in loaded]
    if len(set(kinds)) > 1:
        listed = ", ".join(f"{Path(r).name}: {k}" for r, k in zip(run_dirs, kinds, strict=True))
        raise ConfigError(f"runs of different kinds do not compare ({listed})")
    names = _names(run_dirs)
    settings = [_flatten(config) for _, config, _ in loaded]
    keys = sorted({k for s in settings for k in s})
    differing = [
        (k, [s.get(k) for s in settings])
        for k in keys
        if not _bookkeeping(k) and len({repr(s.get(k)) for s in settings}) > 1
    ]
    from genlab.report import headline_keys, lookup

    summaries = [summary for summary, _, _ in loaded]
    figure_keys = headline_keys(summaries[0])
    for summary in summaries[1:]:
        figure_keys += [k for k in headline_keys(summary) if k not in figure_keys]
    figures = []
    for key in figure_keys:
        values = [lookup(s, key) for s in summaries]
        figures.append((key, [None if _missing(v) else v for v in values]))
    result = Comparison(names=names, differing=differing, figures=figures, kind=kinds[0])
    if out is not None:
        metrics = [rows for _, _, rows in loaded]
        folders = [Path(r) for r in run_dirs]
        result.page = _write_page(Path(out), result, summaries, metrics, folders)
    return result


def _missing(value: Any) -> bool:
    from genlab.report import MISSING

    return value is MISSING


def _names(run_dirs: Sequence[str | Path]) -> list[str]:
    names = [Path(r).resolve().name for r in run_dirs]
    if len(set(names)) < len(names):  # the same folder name in different places
        names = [str(Path(r)) for r in run_dirs]
    return names


def _curve_png(name: str, series: list[tuple[str, list[tuple[float, float]]]]) -> str:
    """One overlaid curve as a PNG data URI."""
    from matplotlib.ticker import MaxNLocator

    from genlab.plots import plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, points in series:
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, label=label, marker="." if len(xs) < 40 else None)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(name)
    ax.set_title(name)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _write_page(
    out: Path,
    result: Comparison,
    summaries: list[dict[str, Any]],
    metrics: list[list[dict[str, str]]],
    folders: list[Path],
) -> Path:
    from genlab.report import _data_uri, _esc, _figure, _label, _page, _table, describe

    names = result.names
    settings_rows = [
        (f"<code>{_esc(k)}</code>", *(_esc(_setting_text(v)) for v in values))
        for k, values in result.differing
    ]
    settings = (
        _table(("setting", *names), settings_rows)
        if settings_rows
        else "<p>No setting differs (other seeds or machines only).</p>"
    )
    figure_rows = [
        (
            _esc(_label(key)),
            *("—" if v is None else _figure(f"{i}:{key}", v) for i, v in enumerate(values)),
        )
        for key, values in result.figures
    ]
    figures = _table(("figure", *names), figure_rows, numeric=(False, *[True] * len(names)))
    base = result.kind.split("/")[0]
    monitors = {str(s.get("monitor")) for s in summaries if s.get("monitor")}
    columns = [*CURVES.get(base, ()), *sorted(monitors)]
    cards = []
    for column in columns:
        series = []
        for name, rows in zip(names, metrics, strict=True):
            points = []
            for row in rows:
                try:
                    points.append((float(row["epoch"]), float(row[column])))
                except (KeyError, ValueError, TypeError):
                    continue
            series.append((name, points))
        if any(points for _, points in series):
            uri = _curve_png(column, series)
            cards.append(
                f'<figure><img src="{uri}" alt="{_esc(column)}" data-file="{_esc(column)}">'
                f"<figcaption>{_esc(column)} per epoch, every run</figcaption></figure>"
            )
    samples = []
    if base == "gan":  # each run's final samples, as its report shows them
        for name, folder in zip(names, folders, strict=True):
            plot = folder / "plots" / "generated.png"
            if plot.is_file():
                samples.append(
                    f'<figure><img src="{_data_uri(plot)}" alt="{_esc(name)}" '
                    f'data-file="{_esc(name)}/generated.png"><figcaption>{_esc(name)}: the '
                    "best generator's samples</figcaption></figure>"
                )
    sample_section = (
        f'<section id="samples"><h2>Samples</h2><div class="cards">{"".join(samples)}</div>'
        "</section>"
        if samples
        else ""
    )
    body = (
        f"<header><h1>genlab: {len(names)} runs compared</h1>"
        f'<p class="lead">{_esc(describe(summaries[0]))}</p></header>'
        f'<section id="settings"><h2>Settings that differ</h2>{settings}</section>'
        f'<section id="figures"><h2>Headline figures</h2><p class="note">Reported figures '
        "(test part) of each run, from its summary.json.</p>"
        f"{figures}</section>"
        f'<section id="curves"><h2>Training curves</h2><div class="cards">{"".join(cards)}'
        "</div></section>"
        f"{sample_section}"
    )
    path = out if out.suffix.lower() in (".html", ".htm") else out / PAGE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    runs.atomic_write_bytes(path, _page(f"genlab: {', '.join(names)}", body).encode("utf-8"))
    return path
