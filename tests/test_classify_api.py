"""genlab.classify's own checks and figures: input checks, train/eval mode, splits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from genlab import classify
from genlab.classify.engine import (
    FIGURE_SPLIT,
    ClassifierRun,
    predict_logits,
    split_info,
    train_classifier,
)
from genlab.config import ClassifierConfig
from genlab.data.fashion_mnist import ClassificationData, load_classification_data
from genlab.errors import ConfigError, DataError
from tests.conftest import write_fashion


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fashion(tmp_path_factory.mktemp("data") / "fashion")


@pytest.fixture(scope="module")
def run_dir(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "fm10"
    classify.train(epochs=6, data_dir=str(data_dir), device="cpu", quiet=True, plots=False, out=out)
    return out


def test_predict_keeps_the_callers_train_mode(run_dir: Path) -> None:
    run = classify.load(run_dir)
    run.model.train()
    labels = run.predict(torch.zeros(3, 1, 28, 28))
    assert labels.shape == (3,)
    assert run.model.training and all(m.training for m in run.model.modules())
    run.predict_indices([0, 1])
    assert run.model.training


def test_predict_logits_restores_each_modules_mode_and_has_no_gradients() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.5))
    model.eval()
    model[1].train()  # a mixed state (dropout on): the caller's choice, kept exactly
    x = torch.ones(8, 4)
    logits = predict_logits(model, x)
    assert torch.equal(logits, model[0](x).detach())  # dropout was off while predicting
    assert not logits.requires_grad
    assert [m.training for m in model.modules()] == [False, False, True]


def test_checks_live_in_the_api(run_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    run = classify.load(run_dir)
    with pytest.raises(ConfigError, match=r"--index 200 is out of range.*200 images \(0\.\.199\)"):
        classify.predict_indices(run, [0, 200], data_dir)
    with pytest.raises(ConfigError, match="--index -1 is out of range"):
        run.predict_indices([-1], data_dir)
    with pytest.raises(ConfigError, match="at least one"):
        classify.predict_indices(run, [], data_dir)
    with pytest.raises(ConfigError, match="not a whole number"):
        run.predict_indices([1.5], data_dir)  # type: ignore[list-item]
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match="not a readable image"):
        classify.predict_images(run, [tmp_path / "junk.png"])
    with pytest.raises(DataError, match="does not exist"):
        classify.predict_images(run_dir, [tmp_path / "none.png"])
    with pytest.raises(ConfigError, match="one or more image files"):
        classify.predict_images(run, [])
    with pytest.raises(DataError, match=r"shape \(N, 1, 28, 28\)"):
        run.predict(torch.zeros(2, 28, 28))
    with pytest.raises(ConfigError, match="--threshold"):
        classify.train("binary", threshold=1.5, data_dir=str(data_dir), quiet=True)
    with pytest.raises(ConfigError, match="unknown classifier setting 'epochz'"):
        classify.make_config(epochz=3)


def test_predict_indices_matches_the_test_labels(run_dir: Path, data_dir: Path) -> None:
    pairs = classify.predict_indices(run_dir, [0, 9, 13], data_dir)
    assert [true for true, _ in pairs] == ["T-shirt/top", "Ankle boot", "Dress"]


def test_predict_images(run_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    from tests.conftest import make_images

    Image.fromarray(make_images(torch.tensor([1]), seed=3)[0].numpy()).save(tmp_path / "t.png")
    [prediction] = classify.predict_images(run_dir, [tmp_path / "t.png"])
    assert prediction.path == str(tmp_path / "t.png") and prediction.label == "Trouser"
    assert prediction.score_name == "confidence" and 0.1 < prediction.score <= 1.0


def test_evaluate_writes_eval_json_with_its_splits(run_dir: Path, data_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    report = classify.evaluate(run_dir, data_dir, write=True)
    written = json.loads((run_dir / classify.EVAL_FILE).read_text())
    assert written == json.loads(json.dumps(report))
    assert report["test_accuracy"] == summary["test_accuracy"]
    assert report["splits"] == {"train": 500, "validation": 100, "test": 200, "seed": 42}
    assert report["figure_split"] == {
        key: "test"
        for key in (
            "test_loss",
            "test_accuracy",
            "test_correct",
            "test_total",
            "per_class_accuracy",
            "confusion_matrix",
        )
    }


def test_summary_states_the_split_of_every_figure(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["splits"] == {"train": 500, "validation": 100, "test": 200, "seed": 42}
    figure_split = summary["figure_split"]
    assert figure_split["best_val_loss"] == "validation" and figure_split["best_epoch"] == (
        "validation"
    )
    assert figure_split["train_loss"] == "train" and figure_split["val_loss"] == "validation"
    for key in ("test_accuracy", "test_loss", "per_class_accuracy", "confusion_matrix"):
        assert figure_split[key] == "test"
    columns = (run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    reported = [k for k in [*summary, *columns] if k in FIGURE_SPLIT]
    assert set(reported) == set(figure_split) == set(FIGURE_SPLIT)


def _sized(train: int, validation: int, test: int) -> ClassificationData:
    """Data with the given split sizes (labels only matter for the sizes)."""
    empty = torch.zeros(0)
    return ClassificationData(
        train_x=empty,
        train_y=torch.zeros(train, dtype=torch.long),
        val_x=empty,
        val_y=torch.zeros(validation, dtype=torch.long),
        test_x=empty,
        test_y=torch.zeros(test, dtype=torch.long),
        class_names=("a", "b"),
        test_images=empty,
    )


def test_split_info_of_the_full_data_set() -> None:
    info = split_info(_sized(50_000, 10_000, 10_000), ClassifierConfig(seed=7), ["test_loss"])
    assert info == {
        "splits": {"train": 50_000, "validation": 10_000, "test": 10_000, "seed": 7},
        "figure_split": {"test_loss": "test"},
    }


def test_binary_splits_are_the_kept_classes(data_dir: Path) -> None:
    data = load_classification_data("binary", data_dir, seed=42)
    sizes = data.sizes()
    assert sizes["test"] == 40 and sizes["train"] + sizes["validation"] == 120
    assert sizes == {"train": 103, "validation": 17, "test": 40}  # seed 42's draw


def test_model_selection_never_sees_the_test_split(data_dir: Path) -> None:
    """Early stopping, best weights and lr decay depend on train and validation data only:
    replacing the test images and labels changes nothing but the test figures."""
    config = ClassifierConfig(epochs=5, patience=2, data_dir=str(data_dir), device="cpu")
    data = load_classification_data("multiclass", data_dir, seed=42)
    scrambled = ClassificationData(
        **{
            **data.__dict__,
            "test_x": torch.rand_like(data.test_x) * 2 - 1,
            "test_y": data.test_y.flip(0),
        }
    )
    a = train_classifier(config, data=data, plots=False)
    b = train_classifier(config, data=scrambled, plots=False)
    assert isinstance(a, ClassifierRun) and a.summary["epochs_run"] >= 3
    for key in ("epochs_run", "best_epoch", "stopped_early", "best_val_loss"):
        assert a.summary[key] == b.summary[key], key
    columns = ("train_loss", "val_loss", "val_accuracy", "lr")
    assert [[row[k] for k in columns] for row in a.history] == [
        [row[k] for k in columns] for row in b.history
    ]
    for name, weight in a.model.state_dict().items():
        assert torch.equal(weight, b.model.state_dict()[name]), name
    assert a.summary["test_accuracy"] != b.summary["test_accuracy"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "task,sizes",
    [
        ("multiclass", {"train": 50_000, "validation": 10_000, "test": 10_000}),
        ("binary", {"train": 9_894, "validation": 2_106, "test": 2_000}),
    ],
)
def test_real_data_splits(task: str, sizes: dict[str, int], monkeypatch) -> None:
    from tests.conftest import REAL_DATA

    if not REAL_DATA.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    monkeypatch.delenv("GENLAB_FASHION_SUBSET")  # the official counts are checked
    data = load_classification_data(task, REAL_DATA, seed=42)
    info = split_info(data, ClassifierConfig(task=task), FIGURE_SPLIT)
    assert info["splits"] == {**sizes, "seed": 42}
