"""The ``genlab`` command line: parse -> config -> library call -> output.

Each subcommand group lives in ``genlab.commands.<group>`` and registers itself with
``add_parser(subparsers)``; each handler takes the parsed namespace and returns an exit
status. Every :class:`GenlabError` becomes one line on stderr and its exit status (2 for bad
input); Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

from genlab import __version__
from genlab.errors import GenlabError, Interrupted


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line (with a hint) and exits with status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def build_parser() -> ArgumentParser:
    """The whole command tree."""
    from genlab.commands import classify, data, gan, report

    parser = ArgumentParser(
        prog="genlab",
        description="Fashion-MNIST classifiers and small GANs from 'Learn Generative AI with "
        "PyTorch' (ch. 2.4 and 3), done right and fast.",
    )
    parser.add_argument("--version", action="version", version=f"genlab {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", parser_class=ArgumentParser)
    groups.required = True
    classify.add_parser(groups)
    gan.add_parser(groups)
    data.add_parser(groups)
    report.add_parser(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one genlab command; return its exit status (tests call this directly)."""
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(f"genlab {__version__}")  # at once: the command tree would import torch
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except Interrupted as exc:
        words = list(sys.argv[1:] if argv is None else argv)
        if "--resume" not in words:
            words.append("--resume")
        print(f"genlab: {exc}; resume with: genlab {shlex.join(words)}", file=sys.stderr)
        return exc.exit_code
    except GenlabError as exc:
        print(f"genlab: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("genlab: interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
