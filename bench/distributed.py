"""Benchmark: data-parallel training with torchrun, 1 vs 2 processes, on the real data.

Runs ``torchrun --nproc-per-node N -m genlab classify train`` for a fixed number of epochs
(no early stopping) for N = 1 and 2 and prints one JSON line with training samples/second,
the test accuracy of each and the speed-up. On a 2-core CPU expect little gain: the two
processes share the cores that one process already used. On GPUs (nccl) each process gets
its own device.

    python bench/distributed.py [--epochs 3] [--model mlp|cnn] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(nproc: int, epochs: int, model: str, device: str, batch: int, out: Path) -> dict:
    exe = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")
    cmd = [
        exe,
        "--nproc-per-node",
        str(nproc),
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(free_port()),
        "-m",
        "genlab",
        "classify",
        "train",
        "--model",
        model,
        "--epochs",
        str(epochs),
        "--patience",
        str(epochs + 1),
        "--batch-size",
        str(batch),
        "--device",
        device,
        "--no-plots",
        "--quiet",
        "--out",
        str(out),
    ]
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ})
    summary = json.loads((out / "summary.json").read_text())
    train_images = 50_000
    return {
        "processes": nproc,
        "samples_per_second": round(train_images / summary["seconds_per_epoch"], 1),
        "seconds_per_epoch": round(summary["seconds_per_epoch"], 3),
        "test_accuracy": summary["test_accuracy"],
        "device": summary["device"],
        "ranks_consistent": summary["ranks_consistent"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--model", default="mlp", choices=("mlp", "cnn"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--nprocs",
        type=int,
        nargs="+",
        default=[1, 2],
        help="process counts to run (each needs its own GPU with --device cuda)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [
            run(n, args.epochs, args.model, args.device, args.batch_size, Path(tmp) / f"n{n}")
            for n in args.nprocs
        ]
    figures = {
        "bench": "distributed",
        "model": args.model,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "cpu_count": os.cpu_count(),
        "runs": results,
    }
    if len(results) > 1:
        first, last = results[0], results[-1]
        figures["speedup_last_vs_first"] = round(
            last["samples_per_second"] / first["samples_per_second"], 2
        )
        figures["accuracy_difference"] = round(last["test_accuracy"] - first["test_accuracy"], 4)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
