"""Fashion-MNIST: find or download the four IDX files, read them, split them.

Where the files are looked for, in order: ``--data-dir``, ``$GENLAB_DATA_DIR``, the Debian
package's ``/usr/share/datasets/fashion-mnist`` (``apt-get install dataset-fashion-mnist``),
then genlab's cache folder (``$GENLAB_CACHE_DIR`` or the user cache). If none holds them,
they are downloaded into the cache from the official mirrors, each checked against its
published MD5.

Files with the standard names must hold the official counts (60,000 train and 10,000 test
images and labels, 28x28), so a short but self-consistent file cannot quietly change the
split. A reduced or custom set under the same names (tests, quick experiments) is read only
when asked for: ``subset=True`` or ``GENLAB_FASHION_SUBSET=1`` in the environment.
"""

from __future__ import annotations

import gzip
import os
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genlab.errors import DataError

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
BINARY_CLASSES: tuple[int, int] = (0, 9)  # the book's binary task: T-shirt/top vs ankle boot

FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# MD5 of the official .gz files (Zalando's README; torchvision uses the same).
MD5: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
MIRRORS: list[str] = [
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
]
SYSTEM_DIRS: list[Path] = [Path("/usr/share/datasets/fashion-mnist")]
EXPECTED_COUNTS = {"train": 60_000, "test": 10_000}
IMAGE_SIZE = 28
#: The environment variable that allows a reduced or custom set under the standard names.
SUBSET_ENV = "GENLAB_FASHION_SUBSET"
_IDX_TYPES = {0x08: torch.uint8}


def cache_dir() -> Path:
    """genlab's own folder for downloaded data."""
    env = os.environ.get("GENLAB_CACHE_DIR")
    if env:
        return Path(env) / "fashion-mnist"
    import pooch

    return Path(pooch.os_cache("genlab")) / "fashion-mnist"


