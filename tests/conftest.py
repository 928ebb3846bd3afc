"""Shared fixtures: seeded torch, tiny Fashion-MNIST-shaped IDX files written by the tests."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

REAL_DATA = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def _seed_everything() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True, scope="session")
def _tiny_fashion_allowed() -> Iterator[None]:
    """The tests' Fashion-MNIST folders are tiny sets under the standard file names: say so.

    Session-wide (module-scoped workspaces train on them too) and in the environment, so
    subprocesses (the console script, torchrun) see it. A test of the official-count check
    removes it with ``monkeypatch.delenv``.
    """
    from genlab.data.fashion_mnist import SUBSET_ENV

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SUBSET_ENV, "1")
        yield


def idx_bytes(array: torch.Tensor) -> bytes:
    """IDX encoding of a uint8 tensor (magic 0x0000080N, big-endian dims, then the bytes)."""
    header = bytes([0, 0, 0x08, array.dim()]) + struct.pack(f">{array.dim()}I", *array.shape)
    return header + array.contiguous().numpy().tobytes()


def write_idx(path: Path, array: torch.Tensor, gz: bool = True) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed when ``gz``)."""
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def make_images(labels: torch.Tensor, seed: int) -> torch.Tensor:
    """Learnable 28x28 images: class k lights up band k (of 10 horizontal bands) plus noise."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 60, (labels.numel(), 28, 28), generator=gen, dtype=torch.uint8)
    for k in range(10):
        rows = slice(2 + 2 * k, 4 + 2 * k)
        images[labels == k, rows, 4:24] = 220
    return images


def write_fashion(folder: Path, n_train: int = 600, n_test: int = 200, gz: bool = True) -> Path:
    """A tiny Fashion-MNIST folder: the four files, balanced labels."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for split, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        labels = (torch.arange(n) % 10).to(torch.uint8)
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", make_images(labels, seed), gz)
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", labels, gz)
    return folder


@pytest.fixture
def tiny_fashion(tmp_path: Path) -> Path:
    """A folder with four tiny gzip IDX files (600 train, 200 test images)."""
    return write_fashion(tmp_path / "fashion")


@pytest.fixture
def no_system_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide the Debian data folder, the env folder and the cache; make downloads fail fast."""
    from genlab.data import fashion_mnist

    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", [])
    monkeypatch.setattr(fashion_mnist, "MIRRORS", ["http://127.0.0.1:9/"])
    monkeypatch.delenv("GENLAB_DATA_DIR", raising=False)
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))


def interrupted_then_resumed(
    data: object,
    config: object,
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    interrupt_at: int,
    final_samples: int,
) -> tuple[object, object]:
    """Train a GAN once straight through, then again into ``out`` with Ctrl-C (SIGINT) during
    epoch ``interrupt_at`` and ``--resume``; returns (whole run, resumed run) for the caller
    to compare."""
    import os
    import signal

    from genlab.errors import Interrupted
    from genlab.gan.engine import train_gan

    whole = train_gan(data, config, final_samples=final_samples, plots=False)
    real_batches = data.real_batches
    calls = {"n": 0}

    def interrupting(*args: object, **kwargs: object) -> list:
        calls["n"] += 1
        if calls["n"] == interrupt_at:
            os.kill(os.getpid(), signal.SIGINT)
        return real_batches(*args, **kwargs)

    monkeypatch.setattr(data, "real_batches", interrupting)
    with pytest.raises(Interrupted):
        train_gan(data, config, out=out, plots=False, final_samples=final_samples)
    monkeypatch.setattr(data, "real_batches", real_batches)
    resumed = train_gan(
        data, config, out=out, plots=False, resume=True, final_samples=final_samples
    )
    for a, b in zip(
        whole.generator.state_dict().values(),
        resumed.generator.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(a, b)
    return whole, resumed
