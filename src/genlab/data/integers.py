"""Integer-pattern datasets and their encodings.

A *pattern* is a set of valid integers in ``[0, max_value)`` with a probability for each:
uniform for a rule-made pattern (multiples of 5, odd numbers, a typed rule such as
``n % 3 == 1``), the empirical frequencies for numbers read from a file. The book's example is
the multiples of 5 in ``[0, 100)``, drawn as ``randint(0, 20) * 5``.

A *codec* turns integers into the float vectors a GAN produces and back: one-hot (the book's;
decoding is ``argmax``) or binary (``ceil(log2(size))`` bits; decoding thresholds at 0.5).

Everything here is vectorised: no Python loop runs per sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from genlab.errors import ConfigError, DataError, ExpressionError, GenlabError, RunFileError
from genlab.expressions import parse_rule

__all__ = [
    "MAX_ONEHOT",
    "MAX_VALUE",
    "BinaryCodec",
    "IntegerCodec",
    "IntegerPattern",
    "OneHotCodec",
    "codec_from_dict",
    "make_codec",
    "make_pattern",
    "sample_real",
]

#: Default exclusive upper bound of a rule-made pattern (the book's 0..99).
DEFAULT_MAX = 100
#: Largest ``--max`` accepted: a rule is evaluated on every integer below it.
MAX_VALUE = 2**24
#: Largest size a one-hot codec accepts; use the binary codec above it.
MAX_ONEHOT = 4096
#: Names accepted by :func:`make_codec`.
ENCODINGS = ("onehot", "binary")

_SOURCES_MESSAGE = "choose one of --multiple-of, --rule, --odd, --even, --from-file"
_INTEGER = re.compile(r"[+-]?[0-9]+")
_SEPARATORS = re.compile(r"[\s,]+")


# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class IntegerPattern:
    """The valid integers of a dataset and the probability of each.

    Attributes:
        description: human-readable, e.g. ``"multiples of 5 in [0, 100)"``.
        max_value: exclusive upper bound; every value lies in ``[0, max_value)``.
        values: sorted, distinct int64 valid values (1-D, CPU).
        probs: float64 probability of each value (same shape, positive, sums to 1).

    Construction checks these invariants and raises ``ValueError`` if one fails.
    Two patterns are equal when all four fields are equal.
    """

    description: str
    max_value: int
    values: torch.Tensor
    probs: torch.Tensor

    def __post_init__(self) -> None:
        values = torch.as_tensor(self.values).detach().to("cpu")
        probs = torch.as_tensor(self.probs).detach().to("cpu")
        if not isinstance(self.max_value, int) or isinstance(self.max_value, bool):
            raise ValueError(f"max_value must be an int, got {self.max_value!r}")
        if values.dtype.is_floating_point or values.dtype == torch.bool:
            raise ValueError(f"values must be integers, got dtype {values.dtype}")
        values = values.to(torch.int64).contiguous()
        probs = probs.to(torch.float64).contiguous()
        if values.ndim != 1 or values.numel() == 0:
            raise ValueError("values must be a non-empty 1-D tensor")
        if probs.shape != values.shape:
            raise ValueError(f"probs shape {tuple(probs.shape)} != values {tuple(values.shape)}")
        if values.numel() > 1 and not bool((values[1:] > values[:-1]).all()):
            raise ValueError("values must be sorted and distinct")
        if int(values[0]) < 0 or int(values[-1]) >= self.max_value:
            raise ValueError(f"values must lie in [0, {self.max_value})")
        if not bool(torch.isfinite(probs).all()) or not bool((probs > 0).all()):
            raise ValueError("probs must be finite and positive")
        if abs(float(probs.sum()) - 1.0) > 1e-6:
            raise ValueError(f"probs must sum to 1, got {float(probs.sum())}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "probs", probs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IntegerPattern):
            return NotImplemented
        return (
            self.description == other.description
            and self.max_value == other.max_value
            and torch.equal(self.values, other.values)
            and torch.equal(self.probs, other.probs)
        )

    def __hash__(self) -> int:
        return hash((self.description, self.max_value, tuple(self.values.tolist())))

    @property
    def n_values(self) -> int:
        """Number of valid values."""
        return int(self.values.numel())

    @property
    def is_uniform(self) -> bool:
        """True when every valid value is equally likely."""
        return bool((self.probs == self.probs[0]).all())

    def is_valid(self, ints: torch.Tensor) -> torch.Tensor:
        """Return a bool tensor, the shape of ``ints``: which entries are valid values.

        Values outside ``[0, max_value)`` (which a binary decoder can produce) are invalid.
        """
        ints = torch.as_tensor(ints)
        if ints.dtype.is_floating_point or ints.dtype.is_complex or ints.dtype == torch.bool:
            raise TypeError(f"is_valid expects an integer tensor, got dtype {ints.dtype}")
        ints = ints.to(torch.int64)
        return torch.isin(ints, self.values.to(ints.device))

    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON-ready) for a checkpoint or a run folder.

        ``probs`` is ``None`` for a uniform pattern, to keep the stored form small.
        """
        return {
            "description": self.description,
            "max_value": int(self.max_value),
            "values": self.values.tolist(),
            "probs": None if self.is_uniform else self.probs.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IntegerPattern:
        """Rebuild a pattern from :meth:`to_dict` output.

        Raises:
            RunFileError: the dictionary is not a valid stored pattern.
        """
        try:
            values = torch.tensor(data["values"], dtype=torch.int64)
            probs_list = data.get("probs")
            if probs_list is None:
                probs = torch.full(values.shape, 1.0 / max(values.numel(), 1), dtype=torch.float64)
            else:
                probs = torch.tensor(probs_list, dtype=torch.float64)
            return cls(
                description=str(data["description"]),
                max_value=data["max_value"],
                values=values,
                probs=probs,
            )
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
            raise RunFileError(f"stored integer pattern is invalid: {exc}") from exc


def _uniform(description: str, max_value: int, values: torch.Tensor) -> IntegerPattern:
    probs = torch.full(values.shape, 1.0 / values.numel(), dtype=torch.float64)
    return IntegerPattern(description, max_value, values, probs)


def _check_max(max_value: int) -> None:
    if not isinstance(max_value, int) or isinstance(max_value, bool):
        raise ConfigError(f"--max must be an integer, got {max_value!r}")
    if max_value < 2:
        raise ConfigError(f"--max must be at least 2, got {max_value}")
    if max_value > MAX_VALUE:
        raise ConfigError(f"--max {max_value} is too large; the largest supported is {MAX_VALUE}")


def make_pattern(
    *,
    max_value: int | None = None,
    multiple_of: int | None = None,
    rule: str | None = None,
    odd: bool = False,
    even: bool = False,
    from_file: str | Path | None = None,
) -> IntegerPattern:
    """Build an integer pattern from exactly one source.

    Args:
        max_value: exclusive upper bound (``--max``). ``None`` means 100 for a rule-made
            pattern and ``max(file values) + 1`` for a file; a file may be given a larger bound
            (the extra values are invalid), never a smaller one.
        multiple_of: the multiples of this positive integer (``--multiple-of``).
        rule: a predicate over ``n`` such as ``"n % 3 == 1"`` (``--rule``).
        odd: the odd numbers (``--odd``).
        even: the even numbers (``--even``).
        from_file: integers separated by whitespace, commas or newlines (``--from-file``);
            their empirical frequencies become the probabilities.

    Raises:
        ConfigError: no source or several, a bad ``--max`` or ``--multiple-of``, or a pattern
            that is empty or holds every value in range.
        ExpressionError: a rule that is not a safe predicate over ``n``.
        DataError: a file that is missing, empty, or holds non-integers or negative numbers.
    """
    if odd and even:
        raise ConfigError("--odd and --even contradict each other; choose one")
    sources = [multiple_of is not None, rule is not None, odd, even, from_file is not None]
    if sum(map(bool, sources)) == 0:
        raise ConfigError(f"no integer pattern given; {_SOURCES_MESSAGE}")
    if sum(map(bool, sources)) > 1:
        raise ConfigError(f"several integer patterns given; {_SOURCES_MESSAGE}")

    if from_file is not None:
        return _pattern_from_file(Path(from_file), max_value)

    if max_value is None:
        max_value = DEFAULT_MAX
    _check_max(max_value)

    if multiple_of is not None:
        if not isinstance(multiple_of, int) or isinstance(multiple_of, bool):
            raise ConfigError(f"--multiple-of must be an integer, got {multiple_of!r}")
        if multiple_of <= 0:
            raise ConfigError(f"--multiple-of must be a positive integer, got {multiple_of}")
        if multiple_of == 1:
            raise ConfigError(
                "--multiple-of 1 makes every value valid; choose a number of at least 2"
            )
        if multiple_of >= max_value:
            raise ConfigError(
                f"--multiple-of {multiple_of} leaves only 0 below --max {max_value}; "
                "choose a smaller --multiple-of or a larger --max"
            )
        values = torch.arange(0, max_value, multiple_of, dtype=torch.int64)
        return _uniform(f"multiples of {multiple_of} in [0, {max_value})", max_value, values)

    if odd or even:
        start, word = (1, "odd") if odd else (0, "even")
        values = torch.arange(start, max_value, 2, dtype=torch.int64)
        return _uniform(f"{word} numbers in [0, {max_value})", max_value, values)

    assert rule is not None
    return _pattern_from_rule(rule, max_value)


def _pattern_from_rule(rule: str, max_value: int) -> IntegerPattern:
    if not isinstance(rule, str) or not rule.strip():
        raise ExpressionError("--rule is empty; give a condition on n such as 'n % 3 == 1'")
    text = " ".join(rule.split())
    try:
        expr = parse_rule(text)
    except ExpressionError as exc:
        raise ExpressionError(f"--rule: {exc}") from exc
    n = torch.arange(max_value, dtype=torch.int64)
    try:
        mask = torch.as_tensor(expr(n))
    except GenlabError as exc:
        raise ExpressionError(f"--rule: {exc}") from exc
    except (ArithmeticError, RuntimeError, TypeError, ValueError) as exc:
        raise ExpressionError(f"--rule {text!r} cannot be evaluated: {exc}") from exc
    if mask.dtype != torch.bool:
        raise ExpressionError(
            f"--rule {text!r} is not a true/false condition on n; write e.g. 'n % 3 == 1'"
        )
    mask = mask.expand(n.shape) if mask.ndim == 0 else mask
    if mask.shape != n.shape:
        raise ExpressionError(f"--rule {text!r} did not give one true/false value per n")
    count = int(mask.sum())
    if count == 0:
        raise ConfigError(
            f"--rule {text!r} matches no value in [0, {max_value}); change the rule or raise --max"
        )
    if count == max_value:
        raise ConfigError(
            f"--rule {text!r} matches every value in [0, {max_value}); "
            "give a rule that some values fail"
        )
    values = torch.nonzero(mask).flatten().to(torch.int64)
    return _uniform(f"numbers n with {text} in [0, {max_value})", max_value, values)


def _read_integers(path: Path) -> torch.Tensor:
    """Parse a file of non-negative integers separated by whitespace, commas or newlines."""
    where = f"--from-file {path}"
    if not path.exists():
        raise DataError(f"{where}: no such file; check the path")
    if not path.is_file():
        raise DataError(f"{where}: not a file; give a text file of integers")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{where}: not a UTF-8 text file; give a text file of integers") from exc
    except OSError as exc:
        raise DataError(f"{where}: cannot be read ({exc.strerror or exc})") from exc
    numbers: list[int] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for token in _SEPARATORS.split(line):
            if not token:
                continue
            if not _INTEGER.fullmatch(token):
                shown = token if len(token) <= 20 else token[:20] + "..."
                raise DataError(f"{where}, line {lineno}: {shown!r} is not an integer")
            value = int(token)
            if value < 0:
                raise DataError(
                    f"{where}, line {lineno}: {value} is negative; values must be 0 or more"
                )
            if value >= MAX_VALUE:
                raise DataError(
                    f"{where}, line {lineno}: {value} is too large; values must be below "
                    f"{MAX_VALUE}"
                )
            numbers.append(value)
    if not numbers:
        raise DataError(f"{where}: the file holds no numbers; give integers such as 0 5 10")
    return torch.tensor(numbers, dtype=torch.int64)


def _pattern_from_file(path: Path, max_value: int | None) -> IntegerPattern:
    data = _read_integers(path)
    needed = int(data.max()) + 1
    if max_value is None:
        max_value = max(needed, 2)
    else:
        _check_max(max_value)
        if max_value < needed:
            raise ConfigError(
                f"--max {max_value} is too small for --from-file {path}: it holds "
                f"{needed - 1}; use --max {max(needed, 2)} or more, or leave --max out"
            )
    values, counts = torch.unique(data, sorted=True, return_counts=True)
    probs = counts.to(torch.float64) / counts.sum()
    description = (
        f"{data.numel()} numbers from {path.name} ({values.numel()} distinct) in [0, {max_value})"
    )
    return IntegerPattern(description, max_value, values, probs)


def sample_real(pattern: IntegerPattern, n: int, generator: torch.Generator) -> torch.Tensor:
    """Draw ``n`` real integers from ``pattern`` (int64, on the generator's device).

    A uniform pattern draws a random index, like the book's ``randint(0, 20) * 5``; otherwise
    values are drawn with their probabilities (``torch.multinomial``, with replacement).
    The same generator state gives the same draws.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ConfigError(f"the number of samples must be an integer of 0 or more, got {n!r}")
    device = generator.device
    values = pattern.values.to(device)
    if n == 0:
        return values[:0]
    if pattern.is_uniform:
        index = torch.randint(
            pattern.n_values, (n,), generator=generator, device=device, dtype=torch.int64
        )
    else:
        index = torch.multinomial(
            pattern.probs.to(device), n, replacement=True, generator=generator
        )
    return values[index]


# --------------------------------------------------------------------------------------------
# Codecs
# --------------------------------------------------------------------------------------------


class IntegerCodec:
    """Turns integers in ``[0, size)`` into float vectors of length ``width`` and back.

    Subclasses set ``name`` and ``width`` and implement :meth:`encode` and :meth:`decode`.
    """

    name: str = ""

    def __init__(self, size: int) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 2:
            raise ConfigError(f"--max must be an integer of at least 2, got {size!r}")
        self.size = size

    @property
    def width(self) -> int:
        """Length of one encoded vector."""
        raise NotImplementedError

    def _check_ints(self, ints: torch.Tensor) -> torch.Tensor:
        ints = torch.as_tensor(ints)
        if ints.dtype.is_floating_point or ints.dtype.is_complex or ints.dtype == torch.bool:
            raise TypeError(f"{self.name} encode expects an integer tensor, got {ints.dtype}")
        ints = ints.to(torch.int64)
        if ints.numel() and (int(ints.min()) < 0 or int(ints.max()) >= self.size):
            raise DataError(
                f"cannot {self.name}-encode values outside [0, {self.size}): "
                f"got {int(ints.min())}..{int(ints.max())}"
            )
        return ints

    def _check_x(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.width:
            raise DataError(
                f"cannot {self.name}-decode a tensor of shape {tuple(x.shape)}: "
                f"the last dimension must be {self.width}"
            )
        return x

    def encode(self, ints: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Encode integers of any shape ``S`` to floats of shape ``S + (width,)``."""
        raise NotImplementedError

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """Decode floats of shape ``S + (width,)`` to int64 of shape ``S``."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Plain values that :func:`codec_from_dict` turns back into this codec."""
        return {"name": self.name, "size": self.size, "width": self.width}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, width={self.width})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IntegerCodec):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_dict().items())))


