"""``genlab classify train|eval|predict``: the Fashion-MNIST classifiers (book ch. 2.4)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from genlab.commands.common import (
    add_training_flags,
    finish_reporter,
    overrides,
    print_figures,
    reporter_for,
    run_dir_from_args,
)
from genlab.commands.report import add_report_flag, report_after_training
from genlab.config import PRESETS, TASKS, ClassifierConfig
from genlab.errors import ConfigError, DataError
from genlab.training import runs

BOOK = {"multiclass": 0.8820, "binary": 0.8784}


def add_parser(groups: argparse._SubParsersAction) -> None:
    """Register ``classify`` and its subcommands."""
    parser = groups.add_parser(
        "classify",
        help="Fashion-MNIST classifiers (book ch. 2.4)",
        description="Train, evaluate and use Fashion-MNIST classifiers.",
    )
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    sub.required = True

    train = sub.add_parser(
        "train",
        help="train a classifier, evaluate it on the test set, save a run folder",
        description="Train on a seeded 50,000/10,000 train/validation split with early "
        "stopping on validation loss (best weights restored), then evaluate on the 10,000 test "
        "images. --preset book runs the book's exact settings.",
    )
    defaults = asdict(ClassifierConfig())
    train.add_argument(
        "--task",
        choices=TASKS,
        default="multiclass",
        help="multiclass (10 classes) or binary (T-shirt/top vs ankle boot)",
    )
    train.add_argument(
        "--model",
        choices=("mlp", "cnn"),
        default="mlp",
        help="the book's MLP (default) or a small CNN",
    )
    train.add_argument(
        "--preset",
        choices=PRESETS,
        default="genlab",
        help="genlab (default) or book: the book's settings (binary: 50 fixed "
        "epochs; 10-class: patience 10, best weights not restored)",
    )
    train.add_argument(
        "--threshold", type=float, help="binary cutoff on the sigmoid probability (default 0.5)"
    )
    train.add_argument("--data-dir", metavar="DIR", help="folder with the four IDX files")
    add_training_flags(train, defaults)
    schedule = train.add_argument_group("learning-rate schedule")
    schedule.add_argument(
        "--lr-decay",
        type=float,
        metavar="X",
        help="multiply the learning rate by X after --lr-patience epochs without a better "
        f"validation loss; 0 = constant (default {defaults['lr_decay']}; book preset 0)",
    )
    schedule.add_argument(
        "--lr-patience",
        type=int,
        metavar="N",
        help=f"epochs without improvement before a decay (default {defaults['lr_patience']})",
    )
    add_report_flag(train)
    train.set_defaults(handler=run_train)

    evaluate = sub.add_parser(
        "eval",
        help="reload a saved classifier and re-evaluate it",
        description="Reload RUN's model and evaluate it on the test set; writes RUN/eval.json.",
    )
    evaluate.add_argument("run", metavar="RUN", help="run folder (or model.pt)")
    evaluate.add_argument("--data-dir", metavar="DIR", help="folder with the four IDX files")
    evaluate.set_defaults(handler=run_eval)

    predict = sub.add_parser(
        "predict",
        help="predict test images by index, or your own images",
        description="Print the predicted class of test images (--index) "
        "or of image files (--image; any grayscale or colour image, "
        "resized to 28x28).",
    )
    predict.add_argument("run", metavar="RUN", help="run folder (or model.pt)")
    what = predict.add_mutually_exclusive_group(required=True)
    what.add_argument("--index", type=int, nargs="+", metavar="I", help="test-set indices")
    what.add_argument("--image", nargs="+", metavar="FILE", help="image files (PNG, JPEG, ...)")
    predict.add_argument(
        "--no-invert",
        action="store_true",
        help="do not invert light-background images (Fashion-MNIST items are "
        "light on a dark background)",
    )
    predict.add_argument("--data-dir", metavar="DIR", help="folder with the four IDX files")
    predict.set_defaults(handler=run_predict)


def config_from_args(args: argparse.Namespace) -> ClassifierConfig:
    """The run's config: the preset, then every flag the user gave."""
    given = overrides(
        args,
        (
            "epochs",
            "patience",
            "min_delta",
            "batch_size",
            "lr",
            "seed",
            "threshold",
            "device",
            "data_dir",
            "lr_decay",
            "lr_patience",
        ),
    )
    given.update(task=args.task, model=args.model)
    if args.preset == "book":
        return ClassifierConfig.book(**given)
    return ClassifierConfig(**given)


