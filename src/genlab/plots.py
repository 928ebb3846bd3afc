"""Figures a person would rather look at than read: files drawn with matplotlib (the Agg
backend, except inside a notebook, whose own inline backend is left alone so that a
learner's ``plt.show()`` keeps working)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

if "ipykernel" not in sys.modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_curves(
    history: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    path: str | Path,
    title: str = "",
    ylabel: str = "loss",
    best_epoch: int | None = None,
) -> Path:
    """Line plot of ``keys`` over epochs (each key only where present), with the best epoch."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for key in keys:
        points = [(row["epoch"], row[key]) for row in history if row.get(key) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, label=key, marker="." if len(xs) < 40 else None)
    if best_epoch:
        ax.axvline(
            best_epoch, color="grey", linestyle="--", linewidth=1, label=f"best epoch {best_epoch}"
        )
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def plot_confusion_matrix(
    matrix: torch.Tensor,
    class_names: Sequence[str],
    path: str | Path,
    title: str = "confusion matrix (test)",
) -> Path:
    """Heat map of counts, row = true class, column = predicted class."""
    n = len(class_names)
    fig, ax = plt.subplots(figsize=(1.0 + 0.65 * n, 0.8 + 0.6 * n))
    values = matrix.cpu().numpy()
    ax.imshow(values, cmap="Blues")
    ax.set_xticks(range(n), class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = values.max() / 2 if values.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                str(values[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if values[i, j] > threshold else "black",
            )
    return _save(fig, path)


def plot_prediction_grid(
    images: torch.Tensor,
    targets: Sequence[int],
    predictions: Sequence[int],
    class_names: Sequence[str],
    path: str | Path,
    columns: int = 8,
) -> Path:
    """Test images with predicted and true labels; wrong predictions in red."""
    n = len(images)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.9 * rows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(images[k].cpu().numpy(), cmap="gray_r")
        right = int(targets[k]) == int(predictions[k])
        ax.set_title(
            f"{class_names[int(predictions[k])]}\n(true: {class_names[int(targets[k])]})",
            fontsize=7,
            color="black" if right else "red",
        )
    return _save(fig, path)


# --------------------------------------------------------------------------- GAN figures


def _points_array(values: Any) -> Any:
    """A tensor/array of samples as a numpy array: (N, C) floats, or (N,) for 1-D data."""
    import numpy as np

    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    return array


def _axis_limits(real: Any) -> list[tuple[float, float]]:
    """Per column: the real range widened by 8% on each side (fixed across frames)."""
    limits = []
    for j in range(real.shape[1]):
        lo, hi = float(real[:, j].min()), float(real[:, j].max())
        pad = 0.08 * (hi - lo) if hi > lo else 1.0
        limits.append((lo - pad, hi + pad))
    return limits


#: Columns whose spans differ by at most this factor are drawn to one scale (a circle stays
#: round); others each fill their axis (a sine's y would be a flat line otherwise).
SAME_SCALE_RATIO = 2.0


def _same_scale(ax: Any, points: Any) -> None:
    """Equal axes when the first two columns span about as much (see SAME_SCALE_RATIO)."""
    spans = [float(points[:, j].max() - points[:, j].min()) for j in (0, 1)]
    if min(spans) > 0 and max(spans) / min(spans) <= SAME_SCALE_RATIO:
        ax.set_aspect("equal", adjustable="box")


def _draw_samples(
    ax: Any,
    real: Any,
    generated: Any | None,
    columns: Sequence[str] | None,
    limits: list[tuple[float, float]] | None = None,
) -> None:
    """Real points (red dots) and generated ones (green stars, drawn over the real ones so
    that where they miss shows red), or histograms for 1-D data."""
    import numpy as np

    if real.ndim == 1:
        integer = np.issubdtype(real.dtype, np.integer) and (
            generated is None or np.issubdtype(np.asarray(generated).dtype, np.integer)
        )
        if integer:
            top = int(max(real.max(), 0 if generated is None else generated.max())) + 1
            bins = np.arange(-0.5, top + 0.5, 1.0)
        else:
            bins = np.linspace(float(real.min()), float(real.max()), 51)
        ax.hist(real, bins=bins, density=True, alpha=0.5, color="red", label="real")
        if generated is not None:
            ax.hist(generated, bins=bins, density=True, alpha=0.5, color="green", label="generated")
        ax.set_xlabel(columns[0] if columns else "value")
        ax.set_ylabel("share")
    else:
        names = list(columns) if columns else ["x", "y"]
        # The generated points (small) over the real ones (larger, a halo around them where
        # they match): both stay visible, and where the generator misses the red shows.
        layers = [(real, "o", "red", 4, 0.4, "real")]
        if generated is not None:
            layers.append((generated, "*", "green", 2, 0.7, "generated"))
        for zorder, (points, marker, colour, size, alpha, label) in enumerate(layers, start=2):
            ax.plot(
                points[:, 0], points[:, 1], marker, color=colour, markersize=size, alpha=alpha,
                label=label, zorder=zorder,
            )  # fmt: skip
        if limits is not None:
            ax.set_xlim(*limits[0])
            ax.set_ylim(*limits[1])
        if len(real):
            _same_scale(ax, real)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1] if len(names) > 1 else "")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", markerscale=2)


