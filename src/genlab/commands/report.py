"""``genlab report RUN_DIR``: a run's self-contained HTML page; helpers for training commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genlab.errors import ConfigError, GenlabError


def add_parser(groups: argparse._SubParsersAction) -> None:
    """Register ``report`` and ``compare``."""
    parser = groups.add_parser(
        "report",
        help="write a run's report: one self-contained HTML page",
        description="Write RUN_DIR/report.html: what was trained and with which settings, the "
        "headline figures beside the book's, every plot and the metrics table, in one file "
        "that opens offline. With several RUN_DIRs, --index FILE also writes a page linking "
        "them all.",
    )
    parser.add_argument("run", nargs="+", metavar="RUN_DIR", help="a finished run folder")
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="where to write the page (one RUN_DIR only; default RUN_DIR/report.html)",
    )
    parser.add_argument(
        "--index", metavar="FILE", help="also write an index page linking every report"
    )
    parser.set_defaults(handler=run_report)

    compare = groups.add_parser(
        "compare",
        help="compare finished runs of one kind on one page",
        description="Write DIR/compare.html (one self-contained page) and print a table: the "
        "settings that differ between the runs, their headline figures side by side (test "
        "part), and their training curves overlaid (losses and the validation figure; for "
        "GANs also each run's samples). Runs of different kinds are refused.",
    )
    compare.add_argument("run", nargs="+", metavar="RUN_DIR", help="finished run folders (2+)")
    compare.add_argument(
        "--out",
        metavar="DIR",
        help="folder for compare.html, or the page's own path if it ends in .html "
        "(default: no page)",
    )
    compare.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    """``genlab compare RUN_DIR RUN_DIR [...] [--out DIR]``."""
    import genlab

    result = genlab.compare(args.run, out=args.out)
    print(result.text())
    if result.page is not None:
        print(f"page: {result.page}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """``genlab report RUN_DIR [RUN_DIR ...] [--out FILE] [--index FILE]``."""
    from genlab.report import write_index, write_report

    if args.out and len(args.run) > 1:
        raise ConfigError("--out names one page; give one RUN_DIR with it (or use --index)")
    for run_dir in args.run:
        print(f"report: {write_report(run_dir, args.out)}")
    if args.index:
        index = Path(args.index)
        print(f"index: {write_index(index.parent, args.run, out=index)}")
    return 0


def add_report_flag(parser: argparse.ArgumentParser) -> None:
    """``--no-report`` (in the parser's "output" group when it has one)."""
    group: argparse._ActionsContainer = next(
        (g for g in parser._action_groups if g.title == "output"), parser
    )
    group.add_argument(
        "--no-report",
        action="store_true",
        help="skip report.html (the run's page: settings, figures beside the book's, plots)",
    )


def report_after_training(args: argparse.Namespace, run_dir: str | Path) -> Path | None:
    """Write ``run_dir/report.html`` unless ``--no-report``; print where it went.

    A report that cannot be written is a warning, not a failure: the run itself is saved,
    and ``genlab report RUN_DIR`` can write the page later.
    """
    if getattr(args, "no_report", False):
        return None
    from genlab.report import write_report

    try:
        path = write_report(run_dir)
    except GenlabError as exc:
        print(
            f"genlab: warning: no report ({exc}); try again with: genlab report {run_dir}",
            file=sys.stderr,
        )
        return None
    print(f"report: {path}")
    return path
