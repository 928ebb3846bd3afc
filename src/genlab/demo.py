"""``python -m genlab.demo``: the main jobs end to end, with the book's figures beside ours.

Trains the binary and the 10-class Fashion-MNIST MLPs with the book's settings
(``--preset book``), the exponential and sine GANs and the multiples-of-5 GAN with genlab's
defaults, prints one results table beside the book's figures, writes every run's report and an
index page, and says where everything is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genlab.classify.engine import train_classifier
from genlab.config import ClassifierConfig
from genlab.progress import make_reporter
from genlab.report import write_index

BOOK_ACCURACY = {"binary": 0.8784, "multiclass": 0.8820}


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return an exit status."""
    parser = argparse.ArgumentParser(prog="python -m genlab.demo", description=__doc__)
    parser.add_argument("--out", default="runs/demo", help="folder for the run folders")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("--no-gans", action="store_true", help="only the classifiers")
    args = parser.parse_args(argv)
    out = Path(args.out)
    rows: list[tuple[str, str, str, str, str, Path]] = []
    for task, name in (
        ("binary", "binary MLP (T-shirt vs ankle boot)"),
        ("multiclass", "10-class MLP"),
    ):
        run = train_classifier(
            ClassifierConfig.book(task),
            out=out / f"fm-{task}",
            overwrite=True,
            reporter=make_reporter(args.quiet),
        )
        s = run.summary
        rows.append(
            (
                name,
                "test accuracy",
                f"{BOOK_ACCURACY[task]:.4f}",
                f"{s['test_accuracy']:.4f}",
                f"{s['epochs_run']} ep, {s['train_seconds']:.0f} s",
                out / f"fm-{task}",
            )
        )
    if not args.no_gans:
        rows.extend(_gans(out, args.quiet))
    print("\nResults beside the book's (classifiers: --preset book; GANs: genlab defaults):")
    print(f"{'job':<36} {'figure':<28} {'book':>12} {'genlab':>10}  {'length':<16} run folder")
    for name, figure, book, ours, length, folder in rows:
        print(f"{name:<36} {figure:<28} {book:>12} {ours:>10}  {length:<16} {folder}")
    print(f"\nPlots: {out}/*/plots/")
    print(f"Reports, one page per run: {write_index(out, [row[-1] for row in rows])}")
    return 0


def _gans(out: Path, quiet: bool) -> list[tuple[str, str, str, str, str, Path]]:
    import genlab.gan

    rows = []
    for kind, name in (("exp", "exp GAN (y = 1.08^x)"), ("sine", "sine GAN")):
        run = genlab.gan.train(kind, out=out / f"gan-{kind}", overwrite=True, quiet=quiet)
        s, m = run.summary, run.summary["metrics"]
        length = f"{s['epochs_run']} ep, {s['train_seconds']:.0f} s"
        if kind == "exp":
            rows.append(
                (
                    name,
                    "median rel. error of y",
                    "~0.03",
                    f"{m['relation_median_rel_error']:.4f}",
                    length,
                    out / f"gan-{kind}",
                )
            )
            rows.append(
                (
                    name,
                    "out of range (x > 50)",
                    "x to ~73",
                    f"{m['out_of_range']:.4f}",
                    length,
                    out / f"gan-{kind}",
                )
            )
        else:
            rows.append(
                (
                    name,
                    "relation nRMSE",
                    "-",
                    f"{m['relation_nrmse']:.4f}",
                    length,
                    out / f"gan-{kind}",
                )
            )
    run = genlab.gan.train(
        "integers", multiple_of=5, max_value=100, out=out / "gan-m5", overwrite=True, quiet=quiet
    )
    s, m = run.summary, run.summary["metrics"]
    length = f"{s['epochs_run']} ep, {s['train_seconds']:.1f} s"
    rows.append(
        ("multiples-of-5 GAN", "validity", "0.998", f"{m['validity']:.4f}", length, out / "gan-m5")
    )
    rows.append(
        (
            "multiples-of-5 GAN",
            "values generated (of 20)",
            "16-17",
            str(m["covered"]),
            length,
            out / "gan-m5",
        )
    )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
