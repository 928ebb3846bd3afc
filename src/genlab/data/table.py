"""Your own table: a CSV read as a spreadsheet user expects, each column's type, and the
per-column transformers between the user's cells and the networks' model space.

* **Reading** (:func:`read_table`): UTF-8 with or without a BOM; the separator (``,``, ``;``
  or a tab) found from the header line (a first line of numbers is data, and the columns
  are named ``column_1``, ...); quoted fields with separators and line breaks;
  Windows line ends; a decimal comma where the separator is ``;``; thousands separators
  (``"1,234.5"``; ``1.234,5`` in a ``;`` file); currency and percent signs (``$12.50``,
  ``12.5 %``: the number shown). Refused with one line that
  says what to do: a missing, empty, binary or non-UTF-8 file (its line), a header only, a
  ragged row (its line), duplicate column names.
* **Types** (:func:`detect_types`), each overridable: ``continuous``; ``integer`` (whole
  numbers, generated as whole numbers within the seen range); ``categorical`` (text, yes/no,
  numbers with at most :data:`FEW_VALUES` values; spellings kept); ``datetime`` (ISO dates
  or date-times, one time zone suffix in every cell if any, written back in the input's
  format); ``identifier`` (mostly unique text, or
  mostly unique consecutive-ish whole numbers: an order id; not modelled, generated fresh or
  dropped); ``constant`` (one value, or empty everywhere: written back as it is).
* **Codes**: every modelled column becomes one float64 number per row: the value (seconds
  since 1970 for dates), or for a category the index of its level; NaN marks an empty cell.
* **Model space** (:class:`TableCodec`): numbers go through their empirical CDF (at most
  :data:`MAX_KNOTS` interpolated quantiles, and never more than one per
  :data:`ROWS_PER_KNOT` rows, so the knots are not the column's values) and the normal's
  inverse CDF, ties spread uniformly over their step; a column with empty cells adds a
  two-level "present / missing" one-hot. A category becomes a one-hot over its levels (an
  empty cell is a level of its own). Many-level categories: at most :data:`MAX_LEVELS`
  levels are modelled, each seen in at least :data:`MIN_LEVEL_ROWS` training rows; the
  rest share one "other" level, which decodes to one of the rarer levels seen at least
  :data:`MIN_LEVEL_ROWS` times (drawn by their counts). A level seen fewer times is never
  generated and never stored: a model file holds no value that identifies a few rows.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from genlab.data.curves import read_text
from genlab.errors import ConfigError, DataError

__all__ = [
    "TYPES",
    "ColumnSpec",
    "TableCodec",
    "csv_shards",
    "detect_types",
    "fit_specs",
    "knot_level",
    "knot_value",
    "parse_types",
    "read_table",
]

#: Column types a user can name in ``--types``.
TYPES = ("continuous", "integer", "categorical", "datetime", "identifier", "constant")
#: Numbers with at most this many distinct values are categories (ratings, 0/1 flags).
FEW_VALUES = 10
#: A column is an identifier when at least this share of its cells are distinct ...
ID_UNIQUE_SHARE = 0.95
#: ... and it has more than this many distinct values.
ID_MIN_VALUES = 20
#: Levels of one category modelled one-hot (the rest share an "other" level).
MAX_LEVELS = 100
#: A level must be seen in this many training rows to be modelled or stored.
MIN_LEVEL_ROWS = 5
#: At most this many rarer levels are stored for decoding the "other" level.
MAX_POOLED = 10_000
#: Knots of a number's empirical CDF: at most this many ...
MAX_KNOTS = 257
#: ... and at most one per this many rows with a value.
ROWS_PER_KNOT = 8
#: Quantile levels stay in [eps, 1 - eps] before the inverse normal CDF.
EPS = 1e-6
#: What "other" decodes to when no rarer level was seen often enough to be stored.
OTHER = "(other)"

#: Cells that mean "empty" in a column whose other cells are numbers (R writes NA, pandas
#: nan). In a text column they stay text: "NA" may be North America.
NA_TOKENS = ("NA", "N/A", "n/a", "#N/A", "#NA", "<NA>", "NaN", "nan", "-NaN", "-nan", "NULL",
             "null", "None", "-", ".", "?")  # fmt: skip

_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?P<time>(?P<sep>[ T])\d{2}:\d{2}(?P<sec>:\d{2}(?P<frac>\.\d+)?)?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?)?$"
)
#: A number as a spreadsheet writes it, by whether the separator is ``;``: there the decimal
#: mark is a comma and thousands are grouped by dots (3,5; 1.234,5), else 3.5; 1,234.5.
_WRITTEN = {
    False: re.compile(r"^[+-]?([1-9]\d{0,2}(,\d{3})+|\d+)(\.\d+)?$"),
    True: re.compile(r"^[+-]?([1-9]\d{0,2}(\.\d{3})+|\d+)(,\d+)?$"),
}
#: A number cell's fraction digits and exponent (``-4.02e-07``: ``02``, ``-07``).
_NUMBER_PARTS = re.compile(r"^\s*[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$")
#: Decimals a generated number is rounded to, at most (a column of 1e-7s keeps 13 digits).
MAX_DECIMALS = 20
_WHOLE = re.compile(r"^[+-]?\d+$")


# --------------------------------------------------------------------------- reading


def _separator(header: str) -> str:
    """The separator of a header line: the most frequent of tab, ``;`` and ``,`` outside
    quotes (a tab or ``;`` wins a tie: ``,`` may be a decimal comma)."""
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {sep: outside.count(sep) for sep in ("\t", ";", ",")}
    best = max(counts.values())
    if best == 0:
        return ","
    return next(sep for sep in ("\t", ";", ",") if counts[sep] == best)


def read_table(source: Any) -> tuple[Any, str]:
    """A CSV file (a path) or a pandas DataFrame -> (a DataFrame of text cells, NaN where a
    cell is empty; a name for messages). A DataFrame is taken as it is (its cells turned to
    text, so that detection treats both alike)."""
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.attrs["dtypes"] = {str(c): str(t) for c, t in source.dtypes.items()}
        _check_names([str(c) for c in frame.columns], "the DataFrame")
        frame.columns = [str(c) for c in frame.columns]
        if frame.shape[1] == 0 or frame.shape[0] == 0:
            raise DataError("the DataFrame has no rows or no columns")
        for name in frame.columns:
            column = frame[name]
            if pd.api.types.is_datetime64_any_dtype(column):
                if isinstance(column.dtype, pd.DatetimeTZDtype):  # instants, as UTC clock
                    column = column.dt.tz_convert("UTC")  # times (no gap or repeat at DST)
                stamps = column.dropna()
                dates = bool((stamps == stamps.dt.normalize()).all())  # every one at midnight
                text = column.dt.strftime("%Y-%m-%d" if dates else "%Y-%m-%d %H:%M:%S")
            elif pd.api.types.is_bool_dtype(column):
                text = column.map({True: "True", False: "False"})
            elif pd.api.types.is_float_dtype(column):
                text = column.map(lambda v: repr(float(v)) if v == v else None)
                text = text.str.replace(r"\.0$", "", regex=True) if _integral(column) else text
            else:
                text = column.astype("string")
            frame[name] = text.astype(object).where(column.notna(), np.nan)
        return frame, "the DataFrame"
    p = Path(os.fspath(source))
    text = read_text(p)
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    sep = _separator(header_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    width = None
    names: list[str] = []
    filled: list[bool] = []  # whether a column has a cell
    rows = 0
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue
            if width is None:
                width, names = len(cells), [c.strip() for c in cells]
                filled = [False] * width
                continue
            if len(cells) != width:
                raise DataError(
                    f"{p.name} line {reader.line_num}: {len(cells)} values, but the header has "
                    f"{width} columns; every row needs the same number of values"
                )
            filled = [f or bool(c.strip()) for f, c in zip(filled, cells, strict=True)]
            rows += 1
    except csv.Error as exc:
        raise DataError(f"{p.name} line {reader.line_num}: malformed CSV ({exc})") from None
    headerless = bool(names) and all(_is_number(name) for name in names)
    if headerless:  # a first row of numbers is data: columns column_1, column_2, ...
        names = [f"column_{i + 1}" for i in range(len(names))]
        rows += 1
    if rows == 0:
        raise DataError(f"{p.name} has a header but no data rows; add the rows below the header")
    # a column with no name and no cell (a spreadsheet's trailing separator) is not data
    keep = [i for i, name in enumerate(names) if name or filled[i]]
    names = [names[i] for i in keep]
    _check_names(names, p.name)
    frame = pd.read_csv(
        io.StringIO(text, newline=""),
        sep=sep,
        header=None if headerless else "infer",
        names=names if headerless else None,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        skip_blank_lines=True,
        skipinitialspace=False,
        engine="c",
        usecols=keep,
    )
    frame.columns = names
    for name in frame.columns:  # spaces around a cell are not part of it
        column = frame[name]
        stripped = column.str.strip()
        frame[name] = stripped.where(stripped != "", np.nan)
    for name in frame.columns:
        column = original = frame[name]
        marked = column.isin(NA_TOKENS)
        present = column[~marked].dropna()
        affix = _affix(present)
        if affix:  # $12.50, 12 %, 3,50 €: the numbers without their sign
            column = column.where(marked, column.str.replace(affix, "", regex=True).str.strip())
            present = column[~marked].dropna()
        # numbers with a comma in some cell: in a ";" file the decimal comma (without one,
        # 1.234 may be a decimal point), else a thousands group
        semicolon = sep == ";"
        if (
            len(present)
            and bool(present.str.match(_WRITTEN[semicolon]).all())
            and bool(present.str.contains(",", regex=False).any())
        ):
            grouping, decimal = (".", ",") if semicolon else (",", ".")
            plain = column.str.replace(grouping, "", regex=False)
            column = column.where(marked, plain.str.replace(decimal, ".", regex=False))
        if affix and _numbers(column[~marked]) is None:
            column = original  # not numbers after all: text as it was
        # "NA", "n/a", "null" ... in a column of numbers: empty
        if bool(marked.any()) and _numbers(column[~marked]) is not None:
            column = column.mask(marked)
        frame[name] = column
    return frame, p.name


#: Signs a spreadsheet writes beside numbers: a currency before (``$12``, ``-€3``) or after
#: (``3,50 €``), a percent after (``12.5%``): read as the number shown (12.5).
_AFFIXES = (r"(?<=^[+-])[$€£¥]|^[$€£¥]", r"\s?[%€]$")


def _affix(present: Any) -> str:
    """The pattern of the sign every cell of ``present`` (text) carries, or ""."""
    if not len(present):
        return ""
    for pattern in _AFFIXES:
        if bool(present.str.contains(pattern, regex=True).all()):
            return pattern
    return ""


def csv_shards(source: str | os.PathLike[str]) -> list[Path]:
    """The files of a table kept in shards: a folder's ``*.csv`` files, or the files a glob
    pattern (``orders/part-*.csv``) matches, in name order; ``[]`` for one file. Each shard
    has the table's header. A folder or pattern with no CSV file is a DataError."""
    text = os.fspath(source)
    path = Path(text)
    if path.is_dir():
        files = sorted(f for f in path.glob("*.csv") if f.is_file())
    elif not path.exists() and any(c in text for c in "*?["):
        import glob

        files = sorted(Path(f) for f in glob.glob(text) if Path(f).is_file())
    else:
        return []
    if not files:
        raise DataError(f"{text}: no CSV file there; give a CSV file, a folder of them or a "
                        "pattern such as 'orders/part-*.csv'")  # fmt: skip
    return files


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _integral(column: Any) -> bool:
    values = column.dropna().to_numpy(dtype=float)
    return bool(len(values)) and bool(np.all(np.isfinite(values) & (values == np.round(values))))


