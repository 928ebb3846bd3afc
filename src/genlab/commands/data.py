"""``genlab data show KIND``: the training data of a GAN, plotted and summarised."""

from __future__ import annotations

import argparse

import torch

from genlab.commands.common import print_figures


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
        kind_parser.add_argument("--out", metavar="FILE", required=True, help="PNG file to write")
        kind_parser.set_defaults(handler=run_show, kind=kind)


def run_show(args: argparse.Namespace) -> int:
    """``genlab data show KIND [flags] --out FILE``."""
    from genlab import plots
    from genlab.commands.common import overrides

    points, columns, title = args.kind.show(overrides(args, args.kind.options))
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