class OneHotCodec(IntegerCodec):
    """One-hot vectors of length ``size`` (the book's); decoding is ``argmax``."""

    name = "onehot"

    def __init__(self, size: int) -> None:
        super().__init__(size)
        if size > MAX_ONEHOT:
            raise ConfigError(
                f"--max {size} is too large for one-hot encoding (at most {MAX_ONEHOT}); "
                "use --encoding binary"
            )

    @property
    def width(self) -> int:
        return self.size

    def encode(self, ints: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        ints = self._check_ints(ints)
        return torch.nn.functional.one_hot(ints, self.size).to(dtype)

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        return self._check_x(x).argmax(dim=-1)


class BinaryCodec(IntegerCodec):
    """``ceil(log2(size))`` bits per value, each 0.0 or 1.0; decoding thresholds at 0.5.

    ``msb_first=False`` (the default) puts the least significant bit first. A decoded
    value may reach ``2**width - 1 >= size``; it is kept, and counts as invalid.
    """

    name = "binary"

    def __init__(self, size: int, msb_first: bool = False) -> None:
        super().__init__(size)
        self.msb_first = bool(msb_first)
        self._width = max(1, (size - 1).bit_length())  # == ceil(log2(size)) for size >= 2
        shifts = torch.arange(self._width, dtype=torch.int64)
        self._shifts = shifts.flip(0) if self.msb_first else shifts

    @property
    def width(self) -> int:
        return self._width

    @property
    def bit_order(self) -> str:
        """``"msb"`` or ``"lsb"``: which bit comes first."""
        return "msb" if self.msb_first else "lsb"

    def encode(self, ints: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        ints = self._check_ints(ints)
        shifts = self._shifts.to(ints.device)
        return ((ints.unsqueeze(-1) >> shifts) & 1).to(dtype)

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        x = self._check_x(x)
        bits = (x > 0.5).to(torch.int64)
        return (bits << self._shifts.to(x.device)).sum(dim=-1)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "bit_order": self.bit_order}

    def __repr__(self) -> str:
        return f"BinaryCodec(size={self.size}, width={self.width}, bit_order={self.bit_order!r})"


def make_codec(name: str, size: int, *, msb_first: bool = False) -> IntegerCodec:
    """Return the codec called ``name`` (``"onehot"`` or ``"binary"``) for ``[0, size)``.

    Raises:
        ConfigError: an unknown name, or one-hot with ``size > MAX_ONEHOT``.
    """
    key = str(name).strip().lower().replace("-", "").replace("_", "")
    if key == "onehot":
        return OneHotCodec(size)
    if key == "binary":
        return BinaryCodec(size, msb_first=msb_first)
    raise ConfigError(f"unknown --encoding {name!r}; choose one of: {', '.join(ENCODINGS)}")


def codec_from_dict(data: dict[str, Any]) -> IntegerCodec:
    """Rebuild a codec from :meth:`IntegerCodec.to_dict` output.

    Raises:
        RunFileError: the dictionary is not a valid stored codec.
    """
    try:
        codec = make_codec(
            data["name"], data["size"], msb_first=data.get("bit_order", "lsb") == "msb"
        )
        width = data.get("width", codec.width)
    except (KeyError, TypeError, AttributeError, GenlabError) as exc:
        raise RunFileError(f"stored integer encoding is invalid: {exc}") from exc
    if width != codec.width:
        raise RunFileError(
            f"stored integer encoding is invalid: width {width} != {codec.width} for {codec!r}"
        )
    return codec
