"""Your own images: prepared as Fashion-MNIST's were (trimmed, resized, centred, inverted),
predicted with the three likeliest classes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genlab import classify
from genlab.cli import main
from genlab.data.fashion_mnist import load_image, load_split, prepare_image, to_model_input
from genlab.errors import DataError
from tests.conftest import REAL_DATA, make_images, write_fashion


def box(pixels: torch.Tensor, above: int = 127) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), ends inclusive, of the pixels brighter than ``above``."""
    rows, cols = np.nonzero(pixels.numpy() > above)
    return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())


@pytest.mark.parametrize("background", [255, 0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_item_anywhere_comes_out_centred_light_on_dark(background: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    canvas = np.full((150, 200, 3), background, dtype=np.uint8)
    top, left = rng.integers(0, 150 - 60), rng.integers(0, 200 - 30)
    canvas[top : top + 60, left : left + 30] = (40, 60, 200) if background else (230, 200, 90)
    pixels = prepare_image(canvas)
    assert pixels.shape == (28, 28) and pixels.dtype == torch.uint8
    assert box(pixels) == (0, 27, 7, 20)  # 60x30 -> 28x14, centred
    assert pixels[box(pixels)[0], 7:21].float().mean() > 100  # light item ...
    assert pixels[:, :6].max() == 0 and pixels[:, 22:].max() == 0  # ... on black


def test_a_fashion_mnist_image_is_left_as_it_is() -> None:
    item = torch.zeros(28, 28, dtype=torch.uint8)
    item[:, 10:18] = torch.arange(100, 228, 16, dtype=torch.uint8)
    assert torch.equal(prepare_image(item.numpy()), item)


def test_no_invert_keeps_the_grey_levels(tmp_path: Path) -> None:
    canvas = np.full((40, 40), 250, dtype=np.uint8)
    canvas[5:25, 5:15] = 20
    pixels = prepare_image(canvas, invert=False)
    assert pixels[0, 0] == 250 and pixels[14, 14] == 20


def test_transparent_pixels_are_background(tmp_path: Path) -> None:
    for colour, name in (((30, 30, 30, 255), "dark.png"), ((240, 240, 240, 255), "light.png")):
        rgba = np.zeros((80, 100, 4), dtype=np.uint8)  # transparent black around the item
        rgba[30:70, 60:80] = colour
        Image.fromarray(rgba, mode="RGBA").save(tmp_path / name)
        pixels = load_image(tmp_path / name)  # (1, 28, 28) in [-1, 1]
        assert pixels.shape == (1, 28, 28)
        light = pixels[0] > 0
        assert light[:, 7:21].all() and not light[:, :7].any() and not light[:, 21:].any()


def test_a_blank_image_is_a_clear_error(tmp_path: Path) -> None:
    Image.new("RGB", (64, 48), "white").save(tmp_path / "white.png")
    with pytest.raises(DataError, match=r"white\.png is blank: no item stands out"):
        load_image(tmp_path / "white.png")
    faint = np.random.default_rng(0).integers(120, 135, (30, 30)).astype(np.uint8)
    with pytest.raises(DataError, match="is blank"):
        prepare_image(faint)
    with pytest.raises(DataError, match="is blank"):
        prepare_image(np.zeros((1, 1), dtype=np.uint8))


def test_a_tiny_image_is_scaled_up() -> None:
    tiny = np.full((3, 4), 255, dtype=np.uint8)
    tiny[1, 1:3] = 0  # a 1x2 item
    pixels = prepare_image(tiny)
    assert box(pixels) == (7, 20, 0, 27)  # 28 wide, 14 high, centred


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A multiclass and a binary classifier trained on tests/conftest.py's tiny data."""
    data = write_fashion(tmp_path_factory.mktemp("data") / "fashion")
    runs = tmp_path_factory.mktemp("runs")
    for task in ("multiclass", "binary"):
        settings = {"data_dir": str(data), "device": "cpu", "quiet": True, "plots": False}
        classify.train(task, epochs=2, out=runs / task, **settings)
    return {task: runs / task for task in ("multiclass", "binary")}


def _save_band_image(path: Path, label: int) -> Path:
    Image.fromarray(make_images(torch.tensor([label]), seed=3)[0].numpy()).save(path)
    return path


def test_top_classes_are_sorted_probabilities(tiny_runs: dict[str, Path], tmp_path: Path) -> None:
    paths = [_save_band_image(tmp_path / f"{k}.png", k) for k in (1, 9)]
    for task, k in (("multiclass", 3), ("binary", 2)):
        for p in classify.predict_images(tiny_runs[task], paths):
            names, probabilities = zip(*p.top, strict=True)
            assert len(p.top) == k and len(set(names)) == k
            assert list(probabilities) == sorted(probabilities, reverse=True)
            assert 0 <= min(probabilities) and sum(probabilities) <= 1 + 1e-6
            assert names[0] == p.label
            if task == "binary":
                assert sum(probabilities) == pytest.approx(1)
                assert dict(p.top)["Ankle boot"] == pytest.approx(p.score)
            else:
                assert probabilities[0] == pytest.approx(p.score)


def test_cli_prints_the_top_three(
    tiny_runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    paths = [str(_save_band_image(tmp_path / f"{k}.png", k)) for k in (1, 3)]
    assert main(["classify", "predict", str(tiny_runs["multiclass"]), "--image", *paths]) == 0
    lines = capsys.readouterr().out.splitlines()
    score = r"\d\.\d{3}"
    pattern = rf"(.+): prediction is (.+) \(confidence ({score})\); top 3: (.+) ({score})"
    pattern += rf", .+ {score}, .+ {score}"
    assert len(lines) == 2
    for path, line in zip(paths, lines, strict=True):
        match = re.fullmatch(pattern, line)
        assert match, line
        assert match[1] == path and match[2] == match[4] and match[3] == match[5]
    assert main(["classify", "predict", str(tiny_runs["binary"]), "--image", paths[0]]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(rf".+ \(p\(Ankle boot\) = {score}\); top 2: .+ {score}, .+ {score}", line)


def make_photo(item: np.ndarray, scale: int, rng: np.random.Generator) -> Image.Image:
    """A Fashion-MNIST item as a "photo": ``scale`` times larger (bicubic), dark on white, off
    the centre of a larger white canvas."""
    size = 28 * scale
    big = Image.fromarray(255 - item).resize((size, size), Image.Resampling.BICUBIC)
    width, height = int(size * 2.2), int(size * 1.7)
    canvas = Image.new("L", (width, height), 255)
    margin = size // 4  # near the left or the right edge
    left = int(rng.integers(0, margin) if rng.random() < 0.5 else width - size - margin)
    top = int(rng.integers(0, height - size))
    canvas.paste(big, (left, top))
    return canvas


def naive_input(path: Path) -> torch.Tensor:
    """The old way: the whole image resized to 28x28, inverted if its border is light."""
    with Image.open(path) as img:
        pixels = torch.from_numpy(np.array(img.convert("L").resize((28, 28), Image.LANCZOS)))
    border = torch.cat([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]).float()
    if border.mean() > 127:
        pixels = 255 - pixels
    return to_model_input(pixels.unsqueeze(0))[0]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> classify.ClassifierRun:
    if not REAL_DATA.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    out = tmp_path_factory.mktemp("real") / "fm10"
    settings = {"data_dir": str(REAL_DATA), "device": "cpu", "quiet": True, "plots": False}
    return classify.train("multiclass", "mlp", epochs=3, out=out, **settings)


@pytest.mark.slow
def test_photos_of_test_items_are_recognised(
    real_run: classify.ClassifierRun, tmp_path: Path
) -> None:
    images, labels = load_split(REAL_DATA, "test")
    right = (real_run.predict(to_model_input(images[:500])) == labels[:500]).nonzero()[:, 0]
    chosen = [int(i) for k in range(10) for i in right[labels[right] == k][:2]]  # 2 per class
    rng = np.random.default_rng(0)
    paths = []
    for n, i in enumerate(chosen):
        paths.append(tmp_path / f"item{i}.png")
        make_photo(images[i].numpy(), scale=4 + n % 5, rng=rng).save(paths[-1])
    names = [real_run.class_names[int(labels[i])] for i in chosen]
    predicted = [p.label for p in real_run.predict_images(paths)]
    naive = real_run.predict(torch.stack([naive_input(path) for path in paths]))
    recovered = sum(p == name for p, name in zip(predicted, names, strict=True))
    recovered_naive = int((naive == labels[chosen]).sum())
    print(f"photos recognised: {recovered}/20 prepared, {recovered_naive}/20 resized whole")
    assert len(chosen) == 20 and recovered >= 18
    assert recovered_naive <= recovered - 6
