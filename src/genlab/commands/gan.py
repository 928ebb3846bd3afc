"""``genlab gan train|sample|eval|export|interpolate``: GANs on curves (book ch. 3).

``gan train KIND`` takes the data kind as its first word; each kind is one entry of
:data:`TRAIN_KINDS` (its flags, how to build its data, its base config), so a new kind of data
(integer patterns) is one more entry. ``sample``/``eval``/``export``/``interpolate`` read the
run's model file, which names its data kind; nothing else is needed.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from genlab.commands.common import (
    add_quiet_flag,
    add_training_flags,
    finish_reporter,
    overrides,
    print_figures,
    reporter_for,
    run_dir_from_args,
)
from genlab.commands.report import add_report_flag, report_after_training
from genlab.config import GAN_ACTIVATIONS, GAN_TRANSFORMS, PRESETS, GanConfig
from genlab.errors import ConfigError
from genlab.gan.adapter import GanData
from genlab.training import runs

#: The book's figures for its exponential GAN at its own early stop (BOOK.md), for the table.
BOOK_EXP = {"relation_median_rel_error": 0.03, "w1_x": 0.07, "epochs_run": 1050}
#: The book's multiples-of-5 GAN (BOOK.md): ~1,300 iterations, 16-17 of 20 values, 99.8% valid.
BOOK_M5 = {"validity": 0.998, "covered": "16-17 of 20", "iterations": 1300}


@dataclass(frozen=True)
class DataKind:
    """One kind of training data for ``gan train KIND`` (and ``data show KIND``).

    ``add_flags(parser)`` adds the kind's own flags; ``build(args, config)`` returns its
    :class:`GanData`; ``base_config(args)`` the config before the user's flags (for
    ``args.preset``; it may look at the kind's own flags, e.g. an encoding);
    ``show(args)`` returns ``(points, columns, title)`` for ``data show``.
    """

    help: str
    add_flags: Callable[[argparse.ArgumentParser], None]
    build: Callable[[argparse.Namespace, GanConfig], GanData]
    base_config: Callable[[argparse.Namespace], GanConfig]
    show: Callable[[argparse.Namespace], tuple[torch.Tensor, list[str] | None, str]]


def curve_config(args: argparse.Namespace) -> GanConfig:
    """The base config of a curve GAN: genlab's defaults or the book's (``--preset book``)."""
    return GanConfig.book() if args.preset == "book" else GanConfig()


def _add_shape_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument(
        "--n", type=int, default=2048, metavar="N", help="training points (default 2048)"
    )
    group.add_argument(
        "--data-seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the data (default 0: the book's points)",
    )
    _add_transform_flag(group)


def _add_transform_flag(group: argparse._ActionsContainer) -> None:
    group.add_argument(
        "--transform",
        choices=GAN_TRANSFORMS,
        help="column transform before training (default auto: quantile-normal for x and for "
        "columns monotone in x, log for positive skewed columns, else standardise; none: raw "
        "values as the book)",
    )


def _add_formula_flags(parser: argparse.ArgumentParser) -> None:
    _add_shape_flags(parser)
    group = next(g for g in parser._action_groups if g.title == "data")
    group.add_argument(
        "--formula",
        required=True,
        metavar="EXPR",
        help="y = f(x), e.g. 'x**2/10 - 3' or 'sin(x)*exp(-x/5)' (numbers, x, + - * / **, "
        "parentheses, sin cos tan exp log sqrt abs tanh ..., pi, e)",
    )
    group.add_argument(
        "--x-range",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        help="x is drawn uniformly from [LOW, HIGH) (default -5 5)",
    )


def _add_csv_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument(
        "--csv",
        required=True,
        metavar="FILE",
        help="numeric columns, header optional (tab, ; or , separated); 20%% of the rows are "
        "held out for early stopping and evaluation",
    )
    group.add_argument(
        "--data-seed", type=int, default=0, metavar="N", help="seed of the held-out split"
    )
    _add_transform_flag(group)


def _curve_options(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    options: dict[str, Any] = {"data_seed": args.data_seed}
    if kind == "csv":
        options["csv"] = args.csv
    else:
        options["n"] = args.n
    if kind == "formula":
        options["formula"] = args.formula
        options["x_range"] = None if args.x_range is None else tuple(args.x_range)
    return options


def _curve_kind(kind: str, help_text: str) -> DataKind:
    def build(args: argparse.Namespace, config: GanConfig) -> GanData:
        from genlab.gan.curves import make_curve_gan_data

        return make_curve_gan_data(
            kind,
            transform=config.transform,
            batch_size=config.batch_size,
            **_curve_options(args, kind),
        )

    def show(args: argparse.Namespace) -> tuple[torch.Tensor, list[str] | None, str]:
        from genlab.data.curves import load_curve_dataset

        options = _curve_options(args, kind)
        seed = options.pop("data_seed")
        dataset = load_curve_dataset(kind, seed=seed, **options)
        return dataset.points, dataset.columns, dataset.name

    add = {"formula": _add_formula_flags, "csv": _add_csv_flags}.get(kind, _add_shape_flags)
    return DataKind(help_text, add, build, curve_config, show)


def _add_integer_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data (one pattern; default --multiple-of 5)")
    group.add_argument("--multiple-of", type=int, metavar="K", help="multiples of K")
    group.add_argument(
        "--rule",
        metavar="EXPR",
        help="a condition on n, e.g. 'n % 3 == 1' (integers, n, + - * // % **, comparisons, "
        "and/or/not, abs)",
    )
    group.add_argument("--odd", action="store_true", help="odd numbers")
    group.add_argument("--even", action="store_true", help="even numbers")
    group.add_argument(
        "--from-file",
        metavar="FILE",
        help="learn the distribution of a file's non-negative integers (separated by spaces, "
        "commas or new lines)",
    )
    group.add_argument(
        "--max",
        "--max-value",  # the spelling to use under torchrun, whose parser claims --max
        type=int,
        dest="max_value",
        metavar="N",
        help="values lie in [0, N) (default 100; for --from-file, the largest value + 1)",
    )
    group.add_argument(
        "--encoding",
        choices=("onehot", "binary"),
        default="onehot",
        help="onehot (default, the book's; up to 4096 values) or binary digits (larger ranges)",
    )


def _integer_data(args: argparse.Namespace) -> GanData:
    from genlab.gan.integers import make_integer_gan_data

    sources = [
        args.multiple_of is not None,
        args.rule is not None,
        args.odd,
        args.even,
        args.from_file is not None,
    ]
    multiple_of = 5 if not any(sources) else args.multiple_of  # the book's case by default
    return make_integer_gan_data(
        encoding=args.encoding,
        max_value=args.max_value,
        multiple_of=multiple_of,
        rule=args.rule,
        odd=args.odd,
        even=args.even,
        from_file=args.from_file,
    )


def _integer_config(args: argparse.Namespace) -> GanConfig:
    """The settings measured for integer patterns (or the book's with ``--preset book``)."""
    from genlab.gan.integers import recommended_settings

    settings = recommended_settings(_integer_data(args), args.preset).to_dict()
    settings["g_hidden"] = tuple(settings["g_hidden"])
    settings["d_hidden"] = tuple(settings["d_hidden"])
    return GanConfig(**settings, transform="none")


def _integer_show(args: argparse.Namespace) -> tuple[torch.Tensor, list[str] | None, str]:
    data = _integer_data(args)
    values = data.real_integers(10_000, torch.Generator().manual_seed(0))
    return values, ["n"], data.name


INTEGERS = DataKind(
    "integers with a pattern (multiples of K, a rule, odd/even, a file): the book's "
    "multiples-of-5 GAN by default",
    _add_integer_flags,
    lambda args, config: _integer_data(args),
    _integer_config,
    _integer_show,
)

#: ``gan train KIND`` / ``data show KIND``: every kind of data and how to make it.
TRAIN_KINDS: dict[str, DataKind] = {
    "exp": _curve_kind("exp", "y = 1.08^x, x in [0, 50): the book's data (2048 points)"),
    "sine": _curve_kind("sine", "y = sin(x), x in [-5, 5): the book's exercise"),
    "formula": _curve_kind("formula", "y = f(x) for a formula you type"),
    "csv": _curve_kind("csv", "numeric columns from a CSV file"),
    "integers": INTEGERS,
}

GAN_FLAGS = (
    "epochs",
    "patience",
    "min_delta",
    "batch_size",
    "lr",
    "seed",
    "device",
    "latent_dim",
    "g_hidden",
    "d_hidden",
    "d_dropout",
    "beta1",
    "beta2",
    "ema",
    "eval_every",
    "plot_every",
    "transform",
    "threads",
    "checkpoint_interval",
)


def add_parser(groups: argparse._SubParsersAction) -> None:
    """Register ``gan`` and its subcommands."""
    parser = groups.add_parser(
        "gan",
        help="GANs on curves, any CSV and integer patterns (book ch. 3)",
        description="Train GANs on points of a curve, a CSV file or integers with a pattern; "
        "sample, evaluate, export and explore trained generators.",
    )
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    sub.required = True

    train = sub.add_parser(
        "train",
        help="train a GAN on one kind of data; save a run folder",
        description="Train a GAN: per batch a discriminator step then a generator step; early "
        "stopping on a quality score of a fixed noise batch against held-out real points "
        "(best generator restored); then the figures of 10,000 samples. KIND picks the data.",
    )
    kinds = train.add_subparsers(dest="data_kind", metavar="KIND")
    kinds.required = True
    for name, kind in TRAIN_KINDS.items():
        kind_parser = kinds.add_parser(name, help=kind.help, description=kind.help)
        kind.add_flags(kind_parser)
        _add_gan_flags(kind_parser)
        kind_parser.set_defaults(handler=run_train, kind=kind)

    sample = sub.add_parser(
        "sample",
        help="generate points from a trained GAN (CSV)",
        description="Write N generated points as CSV (to --out, or to stdout). "
        "The same --seed gives the same points.",
    )
    _add_run_arguments(sample, default_n=None)
    sample.add_argument("--out", metavar="FILE", help="CSV file to write (default: stdout)")
    sample.set_defaults(handler=run_sample)

    evaluate = sub.add_parser(
        "eval",
        help="the figures of a trained GAN on N samples; writes RUN/eval.json",
        description="Generate N points and compare them with the held-out real points: "
        "relation errors, per-column Wasserstein, KL/JS, MMD, precision/recall, out of range.",
    )
    _add_run_arguments(evaluate, default_n=10_000)
    evaluate.set_defaults(handler=run_eval)

    export = sub.add_parser(
        "export",
        help="write the generator as a plain-PyTorch file (noise -> points)",
        description="Write a file that maps noise (N, latent_dim) to points in the data's "
        "units with plain torch, no genlab: torch.export (.pt2, load with "
        "torch.export.load(FILE).module()) or TorchScript (the book's format, load with "
        "torch.jit.load(FILE)).",
    )
    export.add_argument("run", metavar="RUN", help="run folder (or its model.pt)")
    export.add_argument("--out", metavar="FILE", required=True, help="file to write")
    export.add_argument(
        "--format",
        choices=("export", "torchscript"),
        default="export",
        help="export (default; torch.export .pt2) or torchscript (the book's format)",
    )
    export.set_defaults(handler=run_export)

    interpolate = sub.add_parser(
        "interpolate",
        help="walk the latent space between noise vectors; plot the points",
        description="Pick pairs of noise vectors (from --seed), walk in --steps equal steps "
        "from one to the other, and plot the generated points along each walk over the real "
        "data.",
    )
    interpolate.add_argument("run", metavar="RUN", help="run folder (or its model.pt)")
    interpolate.add_argument(
        "--steps", type=int, default=10, metavar="N", help="points per walk (default 10)"
    )
    interpolate.add_argument(
        "--walks", type=int, default=5, metavar="K", help="number of walks (default 5)"
    )
    interpolate.add_argument("--seed", type=int, default=0, metavar="N", help="noise seed")
    interpolate.add_argument("--out", metavar="FILE", required=True, help="PNG file to write")
    interpolate.set_defaults(handler=run_interpolate)


def _add_gan_flags(parser: argparse.ArgumentParser) -> None:
    defaults = asdict(GanConfig())
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        default="genlab",
        help="genlab (default) or book: the book's networks and optimiser on raw columns",
    )
    add_training_flags(parser, defaults)
    for action in parser._actions:
        if action.dest == "device":
            action.help = (
                f"where to train (default {defaults['device']}: networks this small run "
                "faster on one CPU core than on a GPU)"
            )
    add_report_flag(parser)
    group = parser.add_argument_group("networks")
    group.add_argument(
        "--latent-dim", type=int, metavar="N", help=f"noise size (default {defaults['latent_dim']})"
    )
    group.add_argument(
        "--g-hidden",
        type=int,
        nargs="*",
        metavar="N",
        help=f"generator hidden widths (default {' '.join(map(str, defaults['g_hidden']))})",
    )
    group.add_argument(
        "--d-hidden",
        type=int,
        nargs="*",
        metavar="N",
        help=f"discriminator hidden widths (default {' '.join(map(str, defaults['d_hidden']))})",
    )
    group.add_argument(
        "--activation",
        choices=GAN_ACTIVATIONS,
        help=f"hidden activation of both networks (default {defaults['g_activation']})",
    )
    group.add_argument(
        "--d-dropout",
        type=float,
        metavar="P",
        help=f"discriminator dropout (default {defaults['d_dropout']})",
    )
    tuning = parser.add_argument_group("optimiser and checks")
    tuning.add_argument(
        "--beta1", type=float, metavar="X", help=f"Adam beta1 (default {defaults['beta1']})"
    )
    tuning.add_argument(
        "--beta2", type=float, metavar="X", help=f"Adam beta2 (default {defaults['beta2']})"
    )
    tuning.add_argument(
        "--ema",
        type=float,
        metavar="X",
        help=f"decay of the generator's weight average; 0 = off (default {defaults['ema']})",
    )
    tuning.add_argument(
        "--eval-every",
        type=int,
        metavar="N",
        help=f"epochs between quality checks (default {defaults['eval_every']})",
    )
    tuning.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help=f"CPU threads while training; 0 = all (default {defaults['threads']}: faster for "
        "networks this small)",
    )
    tuning.add_argument(
        "--checkpoint-interval",
        type=float,
        metavar="SECONDS",
        help="write checkpoint.pt at the end of an epoch at most this often; 0 = every epoch "
        f"(default {defaults['checkpoint_interval']}; GAN epochs last milliseconds, so e.g. 10 "
        "saves about 25%% of the training time)",
    )
    tuning.add_argument(
        "--plot-every",
        type=int,
        metavar="N",
        help=f"epochs between snapshot frames (default {defaults['plot_every']})",
    )


