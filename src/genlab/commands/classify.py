"""``genlab classify train|eval|predict``: the Fashion-MNIST classifiers (book ch. 2.4)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from genlab import book, classify
from genlab.commands.common import (
    add_training_flags,
    finish_reporter,
    overrides,
    print_figures,
    print_verdict,
    report_seeds,
    reporter_for,
    run_dir_from_args,
    seeds_of,
)
from genlab.commands.report import add_report_flag, report_after_training
from genlab.config import PRESETS, TASKS, ClassifierConfig
from genlab.training import runs

#: What ``classify train`` prints besides the test accuracy (summary.json keys).
TRAIN_FIGURES = (
    "epochs_run",
    "best_epoch",
    "stopped_early",
    "best_val_loss",
    "train_seconds",
    "seconds_per_epoch",
)


def _set_help(parser: argparse.ArgumentParser, dest: str, text: str) -> None:
    """Replace the help text of the shared flag that stores into ``dest``."""
    for action in parser._actions:
        if action.dest == dest:
            action.help = text


def add_parser(groups: argparse._SubParsersAction) -> None:
    """Register ``classify`` and its subcommands."""
    parser = groups.add_parser(
        "classify",
        help="Fashion-MNIST classifiers (book ch. 2.4)",
        description="Train, evaluate and use Fashion-MNIST classifiers.",
    )
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    sub.required = True
    _add_train(sub)
    _add_eval(sub)
    _add_predict(sub)


def _add_train(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser(
        "train",
        help="train a classifier, evaluate it on the test set, save a run folder",
        description="Train on a seeded 50,000/10,000 train/validation split with early "
        "stopping on validation loss (best weights restored), then evaluate on the 10,000 test "
        "images. --preset book runs the book's exact settings.",
    )
    train.add_argument(
        "--task",
        choices=TASKS,
        help="multiclass (10 classes; the default) or binary (T-shirt/top vs ankle boot)",
    )
    train.add_argument(
        "--model",
        choices=("mlp", "cnn"),
        help="the book's MLP (default) or a small CNN",
    )
    train.add_argument(
        "--preset",
        choices=PRESETS,
        help="genlab (default) or book: the book's settings (binary: 50 fixed "
        "epochs; 10-class: patience 10, best weights not restored)",
    )
    train.add_argument(
        "--threshold", type=float, help="binary cutoff on the sigmoid probability (default 0.5)"
    )
    train.add_argument("--data-dir", metavar="DIR", help="folder with the four IDX files")
    defaults = asdict(ClassifierConfig())
    add_training_flags(train, defaults)
    _set_help(
        train,
        "batch_size",
        f"batch size (default {defaults['batch_size']}); under torchrun the global batch, "
        "shared evenly: it must be a multiple of the number of processes",
    )
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


def _add_eval(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser(
        "eval",
        help="reload a saved classifier and re-evaluate it",
        description="Reload RUN's model and evaluate it on the test set; writes RUN/eval.json.",
    )
    evaluate.add_argument("run", metavar="RUN", help="run folder (or model.pt)")
    evaluate.add_argument("--data-dir", metavar="DIR", help="folder with the four IDX files")
    evaluate.set_defaults(handler=run_eval)


def _add_predict(sub: argparse._SubParsersAction) -> None:
    predict = sub.add_parser(
        "predict",
        help="predict test images by index, or your own images",
        description="Print the predicted class of test images (--index) "
        "or of image files (--image; with the three likeliest classes). "
        "Your own images work best with one item, whole and in view, on a plain background; "
        "photos and drawings both do. Each is prepared as Fashion-MNIST's were: trimmed to "
        "the item, resized so its longest side is 28 pixels, centred on a square and "
        "inverted if the background is light (Fashion-MNIST items are light on dark).",
    )
    predict.add_argument("run", metavar="RUN", help="run folder (or model.pt)")
    what = predict.add_mutually_exclusive_group(required=True)
    what.add_argument("--index", type=int, nargs="+", metavar="I", help="test-set indices")
    what.add_argument(
        "--image",
        nargs="+",
        metavar="FILE",
        help="image files (PNG, JPEG, ...): one item each, whole, on a plain background",
    )
    predict.add_argument(
        "--no-invert",
        action="store_true",
        help="do not invert light-background images (Fashion-MNIST items are "
        "light on a dark background)",
    )
    predict.add_argument("--data-dir", metavar="DIR", help="folder with the four IDX files")
    predict.set_defaults(handler=run_predict)


SETTING_FLAGS = (
    "epochs",
    "patience",
    "min_delta",
    "batch_size",
    "lr",
    "seed",
    "threshold",
    "device",
    "threads",
    "data_dir",
    "lr_decay",
    "lr_patience",
)


def run_train(args: argparse.Namespace) -> int:
    """``genlab classify train``."""
    out, resume = run_dir_from_args(args)
    seeds = seeds_of(args)
    if seeds:
        settings = {k: v for k, v in overrides(args, SETTING_FLAGS).items() if k != "seed"}
        repeated = classify.train(
            args.task, args.model, preset=args.preset, out=out, quiet=args.quiet,
            overwrite=args.overwrite, resume=resume, plots=not args.no_plots, seeds=seeds,
            **settings,
        )  # fmt: skip
        report_seeds(repeated)
        return 0
    reporter = reporter_for(args, out)
    run = classify.train(
        args.task,
        args.model,
        preset=args.preset,
        out=out,
        reporter=reporter,
        overwrite=args.overwrite,
        resume=resume,
        plots=not args.no_plots,
        **overrides(args, SETTING_FLAGS),
    )
    if run.rank != 0:
        return 0  # under torchrun only rank 0 reports
    config, s = run.config, run.summary
    book_figures = book.figures_for(f"classify-{config.task}")
    print_figures(
        {
            "test_accuracy": s["test_accuracy"],
            "book_test_accuracy": book_figures["test_accuracy"].value,
            **{k: s[k] for k in TRAIN_FIGURES},
        },
        title=f"{config.task} {config.model}: run folder {out}",
    )
    print_verdict(s)
    report_after_training(args, out)
    finish_reporter(reporter, out)
    return 0


def run_eval(args: argparse.Namespace) -> int:
    """``genlab classify eval RUN``."""
    run = classify.load(args.run)
    report = classify.evaluate(run, args.data_dir, write=True)
    written = runs.run_folder(args.run) / classify.EVAL_FILE  # where evaluate(write=) put it
    print_figures(
        {
            "test_accuracy": report["test_accuracy"],
            "test_loss": report["test_loss"],
            **{f"accuracy[{k}]": v for k, v in report["per_class_accuracy"].items()},
        },
        title=f"{run.config.task} {run.config.model} from {args.run} (written to {written})",
    )
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """``genlab classify predict RUN --index ... | --image ...``."""
    run = classify.load(args.run)
    if args.index is not None:
        pairs = classify.predict_indices(run, args.index, args.data_dir)
        for i, (true, predicted) in zip(args.index, pairs, strict=True):
            print(f"test image {i}: label is {true}; prediction is {predicted}")
        return 0
    between = " = " if run.config.task == "binary" else " "  # "p(Ankle boot) = ", "confidence "
    for p in classify.predict_images(run, args.image, invert=not args.no_invert):
        top = ", ".join(f"{name} {probability:.3f}" for name, probability in p.top)
        print(
            f"{p.path}: prediction is {p.label} ({p.score_name}{between}{p.score:.3f}); "
            f"top {len(p.top)}: {top}"
        )
    return 0
