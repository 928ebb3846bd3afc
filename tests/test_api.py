"""The Python API a notebook uses: genlab.classify.*, genlab.evaluate."""

from __future__ import annotations

from pathlib import Path

import pytest

import genlab


def test_classify_train_load_evaluate(tiny_fashion: Path, tmp_path: Path) -> None:
    run = genlab.classify.train(
        "binary", epochs=2, data_dir=str(tiny_fashion), quiet=True, out=tmp_path / "b", device="cpu"
    )
    assert run.config.task == "binary" and 0.5 <= run.test_accuracy <= 1.0
    again = genlab.classify.load(tmp_path / "b")
    assert again.summary["test_accuracy"] == run.test_accuracy
    figures = genlab.evaluate(tmp_path / "b", data_dir=str(tiny_fashion))
    assert figures["test_accuracy"] == run.test_accuracy
    pairs = again.predict_indices([0, 9])  # test labels are index % 10: T-shirt, ankle boot
    assert [true for true, _ in pairs] == ["T-shirt/top", "Ankle boot"]
    assert all(pred in again.class_names for _, pred in pairs)
    html = run._repr_html_()
    assert "<table>" in html and "test_accuracy" in html


def test_book_preset_from_python(tiny_fashion: Path) -> None:
    run = genlab.classify.train(
        "multiclass", preset="book", epochs=1, quiet=True, data_dir=str(tiny_fashion), device="cpu"
    )
    assert run.config.preset == "book" and run.config.restore_best is False


def test_gan_train_load_sample_evaluate(tmp_path: Path) -> None:
    run = genlab.gan.train(
        "sine", epochs=4, eval_every=2, quiet=True, plots=False, out=tmp_path / "sine"
    )
    assert run.summary["kind"] == "gan" and run.summary["epochs_run"] == 4
    loaded = genlab.gan.load(tmp_path / "sine")
    assert loaded.summary["metrics"] == run.summary["metrics"]
    a, b = loaded.sample(50, seed=1), genlab.gan.load(tmp_path / "sine").sample(50, seed=1)
    assert a.shape == (50, 2) and a.equal(b)
    figures = genlab.evaluate(tmp_path / "sine")  # dispatches on the model file's kind
    assert figures == pytest.approx(run.summary["metrics"], rel=1e-6)
    assert "relation_nrmse" in loaded._repr_html_()


def test_gan_integers_from_python() -> None:
    run = genlab.gan.train("integers", rule="n % 4 == 2", max_value=40, quiet=True, plots=False)
    assert run.summary["metrics"]["n_valid_values"] == 10
    assert run.summary["metrics"]["validity"] == 1.0
