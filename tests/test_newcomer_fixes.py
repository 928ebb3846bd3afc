"""Things a newcomer tripped over (issue: what a newcomer runs into)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from genlab.training import runs


def test_version_answers_without_importing_torch() -> None:
    code = (
        "import sys; from genlab.cli import main; main(['--version']); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    from genlab import __version__

    assert out.stdout.split() == ["genlab", __version__, "False"]


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    before = os.umask(0o022)
    try:
        runs.atomic_write_bytes(tmp_path / "a.json", b"{}")
        runs.write_json(tmp_path / "b.json", {"x": 1})
        os.umask(0o077)
        runs.atomic_write_bytes(tmp_path / "private.json", b"{}")
    finally:
        os.umask(before)
    for name, mode in (("a.json", 0o644), ("b.json", 0o644), ("private.json", 0o600)):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name
