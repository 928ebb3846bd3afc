"""``genlab gan train|sample|eval|export|interpolate``: GANs on curves and integers (book ch. 3).

``gan train KIND`` takes the data kind as its first word; the kinds, their flags and how to
build their data come from the one registry :mod:`genlab.gan.registry`. Every handler only
parses, calls the public API :mod:`genlab.gan`, and prints.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from genlab.commands.common import (
    add_quiet_flag,
    add_training_flags,
    finish_reporter,
    overrides,
    print_figures,
    print_verdict,
    report_seeds,
    reporter_for,
    run_dir_from_args,
    seeds_of,
)
from genlab.commands.report import add_report_flag, report_after_training
from genlab.config import GAN_ACTIVATIONS, GAN_TRANSFORMS, PRESETS, GanConfig
from genlab.errors import ConfigError

if TYPE_CHECKING:
    from genlab.gan.registry import DataKind


def add_parser(groups: argparse._SubParsersAction) -> None:
    """Register ``gan`` and its subcommands."""
    from genlab.gan import kinds as data_kinds

    parser = groups.add_parser(
        "gan",
        help="GANs on curves, any CSV, integer patterns (book ch. 3) and Fashion-MNIST images "
        "(ch. 4)",
        description="Train GANs on points of a curve, a CSV file, integers with a pattern or "
        "Fashion-MNIST images; sample, evaluate, export and explore trained generators.",
    )
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    sub.required = True

    train = sub.add_parser(
        "train",
        help="train a GAN on one kind of data; save a run folder",
        description="Train a GAN on the train part of the data: per batch a discriminator step "
        "then a generator step; every few epochs a quality score of a fixed noise batch against "
        "the validation part, early stopping on it (best generator restored); then the figures "
        "of 10,000 samples from fresh noise against the test part, which nothing chose on. "
        "KIND picks the data.",
    )
    kinds = train.add_subparsers(dest="data_kind", metavar="KIND")
    kinds.required = True
    for name, kind in data_kinds().items():
        kind_parser = kinds.add_parser(name, help=kind.help, description=kind.help)
        kind.add_flags(kind_parser)
        _add_gan_flags(kind_parser, kind)
        kind_parser.set_defaults(handler=run_train, kind=kind)

    sample = sub.add_parser(
        "sample",
        help="generate points (CSV) or images (PNG grid, NPZ arrays) from a trained GAN",
        description="Write N generated points as CSV (to --out, or to stdout), or for an image "
        "GAN N images: a grid for --out FILE.png, arrays for --out FILE.npz (images: (N, 28, "
        "28) uint8 0-255, a light item on a dark background; labels: (N,) the class asked "
        "for, -1 for an unconditional run). The same --seed gives the same samples.",
    )
    _add_run_arguments(sample, default_n=None)
    sample.add_argument(
        "--out", metavar="FILE", help="CSV file to write (default: stdout); .png or .npz for images"
    )
    sample.add_argument(
        "--class",
        dest="label",
        metavar="CLASS",
        help="class-conditional image GANs: the class to draw (a name in any case, e.g. "
        "'Ankle boot', or its index 0-9; default: the run's classes in turn)",
    )
    sample.add_argument(
        "--where",
        action="append",
        metavar="COLUMN=VALUE",
        help="tables: only rows with this value (repeat for more columns); the generator is "
        "conditioned on it, so every row meets it, also for a rare value",
    )
    sample.set_defaults(handler=run_sample)

    evaluate = sub.add_parser(
        "eval",
        help="the figures of a trained GAN on N samples; writes RUN/eval.json",
        description="Generate N points and compare them with the run's test part (the "
        "defaults reproduce summary.json). Points: relation errors against the formula "
        "(relation_nrmse: RMSE of y vs the formula / std of y; relation_median_rel_error), "
        "per-column Wasserstein-1 / std (w1_<column>, w1 their mean), KL and JS divergence "
        "in bits of the binned data (kl, js), MMD (kernel distance), precision (share of "
        "samples near real data) and recall (share of real data the samples reach), "
        "out_of_range (share outside the data's range), nonfinite (share of NaN or inf). "
        "Integers: validity (share in the pattern), coverage and covered (share and number "
        "of the pattern's n_valid_values generated), js (bits), unique, top_share (the most "
        "frequent value's share), shortfall (what validity and coverage lack), n_samples. "
        "Images, through the judge classifier's features: fid_judge (Frechet distance in "
        "the judge's features; not Inception FID), kid_judge +- kid_judge_se (kernel "
        "distance), precision (share of generated images that look like real ones) and "
        "recall (share of real images the generator can make), classes_found, "
        "min_class_share and share_<class> (classes the judge sees among the samples), "
        "class_fidelity and fidelity_<class> (conditional runs: share drawn as the class "
        "asked for), each beside its floor: the same figure for real training images "
        "against the real test images.",
    )
    _add_run_arguments(evaluate, default_n=10_000)
    evaluate.add_argument(
        "--csv",
        metavar="FILE",
        help="your own data's runs (csv, tables): the file the run trained on (default: the "
        "path recorded in the run). Model files hold no rows, so the test part is rebuilt "
        "from it, split with the run's --data-seed and checked against the run's fingerprint",
    )
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


#: ``--help``'s words for a setting whose default is None.
NONE_DEFAULTS = {"d_lr": "--lr's", "patience": "none: no early stopping"}


def _default_text(name: str, value: Any) -> str:
    if value is None:
        return NONE_DEFAULTS.get(name, "none")
    if isinstance(value, (tuple, list)):
        return " ".join(map(str, value)) or "none (one linear layer)"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def help_defaults(kind: DataKind) -> dict[str, str]:
    """Each setting's default as ``gan train KIND --help`` shows it (by flag ``dest``): what
    a genlab-preset run of ``kind`` starts from (:meth:`DataKind.defaults`); where the kind's
    cases differ, each case's (``tables: 300, numbers-only CSV: 1200``); then the kind's
    note on the flag, if any."""
    cases = {label: asdict(config) for label, config in kind.defaults().items()}
    notes = dict(kind.flag_notes)
    out: dict[str, str] = {}
    for name in GanConfig.__dataclass_fields__:
        texts = [(label, _default_text(name, values[name])) for label, values in cases.items()]
        if len({text for _, text in texts}) == 1:
            shown = texts[0][1]
        else:
            shown = ", ".join(f"{label}: {text}" for label, text in texts if label)
            plain = [text for label, text in texts if not label]
            shown = f"{plain[0]}; {shown}" if plain else shown
        out[name] = f"{shown}; {notes[name]}" if name in notes else shown
    g, d = out["g_activation"], out["d_activation"]
    out["activation"] = g if g == d else f"G {g}, D {d}"
    if "activation" in notes:
        out["activation"] += f"; {notes['activation']}"
    return out


def _add_gan_flags(parser: argparse.ArgumentParser, kind: DataKind) -> None:
    """The GanConfig flags ``kind`` takes (:attr:`DataKind.config_flags`), each with the
    default a run of that kind uses; a flag the kind does not take is not offered, so the
    parser refuses it as unknown."""
    defaults = help_defaults(kind)
    flags = set(kind.config_flags)
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        default="genlab",
        help="genlab (default) or book: the book's networks and optimiser on raw columns",
    )
    add_training_flags(parser, defaults)
    for action in parser._actions:
        if action.dest == "device":
            action.help = f"where to train (default {defaults['device']}; auto: a GPU when "
            action.help += "there is one)"
    add_report_flag(parser)
    group = parser.add_argument_group("networks")
    if "latent_dim" in flags:
        group.add_argument(
            "--latent-dim",
            type=int,
            metavar="N",
            help=f"noise size (default {defaults['latent_dim']})",
        )
    if "g_hidden" in flags:
        group.add_argument(
            "--g-hidden",
            type=int,
            nargs="*",
            metavar="N",
            help=f"generator hidden widths (default {defaults['g_hidden']})",
        )
    if "d_hidden" in flags:
        group.add_argument(
            "--d-hidden",
            type=int,
            nargs="*",
            metavar="N",
            help=f"discriminator hidden widths (default {defaults['d_hidden']})",
        )
    if "activation" in flags:
        group.add_argument(
            "--activation",
            choices=GAN_ACTIVATIONS,
            help=f"hidden activation of both networks (default {defaults['activation']})",
        )
    if "d_dropout" in flags:
        group.add_argument(
            "--d-dropout",
            type=float,
            metavar="P",
            help=f"discriminator dropout (default {defaults['d_dropout']})",
        )
    tuning = parser.add_argument_group("optimiser and checks")
    if "d_lr" in flags:
        tuning.add_argument(
            "--d-lr",
            type=float,
            metavar="X",
            help=f"the discriminator's own Adam learning rate (default {defaults['d_lr']})",
        )
    for name in ("beta1", "beta2"):
        if name in flags:
            tuning.add_argument(
                f"--{name}", type=float, metavar="X", help=f"Adam {name} (default {defaults[name]})"
            )
    if "ema" in flags:
        tuning.add_argument(
            "--ema",
            type=float,
            metavar="X",
            help=f"decay of the generator's weight average; 0 = off (default {defaults['ema']})",
        )
    if "transform" in flags:
        tuning.add_argument(
            "--transform",
            choices=GAN_TRANSFORMS,
            help=f"column transform before training (default {defaults['transform']}); auto: "
            "quantile-normal for x and for columns monotone in x, log for positive skewed "
            "columns, else standardise; none: raw values as the book",
        )
    tuning.add_argument(
        "--final-samples",
        type=int,
        default=10_000,
        metavar="N",
        help="generated samples behind the reported figures, against the test part (default 10000)",
    )
    if "eval_every" in flags:
        tuning.add_argument(
            "--eval-every",
            type=int,
            metavar="N",
            help=f"epochs between quality checks (default {defaults['eval_every']})",
        )
    if "checkpoint_interval" in flags:
        tuning.add_argument(
            "--checkpoint-interval",
            type=float,
            metavar="SECONDS",
            help="write checkpoint.pt at the end of an epoch at most this often; 0 = every "
            f"epoch (default {defaults['checkpoint_interval']}; GAN epochs can last "
            "milliseconds, so e.g. 10 saves about 25%% of a curve run's training time)",
        )
    if "plot_every" in flags:
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
        help="noise seed (default: the run's test-noise seed, which gave the figures in "
        "summary.json)",
    )
    add_quiet_flag(parser)


def train_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Python API's options from the flags the user gave: the kind's data options and the
    config fields."""
    flags = tuple(f for f in args.kind.config_flags if f != "activation")  # sets two fields
    given = overrides(args, (*args.kind.options, *flags))
    if getattr(args, "activation", None):
        given.update(g_activation=args.activation, d_activation=args.activation)
    for name in ("g_hidden", "d_hidden"):
        if name in given:
            given[name] = tuple(given[name])
    return given


