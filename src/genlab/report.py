"""Run reports: one self-contained HTML page per run folder, and an index page linking them.

:func:`write_report` turns a finished run folder (``config.json``, ``metrics.csv``,
``summary.json``, ``plots/``) into ``report.html``: what was trained and with which settings,
the headline figures beside the book's figures for the same job (from :mod:`genlab.book`,
each with a footnote naming where it comes from), every plot, and the metrics table. The page
needs no network and no JavaScript: the plots are inlined as base64 ``data:`` URIs and the
style sheet is inline, so the file can be mailed, archived or opened offline.
:func:`write_index` writes ``index.html`` linking several runs' reports.

Every figure taken from ``summary.json`` sits in an element with ``data-key="<key>"``
(``"test_accuracy"``, or ``"metrics.validity"`` for a nested key), whose text is
:func:`format_value` of the value and whose ``data-value`` attribute is the value as JSON, so
a test (or a script) can check the page against the file.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from genlab.book import SOURCES, BookFigure, figures_for, job_key
from genlab.errors import RunFileError
from genlab.training import runs

REPORT_FILE = "report.html"
INDEX_FILE = "index.html"

#: The metrics table shows at most about this many rows (evenly spaced epochs, plus the
#: first, the best and the last); the full table stays in metrics.csv.
MAX_TABLE_ROWS = 60
#: At most this many of the per-snapshot PNGs (``plots/snapshots/``) are embedded; the
#: animation (``training.gif``) holds all of them.
MAX_SNAPSHOTS = 16

IMAGE_TYPES = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}


#: Figures worth a glance for each kind of run (after the book's, when there are any).
HEADLINE_KEYS: dict[str, tuple[str, ...]] = {
    "classifier": (
        "test_accuracy",
        "test_loss",
        "best_val_loss",
        "epochs_run",
        "best_epoch",
        "train_seconds",
    ),
    "curve": (
        "metrics.relation_median_rel_error",
        "metrics.relation_nrmse",
        "metrics.w1",
        "metrics.precision",
        "metrics.recall",
        "epochs_run",
        "best_epoch",
        "train_seconds",
    ),
    "images": (
        "metrics.fid_judge",
        "metrics.kid_judge",
        "metrics.precision",
        "metrics.recall",
        "metrics.class_fidelity",
        "metrics.classes_found",
        "epochs_run",
        "best_epoch",
        "train_seconds",
    ),
    "integers": (
        "metrics.validity",
        "metrics.coverage",
        "metrics.js",
        "epochs_run",
        "best_epoch",
        "train_seconds",
    ),
    "table": (
        "metrics.quality",
        "metrics.column_shapes",
        "metrics.pair_trends",
        "metrics.ml_efficacy",
        "metrics.ml_efficacy_real",
        "metrics.privacy",
        "epochs_run",
        "best_epoch",
        "train_seconds",
    ),
}

LABELS = {
    "test_accuracy": "test accuracy",
    "test_loss": "test loss",
    "best_val_loss": "best validation loss",
    "epochs_run": "epochs run",
    "best_epoch": "best epoch",
    "train_seconds": "training time (s)",
    "seconds_per_epoch": "seconds per epoch",
    "best_value": "best monitored value",
    "metrics.relation_median_rel_error": "median relative error of y",
    "metrics.relation_nrmse": "RMSE of y vs the formula / std of y",
    "metrics.validity": "validity",
    "metrics.coverage": "coverage",
    "metrics.covered": "valid values generated",
    "metrics.js": "JS divergence",
    "metrics.w1": "Wasserstein-1 (scaled)",
    "metrics.fid_judge": "Fréchet distance in the judge's features (fid_judge)",
    "metrics.kid_judge": "kernel distance in the judge's features (kid_judge)",
    "metrics.class_fidelity": "share drawn as the class asked for",
    "metrics.classes_found": "classes the judge finds (of the run's)",
    "metrics.quality": "quality (SDMetrics; 1 = like the real rows)",
    "metrics.ml_efficacy": "a model trained on synthetic rows, on real test rows",
    "metrics.ml_efficacy_real": "the same model trained on real rows",
}

#: What each image figure means (the floors table of an image GAN's report).
IMAGE_FIGURES = {
    "fid_judge": "Fréchet distance between generated and test images in the judge's "
    "features (lower is better; not Inception FID)",
    "kid_judge": "kernel (MMD) distance in the same features, ± kid_judge_se (lower is better)",
    "precision": "share of generated images that lie among real ones (quality; higher is better)",
    "recall": "share of real images the generator's images reach (variety; higher is better)",
    "min_class_share": "the rarest class's share among the samples, as the judge sees them "
    "(near the real images' is best)",
    "class_fidelity": "share of images the judge puts in the class asked for (higher is better)",
}

#: What each plot shows, by file stem; (kind, stem) wins over stem.
CAPTIONS: dict[Any, str] = {
    ("classifier", "loss"): "Training and validation loss per epoch (dashed: the best epoch).",
    ("classifier", "accuracy"): "Validation accuracy per epoch.",
    "confusion_matrix": "Confusion matrix on the test set: rows are true classes, columns "
    "predicted ones.",
    "predictions": "Test images with the predicted label (true label below); wrong ones in red.",
    "real": "The real data (its test part).",
    "generated": "The best generator's samples (green) drawn over the real data (red).",
    "training": "Training animation: the generator's samples from fixed noise, epoch by epoch.",
    ("images", "generated"): "Real test images (left) and the best generator's images from "
    "fresh noise (right).",
    ("images", "classes"): "Generated images by class: the class asked for (conditional runs) "
    "or the class the judge sees (unconditional ones).",
    ("images", "training"): "Training animation: the generator's images from fixed noise, "
    "epoch by epoch.",
    ("gan", "loss"): "Discriminator and generator loss per epoch (dashed: the best epoch).",
    ("table", "associations"): "How strongly each pair of columns goes together (Cramér's V), "
    "in the real test part and in the synthetic rows: the two should look alike.",
    ("table", "columns"): "Each column's distribution, real test part against synthetic rows.",
}
#: Data-description keys that are bookkeeping, not what the data is (summary.json and
#: config.json keep them).
INTERNAL_DATA = (
    "origin",
    "codec",
    "splits",
    "fingerprint",
    "book_reference",
    "judge_sha256",
    "sha256",
)
#: summary.json keys that the figures table leaves out: shown elsewhere on the page
#: (settings, data, parts, headline, footer), or bookkeeping of a distributed run.
NOT_FIGURES = (
    "config",
    "confusion_matrix",
    "data",
    "splits",
    "figure_split",
    "units",
    "versions",
    "headline",
    "world_size",
    "ranks_consistent",
)
#: GAN settings that networks of each architecture do not use.
UNUSED_SETTINGS = {
    "mlp": ("width", "d_width", "clusters"),
    "conv": (
        "g_hidden",
        "d_hidden",
        "g_activation",
        "d_activation",
        "g_out_activation",
        "d_dropout",
    ),
}
#: The longest list the settings and data tables show whole.
MAX_LIST = 12
#: metrics.csv columns whose name alone does not say what they hold.
COLUMN_LABELS = {"seconds": "seconds since start", "best_epoch": "best epoch so far"}
PLOT_ORDER = (
    "loss",
    "accuracy",
    "confusion_matrix",
    "predictions",
    "real",
    "generated",
    "classes",
    "columns",
    "associations",
    "training",
)
#: What the snapshots of each kind of GAN hold.
SAMPLE_NOUNS = {"images": "images", "integers": "values", "table": "rows"}


# --------------------------------------------------------------------------- values


#: Figures that count things (whole numbers even where the summary stores a float).
COUNT_KEYS = ("classes_found", "covered", "unique", "test_correct", "test_total")


def _leaf(key: str) -> str:
    """``metrics.classes_found`` -> ``classes_found`` (``0:`` prefixes of compare pages too)."""
    return key.rsplit(".", 1)[-1].rsplit(":", 1)[-1]


def _is_count(key: str) -> bool:
    return _leaf(key) in COUNT_KEYS or _leaf(key).startswith("n_")


def format_value(value: Any, key: str = "") -> str:
    """How the page writes a value from ``summary.json`` (the browser test uses this too).

    Integers get thousands separators, floats four decimals (three significant digits in
    scientific notation below 0.001, one decimal from 100 up), booleans yes/no, JSON null
    (a non-finite figure or one not recorded) a dash, lists and dicts compact JSON. With the
    figure's ``key``: seconds (``train_seconds``, ``seconds_per_epoch``) get one decimal (two
    significant digits below 1) and counts stored as floats (``classes_found``) none.
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer() and _is_count(key):
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if "seconds" in _leaf(key):
            return f"{value:,.1f}" if abs(value) >= 1 else f"{value:.2g}"
        if abs(value) >= 100:
            return f"{value:,.1f}"
        if value == 0 or abs(value) >= 1e-3:
            return f"{value:.4f}"
        return f"{value:.3e}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


