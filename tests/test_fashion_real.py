"""End to end on the real Fashion-MNIST (slow; CI installs Debian's dataset-fashion-mnist)."""

from __future__ import annotations

from pathlib import Path

import pytest

from genlab.classify.engine import train_classifier
from genlab.config import ClassifierConfig
from genlab.data.fashion_mnist import find_data_dir
from genlab.errors import DataError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_data() -> Path:
    try:
        return find_data_dir(download=False)
    except DataError as exc:
        pytest.skip(f"real Fashion-MNIST not installed: {exc}")


def test_multiclass_mlp_beats_the_book(real_data: Path, tmp_path: Path) -> None:
    run = train_classifier(
        ClassifierConfig(task="multiclass", device="cpu"), out=tmp_path / "m", plots=False
    )
    assert run.summary["stopped_early"]
    assert run.summary["test_total"] == 10_000
    assert run.test_accuracy >= 0.885


def test_binary_mlp_near_perfect(real_data: Path, tmp_path: Path) -> None:
    run = train_classifier(
        ClassifierConfig(task="binary", device="cpu"), out=tmp_path / "b", plots=False
    )
    assert run.summary["test_total"] == 2_000
    assert run.test_accuracy >= 0.995