def run_train(args: argparse.Namespace) -> int:
    """``genlab gan train KIND ...``."""
    import genlab.gan

    out, resume = run_dir_from_args(args)
    seeds = seeds_of(args)
    if seeds:
        options = {k: v for k, v in train_options(args).items() if k != "seed"}
        repeated = genlab.gan.train(
            args.kind.name, out=out, preset=args.preset, quiet=args.quiet,
            overwrite=args.overwrite, resume=resume, plots=not args.no_plots,
            final_samples=args.final_samples, seeds=seeds, **options,
        )  # fmt: skip
        report_seeds(repeated)
        return 0
    reporter = reporter_for(args, out)
    run = genlab.gan.train(
        args.kind.name,
        out=out,
        preset=args.preset,
        reporter=reporter,
        overwrite=args.overwrite,
        resume=resume,
        plots=not args.no_plots,
        final_samples=args.final_samples,
        **train_options(args),
    )
    if not run.summary:
        return 0  # under torchrun only rank 0 reports
    s = run.summary
    headline = s["headline"].removeprefix("metrics.")
    shown = with_floors(s["metrics"])
    kind = run.data.kind
    # the headline once, first; then the few figures that matter, each with its meaning
    # (every figure is in summary.json)
    figures: dict[str, Any] = {f"headline: {_labelled(headline, kind)}": shown[headline]}
    figures.update(
        {_labelled(k, kind): shown[k] for k in KEY_LABELS if k in shown and k != headline}
    )
    figures.update(
        {
            "epochs run (best kept)": f"{s['epochs_run']} ({s['best_epoch']})",
            "training seconds": f"{s['train_seconds']:.1f}",
        }
    )
    figures.update(book_lines(run.data.book_reference, kind))
    print_figures(
        figures,
        title=f"GAN on {run.data.name}: run folder {out} (figures of {s['final_samples']:,} "
        "samples from fresh noise against the test part; JS and KL in bits; all figures in "
        "summary.json, explained by `genlab gan eval --help`)",
    )
    _print_warnings(run.warnings(s["metrics"]))
    print_verdict(s)
    report_after_training(args, out)
    finish_reporter(reporter, out)
    return 0