def plot_points(
    points: Any, path: str | Path, title: str = "", columns: Sequence[str] | None = None
) -> Path:
    """The training data: a scatter of the first two columns (a histogram for 1-D data)."""
    real = _points_array(points)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    _draw_samples(ax, real, None, columns)
    ax.set_title(title)
    return _save(fig, path)


def plot_generated_vs_real(
    real: Any,
    generated: Any,
    path: str | Path,
    title: str = "",
    columns: Sequence[str] | None = None,
) -> Path:
    """Generated samples (green) over the real data (red), the book's picture."""
    real_array, gen_array = _points_array(real), _points_array(generated)
    limits = _axis_limits(real_array) if real_array.ndim == 2 else None
    fig, ax = plt.subplots(figsize=(6, 4.5))
    _draw_samples(ax, real_array, gen_array, columns, limits)
    ax.set_title(title)
    return _save(fig, path)


def training_snapshots(
    real: Any,
    snapshots: Sequence[tuple[int, Any]],
    folder: str | Path,
    gif_path: str | Path,
    columns: Sequence[str] | None = None,
    frame_ms: int = 150,
) -> list[Path]:
    """One PNG per snapshot (``folder/snapshots/epoch_NNNNN.png``: the fixed noise's samples
    at that epoch over the real data) and, from two snapshots up, an animated GIF of them all
    (matplotlib + pillow). Axes stay fixed across frames so the animation shows the points
    moving."""
    import numpy as np
    from PIL import Image

    real_array = _points_array(real)
    limits = _axis_limits(real_array) if real_array.ndim == 2 else None
    out_dir = Path(folder) / "snapshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    frames: list[Any] = []
    written: list[Path] = []
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=80)
    try:
        for epoch, samples in snapshots:
            ax.clear()
            _draw_samples(ax, real_array, _points_array(samples), columns, limits)
            ax.set_title(f"epoch {epoch}: generated (fixed noise) vs real")
            fig.canvas.draw()
            image = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).convert("RGB")
            path = out_dir / f"epoch_{epoch:05d}.png"
            image.save(path)
            written.append(path)
            frames.append(image.quantize(colors=64))
    finally:
        plt.close(fig)
    _save_animation(frames, Path(gif_path), frame_ms, linger=8, written=written)
    return written


def _save_animation(
    frames: list[Any], path: Path, frame_ms: int, linger: int, written: list[Path]
) -> None:
    """An animated GIF of ``frames`` (the last shown ``linger`` times as long), appended to
    ``written``; from two frames up only (one frame is no animation: its snapshot PNG says
    it all), and an older run's animation at ``path`` is removed then."""
    if len(frames) < 2:
        path.unlink(missing_ok=True)
        return
    durations = [frame_ms] * (len(frames) - 1) + [frame_ms * linger]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    written.append(path)


