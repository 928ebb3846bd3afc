"""The ``genlab`` command line: parse -> config -> library call -> output.

Each subcommand group lives in ``genlab.commands.<group>`` and registers itself with
``add_parser(subparsers)``; each handler takes the parsed namespace and returns an exit
status. Every :class:`GenlabError` becomes one line on stderr and its exit status (2 for bad
input); Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import difflib
import shlex
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from genlab import __version__
from genlab.errors import GenlabError, Interrupted

#: Where the deepest (sub)parser that parsed the words leaves itself on the namespace.
_LEAF = "_genlab_leaf_parser"


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line (with a hint) and exits with status 2.

    Abbreviated flags are refused (``--epoch`` is not ``--epochs``); every subparser made with
    ``add_subparsers`` is of this class too (argparse's default ``parser_class`` is the
    parent's class), so the whole tree behaves the same. An unknown flag is reported by the
    subcommand that was given, pointing to its own ``--help``, with a "did you mean" hint.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        message = " ".join(message.split())  # one line
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if getattr(parsed, _LEAF, None) is None:  # the deepest subcommand returns first
            setattr(parsed, _LEAF, self)
        return parsed, extras

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        leaf = vars(parsed).pop(_LEAF, None) or self
        if extras:
            leaf.error(f"unrecognized arguments: {' '.join(extras)}{leaf.did_you_mean(extras)}")
        return parsed

    def did_you_mean(self, words: Sequence[str]) -> str:
        """``; did you mean --epochs?`` for the first unknown flag close to one of ours."""
        # compared without their dashes, which every flag shares
        names = {o.lstrip("-"): o for action in self._actions for o in action.option_strings}
        for word in words:
            if not word.startswith("-"):
                continue
            name = word.split("=", 1)[0].lstrip("-")
            close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
            if close:
                return f"; did you mean {names[close[0]]}?"
        return ""


def build_parser() -> ArgumentParser:
    """The whole command tree."""
    from genlab.commands import classify, data, gan, report

    parser = ArgumentParser(
        prog="genlab",
        description="Fashion-MNIST classifiers and small GANs from 'Learn Generative AI with "
        "PyTorch' (ch. 2.4, 3 and 4), done right and fast.",
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
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:2] == ["data", "show"] and len(words) > 2 and words[2].startswith("--csv"):
        words.insert(2, "csv")  # `genlab data show --csv FILE`: the csv kind is implied
    args = parser.parse_args(words)
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