#: The figures ``gan train`` prints after the headline, with their meaning (when present).
KEY_LABELS = {
    "relation_median_rel_error": "median relative error of y vs the formula",
    "relation_nrmse": "RMSE of y vs the formula / std of y",
    "w1": "Wasserstein-1 per column / std, mean",
    "precision": "share of samples near real data",
    "recall": "share of real data the samples reach",
    "out_of_range": "share of x outside the data's range",
    "validity": "share of values in the pattern",
    "covered": "valid values generated",
    "js": "JS divergence of the binned samples to the binned test points, bits",
    "fid_judge": "Frechet distance in the judge's features",
    "kid_judge": "kernel distance in the judge's features",
    "min_class_share": "the rarest class's share",
    "class_fidelity": "share drawn as the class asked for",
    "quality": "SDMetrics quality: mean of column shapes and pair trends, 1 = like the real",
    "column_shapes": "each column's distribution vs the real (KS / TV complement), mean",
    "pair_trends": "each column pair's correlation / contingency vs the real, mean",
    "ml_efficacy": "a model trained on synthetic rows, scored on real test rows",
    "ml_efficacy_real": "the same model trained on the real train rows",
    "privacy": "1 = rows no closer to the training rows than fresh real rows are",
    "copies": "share of rows equal to a training row",
    "copies_real": "the same share for fresh real rows",
    "missing_gap": "largest gap in a column's share of empty cells",
    "rejected": "share of samples the support filter redrew (figures are after it)",
}


