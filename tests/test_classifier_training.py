"""Training, evaluation and model files of the classifiers, on tiny IDX data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from genlab.classify.engine import (
    evaluate,
    load_classifier,
    logits_to_labels,
    predict_logits,
    train_classifier,
)
from genlab.config import ClassifierConfig
from genlab.errors import ConfigError, RunFileError
from genlab.training import runs


def test_learns_tiny_data_and_writes_the_run_folder(tiny_fashion: Path, tmp_path: Path) -> None:
    config = ClassifierConfig(epochs=6, patience=3, data_dir=str(tiny_fashion), device="cpu")
    run = train_classifier(config, out=tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["test_accuracy"] >= 0.9  # 10 clearly separable bands
    assert summary["test_total"] == 200
    assert summary["test_accuracy"] == summary["test_correct"] / 200
    for key in (
        "kind",
        "task",
        "model",
        "epochs_run",
        "best_epoch",
        "stopped_early",
        "best_val_loss",
        "per_class_accuracy",
        "confusion_matrix",
        "train_seconds",
        "seconds_per_epoch",
        "seed",
        "config",
    ):
        assert key in summary, key
    assert summary["kind"] == "classifier" and len(summary["per_class_accuracy"]) == 10
    matrix = torch.tensor(summary["confusion_matrix"])
    assert matrix.sum() == 200 and int(matrix.diag().sum()) == summary["test_correct"]
    lines = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,train_loss,val_loss,val_accuracy")
    assert len(lines) == 1 + summary["epochs_run"]
    for name in ("loss.png", "accuracy.png", "confusion_matrix.png", "predictions.png"):
        assert (tmp_path / "run" / "plots" / name).stat().st_size > 1000
    assert run.test_accuracy == summary["test_accuracy"]


def test_same_seed_same_run(tiny_fashion: Path) -> None:
    config = ClassifierConfig(epochs=2, data_dir=str(tiny_fashion), device="cpu")
    a = train_classifier(config, plots=False)
    b = train_classifier(config, plots=False)
    assert a.summary["test_accuracy"] == b.summary["test_accuracy"]
    for (name, pa), pb in zip(
        a.model.state_dict().items(), b.model.state_dict().values(), strict=True
    ):
        assert torch.equal(pa, pb), name


def test_save_load_identical_predictions(tiny_fashion: Path, tmp_path: Path) -> None:
    config = ClassifierConfig(task="binary", epochs=3, data_dir=str(tiny_fashion), device="cpu")
    run = train_classifier(config, out=tmp_path / "b", plots=False)
    model, loaded_config, names = load_classifier(tmp_path / "b")
    assert loaded_config == config and names == ("T-shirt/top", "Ankle boot")
    x = torch.randn(16, 1, 28, 28)
    assert torch.equal(predict_logits(model, x), predict_logits(run.model, x))
    payload = torch.load(tmp_path / "b" / "model.pt", weights_only=True)  # plain torch, safe
    assert payload["kind"] == "classifier" and payload["config"]["task"] == "binary"


def test_binary_threshold_is_strictly_greater() -> None:
    logits = torch.tensor([[0.0], [0.01], [-0.01]])  # sigmoid = 0.5, >0.5, <0.5
    assert logits_to_labels(logits, "binary", 0.5).tolist() == [0, 1, 0]
    assert logits_to_labels(logits, "binary", 0.4).tolist() == [1, 1, 1]


def test_accuracy_is_exact_not_a_mean_of_batches() -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    x = torch.randn(5000, 1, 28, 28)  # > one eval batch of 4096
    labels = predict_logits(model, x).argmax(1)
    y = labels.clone()
    y[:7] = (y[:7] + 1) % 10
    assert evaluate(model, x, y, "multiclass")["accuracy"] == (5000 - 7) / 5000


def test_finished_run_is_not_overwritten(tiny_fashion: Path, tmp_path: Path) -> None:
    config = ClassifierConfig(epochs=1, data_dir=str(tiny_fashion), device="cpu")
    train_classifier(config, out=tmp_path / "r", plots=False)
    before = (tmp_path / "r" / "model.pt").read_bytes()
    with pytest.raises(Exception, match="already holds a finished run"):
        train_classifier(config, out=tmp_path / "r", plots=False)
    assert (tmp_path / "r" / "model.pt").read_bytes() == before
    train_classifier(config, out=tmp_path / "r", plots=False, overwrite=True)


def test_book_preset() -> None:
    binary = ClassifierConfig.book("binary")
    assert (binary.epochs, binary.patience, binary.restore_best) == (50, None, False)
    multi = ClassifierConfig.book("multiclass")
    assert (multi.epochs, multi.patience, multi.batch_size, multi.lr) == (100, 10, 64, 1e-3)


@pytest.mark.parametrize(
    "changes,flag",
    [
        ({"batch_size": 0}, "--batch-size"),
        ({"epochs": -1}, "--epochs"),
        ({"threshold": 1.0}, "--threshold"),
        ({"lr": 0.0}, "--lr"),
        ({"task": "x"}, "--task"),
    ],
)
def test_bad_settings(changes: dict, flag: str) -> None:
    with pytest.raises(ConfigError, match=flag):
        ClassifierConfig(**changes)


def test_wrong_kind_and_foreign_files(tmp_path: Path) -> None:
    runs.save_model_file(tmp_path / "g.pt", "gan", {}, {"w": torch.zeros(1)})
    with pytest.raises(RunFileError, match="holds a gan model, not a classifier"):
        load_classifier(tmp_path / "g.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(RunFileError, match="not a genlab model file"):
        load_classifier(tmp_path / "other.pt")
    with pytest.raises(RunFileError, match="not a genlab run folder"):
        load_classifier(tmp_path)
