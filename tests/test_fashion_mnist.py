"""IDX reader, data discovery, split and pixel scaling."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import torch

from genlab.data import fashion_mnist as fm
from genlab.errors import DataError
from tests.conftest import idx_bytes, write_fashion, write_idx


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trip(tmp_path: Path, gz: bool) -> None:
    images = torch.randint(0, 256, (7, 28, 28), dtype=torch.uint8)
    path = write_idx(tmp_path / "imgs", images, gz=gz)
    assert torch.equal(fm.read_idx(path), images)
    labels = torch.tensor([0, 9, 3], dtype=torch.uint8)
    assert torch.equal(fm.read_idx(write_idx(tmp_path / "labs", labels, gz=gz)), labels)


def test_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "bad"
    path.write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 12)
    with pytest.raises(DataError, match="wrong magic"):
        fm.read_idx(path)


def test_wrong_type_code(tmp_path: Path) -> None:
    path = tmp_path / "float.idx"
    path.write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01" + b"\x00" * 4)
    with pytest.raises(DataError, match="expected unsigned-byte"):
        fm.read_idx(path)


def test_truncated_data_and_header(tmp_path: Path) -> None:
    data = idx_bytes(torch.zeros(5, 28, 28, dtype=torch.uint8))
    path = tmp_path / "short"
    path.write_bytes(data[:-10])
    with pytest.raises(DataError, match="header promises"):
        fm.read_idx(path)
    path.write_bytes(data[:9])
    with pytest.raises(DataError, match="incomplete IDX header"):
        fm.read_idx(path)


def test_corrupt_gzip(tmp_path: Path) -> None:
    blob = gzip.compress(idx_bytes(torch.zeros(50, 28, 28, dtype=torch.uint8)))
    path = tmp_path / "x.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="truncated or corrupt .gz"):
        fm.read_idx(path)


def test_labels_out_of_range(tmp_path: Path) -> None:
    folder = write_fashion(tmp_path / "d", n_train=20, n_test=10)
    labels = (torch.arange(20) % 10).to(torch.uint8)
    labels[13] = 12
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataError, match="label 12 at position 13"):
        fm.load_split(folder, "train")


def test_count_mismatch(tmp_path: Path) -> None:
    folder = write_fashion(tmp_path / "d", n_train=20, n_test=10)
    write_idx(folder / "train-labels-idx1-ubyte.gz", torch.zeros(19, dtype=torch.uint8))
    with pytest.raises(DataError, match="20 images but .* 19 labels"):
        fm.load_split(folder, "train")


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = write_fashion(tmp_path / "explicit", 20, 10)
    env = write_fashion(tmp_path / "env", 20, 10)
    system = write_fashion(tmp_path / "system", 20, 10)
    cache = write_fashion(tmp_path / "cache" / "fashion-mnist", 20, 10)
    monkeypatch.setattr(fm, "SYSTEM_DIRS", [system])
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GENLAB_DATA_DIR", str(env))
    assert fm.find_data_dir(explicit) == explicit
    assert fm.find_data_dir() == env
    monkeypatch.delenv("GENLAB_DATA_DIR")
    assert fm.find_data_dir() == system
    monkeypatch.setattr(fm, "SYSTEM_DIRS", [tmp_path / "nowhere"])
    assert fm.find_data_dir() == cache


def test_raw_files_are_found(tmp_path: Path) -> None:
    folder = write_fashion(tmp_path / "raw", 20, 10, gz=False)
    assert fm.find_data_dir(folder) == folder
    images, labels = fm.load_split(folder, "test")
    assert images.shape == (10, 28, 28) and labels.dtype == torch.int64


def test_missing_data_offline_says_where_and_how(no_system_data: None) -> None:
    with pytest.raises(DataError) as info:
        fm.find_data_dir()
    message = str(info.value)
    assert "looked in" in message and "apt-get install dataset-fashion-mnist" in message
    assert "download" in message and "\n" not in message


def test_data_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        fm.find_data_dir(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="lacks the Fashion-MNIST files"):
        fm.find_data_dir(tmp_path / "empty")


def test_split_is_seeded_disjoint_and_complete() -> None:
    train, val = fm.split_indices(600, 100, seed=42)
    again, _ = fm.split_indices(600, 100, seed=42)
    other, _ = fm.split_indices(600, 100, seed=7)
    assert torch.equal(train, again) and not torch.equal(train, other)
    assert len(train) == 500 and len(val) == 100
    assert sorted(torch.cat([train, val]).tolist()) == list(range(600))


def test_split_matches_random_split() -> None:
    """Same order as the book's torch.utils.data.random_split with the same generator seed."""
    from torch.utils.data import random_split

    train, val = fm.split_indices(600, 100, seed=42)
    a, b = random_split(range(600), [500, 100], generator=torch.Generator().manual_seed(42))
    assert train.tolist() == list(a.indices) and val.tolist() == list(b.indices)