def _file_in(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _complete(folder: Path) -> bool:
    return all(_file_in(folder, stem) is not None for stem in FILES.values())


def find_data_dir(data_dir: str | Path | None = None, download: bool = True) -> Path:
    """The first folder that holds all four files; download them if none does."""
    if data_dir is not None:
        folder = Path(data_dir)
        if not folder.is_dir():
            raise DataError(f"--data-dir {folder} does not exist or is not a folder")
        if not _complete(folder):
            missing = [s for s in FILES.values() if _file_in(folder, s) is None]
            raise DataError(
                f"--data-dir {folder} lacks the Fashion-MNIST files {', '.join(missing)} "
                "(.gz or uncompressed)"
            )
        return folder
    candidates: list[Path] = []
    if os.environ.get("GENLAB_DATA_DIR"):
        candidates.append(Path(os.environ["GENLAB_DATA_DIR"]))
    candidates.extend(SYSTEM_DIRS)
    candidates.append(cache_dir())
    for folder in candidates:
        if folder.is_dir() and _complete(folder):
            return folder
    looked = ", ".join(str(c) for c in candidates)
    if not download:
        raise DataError(_missing_message(looked))
    return download_fashion_mnist(cache_dir(), looked)


def _missing_message(looked: str, reason: str = "") -> str:
    why = f" and the download failed ({reason})" if reason else ""
    return (
        f"Fashion-MNIST not found (looked in {looked}){why}; either run "
        "'apt-get install dataset-fashion-mnist' or connect to the internet so genlab can "
        "download it (or pass --data-dir with the four IDX files)"
    )


def download_fashion_mnist(folder: Path, looked: str = "") -> Path:
    """Download the four official .gz files into ``folder``, checking each MD5 (pooch)."""
    import pooch

    pooch.get_logger().setLevel("WARNING")  # genlab reports failures itself, in one line
    folder.mkdir(parents=True, exist_ok=True)
    for name, md5 in MD5.items():
        errors = []
        for mirror in MIRRORS:
            try:
                pooch.retrieve(
                    mirror + name,
                    known_hash=f"md5:{md5}",
                    fname=name,
                    path=folder,
                    progressbar=sys.stderr.isatty(),
                )
                break
            except Exception as exc:  # network errors, HTTP errors, hash mismatch
                errors.append(f"{type(exc).__name__}")
        else:
            raise DataError(_missing_message(looked or str(folder), "; ".join(errors)))
    return folder


def read_idx(path: str | Path) -> torch.Tensor:
    """Read one IDX file (``.gz`` or raw) into a uint8 tensor, checking its header and size."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path} is a truncated or corrupt .gz file") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path} is not an IDX file (wrong magic number)")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code not in _IDX_TYPES or not 1 <= ndim <= 3:
        raise DataError(
            f"{path} has IDX magic 0x{int.from_bytes(raw[:4], 'big'):08x}; expected unsigned-byte "
            "labels (0x00000801) or images (0x00000803)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated (incomplete IDX header)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = 1
    for dim in shape:
        expected *= dim
    if len(raw) - header != expected:
        raise DataError(
            f"{path} holds {len(raw) - header} data bytes but its header promises {expected} "
            f"(shape {tuple(shape)}): the file is truncated or corrupt"
        )
    data = torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8)
    return data.reshape(shape)


def subset_allowed(subset: bool | None = None) -> bool:
    """Whether files with the standard names may hold other counts than the official ones.

    ``subset`` decides when given; otherwise ``$GENLAB_FASHION_SUBSET`` (set and not "0").
    """
    if subset is not None:
        return subset
    return os.environ.get(SUBSET_ENV, "0").strip() not in ("", "0")


def check_official_count(path: Path, tensor: torch.Tensor, split: str) -> None:
    """Refuse a Fashion-MNIST file whose item count is not the official one for ``split``."""
    what = "images" if tensor.dim() == 3 else "labels"
    expected = EXPECTED_COUNTS[split]
    if tensor.shape[0] != expected:
        raise DataError(
            f"{path} holds {tensor.shape[0]:,} {what} but the official Fashion-MNIST {split} "
            f"file has {expected:,}; for a reduced or custom set under the standard names set "
            f"{SUBSET_ENV}=1"
        )


def load_split(
    folder: Path, split: str, subset: bool | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 of ``split`` ("train" or "test").

    Unless :func:`subset_allowed`, N must be the official count (60,000 or 10,000).
    """
    prefix = "train" if split == "train" else "test"
    img_path = _file_in(folder, FILES[f"{prefix}_images"])
    lab_path = _file_in(folder, FILES[f"{prefix}_labels"])
    if img_path is None or lab_path is None:
        raise DataError(f"{folder} lacks the Fashion-MNIST {split} files")
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.dim() != 3 or tuple(images.shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(f"{img_path} holds images of shape {tuple(images.shape[1:])}, not 28x28")
    if labels.dim() != 1:
        raise DataError(f"{lab_path} is not a label file (it has {labels.dim()} dimensions)")
    if not subset_allowed(subset):
        check_official_count(img_path, images, prefix)
        check_official_count(lab_path, labels, prefix)
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{img_path.name} has {images.shape[0]} images but {lab_path.name} has "
            f"{labels.shape[0]} labels"
        )
    if labels.numel() and int(labels.max()) >= len(CLASS_NAMES):
        bad = int((labels >= len(CLASS_NAMES)).nonzero()[0, 0])
        raise DataError(
            f"{lab_path} has label {int(labels[bad])} at position {bad}; labels must be 0-9"
        )
    return images, labels.long()


def to_model_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [-1, 1], as ToTensor + Normalize(0.5, 0.5)."""
    return images.unsqueeze(1).float().div_(255.0).sub_(0.5).div_(0.5)


@dataclass
class ClassificationData:
    """The three splits as tensors on one device, and the class names of the task."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    class_names: tuple[str, ...]
    test_images: torch.Tensor  # uint8, for showing predictions

    def sizes(self) -> dict[str, int]:
        """Images per split: ``{"train": ..., "validation": ..., "test": ...}``."""
        return {
            "train": int(self.train_y.numel()),
            "validation": int(self.val_y.numel()),
            "test": int(self.test_y.numel()),
        }

    def to(self, device: torch.device | str) -> ClassificationData:
        """The same data on ``device``."""
        fields = {
            k: v.to(device) if k != "test_images" and isinstance(v, torch.Tensor) else v
            for k, v in self.__dict__.items()
        }
        return ClassificationData(**fields)


def split_indices(n: int, val_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded train/validation split of ``range(n)``, as ``random_split`` does it."""
    if not 0 < val_size < n:
        raise DataError(f"cannot hold out {val_size} of {n} training images for validation")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[: n - val_size], perm[n - val_size :]


def load_classification_data(
    task: str = "multiclass",
    data_dir: str | Path | None = None,
    seed: int = 42,
    val_size: int | None = None,
    download: bool = True,
    subset: bool | None = None,
) -> ClassificationData:
    """Train/validation/test tensors for ``task`` ("multiclass" or "binary").

    The training images are split with a seeded permutation into train and ``val_size``
    validation images (default one sixth: the book's 50,000 / 10,000 of 60,000). The binary
    task keeps classes 0 (T-shirt/top) and 9 (ankle boot) of each split, relabelled 0 and 1.
    ``subset`` allows files with other than the official counts (see :func:`subset_allowed`).
    """
    folder = find_data_dir(data_dir, download=download)
    train_images, train_labels = load_split(folder, "train", subset)
    test_images, test_labels = load_split(folder, "test", subset)
    if val_size is None:
        val_size = train_images.shape[0] // 6
    train_idx, val_idx = split_indices(train_images.shape[0], val_size, seed)
    splits = {
        "train": (train_images[train_idx], train_labels[train_idx]),
        "val": (train_images[val_idx], train_labels[val_idx]),
        "test": (test_images, test_labels),
    }
    names = CLASS_NAMES
    if task == "binary":
        negative, positive = BINARY_CLASSES
        for key, (imgs, labs) in splits.items():
            keep = (labs == negative) | (labs == positive)
            splits[key] = (imgs[keep], (labs[keep] == positive).long())
        names = (CLASS_NAMES[negative], CLASS_NAMES[positive])
    elif task != "multiclass":
        raise DataError(f"unknown task {task!r}; choose multiclass or binary")
    return ClassificationData(
        train_x=to_model_input(splits["train"][0]),
        train_y=splits["train"][1],
        val_x=to_model_input(splits["val"][0]),
        val_y=splits["val"][1],
        test_x=to_model_input(splits["test"][0]),
        test_y=splits["test"][1],
        class_names=names,
        test_images=splits["test"][0],
    )


def load_image(path: str | Path, invert: bool = True) -> torch.Tensor:
    """Any image file -> (1, 28, 28) float in [-1, 1], a light item on a dark background.

    Colour images are turned to grayscale and resized to 28x28. With ``invert``, an image
    whose border is light on average (a light background) is inverted to match Fashion-MNIST.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            gray = img.convert("L").resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
            pixels = torch.from_numpy(np.array(gray, dtype=np.uint8))  # (28, 28)
    except FileNotFoundError as exc:
        raise DataError(f"--image {path} does not exist") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"--image {path} is not a readable image file") from exc
    if invert:
        border = torch.cat([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]).float()
        if border.mean() > 127:  # a light background: invert to match Fashion-MNIST
            pixels = 255 - pixels
    return to_model_input(pixels.unsqueeze(0))[0]
