"""Flags shared by every command that has the same setting, and small output helpers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from genlab.device import DEVICES
from genlab.errors import ConfigError
from genlab.progress import Reporter, make_reporter


def add_training_flags(parser: argparse.ArgumentParser, defaults: dict[str, Any]) -> None:
    """``--epochs --patience --min-delta --batch-size --lr --seed --device --threads --out ...``.

    Defaults are left as None so a preset or the job's config supplies them; ``defaults``
    (values or their text, by ``dest``) only feeds the help text.
    """
    group = parser.add_argument_group("training")
    group.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help=f"maximum number of epochs (default {defaults['epochs']})",
    )
    group.add_argument(
        "--patience",
        type=int,
        metavar="N",
        help=f"stop after N checks without improvement (default {defaults['patience']})",
    )
    group.add_argument(
        "--min-delta",
        type=float,
        metavar="X",
        help=f"smallest change that counts as an improvement (default {defaults['min_delta']})",
    )
    group.add_argument(
        "--batch-size", type=int, metavar="N", help=f"batch size (default {defaults['batch_size']})"
    )
    group.add_argument(
        "--lr", type=float, metavar="X", help=f"Adam learning rate (default {defaults['lr']})"
    )
    group.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help=f"random seed for data, weights and batches (default {defaults['seed']})",
    )
    group.add_argument("--device", choices=DEVICES, help="where to train (default auto)")
    group.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help=f"CPU threads while training; 0 = torch's own choice, one per core (default "
        f"{defaults['threads']}). One thread is fastest for small networks and stays fast "
        "when other programs share the cores (on a busy 2-core machine a classifier epoch "
        "took 2.9 s on one thread, 29.9 s on torch's two)",
    )
    group.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        metavar="N",
        help="train once per seed into OUT/seed-N; OUT/summary.json and OUT/report.html give "
        "each headline figure's mean, std, min and max over the seeds",
    )
    group.add_argument(
        "--repeat",
        type=int,
        metavar="K",
        help="as --seeds with K seeds from --seed (default 0): --repeat 5 is --seeds 0 1 2 3 4",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--out",
        metavar="DIR",
        help="run folder: config.json, metrics.csv, checkpoint.pt, model.pt, summary.json, plots/",
    )
    out.add_argument(
        "--overwrite", action="store_true", help="replace a finished or unfinished run in --out"
    )
    out.add_argument(
        "--resume",
        nargs="?",
        const=True,
        metavar="DIR",
        help="go on from the checkpoint in DIR (or in --out) after a crash or Ctrl-C, with the "
        "run's stored data and settings (flags given again must match them; --device, "
        "--threads and --data-dir may change); the run ends exactly where it would have "
        "without the interruption",
    )
    out.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    add_quiet_flag(out)
    out.add_argument(
        "--tensorboard",
        nargs="?",
        const="",
        metavar="LOGDIR",
        help="also log figures and plots for TensorBoard (default LOGDIR: OUT/tensorboard; "
        "needs pip install 'genlab[tensorboard]')",
    )


def add_quiet_flag(parser: argparse._ActionsContainer) -> None:
    """``--quiet``: no progress output."""
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress output")


def run_dir_from_args(args: argparse.Namespace) -> tuple[str, bool]:
    """The run folder (``--out`` or ``--resume DIR``) and whether to resume."""
    resume = getattr(args, "resume", None)
    out = args.out or (resume if isinstance(resume, str) else None)
    if out is None:
        raise ConfigError("--out DIR is required (or --resume DIR to go on with a run)")
    if isinstance(resume, str) and args.out and resume != args.out:
        raise ConfigError(f"--resume {resume} and --out {args.out} name different folders")
    return out, bool(resume)


def overrides(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    """The flags among ``names`` that the user actually gave (not None)."""
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def reporter_for(args: argparse.Namespace, out: str | None = None) -> Reporter:
    """The progress reporter for ``--quiet``, the terminal, and ``--tensorboard``."""
    reporter = make_reporter(quiet=getattr(args, "quiet", False))
    log_dir = getattr(args, "tensorboard", None)
    if log_dir is not None and out is not None:
        from genlab.tensorboard import TensorBoardReporter

        reporter = TensorBoardReporter(reporter, log_dir or f"{out}/tensorboard")
    return reporter


def finish_reporter(reporter: Reporter, out: str) -> None:
    """After a run: hand the run's plots to TensorBoard when it is logging."""
    add_plots = getattr(reporter, "add_plots", None)
    if add_plots is not None:
        add_plots(out)


def print_figures(figures: dict[str, Any], title: str = "") -> None:
    """Print a flat dict of figures as aligned ``name  value`` lines."""
    if title:
        print(title)
    width = max((len(k) for k in figures), default=0)
    for key, value in figures.items():
        if isinstance(value, float):
            text = f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"
        elif isinstance(value, (dict, list)):
            text = json.dumps(value)
        else:
            text = str(value)
        print(f"  {key.ljust(width)}  {text}")


def print_verdict(summary: dict[str, Any]) -> None:
    """The run in plain words (:func:`genlab.verdict.verdict`), a sentence a line."""
    from genlab.verdict import verdict

    print("in plain words:")
    for sentence in verdict(summary):
        print(f"  {sentence}")


def seeds_of(args: argparse.Namespace) -> list[int]:
    """The seeds of ``--seeds`` / ``--repeat`` ([] for one run)."""
    from genlab.repeats import seeds_from

    first = args.seed if getattr(args, "seed", None) is not None else 0
    return seeds_from(getattr(args, "seeds", None), getattr(args, "repeat", None), first)


def report_seeds(repeated: Any) -> None:
    """Print the spread over the seeds and where the files are."""
    from genlab.repeats import spread_text

    print(spread_text(repeated.summary))
    if repeated.out_dir is not None:
        print(f"runs: {repeated.out_dir}/seed-N; spread: {repeated.out_dir}/summary.json, "
              f"{repeated.out_dir}/report.html")  # fmt: skip
