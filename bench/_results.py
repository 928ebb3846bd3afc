"""What every benchmark does with its figures: print one JSON line and commit it to a file.

Each ``bench/NAME.py`` ends with ``emit(__file__, figures)``: the figures are printed as one
JSON line (as the benchmarks always did) and written, pretty and with sorted keys, to
``bench/results/NAME.json``. Those committed files are what the README's results table is
rendered from (``python bench/table.py --write``; ``tests/test_readme_results.py`` checks the
two agree). A smoke run (``"quick": true`` in its figures) is printed only: its figures mean
nothing and must never replace measured ones.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def results_path(name: str, results_dir: Path | None = None) -> Path:
    """``bench/results/NAME.json`` (or NAME.json in ``results_dir``)."""
    return (results_dir or RESULTS_DIR) / f"{name}.json"


def results_text(figures: Mapping[str, Any]) -> str:
    """The file's text: indented JSON, keys sorted, a final newline."""
    return json.dumps(figures, indent=2, sort_keys=True) + "\n"


def emit(
    bench_file: str | Path, figures: Mapping[str, Any], results_dir: Path | None = None
) -> Path | None:
    """Print ``figures`` as one JSON line; unless it is a quick run, write them to
    ``results/NAME.json`` (NAME: the stem of ``bench_file``, the benchmark's ``__file__``).

    Returns the path written, or None for a quick run. The file is replaced atomically (a
    temporary file renamed over it), so an interrupted benchmark leaves the old figures.
    """
    print(json.dumps(figures))
    if figures.get("quick"):
        print("quick run: bench/results/ left as it was", file=sys.stderr)
        return None
    path = results_path(Path(bench_file).stem, results_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(results_text(figures))
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would make the committed file private
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load(name: str, results_dir: Path | None = None) -> dict[str, Any]:
    """The committed figures of benchmark ``name`` (``bench/results/NAME.json``)."""
    return json.loads(results_path(name, results_dir).read_text(encoding="utf-8"))
