"""Things a newcomer tripped over (issue: what a newcomer runs into)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_a_rule_with_a_lone_equals_hints_at_double_equals(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from genlab.cli import main

    code = main(["gan", "train", "integers", "--rule", "n % 3 = 1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "write '==', not '='" in err[0]
    assert not (tmp_path / "r").exists()


def test_export_into_a_missing_folder_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import genlab.gan
    from genlab.cli import main

    out = tmp_path / "run"
    genlab.gan.train("integers", out=out, quiet=True, plots=False, epochs=1)
    target = tmp_path / "missing" / "g.pt"
    code = main(["gan", "export", str(out), "--out", str(target), "--format", "torchscript"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "does not exist" in err[0]
    assert not target.parent.exists()
