"""Run folders and model files: one format, one save, one load.

A run folder holds ``config.json``, ``metrics.csv`` (one row per epoch), ``summary.json``,
``model.pt`` (the trained model) and ``plots/``. Every file is written to a temporary file in
the same folder, flushed to disk, then renamed over the old one, so a crash at any instant
leaves the previous version readable.

A model file is a plain dict of tensors and plain values (``format``, ``version``, ``kind``,
``config``, ``state_dict`` and whatever else its kind needs), read back with
``torch.load(..., weights_only=True)``: reading it never runs code from the file.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import math
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from genlab.errors import ConfigError, GenlabError, RunFileError

FORMAT = "genlab"
FORMAT_VERSION = 1
MODEL_FILE = "model.pt"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
CHECKPOINT_FILE = "checkpoint.pt"
LOCK_FILE = ".genlab.lock"


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` always holds a whole old or new version."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise GenlabError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            # mkstemp makes the file 0600; give it the mode any new file gets (umask)
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise GenlabError(
            f"cannot write {path}: {exc.strerror or exc}; the previous version is kept"
        ) from exc


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically (NaN/inf become null)."""
    text = json.dumps(_json_safe(obj), indent=2, sort_keys=False) + "\n"
    atomic_write_bytes(path, text.encode())


def read_json(path: str | Path) -> Any:
    """Read a JSON file written by genlab; a clear error if it is missing or corrupt."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise RunFileError(f"{path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFileError(f"{path} is not a readable JSON file ({exc})") from exc


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, torch.Tensor):
        return _json_safe(obj.tolist())
    return obj


def write_metrics_csv(path: str | Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write one row per epoch (columns: the union of keys, in first-seen order)."""
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    atomic_write_bytes(path, buffer.getvalue().encode())


def prepare_run_dir(out: str | Path, overwrite: bool = False, resume: bool = False) -> Path:
    """Create the run folder; refuse one that holds a finished run unless ``overwrite``.

    A folder with an unfinished run (a checkpoint but no summary) is only reused with
    ``resume`` (go on) or ``overwrite`` (start again).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise GenlabError(f"--out {out} exists and is not a folder")
    finished = (out / SUMMARY_FILE).exists()
    unfinished = (out / CHECKPOINT_FILE).exists() and not finished
    if resume:
        if finished:
            raise GenlabError(f"{out} holds a finished run; there is nothing to resume")
        if not unfinished:
            raise GenlabError(f"{out} has no checkpoint to resume from (no {CHECKPOINT_FILE})")
    elif finished and not overwrite:
        raise GenlabError(
            f"--out {out} already holds a finished run; choose another folder or add --overwrite"
        )
    elif unfinished and not overwrite:
        raise GenlabError(
            f"--out {out} holds an unfinished run; add --resume to go on or --overwrite to "
            "start again"
        )
    try:
        (out / "plots").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenlabError(f"cannot create --out {out}: {exc.strerror or exc}") from exc
    if overwrite and not resume:
        for name in (SUMMARY_FILE, CHECKPOINT_FILE, "report.html", "eval.json"):
            (out / name).unlink(missing_ok=True)
    return out


@contextmanager
def open_run_dir(
    out: str | Path | None, overwrite: bool = False, resume: bool = False
) -> Iterator[Path | None]:
    """Prepare ``out`` (see :func:`prepare_run_dir`) and hold its lock while the block runs.

    A second genlab process pointed at the same folder is refused at once, so two runs never
    mix their files. The lock is released when the block ends or the process dies.
    ``out=None`` (no run folder) yields None.
    """
    if out is None:
        yield None
        return
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise GenlabError(f"--out {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = open(out / LOCK_FILE, "a+")  # noqa: SIM115 (held for the whole block)
    except OSError as exc:
        raise GenlabError(f"cannot create --out {out}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise GenlabError(
                f"another genlab run is writing to {out} right now; wait for it to finish or "
                "choose another --out"
            ) from exc
        yield prepare_run_dir(out, overwrite, resume)
    finally:
        handle.close()  # closing the file releases the lock


def save_model_file(
    path: str | Path,
    kind: str,
    config: Mapping[str, Any],
    state_dict: Mapping[str, torch.Tensor],
    **extra: Any,
) -> None:
    """Save a model as tensors and plain values only (loads anywhere with weights_only=True)."""
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "kind": kind,
        "config": dict(config),
        "state_dict": {k: v.detach().cpu().clone() for k, v in state_dict.items()},
        **extra,
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_model_file(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """Load a genlab model file safely; check its format, version and (optionally) kind.

    ``path`` may be the file or a run folder holding ``model.pt``.
    """
    path = Path(path)
    if path.is_dir():
        if not (path / MODEL_FILE).exists():
            raise RunFileError(
                f"{path} is not a genlab run folder (no {MODEL_FILE}); give the --out folder "
                "of a finished training run"
            )
        path = path / MODEL_FILE
    if not path.exists():
        raise RunFileError(f"{path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise RunFileError(
            f"{path} was refused: it holds Python objects other than tensors and plain values, "
            "and genlab never runs code from a file"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - any other failure means a damaged file
        raise RunFileError(f"{path} is truncated or corrupt and cannot be read") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise RunFileError(f"{path} is not a genlab model file")
    version = payload.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RunFileError(
            f"{path} was written by a newer genlab (format version {version}); upgrade genlab"
        )
    if kind is not None and payload.get("kind") != kind:
        raise RunFileError(f"{path} holds a {payload.get('kind')!s} model, not a {kind} model")
    return payload


def run_folder(path: str | Path) -> Path:
    """The run folder of ``path``: the folder itself, or the folder holding a model file."""
    path = Path(path)
    return path if path.is_dir() else path.parent


def versions() -> dict[str, str]:
    """The software a run was made with (for ``summary.json``)."""
    import platform

    from genlab import __version__

    return {
        "genlab": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def run_kind(run_dir: str | Path) -> str:
    """The ``kind`` of the model in a run folder or model file ("classifier", "gan", ...)."""
    return str(load_model_file(run_dir)["kind"])


def check_resume_flags(
    run: str | Path,
    stored: Mapping[str, Any],
    requested: Mapping[str, Any],
    keys: Iterable[str],
) -> None:
    """Refuse to resume ``run`` with settings that differ from those it was started with.

    ``stored`` is the run's saved config, ``requested`` the settings given now (only those
    the user gave: a key absent from ``requested`` or None there is not a difference);
    ``keys`` the settings that must match. Raises :class:`ConfigError` naming every
    differing setting as its flag with both values.
    """
    differences = [
        f"--{key.replace('_', '-')} {_flag_text(requested[key])} here but "
        f"{_flag_text(stored.get(key))} in the run"
        for key in keys
        if requested.get(key) is not None
        and _json_safe(requested[key]) != _json_safe(stored.get(key))
    ]
    if differences:
        raise ConfigError(
            f"cannot resume {run}: {', '.join(differences)}; drop the flags or start a new run"
        )


def _flag_text(value: Any) -> str:
    """A setting as it is written on the command line (None as "none")."""
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return " ".join(_flag_text(v) for v in value)
    return str(value)