def _check_names(names: list[str], source: str) -> None:
    seen: set[str] = set()
    for name in names:
        if not name:
            raise DataError(f"{source}: a column has no name in the header row; name every column")
        if name in seen:
            raise DataError(
                f"{source}: the column name {name!r} appears twice in the header; "
                "give every column its own name"
            )
        seen.add(name)


# --------------------------------------------------------------------------- types


@dataclass
class ColumnInfo:
    """What detection found in one column: its type and why."""

    name: str
    type: str
    missing: int
    distinct: int
    example: str
    reason: str


def _numbers(column: Any) -> np.ndarray | None:
    """The column's cells as float64 (NaN where empty), or None when a cell is not a finite
    number."""
    import pandas as pd

    present = column.dropna()
    values = pd.to_numeric(present, errors="coerce")
    if values.isna().any() or not np.all(np.isfinite(values.to_numpy(dtype=float))):
        return None
    out = np.full(len(column), np.nan)
    out[column.notna().to_numpy()] = values.to_numpy(dtype=float)
    return out


def _datetime_format(column: Any) -> str | None:
    """The ISO format shared by every cell of ``column``, or None."""
    present = column.dropna()
    if not len(present):
        return None
    match = _ISO.match(str(present.iloc[0]))
    if match is None or not bool(present.str.match(_ISO).all()):
        return None
    if match.group("time") is None:
        fmt = "%Y-%m-%d"
    else:
        fmt = "%Y-%m-%d" + match.group("sep") + "%H:%M" + (":%S" if match.group("sec") else "")
        if match.group("frac"):
            fmt += ".%f"
        if match.group("zone"):  # one time zone in every cell (else: text)
            zones = present.str.extract(_ISO)["zone"]
            if zones.nunique(dropna=False) != 1:
                return None
            fmt += match.group("zone")
    lengths = present.str.len()
    if int(lengths.min()) != int(lengths.max()):
        return None
    return fmt


