"""The README's pictures, from the runs its captions name (run once; the PNGs are committed).

    genlab classify train --task multiclass --out runs/fm10
    genlab gan train exp --out runs/exp
    genlab gan train sine --out runs/sine
    python docs/img/pictures.py runs/fm10 runs/exp runs/sine

writes docs/img/confusion_matrix.png (the classifier run's own plot, copied) and
docs/img/curves.png (2,048 samples of each GAN drawn over the book's 2,048 training points).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import genlab  # noqa: E402
from genlab.data.curves import load_curve_dataset  # noqa: E402

HERE = Path(__file__).resolve().parent


def main(classifier: str, *gans: str) -> None:
    plots = Path(classifier) / "plots"
    shutil.copyfile(plots / "confusion_matrix.png", HERE / "confusion_matrix.png")
    fig, axes = plt.subplots(1, len(gans), figsize=(4.2 * len(gans), 3.4))
    for ax, run_dir in zip(axes, gans, strict=True):
        run = genlab.gan.load(run_dir)
        kind = run.data.name  # "exp" or "sine"
        real = load_curve_dataset(kind).points.numpy()
        fake = genlab.gan.sample(run, len(real), seed=1).numpy()
        ax.plot(real[:, 0], real[:, 1], ".", color="0.75", markersize=4, label="real (the book's)")
        ax.plot(fake[:, 0], fake[:, 1], ".", color="tab:green", markersize=1.2, label="generated")
        ax.set_title(f"gan train {kind}: {len(fake):,} samples")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", markerscale=4, fontsize=8)
    fig.tight_layout()
    fig.savefig(HERE / "curves.png", dpi=90)


if __name__ == "__main__":
    main(*sys.argv[1:])
