"""Tuning the image GAN's unconditional default for variety (recall), honestly: every variant
trains on the GAN's train part (55,000 training images) and is scored on its validation part
(the 5,000 training images held out of it, which selection also watches); the test images
behind the README's figures choose nothing.

    GENLAB_CACHE_DIR=bench/cache/genlab python bench/image_tune.py --variants base g64 --jobs 2
    python bench/image_tune.py --list                                  # the variants

Each variant runs in its own process on one thread (``--jobs`` at once) and prints one JSON
line: 5,000 samples from the validation noise against the validation images in the judge's
features (``fid_judge``, ``precision``, ``recall``, each class's recall and share) and the
seconds it trained. The judge is genlab's default (trained once, cached).
"""

from __future__ import annotations

from typing import Any

from _tune import tune_main

#: Samples (and so validation images' match) per variant.
SAMPLES = 5_000

#: name -> GanConfig fields over genlab's unconditional image defaults. Measured (seed 0,
#: two variants at once, one thread each, 2026-12-04): fid_judge / precision / recall on the
#: validation part, training seconds:
#: base 18.5 / 0.878 / 0.264, 854 s; its recall per class: T-shirt 0.34, trouser 0.24,
#: pullover 0.33, dress 0.44, coat 0.42, sandal 0.13, shirt 0.32, sneaker 0.05, bag 0.25,
#: ankle boot 0.12: footwear is where it is thinnest.
#: g64 (G 64 wide) 29.7 / 0.937 / 0.033, 1,119 s: it collapses (every class under 0.12).
#: clusters100 11.2 / 0.864 / 0.392, 867 s (every class's recall 0.20-0.50, sneaker 0.28);
#: clusters200 11.7 / 0.889 / 0.190, 868 s. Next: 100 clusters over more seeds.
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},  # genlab's defaults: 40 clusters, G 32 wide, D 64, 10 epochs
    "g64": {"width": 64},  # a wider generator (self-conditioned: not tried before)
    "clusters100": {"clusters": 100},
    "clusters200": {"clusters": 200},
    "g64_d128": {"width": 64, "d_width": 128},
    "clusters100_ema999": {"clusters": 100, "ema": 0.999},  # a longer average of G
    # a mode-seeking term (genlab.gan.images.MODE_SEEKING, not a GanConfig field)
    "clusters100_ms1": {"clusters": 100, "mode_seeking": 1.0},
    "clusters100_ms3": {"clusters": 100, "mode_seeking": 3.0},
}


def run_one(data: str, variant: str, seed: int) -> dict[str, Any]:
    """Train one variant; its validation figures."""
    import torch

    import genlab.gan
    import genlab.gan.images
    from genlab.evaluation import image_figures as figures
    from genlab.gan.engine import VALIDATION_NOISE_OFFSET, generate

    if data != "fashion":
        raise SystemExit("image variants train on fashion")
    options = dict(VARIANTS[variant])
    genlab.gan.images.MODE_SEEKING = options.pop("mode_seeking", genlab.gan.images.MODE_SEEKING)
    run = genlab.gan.train("fashion", seed=seed, quiet=True, plots=False, **options)
    images = run.data
    real, labels = images.validation_part
    samples = generate(run.generator, images, SAMPLES, seed=seed + VALIDATION_NOISE_OFFSET)
    fake, predicted = images.judge.features_and_labels(samples)
    precision, reached = figures.precision_and_recalled(real, fake)
    shares = torch.bincount(predicted, minlength=10).double() / predicted.numel()
    per_class = {
        f"recall_{c}": round(float(reached[labels == c].double().mean()), 3)
        for c in range(10)
        if bool((labels == c).any())
    }
    summary = run.summary
    return {"data": data, "variant": variant, "seed": seed,
            "fid_judge": round(figures.frechet_distance(real, fake), 2),
            "precision": round(precision, 4), "recall": round(float(reached.double().mean()), 4),
            "min_class_share": round(float(shares.min()), 4), **per_class,
            "best_epoch": summary["best_epoch"], "epochs_run": summary["epochs_run"],
            "train_seconds": round(summary["train_seconds"], 1)}  # fmt: skip


def main() -> None:
    tune_main(__file__, __doc__.split("\n\n")[0], VARIANTS, run_one, "fashion")


if __name__ == "__main__":
    main()
