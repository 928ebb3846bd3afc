"""Errors a user can cause and act on.

Every exception raised for bad input (missing data, a bad formula, a corrupt file, a bad
flag) is a :class:`GenlabError`. Its message is one line that says what is wrong and what to
do. The CLI prints it as ``genlab: error: <message>`` and exits with status 2; no traceback.
"""

from __future__ import annotations

from pathlib import Path


class GenlabError(Exception):
    """Base class: a problem with the user's input, not a bug in genlab."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        # Keep the message to one line so the CLI output stays one line.
        super().__init__(" ".join(str(message).split()))


class DataError(GenlabError):
    """Missing, corrupt or malformed data (IDX files, CSV files, integer files)."""


class ExpressionError(GenlabError):
    """A formula or rule that is not a safe, valid expression."""


class ConfigError(GenlabError):
    """A bad flag value or a combination of flags that contradict each other."""


class RunFileError(GenlabError):
    """A run folder or model file that is missing, corrupt, of the wrong kind or unsafe."""


class TrainingError(GenlabError):
    """Training could not go on (non-finite loss, exploding weights)."""

    exit_code = 3


class Interrupted(GenlabError):
    """Ctrl-C: the run stopped at an epoch boundary after saving its checkpoint."""

    exit_code = 130

    def __init__(self, epoch: int, run_dir: Path | None) -> None:
        where = f"checkpoint of epoch {epoch} saved in {run_dir}" if run_dir else "nothing saved"
        super().__init__(f"interrupted after epoch {epoch}; {where}")
        self.epoch = epoch
        self.run_dir = run_dir
