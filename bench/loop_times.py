"""How long the quick test loop takes: ``pytest -m "not slow"`` (``make quicktest``), timed as
a whole in a subprocess, nothing else running (run it alone: two CPU-heavy processes on two
cores slow each other many times over). Prints one JSON line and writes
bench/results/loop_times.json; the README's results table shows it.

    python bench/loop_times.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from _results import emit

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 180


def main() -> None:
    command = [sys.executable, "-m", "pytest", "-m", "not slow", "-q", "-p", "no:cacheprovider"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    tail = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0:
        sys.exit(f"the quick loop failed: {tail}")
    passed = re.search(r"(\d+) passed", tail)
    figures = {
        "bench": "loop_times",
        "quick": False,
        "command": 'pytest -m "not slow"',
        "quicktest_seconds": round(seconds, 1),
        "tests_passed": int(passed.group(1)) if passed else None,
        "target_seconds": TARGET_SECONDS,
        "target_met": seconds <= TARGET_SECONDS,
    }
    emit(__file__, figures)
    print(json.dumps({"summary": tail}), file=sys.stderr)


if __name__ == "__main__":
    main()