def plot_interpolation(
    real: Any, walks: Any, path: str | Path, title: str = "", columns: Sequence[str] | None = None
) -> Path:
    """Latent-space walks: ``walks`` is (K, steps, C) decoded points (or (K, steps) for 1-D
    data), each walk a line from its first point (circle) to its last (square) over the real
    data. ``real`` may have no rows (a CSV run loaded from its model file keeps none): then
    only the walks are drawn, on axes fitted to them."""
    import numpy as np

    real_array = _points_array(real)
    walks_array = (
        walks.detach().cpu().numpy() if isinstance(walks, torch.Tensor) else np.asarray(walks)
    )
    if walks_array.ndim == 3 and walks_array.shape[2] == 1:
        walks_array = walks_array[:, :, 0]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    colours = plt.cm.viridis(np.linspace(0, 1, len(walks_array)))
    if walks_array.ndim == 3:
        has_real = real_array.ndim == 2 and len(real_array) > 0
        if has_real:
            ax.plot(
                real_array[:, 0],
                real_array[:, 1],
                ".",
                color="lightgrey",
                markersize=2,
                label="real",
            )
        for k, walk in enumerate(walks_array):
            ax.plot(walk[:, 0], walk[:, 1], "-", color=colours[k], linewidth=1)
            ax.scatter(
                walk[:, 0],
                walk[:, 1],
                c=np.linspace(0, 1, len(walk)),
                cmap="plasma",
                s=14,
                zorder=3,
            )
            ax.plot(walk[0, 0], walk[0, 1], "o", color=colours[k], markersize=8, fillstyle="none")
            ax.plot(walk[-1, 0], walk[-1, 1], "s", color=colours[k], markersize=8, fillstyle="none")
        real_mark = Line2D([], [], marker=".", linestyle="", color="lightgrey", label="real data")
        legend_marks = [
            *([real_mark] if has_real else []),
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                color="black",
                fillstyle="none",
                label="walk start",
            ),
            Line2D(
                [], [], marker="s", linestyle="", color="black", fillstyle="none", label="walk end"
            ),
            Line2D(
                [],
                [],
                marker=".",
                linestyle="-",
                color=colours[0],
                label="a walk (points: step, dark to light)",
            ),
        ]
        ax.legend(handles=legend_marks, loc="best", fontsize=8)
        # Fixed to the real data when there is some; otherwise fitted to the walks' points.
        frame = real_array if has_real else walks_array.reshape(-1, walks_array.shape[2])
        limits = _axis_limits(frame)
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        _same_scale(ax, frame)
        names = list(columns) if columns else ["x", "y"]
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1] if len(names) > 1 else "")
    else:
        steps = np.arange(walks_array.shape[1])
        for k, walk in enumerate(walks_array):
            ax.plot(steps, walk, "o-", color=colours[k], markersize=4, label=f"walk {k + 1}")
        ax.legend(loc="best", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("step along the walk")
        ax.set_ylabel(columns[0] if columns else "value")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _save(fig, path)


# --------------------------------------------------------------------------- image GAN figures


def image_grid(images: Any, columns: int = 8, pad: int = 2) -> Any:
    """uint8 images ``(N, H, W)`` -> one uint8 array: ``columns`` per row, ``pad`` dark
    pixels between them (light items on a dark background, as in Fashion-MNIST)."""
    import numpy as np

    array = np.asarray(images.cpu() if isinstance(images, torch.Tensor) else images, np.uint8)
    n, h, w = array.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    grid = np.zeros((rows * (h + pad) + pad, columns * (w + pad) + pad), np.uint8)
    for k in range(n):
        r, c = divmod(k, columns)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top : top + h, left : left + w] = array[k]
    return grid