def run_train(args: argparse.Namespace) -> int:
    """``genlab classify train``."""
    from genlab.classify.engine import train_classifier

    out, resume = run_dir_from_args(args)
    reporter = reporter_for(args, out)
    run = train_classifier(
        config_from_args(args),
        out=out,
        reporter=reporter,
        overwrite=args.overwrite,
        plots=not args.no_plots,
        resume=resume,
    )
    if run.rank != 0:
        return 0  # under torchrun only rank 0 reports
    config = run.config
    s = run.summary
    print_figures(
        {
            "test_accuracy": s["test_accuracy"],
            "book_test_accuracy": BOOK[config.task],
            "epochs_run": s["epochs_run"],
            "best_epoch": s["best_epoch"],
            "stopped_early": s["stopped_early"],
            "best_val_loss": s["best_val_loss"],
            "train_seconds": s["train_seconds"],
            "seconds_per_epoch": s["seconds_per_epoch"],
        },
        title=f"{config.task} {config.model}: run folder {out}",
    )
    report_after_training(args, out)
    finish_reporter(reporter, out)
    return 0


def run_eval(args: argparse.Namespace) -> int:
    """``genlab classify eval RUN``."""
    from genlab.classify.engine import load_classifier, test_report
    from genlab.data.fashion_mnist import load_classification_data

    model, config, _ = load_classifier(args.run)
    data = load_classification_data(
        config.task, args.data_dir or config.data_dir, config.seed, val_size=config.val_size
    )
    report = test_report(model, data, config)
    report.pop("predictions")
    run_dir = runs.run_folder(args.run)
    runs.write_json(run_dir / "eval.json", report)
    print_figures(
        {
            "test_accuracy": report["test_accuracy"],
            "test_loss": report["test_loss"],
            **{f"accuracy[{k}]": v for k, v in report["per_class_accuracy"].items()},
        },
        title=f"{config.task} {config.model} from {args.run} (written to {run_dir / 'eval.json'})",
    )
    return 0


def load_image(path: str | Path, invert: bool = True) -> torch.Tensor:
    """Any image file -> (1, 28, 28) float in [-1, 1], light item on a dark background."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            gray = img.convert("L").resize((28, 28), Image.Resampling.LANCZOS)
            pixels = torch.from_numpy(np.array(gray, dtype=np.uint8))  # (28, 28)
    except FileNotFoundError as exc:
        raise DataError(f"--image {path} does not exist") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"--image {path} is not a readable image file") from exc
    if invert:
        border = torch.cat([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]).float()
        if border.mean() > 127:  # a light background: invert to match Fashion-MNIST
            pixels = 255 - pixels
    from genlab.data.fashion_mnist import to_model_input

    return to_model_input(pixels.unsqueeze(0))[0]


def run_predict(args: argparse.Namespace) -> int:
    """``genlab classify predict RUN --index ... | --image ...``."""
    from genlab.classify.engine import load_classifier, logits_to_labels, predict_logits
    from genlab.data.fashion_mnist import load_classification_data

    model, config, names = load_classifier(args.run)
    if args.index is not None:
        data = load_classification_data(
            config.task, args.data_dir or config.data_dir, config.seed, val_size=config.val_size
        )
        n = data.test_y.numel()
        bad = [i for i in args.index if not 0 <= i < n]
        if bad:
            raise ConfigError(
                f"--index {bad[0]} is out of range; the test set has {n} images (0..{n - 1})"
            )
        idx = torch.tensor(args.index)
        labels = logits_to_labels(
            predict_logits(model, data.test_x[idx]), config.task, config.threshold
        )
        for i, true, pred in zip(
            args.index, data.test_y[idx].tolist(), labels.tolist(), strict=True
        ):
            print(f"test image {i}: label is {names[true]}; prediction is {names[pred]}")
        return 0
    images = torch.stack([load_image(p, invert=not args.no_invert) for p in args.image])
    logits = predict_logits(model, images)
    labels = logits_to_labels(logits, config.task, config.threshold)
    probs = (
        torch.sigmoid(logits.squeeze(1))
        if config.task == "binary"
        else torch.softmax(logits, dim=1).max(dim=1).values
    )
    for path, pred, p in zip(args.image, labels.tolist(), probs.tolist(), strict=True):
        extra = f"p({names[1]}) = {p:.3f}" if config.task == "binary" else f"confidence {p:.3f}"
        print(f"{path}: prediction is {names[pred]} ({extra})")
    return 0
