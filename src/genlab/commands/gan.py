"""``genlab gan ...``: placeholder until the GAN commands land."""

from __future__ import annotations

import argparse


def add_parser(groups: argparse._SubParsersAction) -> None:
    """Register ``gan``."""
    groups.add_parser("gan", help="GANs on curves and integer patterns (book ch. 3)")
