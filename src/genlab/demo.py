"""``python -m genlab.demo``: the main job end to end, with the book's figures beside ours.

Trains the binary and the 10-class Fashion-MNIST MLPs with the book's settings
(``--preset book``), prints a results table beside the book's reported figures and says where
the run folders and plots are.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genlab.config import ClassifierConfig
from genlab.progress import make_reporter
from genlab.report import write_index
from genlab.training.classifier import train_classifier

BOOK_ACCURACY = {"binary": 0.8784, "multiclass": 0.8820}


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return an exit status."""
    parser = argparse.ArgumentParser(prog="python -m genlab.demo", description=__doc__)
    parser.add_argument("--out", default="runs/demo", help="folder for the run folders")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    out = Path(args.out)
    rows = []
    for task, name in (
        ("binary", "binary MLP (T-shirt vs ankle boot)"),
        ("multiclass", "10-class MLP"),
    ):
        config = ClassifierConfig.book(task)
        run = train_classifier(
            config, out=out / f"fm-{task}", overwrite=True, reporter=make_reporter(args.quiet)
        )
        s = run.summary
        rows.append(
            (
                name,
                BOOK_ACCURACY[task],
                s["test_accuracy"],
                s["epochs_run"],
                s["train_seconds"],
                run.out_dir,
            )
        )
    print("\nFashion-MNIST, the book's settings (--preset book), test accuracy:")
    print(f"{'job':<36} {'book':>7} {'genlab':>7} {'epochs':>6} {'seconds':>8}  run folder")
    for name, book, ours, epochs, seconds, folder in rows:
        print(f"{name:<36} {book:>7.4f} {ours:>7.4f} {epochs:>6} {seconds:>8.1f}  {folder}")
    print(f"\nPlots (loss curves, confusion matrix, predictions): {out}/*/plots/")
    print(f"Reports, one page per run: {write_index(out, [row[-1] for row in rows])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