#: Where a kind's figure means something else than :data:`KEY_LABELS` says.
KIND_LABELS: dict[str, dict[str, str]] = {
    "integers": {"js": "JS divergence to the pattern, bits"},
}


def key_label(key: str, kind: str | None = None) -> str | None:
    """What figure ``key`` of a run of data kind ``kind`` means (None when unlabelled)."""
    return KIND_LABELS.get(kind or "", {}).get(key) or KEY_LABELS.get(key)


def _labelled(key: str, kind: str | None) -> str:
    label = key_label(key, kind)
    return f"{key} ({label})" if label else key


def book_lines(job: str | None, kind: str | None = None) -> dict[str, str]:
    """The book's figures for this job, each labelled as the book's: ``the book's <what>
    (<where>)`` with the value and how to read it (see :mod:`genlab.book`)."""
    from genlab.book import figures_for

    lines: dict[str, str] = {}
    for key, fig in figures_for(job).items():
        name = key.split(".")[-1]
        what = key_label(name, kind) or name.replace("_", " ")
        lines[f"the book's {what} ({_book_where(fig.source)})"] = f"{fig.text()}   ({fig.note})"
    return lines


def _book_where(source: str) -> str:
    """``ch3-run`` -> ``ch. 3, its code run here``; an unknown source as it is."""
    chapter, _, how = source.partition("-")
    if not chapter.startswith("ch") or not chapter[2:].isdigit():
        return source
    how_words = {"run": "its code run here", "notebook": "its notebook"}.get(how, how)
    return f"ch. {chapter[2:]}, {how_words}" if how_words else f"ch. {chapter[2:]}"