def test_classification_data(tiny_fashion: Path) -> None:
    data = fm.load_classification_data("multiclass", tiny_fashion, seed=42)
    assert data.train_x.shape == (500, 1, 28, 28) and data.val_x.shape == (100, 1, 28, 28)
    assert data.test_x.shape == (200, 1, 28, 28)
    assert data.train_x.min() >= -1.0 and data.train_x.max() <= 1.0
    assert data.train_x.dtype == torch.float32 and data.class_names == fm.CLASS_NAMES
    # ToTensor + Normalize(0.5, 0.5): 0 -> -1, 255 -> 1
    assert fm.to_model_input(torch.tensor([[[0, 255]]], dtype=torch.uint8)).flatten().tolist() == [
        -1.0,
        1.0,
    ]


def test_binary_keeps_tshirts_and_boots(tiny_fashion: Path) -> None:
    data = fm.load_classification_data("binary", tiny_fashion, seed=42)
    assert data.class_names == ("T-shirt/top", "Ankle boot")
    assert set(data.test_y.tolist()) == {0, 1} and data.test_y.numel() == 40
    assert data.train_y.numel() + data.val_y.numel() == 120


def test_short_files_under_the_standard_names_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short but self-consistent file would quietly change the split: refuse it unless the
    folder is declared a subset."""
    monkeypatch.delenv(fm.SUBSET_ENV)
    folder = write_fashion(tmp_path / "d", n_train=600, n_test=200)
    with pytest.raises(DataError) as info:
        fm.load_classification_data("multiclass", folder)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz holds 600 images" in message
    assert "Fashion-MNIST train file has 60,000" in message and fm.SUBSET_ENV in message
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz holds 200 images .* 10,000"):
        fm.load_split(folder, "test")
    # explicitly a subset: by argument or by the environment
    assert fm.load_split(folder, "test", subset=True)[0].shape == (200, 28, 28)
    assert fm.load_classification_data("multiclass", folder, subset=True).sizes()["test"] == 200
    monkeypatch.setenv(fm.SUBSET_ENV, "1")
    assert fm.load_split(folder, "train")[1].shape == (600,)
    monkeypatch.setenv(fm.SUBSET_ENV, "0")
    with pytest.raises(DataError, match="holds 600 images"):
        fm.load_split(folder, "train")


def test_official_counts_are_checked_for_labels_too(tmp_path: Path) -> None:
    labels = torch.zeros(9_999, dtype=torch.uint8)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte holds 9,999 labels .* 10,000"):
        fm.check_official_count(tmp_path / "t10k-labels-idx1-ubyte", labels, "test")
    fm.check_official_count(tmp_path / "x", torch.zeros(10_000, dtype=torch.uint8), "test")
    fm.check_official_count(tmp_path / "x", torch.zeros(60_000, 28, 28, dtype=torch.uint8), "train")
