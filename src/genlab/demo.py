"""``python -m genlab.demo``: the main jobs end to end, with the book's figures beside ours.

Trains the binary and the 10-class Fashion-MNIST MLPs with the book's settings
(``--preset book``), the exponential and sine GANs, the multiples-of-5 GAN and a short
class-conditional Fashion-MNIST image GAN with genlab's defaults, prints one results table
beside the book's figures, writes every run's report and an index page, and says where
everything is.
"""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

from genlab.book import SOURCES, figures_for
from genlab.classify.engine import train_classifier
from genlab.config import ClassifierConfig
from genlab.progress import make_reporter
from genlab.report import format_book, write_index

#: One row of the results table: job, figure, book, genlab, length, run folder.
Row = tuple[str, str, str, str, str, Path]


def book_cell(job: str, key: str) -> str:
    """The book's figure for ``job``'s summary ``key`` (genlab.book), or "-" if it has none."""
    figure = figures_for(job).get(key)
    return format_book(figure.value) if figure else "-"


def book_sources(jobs: list[str]) -> list[str]:
    """The sources (genlab.book.SOURCES) of the book's figures for ``jobs``, each once."""
    keys = dict.fromkeys(f.source for job in jobs for f in figures_for(job).values())
    return [SOURCES[key] for key in keys]


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return an exit status."""
    parser = argparse.ArgumentParser(prog="python -m genlab.demo", description=__doc__)
    parser.add_argument("--out", default="runs/demo", help="folder for the run folders")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("--no-gans", action="store_true", help="only the classifiers")
    args = parser.parse_args(argv)
    out = Path(args.out)
    rows: list[Row] = []
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
                book_cell(f"classify-{task}", "test_accuracy"),
                f"{s['test_accuracy']:.4f}",
                f"{s['epochs_run']} ep, {s['train_seconds']:.0f} s",
                out / f"fm-{task}",
            )
        )
    if not args.no_gans:
        rows.extend(_gans(out, args.quiet))
    print("\nResults beside the book's (classifiers: --preset book; GANs: genlab defaults):")
    print(f"{'job':<36} {'figure':<28} {'book':>14} {'genlab':>10}  {'length':<16} run folder")
    for name, figure, book, ours, length, folder in rows:
        print(f"{name:<36} {figure:<28} {book:>14} {ours:>10}  {length:<16} {folder}")
    jobs = ["classify-binary", "classify-multiclass"]
    if not args.no_gans:
        jobs += ["gan-exp", "gan-multiples-of-5"]
    print("Where the book's figures come from (genlab.book):")
    for source in book_sources(jobs):
        print(f"  - {source}")
    print(f"\nPlots: {out}/*/plots/")
    index = write_index(out, list(dict.fromkeys(row[-1] for row in rows)))  # each run once
    print(f"Reports, one page per run: {index}")
    print(f"Open it in a browser: {index.resolve().as_uri()}")
    multiclass = shlex.quote(str(out / "fm-multiclass"))
    command = genlab_command()
    print("Try next:")
    if not args.no_gans:
        gan = shlex.quote(str(out / "gan-fashion"))
        print(f"  {command} gan sample {gan} -n 64 --class bag --out bags.png")
    print(f"  {command} classify predict {multiclass} --image your_photo.png")
    print(f"  {command} report {multiclass}")
    return 0


def genlab_command() -> str:
    """How to call genlab from this shell: ``genlab`` when it is on PATH, else the console
    script beside this Python (``.venv/bin/genlab`` after ``make demo``)."""
    import shutil
    import sys

    if shutil.which("genlab"):
        return "genlab"
    beside = Path(sys.executable).parent / "genlab"
    if beside.exists():
        return shlex.quote(os.path.relpath(beside))
    return f"{shlex.quote(sys.executable)} -m genlab"


#: The demo's GAN runs: (folder, label, kind, options, [(figure, metric key, format), ...]).
GAN_RUNS: tuple[tuple[str, str, str, dict, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "gan-exp",
        "exp GAN (y = 1.08^x)",
        "exp",
        {},
        (
            ("median rel. error of y", "relation_median_rel_error", ".4f"),
            ("out of range (x > 50)", "out_of_range", ".4f"),
        ),
    ),
    ("gan-sine", "sine GAN", "sine", {}, (("relation nRMSE", "relation_nrmse", ".4f"),)),
    (
        "gan-m5",
        "multiples-of-5 GAN",
        "integers",
        {"multiple_of": 5, "max_value": 100},
        (("validity", "validity", ".4f"), ("values generated (of 20)", "covered", "d")),
    ),
)


def _gans(out: Path, quiet: bool) -> list[Row]:
    """Train the demo's GANs; one row per figure, the book's beside it where it has one."""
    import genlab.gan

    rows = []
    for folder, label, kind, options, figures in GAN_RUNS:
        run = genlab.gan.train(kind, out=out / folder, overwrite=True, quiet=quiet, **options)
        s, m = run.summary, run.summary["metrics"]
        length = f"{s['epochs_run']} ep, {s['train_seconds']:.1f} s"
        job = run.data.book_reference
        for figure, key, fmt in figures:
            book = book_cell(job, f"metrics.{key}") if job else "-"
            rows.append((label, figure, book, format(m[key], fmt), length, out / folder))
    rows.extend(_image_gan(out, quiet))
    return rows


#: The demo's short image GAN: four classes, class-conditional, two epochs.
IMAGE_CLASSES = "trouser,dress,sneaker,bag"


def _image_gan(out: Path, quiet: bool) -> list[Row]:
    """A short class-conditional image GAN, judged by a quick judge trained for the demo
    (three epochs of genlab's CNN; ``bench/image_gan.py`` uses the full default judge)."""
    import genlab.gan
    from genlab.gan.judge import train_judge

    judge = train_judge(out / "judge", quiet=quiet, epochs=3, patience=None)
    folder = out / "gan-fashion"
    run = genlab.gan.train(
        "fashion",
        conditional=True,
        classes=IMAGE_CLASSES,
        judge=str(judge),
        epochs=2,
        final_samples=2000,
        out=folder,
        overwrite=True,
        quiet=quiet,
    )
    s, m = run.summary, run.summary["metrics"]
    length = f"{s['epochs_run']} ep, {s['train_seconds']:.0f} s"
    label = "Fashion-MNIST GAN (4 classes, cond.)"
    return [
        (label, "fid_judge", "-", f"{m['fid_judge']:.2f}", length, folder),
        (label, "  floor: real vs real", "-", f"{m['floor_fid_judge']:.2f}", "", folder),
        (label, "class fidelity", "-", f"{m['class_fidelity']:.3f}", "", folder),
    ]


if __name__ == "__main__":
    raise SystemExit(main())
