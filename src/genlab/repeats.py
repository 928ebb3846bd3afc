"""One job, several seeds: ``--seeds 0 1 2 3 4`` / ``--repeat 5`` and ``seeds=[...]``.

Each seed's run goes to ``OUT/seed-N/`` (a whole run folder). ``OUT/summary.json`` holds, for
every headline figure, the mean, standard deviation (n - 1), min and max over the seeds, and
each seed's value; ``OUT/report.html`` is the :mod:`genlab.comparison` page of the seeds'
runs with the spread above it. So a change can be judged against the seed-to-seed noise.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genlab.errors import ConfigError
from genlab.training import runs

__all__ = ["Repeated", "check_seeds", "run_seeds", "seeds_from", "spread"]

SUMMARY_KIND = "repeat"


def seeds_from(seeds: Sequence[int] | None, repeat: int | None, first: int = 0) -> list[int]:
    """The seeds of ``--seeds`` or ``--repeat K`` (``first``, ``first + 1``, ...), or []."""
    if seeds and repeat:
        raise ConfigError("give --seeds or --repeat, not both")
    if repeat is not None:
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 2:
            raise ConfigError(f"--repeat must be a whole number of at least 2, not {repeat!r}")
        return list(range(first, first + repeat))
    return check_seeds(seeds) if seeds else []


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """At least two distinct whole-number seeds."""
    seeds = list(seeds)
    if any(isinstance(s, bool) or not isinstance(s, int) for s in seeds):
        raise ConfigError(f"seeds must be whole numbers, not {seeds!r}")
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ConfigError(f"give at least two different seeds, not {seeds!r}")
    return seeds


@dataclass
class Repeated:
    """The runs of one job over several seeds, and the spread of their figures."""

    seeds: list[int]
    runs: list[Any]
    summary: dict[str, Any] = field(default_factory=dict)
    out_dir: Path | None = None

    def __repr__(self) -> str:
        where = f", {self.out_dir}" if self.out_dir is not None else ""
        return f"<genlab runs over seeds {self.seeds}{where}>"


def spread(values: list[float]) -> dict[str, Any]:
    """Mean, sample standard deviation (n - 1; 0 for one value), min, max and the values."""
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
        "values": values,
    }


def run_seeds(
    train_one: Callable[[int, Path | None], Any],
    seeds: Sequence[int],
    out: str | Path | None,
    *,
    overwrite: bool = False,
) -> Repeated:
    """``train_one(seed, folder)`` for each seed (folder ``out/seed-N`` or None); the spread
    of every headline figure into ``out/summary.json`` and ``out/report.html``."""
    from genlab.report import headline_keys, lookup

    seeds = check_seeds(seeds)
    folder = None if out is None else Path(out)
    if folder is not None and (folder / runs.SUMMARY_FILE).exists() and not overwrite:
        raise ConfigError(f"{folder} already holds finished runs; give --overwrite to replace them")
    done = [train_one(seed, None if folder is None else folder / f"seed-{seed}") for seed in seeds]
    summaries = [run.summary for run in done]
    figures: dict[str, Any] = {}
    for key in headline_keys(summaries[0]):
        values = [lookup(s, key) for s in summaries]
        numbers = [
            float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
        if len(numbers) == len(values) and all(math.isfinite(v) for v in numbers):
            figures[key] = spread(numbers)
    summary = {
        "kind": SUMMARY_KIND,
        "of": summaries[0].get("kind"),
        "data": summaries[0].get("data"),
        "seeds": seeds,
        "runs": [f"seed-{seed}" for seed in seeds],
        "figures": figures,
        "std": "sample standard deviation (n - 1) over the seeds",
    }
    result = Repeated(seeds=seeds, runs=done, summary=summary, out_dir=folder)
    if folder is not None:
        runs.write_json(folder / runs.SUMMARY_FILE, summary)
        write_spread_report(folder, summary)
    return result


def spread_text(summary: dict[str, Any]) -> str:
    """``figure  mean ± std  [min, max]`` lines."""
    from genlab.report import format_value

    lines = [f"over seeds {', '.join(map(str, summary['seeds']))}:"]
    for key, s in summary["figures"].items():
        lines.append(
            f"  {key:<40} {format_value(s['mean'], key)} ± {format_value(s['std'], key)}  "
            f"[{format_value(s['min'], key)}, {format_value(s['max'], key)}]"
        )
    return "\n".join(lines)


def write_spread_report(folder: Path, summary: dict[str, Any]) -> Path:
    """``folder/report.html``: the spread table, then the comparison of the seeds' runs."""
    from genlab.comparison import compare
    from genlab.report import _esc, _label, _page, _table, format_value

    rows = [
        (
            _esc(_label(key)),
            _esc(format_value(s["mean"], key)),
            _esc(format_value(s["std"], key)),
            _esc(format_value(s["min"], key)),
            _esc(format_value(s["max"], key)),
            _esc(", ".join(format_value(v, key) for v in s["values"])),
        )
        for key, s in summary["figures"].items()
    ]
    table = _table(
        ("figure", "mean", "std", "min", "max", "each seed"),
        rows,
        numeric=(False, True, True, True, True, False),
    )
    comparison = compare([folder / name for name in summary["runs"]], out=folder)
    inner = comparison.page.read_text(encoding="utf-8") if comparison.page else ""
    start, end = inner.find("<body>"), inner.rfind("</body>")
    body = (
        f"<header><h1>genlab: one job over {len(summary['seeds'])} seeds</h1></header>"
        f'<section id="spread"><h2>Spread over the seeds</h2>{table}</section>'
        f"{inner[start + 6 : end] if start >= 0 and end > start else ''}"
    )
    path = folder / "report.html"
    runs.atomic_write_bytes(path, _page("genlab: seeds", body).encode("utf-8"))
    return path