def _add_run_arguments(parser: argparse.ArgumentParser, default_n: int | None) -> None:
    parser.add_argument("run", metavar="RUN", help="run folder (or its model.pt)")
    parser.add_argument(
        "-n",
        type=int,
        required=default_n is None,
        default=default_n,
        metavar="N",
        help="number of generated points" + (f" (default {default_n})" if default_n else ""),
    )
    parser.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="noise seed (default: the run's seed, which gave the figures in summary.json)",
    )
    add_quiet_flag(parser)


def config_from_args(args: argparse.Namespace) -> GanConfig:
    """The run's config: the kind's base config for ``--preset``, then the user's flags."""
    given = overrides(args, GAN_FLAGS)
    if getattr(args, "activation", None):
        given.update(g_activation=args.activation, d_activation=args.activation)
    for name in ("g_hidden", "d_hidden"):
        if name in given:
            given[name] = tuple(given[name])
    return args.kind.base_config(args).with_(**given)


def _check_n(n: int) -> int:
    if n < 1:
        raise ConfigError(f"-n must be at least 1, not {n}")
    return n


def run_train(args: argparse.Namespace) -> int:
    """``genlab gan train KIND ...``."""
    from genlab.gan.engine import train_gan

    out, resume = run_dir_from_args(args)
    config = config_from_args(args)
    stored_config = Path(out) / runs.CONFIG_FILE
    if resume and stored_config.exists():  # the data must be made as the run made it
        stored = GanConfig.from_dict(runs.read_json(stored_config))
        config = config.with_(transform=stored.transform, batch_size=stored.batch_size)
    data = args.kind.build(args, config)
    reporter = reporter_for(args, out)
    run = train_gan(
        data,
        config,
        out=out,
        reporter=reporter,
        overwrite=args.overwrite,
        plots=not args.no_plots,
        resume=resume,
    )
    if not run.summary:
        return 0  # under torchrun only rank 0 reports
    s = run.summary
    figures: dict[str, Any] = {
        "epochs_run": s["epochs_run"],
        "best_epoch": s["best_epoch"],
        "stopped_early": s["stopped_early"],
        "train_seconds": s["train_seconds"],
        "seconds_per_epoch": s["seconds_per_epoch"],
        **s["metrics"],
    }
    if args.data_kind == "exp":
        figures.update({f"book_{k}": v for k, v in BOOK_EXP.items()})
    if args.data_kind == "integers" and data.name.startswith("multiples of 5 in [0, 100)"):
        figures.update({f"book_{k}": v for k, v in BOOK_M5.items()})
    print_figures(
        figures,
        title=f"GAN on {data.name}: run folder {out} (figures of {s['final_samples']:,} samples "
        "against held-out points)",
    )
    _print_warnings(data, s["metrics"])
    report_after_training(args, out)
    finish_reporter(reporter, out)
    return 0


