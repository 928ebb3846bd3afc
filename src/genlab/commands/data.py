"""``genlab data ...``: placeholder until the data commands land."""

from __future__ import annotations

import argparse


def add_parser(groups: argparse._SubParsersAction) -> None:
    """Register ``data``."""
    groups.add_parser("data", help="show the training data")