def detect_types(frame: Any) -> dict[str, ColumnInfo]:
    """Each column's type, with its counts and the reason (see the module docstring)."""
    out: dict[str, ColumnInfo] = {}
    for name in frame.columns:
        column = frame[name]
        present = column.dropna()
        distinct = int(present.nunique())
        missing = int(column.isna().sum())
        example = str(present.iloc[0]) if len(present) else ""
        numbers = _numbers(column)
        share = distinct / max(1, len(present))
        if distinct <= 1:
            kind, reason = "constant", "one value" if distinct else "empty in every row"
        elif numbers is not None:
            values = numbers[~np.isnan(numbers)]
            whole = bool(np.all(values == np.round(values)))
            span = float(values.max() - values.min()) + 1
            if distinct <= FEW_VALUES:
                kind, reason = "categorical", f"numbers with {distinct} values"
            elif (
                whole and share >= ID_UNIQUE_SHARE and distinct > ID_MIN_VALUES
                and span <= 3 * distinct
            ):  # fmt: skip
                kind, reason = "identifier", "mostly unique, nearly consecutive whole numbers"
            elif whole:
                kind, reason = "integer", "whole numbers"
            else:
                kind, reason = "continuous", "numbers"
        elif (fmt := _datetime_format(column)) is not None:
            kind, reason = "datetime", f"ISO dates ({fmt})"
        elif share >= ID_UNIQUE_SHARE and distinct > ID_MIN_VALUES:
            kind, reason = "identifier", "mostly unique text"
        else:
            kind, reason = "categorical", f"text with {distinct} values"
            rare = int((present.value_counts() < MIN_LEVEL_ROWS).sum())
            if rare:  # never stored: they come back as "(other)"
                reason += f", {rare} seen under {MIN_LEVEL_ROWS} times"
        out[name] = ColumnInfo(name, kind, missing, distinct, example, reason)
    return out


