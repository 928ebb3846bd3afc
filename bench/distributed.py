"""Benchmark: data-parallel training with torchrun, 1 vs 2 processes, on the real data.

Runs ``torchrun --nproc-per-node N -m genlab classify train`` for a fixed number of epochs
(no early stopping) for N = 1 and 2, prints one JSON line and writes it to
bench/results/distributed.json. Per run:

* ``epoch_wall_seconds``: the run's ``seconds_per_epoch``, the mean wall time of one whole
  epoch: the training pass over the 50,000 training images (each rank its shard), the
  validation pass over 10,000 images (all-reduced), then metrics.csv and the checkpoint
  written by rank 0; data loading and the final test are not in it.
* ``train_images_per_epoch_second``: 50,000 training images / ``epoch_wall_seconds``, a
  whole-epoch throughput (validation and checkpoint included), not a training-step rate.
* ``test_accuracy`` on the 10,000 test images, ``ranks_consistent`` (identical weights).

and ``epoch_throughput_ratio``: the last run's ``train_images_per_epoch_second`` over the
first's. On a 2-core CPU expect little gain: the two processes share the cores that one
process already used. On GPUs (nccl) each process gets its own device.

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

from _results import emit

TRAIN_IMAGES = 50_000


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
    return {
        "processes": nproc,
        "train_images_per_epoch_second": round(TRAIN_IMAGES / summary["seconds_per_epoch"], 1),
        "epoch_wall_seconds": round(summary["seconds_per_epoch"], 3),
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
        figures["epoch_throughput_ratio"] = round(
            last["train_images_per_epoch_second"] / first["train_images_per_epoch_second"], 2
        )
        figures["accuracy_difference"] = round(last["test_accuracy"] - first["test_accuracy"], 4)
    emit(__file__, figures)


if __name__ == "__main__":
    main()
