"""The examples/ scripts run end to end in smoke mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_smoke(script: Path, tiny_fashion: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script), "--smoke", "--data-dir", str(tiny_fashion)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "accuracy" in result.stdout or "samples" in result.stdout