def parse_types(given: Any, columns: list[str]) -> dict[str, str]:
    """``--types`` (``["carat=continuous", ...]``, a JSON file's path, or a dict) -> {column:
    type}; an unknown column or type is a ConfigError."""
    if given is None:
        return {}
    pairs: dict[str, str] = {}
    if isinstance(given, dict):
        pairs = {str(k): str(v) for k, v in given.items()}
    else:
        items = [given] if isinstance(given, str) else list(given)
        for item in items:
            if "=" not in item and item.endswith(".json"):
                try:
                    loaded = json.loads(Path(item).read_text())
                except (OSError, ValueError) as exc:
                    raise ConfigError(f"--types {item}: not a readable JSON file ({exc})") from None
                if not isinstance(loaded, dict):
                    raise ConfigError(f"--types {item}: the JSON must be {{column: type}}")
                pairs.update({str(k): str(v) for k, v in loaded.items()})
                continue
            name, sep, kind = item.partition("=")
            if not sep:
                raise ConfigError(f"--types {item!r}: write COLUMN=TYPE, e.g. cut=categorical")
            pairs[name.strip()] = kind.strip()
    for name, kind in pairs.items():
        if name not in columns:
            raise ConfigError(
                f"--types names the column {name!r}, which the table lacks; its columns: "
                f"{', '.join(columns)}"
            )
        if kind not in TYPES:
            raise ConfigError(f"--types {name}={kind}: the type must be one of {', '.join(TYPES)}")
    return pairs


# --------------------------------------------------------------------------- columns


@dataclass
class ColumnSpec:
    """One column, as the model file keeps it: plain values only (no rows).

    ``levels``: a category's modelled levels (text as read; None = an empty cell; the last
    may be the "other" level, :attr:`other`). ``pooled``/``pooled_counts``: the rarer levels
    "other" decodes to. ``knots``: a number's interpolated quantiles. ``missing``: the train
    part's share of empty cells. ``fmt``: a date's format; ``grid``: the coarsest step all its
    values lie on, past the format's own (:func:`_datetime_grid`). ``start``: an integer
    identifier's first fresh value."""

    name: str
    type: str
    missing: float = 0.0
    levels: list[str | None] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    other: bool = False
    pooled: list[str] = field(default_factory=list)
    pooled_counts: list[int] = field(default_factory=list)
    knots: list[float] = field(default_factory=list)
    low: float = 0.0
    high: float = 0.0
    fmt: str = ""
    value: str | None = None
    start: int = 0
    numeric_levels: bool = False
    dtype: str = ""
    grid: str = ""

    @property
    def modelled(self) -> bool:
        """Whether the networks model this column."""
        return self.type not in ("identifier", "constant")

    @property
    def numeric(self) -> bool:
        """A number in model space (continuous, integer, datetime)."""
        return self.type in ("continuous", "integer", "datetime")

    @property
    def has_missing(self) -> bool:
        """A number column with empty cells (a present/missing one-hot beside its value)."""
        return self.numeric and self.missing > 0

    @property
    def width(self) -> int:
        """Model-space width."""
        if not self.modelled:
            return 0
        if self.numeric:
            return 1 + (2 if self.has_missing else 0)
        return len(self.levels)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for the model file."""
        return asdict(self)


def _codes_of(spec: ColumnSpec, column: Any) -> np.ndarray:
    """A column's cells -> float64 codes (values, seconds, or level indices; NaN = empty)."""
    import pandas as pd

    if spec.type == "datetime":
        parsed = pd.to_datetime(column, format=spec.fmt, errors="coerce")
        seconds = parsed.astype("int64").to_numpy().astype(np.float64) / 1e9
        return np.where(parsed.isna().to_numpy(), np.nan, seconds)
    if spec.numeric:
        # np.array copies: pandas 3 hands out read-only views
        return np.array(pd.to_numeric(column, errors="coerce"), dtype=float)
    index = {level: i for i, level in enumerate(spec.levels) if level is not None}
    codes = np.array(column.map(index), dtype=float)  # a writable copy (pandas 3: read-only)
    missing = column.isna().to_numpy()
    if None in spec.levels:
        codes[missing] = spec.levels.index(None)
    unknown = np.isnan(codes) & ~missing
    if spec.other:
        codes[unknown] = len(spec.levels) - 1
    elif spec.numeric_levels and bool(unknown.any()):  # the nearest stored number
        at = [i for i, level in enumerate(spec.levels) if level is not None]
        stored = np.array([float(spec.levels[i]) for i in at])  # type: ignore[arg-type]
        asked = pd.to_numeric(column[unknown], errors="coerce").to_numpy(dtype=float)
        nearest = np.abs(asked[:, None] - stored[None, :]).argmin(axis=1)
        codes[unknown] = np.where(np.isnan(asked), np.nan, np.array(at)[nearest])
    return codes