def format_book(value: float | int | tuple[float, float]) -> str:
    """A book figure: a number as :func:`format_value`, a range as ``low-high``."""
    if isinstance(value, tuple):
        return f"{format_value(value[0])}–{format_value(value[1])}"
    return format_value(value)


#: What :func:`lookup` returns for a key the summary does not have.
MISSING = object()


def lookup(summary: Mapping[str, Any], key: str) -> Any:
    """``summary[key]``, or ``summary[a][b]`` for ``key = "a.b"``; :data:`MISSING` if absent."""
    if key in summary:
        return summary[key]
    head, _, rest = key.partition(".")
    inner = summary.get(head)
    if rest and isinstance(inner, Mapping) and rest in inner:
        return inner[rest]
    return MISSING


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _figure(key: str, value: Any) -> str:
    """A summary figure as a span the browser test can check (data-key, data-value)."""
    return (
        f'<span class="fig" data-key="{_esc(key)}" '
        f'data-value="{_esc(json.dumps(value))}">{_esc(format_value(value, key))}</span>'
    )


def _label(key: str) -> str:
    if key in LABELS:
        return LABELS[key]
    return key.removeprefix("metrics.").replace("_", " ")


# --------------------------------------------------------------------------- what the run is


def describe(summary: Mapping[str, Any]) -> str:
    """One line: what was trained (``"Fashion-MNIST 10-class classifier (mlp)"``, ...)."""
    kind = summary.get("kind")
    if kind == "classifier":
        task = summary.get("task", "?")
        what = "10-class" if task == "multiclass" else "binary (T-shirt/top vs ankle boot)"
        return f"Fashion-MNIST {what} classifier ({summary.get('model', '?')})"
    if kind == "gan":
        data = summary.get("data") or {}
        name = data.get("name") or data.get("description") or "?"
        return f"GAN on {name} ({data.get('kind', '?')} data)"
    return f"{kind or 'unknown'} run"


