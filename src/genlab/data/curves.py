"""Curve datasets: points ``(x, y)`` on a named shape, on a formula a user types, or from a CSV.

* :func:`book_shape` -- the book's chapter-3 data (``y = 1.08**x`` and its ``sin`` exercise),
  the same numbers as the book's code, drawn from a local :class:`torch.Generator`.
* :func:`formula_points` -- ``x`` uniform in ``[lo, hi)``, ``y = f(x)`` for a safe formula
  (:func:`genlab.expressions.parse_formula`).
* :func:`read_csv_points` -- numeric columns from a CSV file, refused with the line number of
  the first bad cell.
* :func:`load_curve_dataset` -- one entry point for the CLI: kinds ``exp``, ``sine``,
  ``formula`` and ``csv``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from genlab.errors import ConfigError, DataError, ExpressionError
from genlab.expressions import Expression, evaluate_formula_on, parse_formula

__all__ = [
    "CURVE_KINDS",
    "SHAPES",
    "CurveDataset",
    "book_shape",
    "formula_points",
    "load_curve_dataset",
    "read_csv_points",
]

#: The book's named shapes: the relation ``y = f(x)`` as formula text, and the range of x.
SHAPES: dict[str, tuple[str, tuple[float, float]]] = {
    "exp": ("1.08**x", (0.0, 50.0)),
    "sine": ("sin(x)", (-5.0, 5.0)),
}

#: The dataset kinds :func:`load_curve_dataset` understands.
CURVE_KINDS: tuple[str, ...] = ("exp", "sine", "formula", "csv")

#: The x range a formula gets when none is given.
DEFAULT_X_RANGE: tuple[float, float] = (-5.0, 5.0)


def _check_count(n: object, what: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise ConfigError(f"{what} must be a whole number of points, not {n!r}")
    if n < 2:
        raise ConfigError(f"{what} must be at least 2 points, got {n}")
    return n


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be a whole number, not {seed!r}")
    return seed


def book_shape(name: str, n: int = 2048, seed: int = 0) -> torch.Tensor:
    """The book's chapter-3 training data as an ``(n, 2)`` float32 tensor of ``(x, y)`` rows.

    ``"exp"``: ``x = 50 * rand(n)``, ``y = 1.08 ** x``; ``"sine"``: ``x = 10 * (rand(n) - 0.5)``,
    ``y = sin(x)``. The book seeds the global generator with ``torch.manual_seed(0)``; here a
    local ``torch.Generator().manual_seed(seed)`` is used, which gives the same numbers on the
    CPU for ``seed=0`` without touching the global random state.
    """
    if name not in SHAPES:
        raise ConfigError(f"unknown curve shape {name!r}; choose one of {', '.join(SHAPES)}")
    n = _check_count(n)
    generator = torch.Generator().manual_seed(_check_seed(seed))
    data = torch.zeros((n, 2))
    if name == "exp":
        data[:, 0] = 50 * torch.rand(n, generator=generator)
        data[:, 1] = 1.08 ** data[:, 0]
    else:
        data[:, 0] = 10 * (torch.rand(n, generator=generator) - 0.5)
        data[:, 1] = torch.sin(data[:, 0])
    return data


def _check_range(x_range: object) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in x_range)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ConfigError(f"the x range must be two numbers LOW HIGH, not {x_range!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ConfigError(f"the x range must be finite, got [{lo}, {hi})")
    if not lo < hi:
        raise ConfigError(f"the x range [{lo}, {hi}) is empty; give LOW < HIGH")
    return lo, hi


def formula_points(
    text: str | Expression,
    x_range: tuple[float, float] = DEFAULT_X_RANGE,
    n: int = 2048,
    seed: int = 0,
) -> torch.Tensor:
    """``n`` points ``(x, f(x))`` as an ``(n, 2)`` float32 tensor, x uniform in ``[lo, hi)``.

    ``x = lo + (hi - lo) * rand(n)`` in float32 with a local generator seeded by ``seed`` (so
    ``formula_points("1.08**x", (0, 50))`` is the book's exponential data). Raises
    :class:`ExpressionError` for an unsafe or invalid formula and when ``f`` is not finite
    somewhere on the sampled x (the message names that x), :class:`ConfigError` for an empty,
    reversed or non-finite range or ``n < 2``.
    """
    expr = text if isinstance(text, Expression) else parse_formula(text)
    if expr.kind != "formula":
        raise ExpressionError(f"{expr.text!r} is a rule, not a formula y = f(x)")
    lo, hi = _check_range(x_range)
    n = _check_count(n)
    generator = torch.Generator().manual_seed(_check_seed(seed))
    x = lo + (hi - lo) * torch.rand(n, generator=generator)
    # float32 rounding can land on hi itself; keep the interval half-open.
    below_hi = torch.nextafter(torch.tensor(hi), torch.tensor(-math.inf))
    x = torch.minimum(x, below_hi)
    points = torch.zeros((n, 2))
    points[:, 0] = x
    # Evaluated on the strided column, as the book's listing does: torch's pow takes another
    # code path on strided input, and this keeps ``1.08**x`` on (0, 50) bit-identical to it.
    points[:, 1] = evaluate_formula_on(expr, points[:, 0])
    return points


# --------------------------------------------------------------------------- CSV


def _parse_number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _pick_delimiter(line: str) -> str:
    for delimiter in ("\t", ";", ","):
        if delimiter in line:
            return delimiter
    return ","


def _default_names(count: int) -> list[str]:
    if count == 1:
        return ["x"]
    if count == 2:
        return ["x", "y"]
    return [f"column_{i + 1}" for i in range(count)]


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        name = name or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        seen.setdefault(name, 1)
        out.append(name)
    return out


def read_csv_points(path: str | os.PathLike[str]) -> tuple[torch.Tensor, list[str]]:
    """Read a CSV of numbers into an ``(N, C)`` float32 tensor and its column names.

    The separator is a tab, ``;`` or ``,`` (the first of these found in the first line). The
    first row is a header when none of its cells is a number, data when all are; without a
    header the columns are named ``x`` (and ``y``), or ``column_1 ...`` for 3 or more. Blank
    lines are skipped, and so are empty cells at the end of every line (a spreadsheet's
    separator after the last column). Refused with a :class:`DataError` naming the 1-based
    line: a cell that is not a number or is empty, ``nan`` or ``inf`` (or beyond float32), a
    row with a different number of cells. Also refused: a missing file, a directory, a binary
    or non-UTF-8 file, a file with no data or with a single data row.
    """
    p = Path(path)
    text = read_text(p)
    first_line = next(line for line in text.splitlines() if line.strip())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_pick_delimiter(first_line))
    names: list[str] | None = None
    rows: list[list[float]] = []
    line_numbers: list[int] = []
    try:
        lines = [
            (reader.line_num, [c.strip() for c in cells])
            for cells in reader
            if cells and any(c.strip() for c in cells)
        ]
    except csv.Error as exc:
        raise DataError(f"{p.name} line {reader.line_num}: malformed CSV ({exc})") from None
    if lines:  # empty cells ending every line: a spreadsheet's separator after the last column
        ends = min(next(i for i, c in enumerate(reversed(cells)) if c) for _, cells in lines)
        lines = [(n, cells[: len(cells) - ends]) for n, cells in lines]
    for line_num, cells in lines:
        if names is None:
            if all(_parse_number(c) is None for c in cells):
                names = _unique_names(cells)
                continue
            names = _default_names(len(cells))
        rows.append(_parse_row(p.name, line_num, names, cells))
        line_numbers.append(line_num)

    if names is None or not rows:
        raise DataError(f"CSV file {str(p)!r} has no data rows; it needs at least 2")
    if len(rows) < 2:
        raise DataError(f"CSV file {str(p)!r} has a single data row; it needs at least 2")
    points = torch.tensor(rows, dtype=torch.float32)
    finite = torch.isfinite(points).all(dim=1)
    if not bool(finite.all()):
        index = int(torch.nonzero(~finite)[0, 0])
        raise DataError(
            f"{p.name} line {line_numbers[index]}: a value is too large for 32-bit floats "
            "(beyond about 3.4e38); rescale the data"
        )
    return points, names


def read_text(p: Path) -> str:
    """The text of a CSV file: it must exist, be a file, be UTF-8 text, not be empty."""
    if not p.exists():
        raise DataError(f"CSV file {str(p)!r} not found; check the path")
    if not p.is_file():
        raise DataError(f"{str(p)!r} is not a file; give the path of a CSV file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read CSV file {str(p)!r}: {exc.strerror or exc}") from None
    if b"\x00" in raw:
        raise DataError(f"{str(p)!r} is a binary file, not a CSV text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{p.name} line {line}: bytes that are not UTF-8 text; save the file as UTF-8 CSV"
        ) from None
    if not text.strip():
        raise DataError(f"CSV file {str(p)!r} is empty; it needs a header (optional) and rows")
    return text


def _parse_row(file: str, line: int, names: list[str], cells: list[str]) -> list[float]:
    """One data row's numbers; a DataError names the line and column of a bad cell."""
    if len(cells) != len(names):
        raise DataError(
            f"{file} line {line}: {len(cells)} values, but the file has "
            f"{len(names)} columns; every row needs the same number of values"
        )
    row = []
    for name, cell in zip(names, cells, strict=True):
        value = _parse_number(cell)
        if value is None:
            shown = "an empty cell" if not cell else f"{cell[:30]!r}"
            raise DataError(
                f"{file} line {line}, column {name!r}: {shown} is not a number; "
                "the CSV must hold numbers only (use '.' for decimals)"
            )
        if not math.isfinite(value):
            raise DataError(
                f"{file} line {line}, column {name!r}: {cell!r} is not a finite "
                "number; remove or fix that row"
            )
        row.append(value)
    return row


# --------------------------------------------------------------------------- datasets


@dataclass(frozen=True, eq=False)
class CurveDataset:
    """Points for a curve GAN, with what is known about them.

    ``points`` is ``(N, C)`` float32; ``columns`` names its columns; ``relation`` is the true
    ``y = f(x)`` when known (named shapes and formulas), else ``None``; ``x_range`` is the
    interval x was drawn from (for a CSV: the min and max of column 0).
    """

    name: str
    points: torch.Tensor = field(repr=False)
    columns: list[str]
    relation: Expression | None
    x_range: tuple[float, float] | None


def load_curve_dataset(
    kind: str,
    *,
    formula: str | None = None,
    x_range: tuple[float, float] | None = None,
    csv: str | os.PathLike[str] | None = None,
    n: int = 2048,
    seed: int = 0,
) -> CurveDataset:
    """Build the curve dataset of ``kind``: ``"exp"``, ``"sine"``, ``"formula"`` or ``"csv"``.

    ``exp``/``sine`` take ``n`` and ``seed`` (the book's data for ``seed=0``); ``formula``
    needs ``formula`` and takes ``x_range`` (default ``(-5, 5)``), ``n`` and ``seed``; ``csv``
    needs ``csv`` (a path) and uses every row of the file. Options that do not apply to the
    kind are refused with a :class:`ConfigError`.
    """
    if kind not in CURVE_KINDS:
        raise ConfigError(f"unknown curve dataset {kind!r}; choose one of {', '.join(CURVE_KINDS)}")
    if kind != "formula" and formula is not None:
        raise ConfigError(f"a formula applies only to the 'formula' dataset, not {kind!r}")
    if kind != "csv" and csv is not None:
        raise ConfigError(f"a CSV file applies only to the 'csv' dataset, not {kind!r}")
    if kind in SHAPES:
        text, shape_range = SHAPES[kind]
        if x_range is not None and _check_range(x_range) != shape_range:
            raise ConfigError(
                f"the {kind!r} dataset has the fixed x range {list(shape_range)}; "
                "use the 'formula' dataset for another range"
            )
        return CurveDataset(
            name=kind,
            points=book_shape(kind, n=n, seed=seed),
            columns=["x", "y"],
            relation=parse_formula(text),
            x_range=shape_range,
        )
    if kind == "formula":
        if formula is None or not str(formula).strip():
            raise ConfigError("the 'formula' dataset needs a formula, e.g. 'x**2' or 'sin(x)'")
        expr = parse_formula(formula)
        lo_hi = _check_range(DEFAULT_X_RANGE if x_range is None else x_range)
        return CurveDataset(
            name=f"y = {formula}",
            points=formula_points(expr, lo_hi, n=n, seed=seed),
            columns=["x", "y"],
            relation=expr,
            x_range=lo_hi,
        )
    if csv is None:
        raise ConfigError("the 'csv' dataset needs the path of a CSV file")
    if x_range is not None:
        raise ConfigError("an x range does not apply to the 'csv' dataset (it uses every row)")
    points, columns = read_csv_points(csv)
    column0 = points[:, 0]
    return CurveDataset(
        name=Path(csv).stem,
        points=points,
        columns=columns,
        relation=None,
        x_range=(float(column0.min()), float(column0.max())),
    )