def with_floors(metrics: dict[str, Any]) -> dict[str, Any]:
    """Figures with a floor (image GANs: real vs real) as ``value   (floor F)`` text."""
    from genlab.report import format_value

    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if key.startswith("floor_"):
            continue
        floor = metrics.get(f"floor_{key}")
        if floor is None:
            out[key] = value
        else:
            out[key] = f"{format_value(value)}   (real images: {format_value(floor)})"
    return out


def _print_warnings(lines: list[str]) -> None:
    """Warnings about the figures (e.g. mode collapse), one line each."""
    for line in lines:
        print(f"genlab: warning: {line}", file=sys.stderr)


def run_sample(args: argparse.Namespace) -> int:
    """``genlab gan sample RUN -n N [--seed S] [--out FILE]``."""

    import genlab.gan

    gan = genlab.gan.load(args.run)
    where = parse_where(args.where)
    if where and not gan.data.takes_where:
        raise ConfigError("--where is for table runs (a CSV with categories, dates, ...)")
    points = gan.sample(args.n, seed=args.seed, label=args.label, where=where)
    line = gan.data.write_samples(args.out, points, args.label)
    if line and not args.quiet:
        print(line, file=sys.stderr)
    return 0


def parse_where(items: list[str] | None) -> dict[str, str] | None:
    """``--where COL=VALUE`` flags -> ``{column: value}`` (None when none given)."""
    if not items:
        return None
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--where {item!r}: write COLUMN=VALUE, e.g. --where cut=Ideal")
        out[name.strip()] = value.strip()
    return out


def run_eval(args: argparse.Namespace) -> int:
    """``genlab gan eval RUN [-n N] [--seed S]``: print the figures, write RUN/eval.json."""
    import genlab.gan

    gan = genlab.gan.load(args.run)
    report = genlab.gan.eval_report(gan, args.n, args.seed, data=args.csv)
    print_figures(
        with_floors(report["metrics"]),
        title=f"GAN on {gan.data.name}: {args.n:,} samples (noise seed {report['seed']}) "
        f"against the test part; JS and KL in bits; written to {report['path']}",
    )
    _print_warnings(gan.warnings(report["metrics"]))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """``genlab gan export RUN --out FILE [--format export|torchscript]``."""
    import genlab.gan

    gan = genlab.gan.load(args.run)
    path = genlab.gan.export_generator(gan, args.out, args.format)
    loader = (
        "torch.export.load(FILE).module()" if args.format == "export" else "torch.jit.load(FILE)"
    )
    labels = gan.data.export_inputs()
    print(
        f"wrote {path} ({args.format}); load it with plain torch: {loader}, then call it "
        f"on noise torch.randn(N, {gan.config.latent_dim}){labels}"
    )
    return 0


def run_interpolate(args: argparse.Namespace) -> int:
    """``genlab gan interpolate RUN --steps N --out FILE``."""
    import genlab.gan

    gan = genlab.gan.load(args.run)
    path, walks = genlab.gan.plot_interpolation(
        gan, args.out, steps=args.steps, walks=args.walks, seed=args.seed
    )
    if not gan.data.text_samples:
        print(f"wrote {path}: {args.walks} walks of {args.steps} {gan.data.sample_noun}")
        return 0
    print(f"wrote {path}; first walk:")
    sys.stdout.write(gan.data.samples_text(walks[0]))
    return 0