def fit_specs(
    frame: Any,
    types: dict[str, str],
    *,
    ids: str = "fresh",
    dtypes: dict[str, str] | None = None,
    open_levels: bool = False,
) -> list[ColumnSpec]:
    """Every column's :class:`ColumnSpec`, fitted on ``frame`` (the train part). ``dtypes``:
    a DataFrame's own column dtypes, given back to generated rows (bool, numbers, dates).
    ``open_levels``: every category has the "other" level, for the levels of rows the fit
    did not see (a sharded table's later shards)."""
    specs = []
    for name in frame.columns:
        column = frame[name]
        kind = types[name]
        present = column.dropna()
        spec = ColumnSpec(name, kind, missing=float(column.isna().mean()))
        spec.dtype = (dtypes or {}).get(name, "")
        if kind == "constant":
            spec.value = None if not len(present) else str(present.iloc[0])
        elif kind == "identifier":
            numbers = _numbers(column)
            if numbers is not None and bool(np.all(numbers[~np.isnan(numbers)] % 1 == 0)):
                spec.start = int(np.nanmax(numbers)) + 1
                spec.fmt = "int"
            spec.value = "drop" if ids == "drop" else "fresh"
        elif kind == "categorical":
            counts = present.value_counts()
            # a level seen in fewer rows is never stored (it may name a person): a column of
            # only such levels becomes one "other" level
            kept = [str(v) for v, c in counts.items() if c >= MIN_LEVEL_ROWS][:MAX_LEVELS]
            rest = counts[~counts.index.isin(kept)]
            stored = rest[rest >= MIN_LEVEL_ROWS][:MAX_POOLED]
            spec.levels = list(kept)
            if spec.missing > 0:
                spec.levels.append(None)
            spec.numeric_levels = _numbers(column) is not None
            # a number seen too rarely counts as the nearest stored one (numbers stay numbers)
            if (len(rest) or open_levels) and not (spec.numeric_levels and kept):
                spec.other = True
                spec.levels.append(OTHER)
                spec.pooled = [str(v) for v in stored.index]
                spec.pooled_counts = [int(c) for c in stored.to_numpy()]
            codes = _codes_of(spec, column)
            shares = np.bincount(codes.astype(int), minlength=len(spec.levels)) / len(codes)
            spec.shares = [float(s) for s in shares]
        else:
            if kind == "datetime":
                spec.fmt = _datetime_format(column) or ""
                if not spec.fmt:
                    raise DataError(
                        f"column {name!r} is not ISO dates in one format (e.g. 2024-05-01 or "
                        "2024-05-01 13:45:00, one time zone) in every cell: it cannot be a "
                        "datetime"
                    )
            elif _numbers(column) is None:
                bad = next(v for v in present if _numbers(present[present == v]) is None)
                raise DataError(
                    f"column {name!r} holds {str(bad)[:30]!r}, which is not a number: it cannot "
                    f"be {kind} (give it --types {name}=categorical)"
                )
            if kind == "continuous":  # written back with the input's decimals
                spec.start = _decimals(present)
            values = _codes_of(spec, column)
            values = values[~np.isnan(values)]
            spec.low, spec.high = float(values.min()), float(values.max())
            if kind == "datetime":
                spec.grid = _datetime_grid(values, _datetime_unit(spec.fmt))
            n_knots = int(min(MAX_KNOTS, max(2, len(values) // ROWS_PER_KNOT)))
            levels = np.linspace(0.0, 1.0, n_knots)
            spec.knots = [float(v) for v in np.quantile(values, levels)]
        specs.append(spec)
    return specs


def spec_from_dict(values: dict[str, Any]) -> ColumnSpec:
    """Rebuild a :class:`ColumnSpec` from :meth:`ColumnSpec.to_dict`."""
    return ColumnSpec(**values)


# --------------------------------------------------------------------------- the codec


def knot_level(knots: torch.Tensor, values: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """A number's CDF level (float64, in [0, 1]) of ``values`` under its quantile ``knots``
    (increasing, at equal levels): linear between knots; a value that several knots share
    (a tie) at ``u`` (in [0, 1], per value) of the way through their step."""
    lo = torch.searchsorted(knots, values, right=False)
    hi = torch.searchsorted(knots, values, right=True)
    q = knots.shape[0] - 1
    tie_level = (lo.double() + u * (hi - lo - 1).double()) / q
    upper = lo.clamp(1, q)
    low_knot, high_knot = knots[upper - 1], knots[upper]
    frac = ((values - low_knot) / (high_knot - low_knot).clamp_min(1e-300)).clamp(0, 1)
    level = ((upper - 1).double() + frac) / q
    return torch.where(hi - lo > 1, tie_level, level)


def knot_value(knots: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """A number's value (float64) at model-space ``z`` (its CDF level's normal quantile):
    linear between its quantile ``knots`` (the inverse of :func:`knot_level`)."""
    q = knots.shape[0] - 1
    position = torch.special.ndtr(z.double()) * q
    lower = position.floor().clamp(0, q - 1)
    index = lower.long()
    return knots[index] + (position - lower) * (knots[index + 1] - knots[index])


class TableCodec(nn.Module):
    """Codes (N, M) of the M modelled columns <-> model space (N, dim), and codes <-> the
    user's table. ``forward`` (= :meth:`decode`) is plain torch, so it exports with the
    generator: model space -> codes (float64; level indices for categories, NaN = empty)."""

    def __init__(self, specs: list[ColumnSpec]) -> None:
        super().__init__()
        self.specs = list(specs)
        self.modelled = [s for s in self.specs if s.modelled]
        self.starts: list[int] = []
        self.discrete: list[tuple[int, int, int]] = []  # (start, width, column) one-hots
        position = 0
        for j, spec in enumerate(self.modelled):
            self.starts.append(position)
            if spec.numeric:
                self.register_buffer(f"knots_{j}", torch.tensor(spec.knots, dtype=torch.float64))
                if spec.has_missing:
                    self.discrete.append((position + 1, 2, j))
            else:
                self.discrete.append((position, len(spec.levels), j))
            position += spec.width
        self.dim = position
        mask = torch.zeros(len(self.modelled), self.dim, dtype=torch.bool)
        for j, spec in enumerate(self.modelled):
            mask[j, self.starts[j] : self.starts[j] + spec.width] = True
        self.register_buffer("column_dims", mask)  # (M, dim): each column's model-space dims

    @property
    def names(self) -> list[str]:
        """The modelled columns' names (the codes' column order)."""
        return [s.name for s in self.modelled]

    def names_of(self, *types: str) -> list[str]:
        """The modelled columns' names of these types (none given: the numbers, dates too)."""
        return [s.name for s in self.modelled if (s.type in types if types else s.numeric)]

    def knots_of(self, name: str) -> torch.Tensor:
        """A number column's quantile knots (float64)."""
        return getattr(self, f"knots_{self.names.index(name)}")

    def categorical(self) -> torch.Tensor:
        """(M,) bool: which codes are category levels."""
        return torch.tensor([not s.numeric for s in self.modelled], dtype=torch.bool)

    # ---------------------------------------------------------------- user table <-> codes

    def codes(self, frame: Any) -> torch.Tensor:
        """The user's table (text cells, NaN = empty) -> codes (N, M) float64."""
        columns = [_codes_of(spec, frame[spec.name]) for spec in self.modelled]
        if not columns:
            return torch.zeros(len(frame), 0, dtype=torch.float64)
        return torch.from_numpy(np.stack(columns, axis=1).astype(np.float64))

    def frame(self, codes: torch.Tensor, *, seed: int = 0) -> Any:
        """Codes (N, M) -> the user's table: every column in the input's order, spelling
        and format (identifiers fresh, or left out with ``--ids drop``; constants as
        read)."""
        import pandas as pd

        codes = codes.detach().cpu().double().numpy()
        n = codes.shape[0]
        rng = np.random.default_rng(seed)
        out: dict[str, Any] = {}
        index = {s.name: j for j, s in enumerate(self.modelled)}
        for spec in self.specs:
            if spec.type == "constant":
                out[spec.name] = pd.Series([spec.value] * n, dtype=object)
                continue
            if spec.type == "identifier":
                if spec.value == "drop":
                    continue
                if spec.fmt == "int":
                    out[spec.name] = pd.Series(np.arange(spec.start, spec.start + n), dtype="Int64")
                else:
                    width = max(6, len(str(n)))
                    out[spec.name] = pd.Series(
                        [f"synthetic-{i:0{width}d}" for i in range(1, n + 1)], dtype=object
                    )
                continue
            values = codes[:, index[spec.name]]
            missing = np.isnan(values)
            if spec.type == "categorical":
                levels = np.array(spec.levels, dtype=object)
                cells = levels[np.nan_to_num(values, nan=0).astype(int).clip(0, len(levels) - 1)]
                if spec.other:
                    is_other = cells == OTHER
                    if spec.pooled and bool(is_other.any()):
                        weights = np.array(spec.pooled_counts, dtype=float)
                        cells[is_other] = rng.choice(
                            np.array(spec.pooled, dtype=object),
                            size=int(is_other.sum()),
                            p=weights / weights.sum(),
                        )
                series = pd.Series(cells, dtype=object)
                series[missing | pd.isna(series).to_numpy()] = np.nan
                out[spec.name] = series
            elif spec.type == "integer":
                whole = np.clip(np.round(values), spec.low, spec.high)
                out[spec.name] = pd.Series(
                    pd.array(np.where(missing, 0, whole).astype(np.int64), dtype="Int64")
                ).mask(missing)
            elif spec.type == "datetime":
                seconds = np.clip(np.nan_to_num(values), spec.low, spec.high)
                # the nearest value the format can write, on the grid the column's lie on
                step = 0.0 if spec.grid in CALENDAR_GRIDS else float(spec.grid or 0)
                unit = max(_datetime_unit(spec.fmt), step)
                seconds = np.round(seconds / unit) * unit
                stamps = pd.to_datetime(np.round(seconds * 1e6).astype(np.int64), unit="us")
                if spec.grid in CALENDAR_GRIDS:
                    stamps = _nearest_start(stamps, CALENDAR_GRIDS[spec.grid])
                text = pd.Series(stamps.strftime(spec.fmt), dtype=object)
                if ".%f" in spec.fmt:
                    text = text.str.replace(r"(\.\d{3})\d{3}$", r"\1", regex=True)
                out[spec.name] = text.mask(missing)
            else:
                clipped = np.round(np.clip(values, spec.low, spec.high), spec.start)
                out[spec.name] = pd.Series(clipped).mask(missing)
        for spec in self.specs:
            if spec.name in out:
                out[spec.name] = _restore_dtype(spec, out[spec.name])
        return pd.DataFrame(out)

    def typed(self, frame: Any) -> Any:
        """A table of text cells (as read) with each column in its type's dtype (numbers as
        numbers, dates as text in their format, categories as text): what :meth:`frame`
        returns for generated rows, so that real and synthetic tables compare alike."""
        import pandas as pd

        out = {}
        for spec in self.specs:
            if spec.type == "identifier" and spec.value == "drop":
                continue
            column = frame[spec.name]
            if spec.type == "integer":
                out[spec.name] = pd.to_numeric(column).round().astype("Int64")
            elif spec.type == "continuous":
                out[spec.name] = pd.to_numeric(column).astype(float)
            elif spec.type == "identifier" and spec.fmt == "int":
                out[spec.name] = pd.to_numeric(column).astype("Int64")
            else:
                out[spec.name] = column.astype(object)
        return pd.DataFrame(out)

    # ---------------------------------------------------------------- codes <-> model space

    def encode(self, codes: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Codes (N, M) -> model space (N, dim) float32. Tied values are spread uniformly
        over their step of the CDF (``generator`` draws where; the middle without one)."""
        n = codes.shape[0]
        out = torch.zeros(n, self.dim, dtype=torch.float32)
        for j, spec in enumerate(self.modelled):
            start = self.starts[j]
            values = codes[:, j]
            missing = torch.isnan(values)
            if spec.numeric:
                knots = getattr(self, f"knots_{j}")
                filled = torch.where(missing, knots[0], values).contiguous()
                if generator is None:
                    u = torch.full((n,), 0.5, dtype=torch.float64)
                else:
                    u = torch.rand(n, generator=generator, dtype=torch.float64)
                z = torch.special.ndtri(knot_level(knots, filled, u).clamp(EPS, 1 - EPS))
                out[:, start] = torch.where(missing, torch.zeros_like(z), z).float()
                if spec.has_missing:
                    out[:, start + 1] = (~missing).float()
                    out[:, start + 2] = missing.float()
            else:
                index = torch.nan_to_num(values, nan=0).long().clamp(0, spec.width - 1)
                out[torch.arange(n), start + index] = 1.0
        return out

    def forward(self, model_space: torch.Tensor) -> torch.Tensor:
        """Model space (N, dim) -> codes (N, M) float64 (NaN = empty)."""
        columns = []
        for j, spec in enumerate(self.modelled):
            start = self.starts[j]
            if spec.numeric:
                value = knot_value(getattr(self, f"knots_{j}"), model_space[:, start])
                if spec.has_missing:
                    empty = model_space[:, start + 2] > model_space[:, start + 1]
                    value = torch.where(empty, torch.full_like(value, float("nan")), value)
                columns.append(value)
            else:
                block = model_space[:, start : start + spec.width]
                columns.append(block.argmax(dim=1).double())
        if not columns:
            return torch.zeros(model_space.shape[0], 0, dtype=torch.float64)
        return torch.stack(columns, dim=1)

    decode = forward

    def value_code(self, name: str, value: Any) -> float:
        """The code of one cell value a user names (``--where``); a ConfigError for a column
        that is not modelled or a value it never had."""
        import pandas as pd

        spec = next((s for s in self.specs if s.name == name), None)
        if spec is None:
            raise ConfigError(
                f"--where {name}=...: the table has no column {name!r}; its columns: "
                f"{', '.join(s.name for s in self.specs)}"
            )
        if not spec.modelled:
            raise ConfigError(
                f"--where {name}=...: {name!r} is {spec.type} (not modelled), so rows cannot be "
                "conditioned on it"
            )
        empty = value is None or (isinstance(value, float) and math.isnan(value))
        text = None if empty or (isinstance(value, str) and not value.strip()) else value
        if spec.type == "categorical":
            shown = _level_text(text, spec)
            if shown in spec.levels and shown != OTHER:
                return float(spec.levels.index(shown))
            if spec.other and shown in spec.pooled:
                return float(spec.levels.index(OTHER))
            known = [str(v) for v in spec.levels if v is not None and v != OTHER][:12]
            raise ConfigError(
                f"--where {name}={value}: {name!r} never took that value in training; it takes "
                f"{', '.join(known)}{' ...' if len(spec.levels) > 12 else ''}"
            )
        if text is None:
            if not spec.has_missing:
                raise ConfigError(f"--where {name}=: {name!r} is never empty in training")
            return float("nan")
        code = _codes_of(spec, pd.Series([str(text)], dtype=object))[0]
        if math.isnan(code):
            raise ConfigError(
                f"--where {name}={value}: not a {spec.type} value (write it as "
                f"{_show(spec, spec.low)}, or nothing for an empty cell)"
            )
        if spec.type == "integer" and code != round(code):
            raise ConfigError(f"--where {name}={value}: {name!r} holds whole numbers")
        if not spec.low <= code <= spec.high:
            raise ConfigError(
                f"--where {name}={value}: {name!r} never took that value in training (it ranges "
                f"over [{_show(spec, spec.low)}, {_show(spec, spec.high)}])"
            )
        return float(code)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for the model file: the columns' specs (no rows)."""
        return {"columns": [s.to_dict() for s in self.specs]}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TableCodec:
        """Rebuild from :meth:`to_dict`."""
        return cls([spec_from_dict(v) for v in values["columns"]])


def _restore_dtype(spec: ColumnSpec, column: Any) -> Any:
    """Generated cells in a DataFrame's own dtypes (bool, numbers, datetimes); a CSV's
    cells keep their text spelling."""
    import pandas as pd

    numeric_dtype = spec.dtype.startswith(("int", "float", "Int", "Float"))
    if spec.type == "categorical" and numeric_dtype:  # a DataFrame's few-valued numbers
        numbers = pd.to_numeric(column, errors="coerce")
        whole = numbers.dropna()
        if spec.dtype.lower().startswith("int") and len(whole) == len(numbers):
            return numbers.round().astype(spec.dtype)
        if spec.dtype.lower().startswith("int"):
            return numbers.round().astype("Int64")
        return numbers.astype(float)
    if spec.type == "identifier" and spec.dtype.startswith("int") and not column.isna().any():
        return column.astype(spec.dtype)  # fresh whole numbers, as the DataFrame's
    if spec.dtype == "bool" or spec.dtype == "boolean":
        mapped = column.map({"True": True, "False": False})
        return mapped.astype("boolean") if mapped.isna().any() else mapped.astype(bool)
    if spec.dtype.startswith("datetime64") and spec.type == "datetime":
        stamps = pd.to_datetime(column, format=spec.fmt)
        if "," not in spec.dtype:
            return stamps
        try:  # a time-zone-aware column: read as UTC clock times, given back in its zone
            zoned = pd.DatetimeTZDtype.construct_from_string(spec.dtype)
        except (TypeError, ValueError):
            return stamps
        return stamps.dt.tz_localize("UTC").dt.tz_convert(zoned.tz)
    if spec.dtype == "category" and spec.type == "categorical":
        return column.astype("category")
    if spec.dtype.startswith("float") and spec.type == "integer":
        return column.astype(float)
    if spec.dtype.startswith("int") and spec.type == "integer" and not column.isna().any():
        return column.astype(spec.dtype)
    return column


def _level_text(value: Any, spec: ColumnSpec) -> str | None:
    """A value a user names as the level text it matches (``1`` and ``1.0`` find ``"1"``)."""
    if value is None:
        return None
    text = str(value)
    if text in spec.levels or not spec.numeric_levels:
        return text
    try:
        number = float(text)
    except ValueError:
        return text
    for level in spec.levels:
        if level is not None and level != OTHER:
            try:
                if float(level) == number:
                    return level
            except ValueError:
                continue
    return text


def _datetime_unit(fmt: str) -> float:
    """The smallest step, in seconds, that a datetime format writes (a date's is a day)."""
    for code, unit in (("%f", 1e-6), ("%S", 1.0), ("%M", 60.0), ("%H", 3600.0)):
        if code in fmt:
            return unit
    return 86400.0


#: Datetime grids of calendar steps (:func:`_datetime_grid`) -> their pandas period.
CALENDAR_GRIDS = {"year": "Y", "month": "M"}


def _datetime_grid(seconds: np.ndarray, unit: float) -> str:
    """The coarsest step that every datetime (seconds) lies on, when coarser than the format's
    ``unit``: "year" (each on 1 January, midnight), "month" (on the 1st), or a number of
    seconds (a day, an hour, a minute, a second); "" when none is. Monthly figures then come
    back on the 1st, hourly readings on the hour."""
    import pandas as pd

    micro = np.round(seconds * 1e6).astype(np.int64)
    stamps = pd.to_datetime(micro, unit="us")
    if len(stamps) and bool((stamps == stamps.normalize()).all()) and bool((stamps.day == 1).all()):
        return "year" if bool((stamps.month == 1).all()) else "month"
    for step in (86400, 3600, 60, 1):
        if step <= unit:
            break
        if bool(np.all(micro % (step * 1_000_000) == 0)):
            return str(step)
    return ""


def _nearest_start(stamps: Any, period: str) -> Any:
    """Each timestamp moved to the nearest start of a calendar ``period`` ("M": a month)."""
    import pandas as pd

    stamps = pd.Series(stamps)
    periods = stamps.dt.to_period(period)
    floor = periods.dt.start_time
    ceil = (periods + 1).dt.start_time
    nearer = stamps - floor <= ceil - stamps
    return pd.DatetimeIndex(floor.where(nearer, ceil))


def _decimals(cells: Any) -> int:
    """The decimals a column's number cells (text) are written with, at most
    :data:`MAX_DECIMALS`: ``2.50`` has 2, ``4.02e-07`` 9 (its mantissa's 2 and the exponent's 7)."""
    parts = cells.str.extract(_NUMBER_PARTS)
    fraction = parts[0].fillna("").str.len()
    exponent = parts[1].fillna("0").astype(int)
    decimals = (fraction - exponent).clip(lower=0)
    return int(min(MAX_DECIMALS, decimals.max())) if len(decimals) else 0


def _show(spec: ColumnSpec, code: float) -> str:
    if spec.type == "datetime":
        import pandas as pd

        return pd.to_datetime(round(code * 1e6), unit="us").strftime(spec.fmt)
    return f"{code:.6g}"