def headline_keys(summary: Mapping[str, Any]) -> list[str]:
    """The summary keys the page puts first: the book's for this job, then the kind's."""
    keys = list(figures_for(job_key(summary)))
    headline = summary.get("headline")  # the run's one headline figure comes first
    if isinstance(headline, str) and lookup(summary, headline) is not MISSING:
        keys = [headline, *(k for k in keys if k != headline)]
    kind = summary.get("kind")
    if kind == "gan":
        kind = (summary.get("data") or {}).get("kind")
    defaults = HEADLINE_KEYS.get(str(kind))
    if defaults is None:
        defaults = tuple(
            k for k, v in summary.items() if isinstance(v, (int, float)) and k != "seed"
        )[:6]
    for key in defaults:
        if key not in keys and lookup(summary, key) is not MISSING:
            keys.append(key)
    return keys


# --------------------------------------------------------------------------- page parts

CSS = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid var(--line);
     padding-bottom: .3rem; }
p.lead { color: var(--muted); margin: 0 0 1rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .7rem; text-align: left;
         vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
td a { white-space: nowrap; }
tr.best td { background: #dafbe1; }
.note { color: var(--muted); font-size: .88rem; }
.fig { font-weight: 600; }
.headline td.num .fig { font-size: 1.1rem; }
.cards { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: .6rem;
         background: #fff; flex: 1 1 420px; max-width: 100%; }
figure.wide { flex-basis: 100%; }
figure.small { flex: 0 1 300px; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .88rem; margin-top: .4rem; max-width: 640px; }
.scroll { overflow-x: auto; }
code { background: var(--soft); padding: 0 .25rem; border-radius: 3px; }
a { color: var(--accent); }
ol.sources { margin: .3rem 0 0; padding-left: 1.6rem; }
a.source { text-decoration: none; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .85rem; }
p.verdict { background: var(--soft); border-left: 4px solid var(--accent); padding: .6rem .9rem;
            max-width: 860px; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # No favicon request, no scripts, nothing fetched: the page is one file.
        '<link rel="icon" href="data:,">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">\n"
        f"<title>{_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def _table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Sequence[bool] = (),
    row_classes: Sequence[str] = (),
    css_class: str = "",
) -> str:
    """An HTML table; cells in ``rows`` are already HTML (escape them first)."""
    numeric = list(numeric) + [False] * (len(header) - len(numeric))
    head = "".join(
        f'<th class="num">{_esc(h)}</th>' if n else f"<th>{_esc(h)}</th>"
        for h, n in zip(header, numeric, strict=True)
    )
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td class="num">{c}</td>' if n else f"<td>{c}</td>"
            for c, n in zip(row, numeric, strict=True)
        )
        cls = row_classes[i] if i < len(row_classes) and row_classes[i] else ""
        body.append(f'<tr class="{cls}">{cells}</tr>' if cls else f"<tr>{cells}</tr>")
    attr = f' class="{css_class}"' if css_class else ""
    return (
        f'<div class="scroll"><table{attr}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _difference(value: Any, book: float | int | tuple[float, float]) -> str:
    """This run minus the book (a number), or where it falls against the book's range."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return ""
    if isinstance(book, tuple):
        low, high = book
        if value < low:
            return f"below by {format_value(low - value)}"
        if value > high:
            return f"above by {format_value(value - high)}"
        return "within the book's range"
    diff = value - book
    return ("+" if diff >= 0 else "−") + format_value(abs(diff))


def _book_value(figure: BookFigure, title: bool = False) -> str:
    """A book figure as HTML; with ``title``, its source as a tooltip."""
    text = _esc(format_book(figure.value))
    if not title:
        return text
    return f'<span class="book" title="{_esc(_source_text(figure))}">{text}</span>'


def _source_text(figure: BookFigure) -> str:
    return f"Source: {SOURCES[figure.source]}"


def _sources_note(figures: Sequence[BookFigure]) -> tuple[dict[str, int], str]:
    """Footnote numbers by source key, and the footnotes (where the book's figures come from)."""
    numbers: dict[str, int] = {}
    for figure in figures:
        numbers.setdefault(figure.source, len(numbers) + 1)
    if not numbers:
        return numbers, ""
    items = "".join(
        f'<li id="book-source-{n}" data-source="{_esc(source)}">{_esc(SOURCES[source])}</li>'
        for source, n in numbers.items()
    )
    heading = '<p class="note">Where the book\'s figures come from:</p>'
    return numbers, f'{heading}<ol class="sources note">{items}</ol>'


def headline_section(summary: Mapping[str, Any]) -> str:
    """The headline figures beside the book's, with the difference and the book's sources."""
    job = job_key(summary)
    book = figures_for(job)
    keys = headline_keys(summary)
    numbers, sources = _sources_note([book[key] for key in keys if key in book])
    rows = []
    for key in keys:
        value = lookup(summary, key)
        shown = (
            '<span class="note">not recorded</span>' if value is MISSING else _figure(key, value)
        )
        figure = book.get(key)
        note = ""
        if figure:
            n = numbers[figure.source]
            note = (
                f'<span class="note">{_esc(figure.note)} <a class="source" '
                f'href="#book-source-{n}" title="{_esc(_source_text(figure))}">[{n}]</a></span>'
            )
        rows.append(
            (
                _esc(_label(key)),
                shown,
                _book_value(figure) if figure else "",
                _esc(_difference(value, figure.value)) if figure else "",
                note,
            )
        )
    caveats = []
    config = summary.get("config") if isinstance(summary.get("config"), Mapping) else {}
    if job and config.get("preset") not in (None, "book"):
        caveats.append(
            f"this run used the {config.get('preset')} preset; <code>--preset book</code> "
            "repeats the book's settings"
        )
    if job and summary.get("kind") == "classifier" and summary.get("model") not in (None, "mlp"):
        caveats.append("the book's figures are for its MLP")
    intro = (
        f'<p class="note">Book figures: <em>Learn Generative AI with PyTorch</em> (M. Liu, '
        f"2024), job <code>{_esc(job)}</code>{''.join('; ' + c for c in caveats)}.</p>"
        if job
        else '<p class="note">The book reports no figures for this job.</p>'
    )
    table = _table(
        ("figure", "this run", "book", "vs book", "note"),
        rows,
        numeric=(False, True, True, True, False),
        css_class="headline",
    )
    return f'<section id="headline"><h2>Headline</h2>{intro}{table}{sources}</section>'


def floors_section(summary: Mapping[str, Any]) -> str:
    """Image GANs: each judge figure beside its floor (real training images against the real
    test images); empty for other runs."""
    metrics = summary.get("metrics") or {}
    rows = []
    for key, value in metrics.items():
        floor = metrics.get(f"floor_{key}")
        if key.startswith("floor_") or floor is None:
            continue
        meaning = IMAGE_FIGURES.get(key, "")
        if key.startswith("fidelity_"):
            meaning = f"class_fidelity of {key.removeprefix('fidelity_')}"
        rows.append(
            (
                f"<code>{_esc(key)}</code>",
                _figure(f"metrics.{key}", value),
                _esc(format_value(floor)),
                f'<span class="note">{_esc(meaning)}</span>',
            )
        )
    if not rows:
        return ""
    table = _table(
        ("figure", "this run", "real images", "meaning"),
        rows,
        numeric=(False, True, True, False),
    )
    note = (
        '<p class="note">Generated images against the test images, scored by the judge '
        "classifier named in <code>summary.json</code> (<code>splits.judge</code>). "
        "<em>Real images</em> is the same figure for real training images against the test "
        "images: what a perfect generator would score (for fidelity: the judge's own "
        "accuracy). A figure far from it is a warning, listed above.</p>"
    )
    return (
        f'<section id="floors"><h2>Judge figures beside real images\'</h2>{note}{table}</section>'
    )


def _flatten(values: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.extend(_flatten(value, f"{name}."))
        else:
            out.append((name, value))
    return out


def setting_text(value: Any) -> str:
    """A setting as given: strings bare, everything else as JSON (0.0005, true, null); a
    list longer than :data:`MAX_LIST` as its first and last items and its length."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) > MAX_LIST:
        head = ", ".join(json.dumps(v) for v in value[:3])
        return f"[{head}, …, {json.dumps(value[-1])}] ({len(value):,} items)"
    return json.dumps(value)


def _shown_settings(config: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """config.json's settings less the data (its own section), the unset ones (null: the
    default applies) and those the run's networks do not use."""
    flat = _flatten({k: v for k, v in config.items() if k != "data"})
    architecture = next((v for k, v in flat if _leaf(k) == "architecture"), None)
    unused = UNUSED_SETTINGS.get(str(architecture), ())
    return [(k, v) for k, v in flat if v is not None and _leaf(k) not in unused]


def _rows(pairs: Iterable[tuple[str, Any]]) -> list[tuple[str, str]]:
    return [(f"<code>{_esc(k)}</code>", _esc(setting_text(v))) for k, v in pairs]


def settings_section(config: Mapping[str, Any]) -> str:
    """The run's settings (config.json), nested keys flattened to ``a.b``."""
    rows = _rows(_shown_settings(config))
    if not rows:
        return '<section id="settings"><h2>Settings</h2><p>No config.json.</p></section>'
    note = (
        '<p class="note">Settings left unset (the default applies) and those these networks '
        "do not use are left out; <code>config.json</code> has them all.</p>"
    )
    table = _table(("setting", "value"), rows)
    return f'<section id="settings"><h2>Settings</h2>{note}{table}</section>'


def data_section(summary: Mapping[str, Any], config: Mapping[str, Any]) -> str:
    """What the run learned from: the data's description (less bookkeeping and what the
    settings already say) and the sizes of its parts, once."""
    data = summary.get("data") or config.get("data") or {}
    settings = {_leaf(k): v for k, v in _shown_settings(config)}
    splits = summary.get("splits") or (data.get("splits") if isinstance(data, Mapping) else {})
    parts = [
        (k, v)
        for k, v in _flatten(splits if isinstance(splits, Mapping) else {}, "parts.")
        if _leaf(k) not in INTERNAL_DATA
    ]
    named = [v for _, v in parts if isinstance(v, str)]  # a folder the parts name already
    pairs = [
        (k, v)
        for k, v in _flatten(data if isinstance(data, Mapping) else {})
        if k.split(".")[0] not in INTERNAL_DATA
        and _leaf(k) not in INTERNAL_DATA
        and v is not None
        and settings.get(_leaf(k), MISSING) != v
        and v not in named
    ] + parts
    if not pairs:
        return ""
    table = _table(("data", "value"), _rows(pairs))
    return f'<section id="data"><h2>Data</h2>{table}</section>'


def _measured_on(summary: Mapping[str, Any]) -> str:
    """Which part of the data each figure comes from (figure_split), one line per part."""
    parts: dict[str, list[str]] = {}
    split = summary.get("figure_split")
    for key, part in (split if isinstance(split, Mapping) else {}).items():
        parts.setdefault(str(part), []).append(key)
    units: dict[str, list[str]] = {}
    unit_map = summary.get("units")
    for key, unit in (unit_map if isinstance(unit_map, Mapping) else {}).items():
        units.setdefault(str(unit), []).append(key)
    items = [
        f"<li>{_esc(part)}: {', '.join(f'<code>{_esc(k)}</code>' for k in keys)}</li>"
        for part, keys in parts.items()
    ]
    items += [
        f"<li>in {_esc(unit)}: {', '.join(f'<code>{_esc(k)}</code>' for k in keys)}</li>"
        for unit, keys in units.items()
    ]
    if not items:
        return ""
    heading = '<p class="note">Where each figure is measured:</p>'
    return f'{heading}<ul class="note">{"".join(items)}</ul>'


def figures_section(summary: Mapping[str, Any]) -> str:
    """Every other figure in summary.json (scalars, and one level of nested dicts)."""
    rows = []
    for key, value in summary.items():
        if key in NOT_FIGURES:
            continue
        if isinstance(value, Mapping):
            for inner, item in value.items():
                if not isinstance(item, (Mapping, list)):
                    name = f"{key}.{inner}"
                    rows.append((f"<code>{_esc(name)}</code>", _figure(name, item)))
        elif not isinstance(value, list):
            rows.append((f"<code>{_esc(key)}</code>", _figure(key, value)))
    table = _table(("summary.json key", "value"), rows, numeric=(False, True))
    return (
        f'<section id="summary"><h2>All figures (summary.json)</h2>{_measured_on(summary)}'
        f"{table}</section>"
    )


def verdict_section(summary: Mapping[str, Any]) -> str:
    """The run in plain words (:func:`genlab.verdict.verdict`): good or not, what the
    headline figure means, what to try next."""
    from genlab.verdict import verdict

    text = " ".join(_esc(sentence) for sentence in verdict(summary))
    return f'<section id="verdict"><h2>In plain words</h2><p class="verdict">{text}</p></section>'


def _data_uri(path: Path) -> str:
    mime = IMAGE_TYPES[path.suffix.lower()]
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _plot_order(summary: Mapping[str, Any]) -> tuple[str, ...]:
    """The page's order of plots by file stem: the monitored figure, then the others checked
    beside it (``progress``), after the fixed ones; the rest by name."""
    return (*PLOT_ORDER, str(summary.get("monitor")), "progress")


def _plot_sort_key(order: Sequence[str], path: Path) -> tuple[int, str]:
    stem = path.stem
    return (order.index(stem) if stem in order else len(order), path.name)


def _caption(summary: Mapping[str, Any], path: Path) -> str:
    kind, stem = summary.get("kind"), path.stem
    data_kind = (summary.get("data") or {}).get("kind")
    if (data_kind, stem) in CAPTIONS:
        return CAPTIONS[(data_kind, stem)]
    if (kind, stem) in CAPTIONS:
        return CAPTIONS[(kind, stem)]
    if stem in CAPTIONS:
        return CAPTIONS[stem]
    monitor = summary.get("monitor")
    if kind == "gan" and stem == monitor:
        return (
            f"{stem}: the figure early stopping watches, on the validation part (fixed noise) "
            "at each check; the best generator (dashed) is the one kept."
        )
    if kind == "gan" and stem == "progress":
        return (
            "The other figures checked on the validation part (fixed noise), each named in "
            f"the legend: they show what moves {monitor or 'the monitored figure'}, which is "
            f"plotted on its own{f' ({monitor}.png)' if monitor else ''}."
        )
    return stem.replace("_", " ")


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of an image file from its header, or None if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError, ValueError):
        return None


def _image(path: Path, caption: str, small: bool = False) -> str:
    size = image_size(path)
    wide = size is not None and size[0] > 800
    css = ' class="small"' if small else ' class="wide"' if wide else ""
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    return (
        f"<figure{css}>"
        f'<img src="{_data_uri(path)}"{dims} alt="{_esc(caption)}" '
        f'data-file="{_esc(path.name)}"><figcaption>{_esc(caption)} '
        f"<code>{_esc(path.name)}</code></figcaption></figure>"
    )


def _frame_caption(path: Path) -> str:
    """``epoch_00025.png`` -> ``epoch 25``."""
    match = re.fullmatch(r"([a-z]+)_0*(\d+)", path.stem)
    return f"{match[1]} {match[2]}" if match else path.stem.replace("_", " ")


def evenly(n: int, limit: int, keep: Iterable[int] = ()) -> list[int]:
    """About ``limit`` indices out of ``range(n)``: evenly spaced, the first and last, and
    every index in ``keep``; all of them when ``n <= limit``."""
    if n <= limit:
        return list(range(n))
    kept = {i for i in keep if 0 <= i < n}
    spaced = max(2, limit - len(kept))
    chosen = {round(i * (n - 1) / (spaced - 1)) for i in range(spaced)}
    return sorted(chosen | kept)


def plots_section(summary: Mapping[str, Any], plots_dir: Path) -> str:
    """Every plot in plots/ (PNG, GIF, ...), inlined; a thinned set of snapshot frames."""
    order = _plot_order(summary)
    files = (
        sorted(
            (p for p in plots_dir.glob("*") if p.is_file() and p.suffix.lower() in IMAGE_TYPES),
            key=lambda p: _plot_sort_key(order, p),
        )
        if plots_dir.is_dir()
        else []
    )
    if not files:
        return (
            '<section id="plots"><h2>Plots</h2><p>No plots in this run folder (trained with '
            "<code>--no-plots</code>?).</p></section>"
        )
    cards = "".join(_image(p, _caption(summary, p)) for p in files)
    parts = [f'<section id="plots"><h2>Plots</h2><div class="cards">{cards}</div>']
    snapshots = sorted(
        p for p in (plots_dir / "snapshots").glob("*") if p.suffix.lower() in IMAGE_TYPES
    )
    if snapshots:
        shown = [snapshots[i] for i in evenly(len(snapshots), MAX_SNAPSHOTS)]
        if len(snapshots) == 1:
            note = "one snapshot"
        elif len(shown) == len(snapshots):
            note = f"all {len(snapshots)}"
        else:
            note = f"{len(shown)} of {len(snapshots)}, evenly spaced (the animation has them all)"
        noun = SAMPLE_NOUNS.get(str((summary.get("data") or {}).get("kind")), "points")
        frames = "".join(_image(p, _frame_caption(p), small=True) for p in shown)
        parts.append(
            f'<h3>Snapshots</h3><p class="note">Generated {noun} from fixed noise during '
            f"training: {_esc(note)}; <code>plots/snapshots/</code>.</p>"
            f'<div class="cards">{frames}</div>'
        )
    parts.append("</section>")
    return "".join(parts)


def read_metrics(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """metrics.csv as (columns, rows of strings); empty if the file is missing."""
    if not path.exists():
        return [], []
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            return list(reader.fieldnames or []), rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RunFileError(f"{path} is not a readable CSV file ({exc})") from exc


def metrics_section(summary: Mapping[str, Any], metrics_path: Path) -> str:
    """The per-epoch metrics table, thinned to about :data:`MAX_TABLE_ROWS` rows."""
    columns, rows = read_metrics(metrics_path)
    if not rows:
        return '<section id="metrics"><h2>Metrics per epoch</h2><p>No metrics.csv.</p></section>'
    best = str(summary.get("best_epoch"))
    best_rows = [i for i, row in enumerate(rows) if row.get("epoch") == best]
    chosen = evenly(len(rows), MAX_TABLE_ROWS, best_rows)
    if len(chosen) < len(rows):
        note = (
            f"Showing {len(chosen)} of {len(rows):,} rows: evenly spaced, with the first, the "
            "best (highlighted) and the last; every row is in <code>metrics.csv</code>."
        )
    else:
        note = f"All {len(rows):,} rows of <code>metrics.csv</code>; the best epoch is highlighted."
    table = _table(
        [COLUMN_LABELS.get(c, c) for c in columns],
        ([_esc(_cell(rows[i].get(c), c)) for c in columns] for i in chosen),
        numeric=[True] * len(columns),
        row_classes=["best" if rows[i].get("epoch") == best else "" for i in chosen],
    )
    return (
        f'<section id="metrics"><h2>Metrics per epoch</h2><p class="note">{note}</p>'
        f"{table}</section>"
    )


def _cell(text: str | None, column: str = "") -> str:
    """A metrics.csv cell for people: whole numbers as they are, others rounded (four
    decimals, one from 100 up, seconds one: ``31.8``, not ``31.8323``); empty cells a
    dash."""
    if text is None or text == "":
        return "—"
    try:
        value = float(text)
    except ValueError:
        return text
    if value.is_integer() and "." not in text and "e" not in text.lower():
        return text  # epochs, counts: as written
    return format_value(value, column)


def _summary_line(summary: Mapping[str, Any], config: Mapping[str, Any]) -> str:
    epochs = summary.get("epochs_run")
    parts = [f"{format_value(epochs)} epochs" if epochs is not None else ""]
    if summary.get("best_epoch") is not None:
        parts.append(f"best epoch {format_value(summary['best_epoch'])}")
    if summary.get("stopped_early"):
        parts.append("stopped early")
    if isinstance(summary.get("train_seconds"), (int, float)):
        parts.append(f"{format_value(summary['train_seconds'], 'train_seconds')} s of training")
    if summary.get("device"):
        parts.append(f"on {summary['device']}")
    world = summary.get("world_size")
    if isinstance(world, int) and world > 1:
        parts.append(f"{world} processes (torchrun)")
    if summary.get("ranks_consistent") is False:
        parts.append("warning: the processes ended with different weights")
    preset = (summary.get("config") or config.get("config") or config).get("preset")
    if preset:
        parts.append(f"preset {preset}")
    return ", ".join(p for p in parts if p)


def render_report(run_dir: str | Path) -> str:
    """The report page of a finished run folder, as HTML text."""
    run_dir = Path(run_dir)
    summary = runs.read_json(run_dir / runs.SUMMARY_FILE)
    if not isinstance(summary, dict):
        raise RunFileError(f"{run_dir / runs.SUMMARY_FILE} is not a genlab summary")
    config_path = run_dir / runs.CONFIG_FILE
    config = runs.read_json(config_path) if config_path.exists() else summary.get("config") or {}
    if not isinstance(config, dict):
        config = {"config": config}
    title = describe(summary)
    versions = summary.get("versions") or {}
    footer = ", ".join(f"{_esc(k)} {_esc(v)}" for k, v in versions.items())
    body = (
        f"<header><h1>{_esc(title)}</h1>"
        f'<p class="lead">Run folder <code>{_esc(run_dir.resolve().name)}</code>: '
        f"{_esc(_summary_line(summary, config))}.</p></header>\n"
        f"{verdict_section(summary)}\n"
        f"{headline_section(summary)}\n"
        f"{floors_section(summary)}\n"
        f"{plots_section(summary, run_dir / 'plots')}\n"
        f"{settings_section(config)}\n"
        f"{data_section(summary, config)}\n"
        f"{metrics_section(summary, run_dir / runs.METRICS_FILE)}\n"
        f"{figures_section(summary)}\n"
        f"<footer>Written by genlab from <code>summary.json</code>, <code>config.json</code>, "
        f"<code>metrics.csv</code> and <code>plots/</code>. {footer}</footer>"
    )
    return _page(f"genlab: {title}", body)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the run's report page (default ``run_dir/report.html``); return its path.

    Raises :class:`RunFileError` if ``run_dir`` holds no finished run (no summary.json).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunFileError(f"{run_dir} is not a folder; give the --out folder of a training run")
    if not (run_dir / runs.SUMMARY_FILE).exists():
        raise RunFileError(
            f"{run_dir} holds no finished run (no {runs.SUMMARY_FILE}); train it to the end or "
            "resume it first"
        )
    path = Path(out) if out is not None else run_dir / REPORT_FILE
    runs.atomic_write_bytes(path, render_report(run_dir).encode("utf-8"))
    return path


# --------------------------------------------------------------------------- index page


def _href(target: Path, base: Path) -> str:
    relative = os.path.relpath(target.resolve(), base.resolve())
    return quote(Path(relative).as_posix())


def _stale(report: Path, summary: Path) -> bool:
    """Whether ``report`` is missing or older than the run's summary."""
    try:
        return report.stat().st_mtime < summary.stat().st_mtime
    except FileNotFoundError:
        return True


def _seconds(value: Any) -> str:
    return f"{value:,.1f}" if isinstance(value, (int, float)) else "—"


def write_index(
    root_dir: str | Path, run_dirs: Iterable[str | Path], out: str | Path | None = None
) -> Path:
    """Write an index page linking every run's report with its headline figure.

    The page goes to ``out`` (default ``root_dir/index.html``) and links each report by a
    relative path, so the folder can be moved or archived whole. A run without a
    ``report.html``, or with one older than its ``summary.json`` (the run was trained again),
    gets one written first. Returns the index page's path.
    """
    root_dir = Path(root_dir)
    path = Path(out) if out is not None else root_dir / INDEX_FILE
    rows = []
    unique = {Path(d).resolve(): Path(d) for d in run_dirs}  # each run once
    for run_dir in unique.values():
        report = run_dir / REPORT_FILE
        if _stale(report, run_dir / runs.SUMMARY_FILE):
            write_report(run_dir)
        summary = runs.read_json(run_dir / runs.SUMMARY_FILE)
        keys = headline_keys(summary)
        key = keys[0] if keys else None
        value = lookup(summary, key) if key else MISSING
        book = figures_for(job_key(summary)).get(key or "")
        rows.append(
            (
                f'<a href="{_esc(_href(report, path.parent))}">{_esc(run_dir.name)}</a>',
                _esc(describe(summary)),
                _esc(_label(key)) if key else "",
                _figure(key, value) if key and value is not MISSING else "—",
                _book_value(book, title=True) if book else "",
                _esc(format_value(summary.get("epochs_run"))),
                _esc(_seconds(summary.get("train_seconds"))),
            )
        )
    table = _table(
        ("run", "what", "headline figure", "this run", "book", "epochs", "seconds"),
        rows,
        numeric=(False, False, False, True, True, True, True),
    )
    body = (
        "<header><h1>genlab runs</h1>"
        f'<p class="lead">{len(rows)} run{"" if len(rows) == 1 else "s"}; each links to its '
        "report (plots, settings, metrics).</p></header>"
        f"{table}"
    )
    runs.atomic_write_bytes(path, _page("genlab runs", body).encode("utf-8"))
    return path
