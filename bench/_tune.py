"""What the tuning scripts share: each variant trains in its own process on one thread, a
few at once, and prints one JSON line; the lines are collected in order of completion.

A tuning script defines ``run_one(data, variant, seed) -> dict`` and calls
:func:`tune_main` with its variants; ``--one DATA VARIANT SEED`` (hidden) is how the pool
starts each process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def tune_main(
    script: str,
    description: str,
    variants: Mapping[str, Any],
    run_one: Callable[[str, str, int], dict[str, Any]],
    default_data: str,
) -> None:
    """The command line of a tuning script (``--data``, ``--variants``, ``--seeds``,
    ``--jobs``, ``--out``, ``--list``): run every (data, variant, seed) in its own process,
    ``--jobs`` at once, each on one thread."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", nargs="+", default=[default_data])
    parser.add_argument("--variants", nargs="+", default=["base"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--list", action="store_true")
    parser.add_argument(
        "--one", nargs=3, metavar=("DATA", "VARIANT", "SEED"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.list:
        for name, spec in variants.items():
            print(name, json.dumps(spec))
        return
    if args.one:
        import torch

        torch.set_num_threads(1)
        print(json.dumps(run_one(args.one[0], args.one[1], int(args.one[2]))), flush=True)
        return
    for variant in args.variants:
        if variant not in variants:
            raise SystemExit(f"unknown variant {variant!r}: see --list")
    todo = [(d, v, s) for d in args.data for v in args.variants for s in args.seeds]
    running: list[tuple[subprocess.Popen[str], tuple[str, str, int]]] = []
    lines = []
    while todo or running:
        while todo and len(running) < args.jobs:
            d, v, s = todo.pop(0)
            cmd = [sys.executable, script, "--one", d, v, str(s)]
            running.append((subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True), (d, v, s)))
        process, job = running.pop(0)
        out, _ = process.communicate()
        line = out.strip().splitlines()[-1] if out.strip() else json.dumps({"failed": job})
        print(line, flush=True)
        lines.append(line)
        if args.out:
            args.out.write_text("\n".join(lines) + "\n")
