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
from typing import TYPE_CHECKING

import numpy as np
import torch

from genlab.errors import DataError

if TYPE_CHECKING:
    from PIL import Image

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


#: How far a pixel may be from the background colour (a share of 0-255, in any RGB channel)
#: and still count as background when an image is trimmed to its item. Fashion-MNIST used 5%
#: on studio shots; photos of an item on paper or a table need a little more.
TRIM_TOLERANCE = 0.1
#: The share of a border row's or column's pixels that may stand out (specks, noise) and the
#: row or column still be trimmed as background.
TRIM_SPECKS = 0.01
#: Larger image files are first reduced to this many pixels on their longest side.
LARGEST_SIDE = 1024


def _as_rgb(img: Image.Image) -> np.ndarray:
    """A PIL image -> (H, W, 3) float RGB, at most :data:`LARGEST_SIDE` pixels a side;
    transparent pixels become a uniform background, white behind a dark item and black
    behind a light one."""
    transparent = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
    img = img.convert("RGBA" if transparent else "RGB")
    img.thumbnail((LARGEST_SIDE, LARGEST_SIDE))  # quicker; the item ends up 28 pixels anyway
    if not transparent:
        return np.asarray(img, dtype=np.float32)
    rgba = np.asarray(img, dtype=np.float32)
    rgb, alpha = rgba[..., :3], rgba[..., 3:] / 255.0
    weight = float(alpha.sum())
    item_level = float((rgb.mean(axis=2, keepdims=True) * alpha).sum()) / max(weight, 1e-6)
    canvas = 255.0 if item_level < 127.5 else 0.0
    return rgb * alpha + canvas * (1.0 - alpha)


def item_box(rgb: np.ndarray, background: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), ends exclusive, of the item in an (H, W, 3) image: the
    border rows and columns of the ``background`` colour trimmed; None if nothing is left."""
    differs = (np.abs(rgb - background).max(axis=2) > TRIM_TOLERANCE * 255).astype(np.float32)
    rows = np.flatnonzero(differs.mean(axis=1) > TRIM_SPECKS)
    cols = np.flatnonzero(differs.mean(axis=0) > TRIM_SPECKS)
    if rows.size == 0 or cols.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def prepare_image(pixels: np.ndarray, invert: bool = True, name: str = "the image") -> torch.Tensor:
    """An (H, W) grey or (H, W, 3) RGB image, 0-255 -> uint8 (28, 28) made as Fashion-MNIST was.

    As the dataset's paper describes (Xiao et al. 2017): trimmed to the item (the border rows
    and columns of the background colour, the median colour of the image's edge, are removed),
    resized so the item's longest side is 28 pixels (aspect ratio kept), centred on a square
    canvas of the background colour and turned to grey levels. With ``invert`` the image is
    then mapped so the background is black: an item darker than its background (a light
    background) is inverted, since Fashion-MNIST items are light on a dark background.
    Without it the grey levels are kept as they are. A :class:`DataError` names ``name`` when
    nothing stands out from the background.
    """
    from PIL import Image

    rgb = np.asarray(pixels, dtype=np.float32)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
        raise DataError(f"{name} must be an (H, W) or (H, W, 3) image; got shape {rgb.shape}")
    edge = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    background = np.median(edge, axis=0)
    box = item_box(rgb, background)
    if box is None:
        raise DataError(
            f"{name} is blank: no item stands out from its background "
            f"(every pixel is within {TRIM_TOLERANCE:.0%} of one colour)"
        )
    top, bottom, left, right = box
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as PIL's "L"
    gray = rgb[top:bottom, left:right] @ luma
    level = float(background @ luma)
    height, width = gray.shape
    scale = IMAGE_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    item = Image.fromarray(np.ascontiguousarray(gray)).resize(size, Image.Resampling.LANCZOS)
    canvas = Image.new("F", (IMAGE_SIZE, IMAGE_SIZE), level)
    canvas.paste(item, ((IMAGE_SIZE - size[0]) // 2, (IMAGE_SIZE - size[1]) // 2))
    square = np.asarray(canvas, dtype=np.float32)
    if invert:
        if float((gray - level).mean()) < 0:  # a darker item: a light background, inverted
            square = (level - square) * (255.0 / max(level, 1.0))
        else:
            square = (square - level) * (255.0 / max(255.0 - level, 1.0))
    return torch.from_numpy(np.clip(square.round(), 0, 255).astype(np.uint8))


def load_image(path: str | Path, invert: bool = True) -> torch.Tensor:
    """Any image file -> (1, 28, 28) float in [-1, 1], a light item on a dark background.

    Any size, grey or colour; transparent pixels count as background and a photo's EXIF
    rotation is applied. The item is trimmed, resized, centred and (with ``invert``, when it
    is darker than its background) inverted as Fashion-MNIST's items were: see
    :func:`prepare_image`.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            rgb = _as_rgb(ImageOps.exif_transpose(img))
    except FileNotFoundError as exc:
        raise DataError(f"--image {path} does not exist") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"--image {path} is not a readable image file") from exc
    pixels = prepare_image(rgb, invert=invert, name=f"--image {path}")
    return to_model_input(pixels.unsqueeze(0))[0]
