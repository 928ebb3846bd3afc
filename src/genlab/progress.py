"""Progress reporting for long work.

Library code never prints: training functions take a :class:`Reporter` and call it once per
epoch. The CLI picks one: a tqdm bar on a terminal, one plain line every few epochs when the
output is not a terminal (CI logs stay readable), or nothing with ``--quiet``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO


def _format(values: Mapping[str, Any]) -> str:
    parts = []
    for key, value in values.items():
        if isinstance(value, float):
            parts.append(f"{key}={value:.4g}")
        else:
            parts.append(f"{key}={value}")
    return " ".join(parts)


class Reporter:
    """Receives progress; the base class ignores it (quiet)."""

    def start(self, total: int, description: str = "", initial: int = 0) -> None:
        """Work of ``total`` steps starts (``initial`` of them already done)."""

    def log(self, step: int, row: Mapping[str, Any]) -> None:
        """Every figure of step ``step`` (for loggers such as TensorBoard); shown nowhere."""

    def update(self, step: int, values: Mapping[str, Any]) -> None:
        """Step ``step`` (1-based) is done; ``values`` are the figures to show."""

    def message(self, text: str) -> None:
        """A one-line note for the user (a warning, where files went)."""

    def close(self) -> None:
        """The work ended (finished or stopped early)."""


class TqdmReporter(Reporter):
    """A tqdm progress bar with the latest figures as its postfix."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.bar = None

    def start(self, total: int, description: str = "", initial: int = 0) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=total,
            initial=initial,
            desc=description,
            unit="epoch",
            file=self.stream,
            dynamic_ncols=True,
            leave=True,
        )

    def update(self, step: int, values: Mapping[str, Any]) -> None:
        if self.bar is None:
            return
        self.bar.set_postfix_str(_format(values), refresh=False)
        self.bar.update(step - self.bar.n)

    def message(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class LineReporter(Reporter):
    """Plain lines, at most one every ``interval`` seconds (for logs and pipes)."""

    def __init__(self, stream: TextIO | None = None, interval: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.total = 0
        self.description = ""
        self._last = 0.0

    def start(self, total: int, description: str = "", initial: int = 0) -> None:
        self.total, self.description = total, description
        self._last = time.monotonic()

    def update(self, step: int, values: Mapping[str, Any]) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval or step == self.total:
            self._last = now
            print(f"{self.description} {step}/{self.total} {_format(values)}", file=self.stream)

    def message(self, text: str) -> None:
        print(text, file=self.stream)


def make_reporter(quiet: bool = False, stream: TextIO | None = None) -> Reporter:
    """The reporter a command should use: quiet, a bar on a terminal, else plain lines."""
    if quiet:
        return Reporter()
    stream = stream or sys.stderr
    if hasattr(stream, "isatty") and stream.isatty():
        return TqdmReporter(stream)
    return LineReporter(stream)
