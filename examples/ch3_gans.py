"""Chapter 3 of the book, step by step with genlab: GANs for shapes and number patterns.

Each step names the book's listing it follows. Run it whole (about a minute on a CPU) or with
--smoke (a few epochs, for CI):

    python examples/ch3_gans.py [--smoke] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import genlab
from genlab.data.curves import book_shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few epochs, for CI")
    parser.add_argument("--out", default="runs/ch3", help="folder for the run folders")
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)  # accepted like the other examples
    args = parser.parse_args()
    out = Path(args.out)
    limit = {"epochs": 20} if args.smoke else {}

    # Training data (the book: torch.manual_seed(0); 2048 rows; x = 50*rand; y = 1.08**x).
    data = book_shape("exp")
    print("first rows of the book's data:", data[:3].tolist())

    # Networks, losses, optimisers and the training loop (the book's D and G steps per batch,
    # early stopping): genlab trains with a held-out quality score and keeps the best generator.
    run = genlab.gan.train("exp", out=out / "exp", quiet=True, overwrite=True, **limit)
    metrics = run.summary["metrics"]
    print(
        f"exp GAN: {run.summary['epochs_run']} epochs, median relative error of y "
        f"{metrics['relation_median_rel_error']:.4f} (the book: ~0.03)"
    )

    # Saving and loading (the book: torch.jit.script(G).save; torch.jit.load): genlab saves a
    # safe weights file and exports TorchScript or torch.export on request.
    generator = genlab.gan.load(out / "exp")
    samples = generator.sample(5, seed=1)
    print("5 generated samples (x, y):", [[round(v, 3) for v in row] for row in samples.tolist()])
    from genlab.gan.export import export_generator

    path = export_generator(out / "exp", out / "exp_generator.pt", "torchscript")
    module = torch.jit.load(str(path))  # plain torch, as in the book
    print(
        "TorchScript module gives the same points:",
        torch.equal(module(torch.randn(5, 2, generator=torch.Generator().manual_seed(1))), samples),
    )

    # Evaluating (the book compares plots; genlab adds numbers).
    figures = genlab.gan.evaluate(out / "exp", n=2000)
    print(
        "figures on 2,000 samples:",
        {k: round(figures[k], 4) for k in ("w1", "kl", "mmd", "precision", "recall")},
    )

    # Numbers with a pattern (the book: multiples of 5 in [0, 100), one-hot encoded).
    numbers = genlab.gan.train(
        "integers", multiple_of=5, max_value=100, out=out / "m5", quiet=True, overwrite=True
    )
    m = numbers.summary["metrics"]
    print(
        f"multiples of 5: validity {m['validity']:.4f}, {m['covered']} of "
        f"{m['n_valid_values']} values, JS {m['js']:.4f}"
    )
    print("generated numbers:", genlab.gan.load(out / "m5").sample(10, seed=1).tolist())
    print(f"run folders and samples in {out}")


if __name__ == "__main__":
    main()