def save_image_grid(images: Any, path: str | Path, columns: int = 8, scale: int = 2) -> Path:
    """A PNG of :func:`image_grid` (each pixel ``scale`` x ``scale``), no axes or labels."""
    from PIL import Image

    grid = Image.fromarray(image_grid(images, columns))
    grid = grid.resize((grid.width * scale, grid.height * scale), Image.Resampling.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(path)
    return path


def plot_image_rows(
    rows: Sequence[tuple[str, Any]], path: str | Path, title: str, columns: int = 10
) -> Path:
    """One labelled row of images per entry of ``rows`` (``(label, uint8 (N, H, W))``)."""
    fig, axes = plt.subplots(
        len(rows), 1, figsize=(1.0 * columns + 1.8, 1.05 * len(rows) + 0.6), squeeze=False
    )
    for ax, (label, images) in zip(axes[:, 0], rows, strict=True):
        ax.imshow(image_grid(images[:columns], columns), cmap="gray", vmin=0, vmax=255)
        ax.set_anchor("W")  # a short row starts at its label, like the full ones
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


#: Characters per line of a title over one of two side-by-side image grids.
PAIR_TITLE_WIDTH = 44


def image_pair_figure(left: Any, right: Any, titles: tuple[str, str], columns: int = 8) -> Any:
    """The figure of :func:`plot_image_pair`; long titles are wrapped so they never meet."""
    import textwrap

    fig, axes = plt.subplots(1, 2, figsize=(10, 5.4))
    for ax, images, title in zip(axes, (left, right), titles, strict=True):
        ax.imshow(image_grid(images, columns), cmap="gray", vmin=0, vmax=255)
        ax.set_title(textwrap.fill(title, PAIR_TITLE_WIDTH), fontsize=10)
        ax.axis("off")
    return fig


def plot_image_pair(
    left: Any, right: Any, path: str | Path, titles: tuple[str, str], columns: int = 8
) -> Path:
    """Two image grids side by side (real vs generated)."""
    return _save(image_pair_figure(left, right, titles, columns), path)


def image_snapshots(
    snapshots: Sequence[tuple[int, Any]],
    folder: str | Path,
    gif_path: str | Path,
    columns: int = 8,
    frame_ms: int = 300,
) -> list[Path]:
    """One grid PNG per snapshot (``folder/snapshots/epoch_NNNNN.png``: the fixed noise's
    images at that epoch) and, from two snapshots up, an animated GIF of them all, each frame
    captioned."""
    from PIL import Image, ImageDraw

    out_dir = Path(folder) / "snapshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    frames: list[Any] = []
    for epoch, images in snapshots:
        grid = Image.fromarray(image_grid(images, columns))
        grid = grid.resize((grid.width * 2, grid.height * 2), Image.Resampling.NEAREST)
        path = out_dir / f"epoch_{epoch:05d}.png"
        grid.save(path)
        written.append(path)
        frame = Image.new("L", (grid.width, grid.height + 18), 255)
        frame.paste(grid, (0, 18))
        ImageDraw.Draw(frame).text((4, 3), f"epoch {epoch}", fill=0)
        frames.append(frame)
    _save_animation(frames, Path(gif_path), frame_ms, linger=6, written=written)
    return written


def _association(frame: Any, numeric: Sequence[str]) -> Any:
    """Cramér's V of every column pair (numbers binned in 10 by quantile, empty cells a bin of
    their own): one 0-1 measure for numbers and categories alike."""
    import numpy as np
    import pandas as pd

    coded = {}
    for name in frame.columns:
        column = frame[name]
        if name in numeric:
            values = column.to_numpy(dtype=float)
            present = values[~np.isnan(values)]
            edges = np.unique(np.quantile(present, np.linspace(0, 1, 11))) if len(present) else []
            bins = np.searchsorted(edges, values, side="right") if len(edges) else values * 0
            coded[name] = np.where(np.isnan(values), -1, bins).astype(int)
        else:
            coded[name] = pd.factorize(column)[0]
    names = list(frame.columns)
    out = np.eye(len(names))
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            table = pd.crosstab(coded[a], coded[names[j]]).to_numpy(dtype=float)
            n = table.sum()
            if min(table.shape) < 2 or n == 0:
                value = 0.0
            else:
                expected = table.sum(1, keepdims=True) @ table.sum(0, keepdims=True) / n
                chi2 = float(((table - expected) ** 2 / np.where(expected > 0, expected, 1)).sum())
                value = float(np.sqrt(chi2 / (n * (min(table.shape) - 1))))
            out[i, j] = out[j, i] = min(1.0, value)
    return out


def plot_table_associations(
    real: Any, synthetic: Any, numeric: Sequence[str], path: str | Path
) -> Path:
    """The real and the synthetic table's column associations (Cramér's V), side by side."""
    names = list(real.columns)
    size = max(4.0, 0.45 * len(names) + 2)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 1, size), constrained_layout=True)
    for ax, frame, title in ((axes[0], real, "real (test part)"), (axes[1], synthetic,
                                                                    "synthetic")):  # fmt: skip
        image = ax.imshow(_association(frame, numeric), vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.set_title(f"{title}: association between columns (Cramér's V)", fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.8)
    return _save(fig, path)


def plot_table_columns(
    real: Any,
    synthetic: Any | None,
    numeric: Sequence[str],
    path: str | Path,
    max_levels: int = 12,
    dates: Sequence[str] = (),
) -> Path:
    """Each column's distribution, real (test part) vs synthetic: histograms for numbers
    (``dates``: seconds since 1970, shown as dates), bars of the commonest levels for
    categories; the empty share in each title. ``synthetic`` None: the real table alone."""
    import matplotlib.dates as mdates
    import numpy as np

    names = list(real.columns)
    if not names:
        raise ValueError("plot_table_columns needs at least one column")
    cols = min(4, max(1, len(names)))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False,
                             constrained_layout=True)  # fmt: skip
    # (label, table, colour) drawn in each panel: the real table, and beside it the synthetic
    tables = [("real", real, "tab:blue")]
    if synthetic is not None:
        tables.append(("synthetic", synthetic, "tab:orange"))
    shade, width = (0.5, 0.8 / len(tables)) if len(tables) > 1 else (1.0, 0.8)
    for ax, name in zip(axes.flat, names, strict=False):
        columns = [(label, table[name], colour) for label, table, colour in tables]
        if name in numeric:
            values = [c.to_numpy(dtype=float) for _, c, _ in columns]
            values = [v[~np.isnan(v)] for v in values]
            if name in dates:  # matplotlib's dates are days since 1970
                values = [v / 86400.0 for v in values]
                locator = mdates.AutoDateLocator(maxticks=5)
                ax.xaxis.set_major_locator(locator)
                ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            both = np.concatenate(values)
            bins = np.linspace(both.min(), both.max(), 31) if len(both) else 10
            for (label, _, colour), v in zip(columns, values, strict=True):
                ax.hist(v, bins=bins, density=True, alpha=shade, label=label, color=colour)
            empty = "empty " + " / ".join(f"{np.mean(c.isna()):.0%}" for _, c, _ in columns)
        else:
            levels = list(real[name].value_counts().index[:max_levels])
            x = np.arange(len(levels))
            for i, (label, column, colour) in enumerate(columns):
                shares = column.value_counts(normalize=True).reindex(levels).fillna(0)
                offset = (i - (len(columns) - 1) / 2) * width
                ax.bar(x + offset, shares.to_numpy(), width, label=label, color=colour)
            ax.set_xticks(x, [str(v)[:12] for v in levels], rotation=60, ha="right", fontsize=7)
            empty = ""
        ax.set_title(f"{name} {empty}".strip(), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    if synthetic is None:
        fig.suptitle("each column's distribution (empty: share of empty cells)", fontsize=10)
    else:
        axes.flat[0].legend(fontsize=7)
        fig.suptitle("each column: real (test part) vs synthetic", fontsize=10)
    return _save(fig, path)


def plot_table_walks(walks: Sequence[Any], numeric: Sequence[str], path: str | Path,
                     title: str) -> Path:  # fmt: skip
    """Latent walks through a table GAN: one panel per number column (its value along each
    walk's steps, one line per walk); ``walks``: one DataFrame of rows per walk."""
    if not numeric:
        raise ValueError("plot_table_walks needs at least one number column")
    cols = min(3, len(numeric))
    rows = -(-len(numeric) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.6 * rows), squeeze=False,
                             constrained_layout=True)  # fmt: skip
    for ax, name in zip(axes.flat, numeric, strict=False):
        for i, walk in enumerate(walks):
            values = walk[name].astype(float).to_numpy()
            ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=f"walk {i + 1}")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in list(axes.flat)[len(numeric) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)