def _print_warnings(data: GanData, metrics: dict[str, Any]) -> None:
    """The data's own warnings about these figures (e.g. mode collapse), one line each."""
    warnings = getattr(data, "warnings", None)
    for line in warnings(metrics) if warnings is not None else []:
        print(f"genlab: warning: {line}", file=sys.stderr)


def run_sample(args: argparse.Namespace) -> int:
    """``genlab gan sample RUN -n N [--seed S] [--out FILE]``."""
    from genlab.gan.engine import load_gan

    n = _check_n(args.n)
    gan = load_gan(args.run)
    points = gan.sample(n, seed=gan.config.seed if args.seed is None else args.seed)
    text = samples_csv(points, getattr(gan.data, "columns", None))
    if args.out:
        runs.atomic_write_bytes(args.out, text.encode())
        if not args.quiet:
            print(f"wrote {n:,} points to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def samples_csv(points: torch.Tensor, columns: list[str] | None = None) -> str:
    """Points (N, C) or values (N,) as CSV text with a header row."""
    values = points.detach().cpu()
    if values.dim() == 1:
        values = values.unsqueeze(1)
    names = list(columns) if columns and len(columns) == values.shape[1] else None
    if names is None:
        names = (
            ["value"]
            if values.shape[1] == 1
            else [f"column_{i + 1}" for i in range(values.shape[1])]
        )
    if not values.dtype.is_floating_point and values.shape[1] == 1:
        # integers: one per line, no header, so `--from-file` reads them back
        return "".join(f"{v}\n" for v in values[:, 0].tolist())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    if values.dtype.is_floating_point:
        # 9 significant digits: exactly the float32 value, without float64 noise digits.
        writer.writerows([[f"{v:.9g}" for v in row] for row in values.double().tolist()])
    else:
        writer.writerows(values.tolist())
    return buffer.getvalue()


def run_eval(args: argparse.Namespace) -> int:
    """``genlab gan eval RUN [-n N] [--seed S]``: print the figures, write RUN/eval.json."""
    from genlab.gan.engine import load_gan

    n = _check_n(args.n)
    gan = load_gan(args.run)
    seed = gan.config.seed if args.seed is None else args.seed
    metrics = gan.evaluate(n, seed=seed)
    run_dir = runs.run_folder(args.run)
    runs.write_json(run_dir / "eval.json", {"n": n, "seed": seed, "data": gan.data.name, **metrics})
    print_figures(
        metrics,
        title=f"GAN on {gan.data.name}: {n:,} samples (seed {seed}) against held-out "
        f"points; written to {run_dir / 'eval.json'}",
    )
    _print_warnings(gan.data, metrics)
    return 0


def run_export(args: argparse.Namespace) -> int:
    """``genlab gan export RUN --out FILE [--format export|torchscript]``."""
    from genlab.gan.export import export_generator

    path = export_generator(args.run, args.out, args.format)
    loader = (
        "torch.export.load(FILE).module()" if args.format == "export" else "torch.jit.load(FILE)"
    )
    print(
        f"wrote {path} ({args.format}); load it with plain torch: {loader}, then call it "
        "on noise torch.randn(N, latent_dim)"
    )
    return 0


def run_interpolate(args: argparse.Namespace) -> int:
    """``genlab gan interpolate RUN --steps N --out FILE``."""
    from genlab import plots
    from genlab.gan.engine import interpolate, load_gan

    if args.steps < 2:
        raise ConfigError(f"--steps must be at least 2, not {args.steps}")
    if args.walks < 1:
        raise ConfigError(f"--walks must be at least 1, not {args.walks}")
    gan = load_gan(args.run)
    walks = interpolate(gan.generator, gan.data, args.steps, walks=args.walks, seed=args.seed)
    reference = getattr(gan.data, "reference", None)
    real = reference if reference is not None else gan.sample(2000, seed=args.seed)
    path = plots.plot_interpolation(
        real,
        walks,
        args.out,
        title=f"{args.walks} latent walks of {args.steps} steps: GAN on {gan.data.name}",
        columns=getattr(gan.data, "columns", None),
    )
    print(f"wrote {path}; first walk:")
    sys.stdout.write(samples_csv(walks[0], getattr(gan.data, "columns", None)))
    return 0
