"""``genlab data show KIND``: the training data of a GAN, plotted and summarised."""

from __future__ import annotations

import argparse

import torch

from genlab.commands.common import print_figures
from genlab.errors import ConfigError


def add_parser(groups: argparse._SubParsersAction) -> None:
    """Register ``data`` and ``data show KIND``."""
    from genlab.gan import kinds as data_kinds

    parser = groups.add_parser(
        "data",
        help="show the training data",
        description="Plot and summarise the data a GAN would train on.",
    )
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    sub.required = True
    show = sub.add_parser(
        "show",
        help="plot the training data of one kind (exp, sine, formula, csv, ...)",
        description="Plot the points `genlab gan train KIND` would train on (same flags) and "
        "print their ranges.",
    )
    kinds = show.add_subparsers(dest="data_kind", metavar="KIND")
    kinds.required = True
    for name, kind in data_kinds().items():
        kind_parser = kinds.add_parser(name, help=kind.help, description=kind.help)
        kind.add_flags(kind_parser)
        kind_parser.add_argument(
            "--out",
            metavar="FILE",
            help="PNG file to write (needed except for a table, whose column types are listed)",
        )
        kind_parser.set_defaults(handler=run_show, kind=kind)


def run_show(args: argparse.Namespace) -> int:
    """``genlab data show KIND [flags] --out FILE``."""
    from genlab import plots
    from genlab.commands.common import overrides

    points, columns, title = args.kind.show(overrides(args, args.kind.options))
    if not isinstance(points, torch.Tensor):  # a table: its columns' types
        return _show_table(args, points, title)
    if not args.out:
        raise ConfigError("--out FILE.png is needed: the plot of the data")
    if points.dim() == 3:  # images: a grid
        path = plots.save_image_grid(points, args.out)
        print(f"{title}: {points.shape[0]} images, grid written to {path}")
        return 0
    path = plots.plot_points(points, args.out, title=f"training data: {title}", columns=columns)
    values = points if points.dim() == 2 else points.unsqueeze(1)
    names = columns or [f"column_{i + 1}" for i in range(values.shape[1])]
    figures: dict[str, object] = {"points": int(values.shape[0])}
    for j, name in enumerate(names):
        column = values[:, j].to(torch.float64)
        figures[f"{name} range"] = f"[{float(column.min()):.6g}, {float(column.max()):.6g}]"
        figures[f"{name} mean"] = float(column.mean())
    print_figures(figures, title=f"{title}: plot written to {path}")
    return 0


def _show_table(args: argparse.Namespace, frame: object, title: str) -> int:
    """A table: each column's detected type (with ``--types`` over it), its counts and an
    example; with ``--out`` a plot of every column's distribution."""
    from genlab.data.table import detect_types
    from genlab.gan.table import column_types

    found = detect_types(frame)
    final = column_types(frame, getattr(args, "types", None))
    rows = len(frame)  # type: ignore[arg-type]
    print(f"{title}: {rows:,} rows, {len(found)} columns")
    width = max(len("column"), *(len(name) for name in found))
    print(f"  {'column':<{width}}  {'type':<11}  {'empty':>7}  {'distinct':>8}  example / why")
    for name, info in found.items():
        kind = final[name] + (" (set)" if final[name] != info.type else "")
        empty = f"{info.missing / max(1, rows):.1%}"
        why = info.reason if final[name] == info.type else f"detected {info.type}"
        print(
            f"  {name:<{width}}  {kind:<11}  {empty:>7}  {info.distinct:>8,}  "
            f"{_clip(info.example)!r}: {why}"
        )
    print("override a type with --types COLUMN=TYPE (continuous, integer, categorical, "
          "datetime, identifier, constant)")  # fmt: skip
    if args.out and not any(final[name] not in ("identifier", "constant") for name in final):
        raise ConfigError("no column to plot: every column is an identifier or constant")
    if args.out:
        from genlab import plots
        from genlab.data.table import TableCodec, fit_specs
        from genlab.evaluation.table_figures import metric_frame

        codec = TableCodec(fit_specs(frame, final))
        table = metric_frame(codec, frame)
        dates = codec.names_of("datetime")
        path = plots.plot_table_columns(table, None, codec.names_of(), args.out, dates=dates)
        print(f"plot written to {path}")
    return 0


def _clip(text: str, width: int = 24) -> str:
    """``text`` cut to ``width`` characters, an ellipsis showing the cut."""
    return text if len(text) <= width else text[: width - 1] + "…"
