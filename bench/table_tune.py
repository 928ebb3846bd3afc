"""Tuning the table GAN's defaults, honestly: every variant trains on the bench's train part
(the 80% of bench/table_gan.py) and is scored on genlab's own test part inside it (15% of
those rows, which selection never sees); the bench's 20% test part, behind the README's
figures, chooses nothing.

    python bench/table_tune.py --data diamonds --variants base moment1   # in parallel
    python bench/table_tune.py --list                                    # the variants

Each variant runs in its own process on one thread (``--jobs`` at once); each prints one JSON
line (its test figures, best epoch, seconds) and ``--out`` collects them. The train parts
come from bench/table_gan.py (``load``), cached as CSV files in bench/cache/.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from _tune import tune_main

HERE = Path(__file__).resolve().parent
KEYS = ("quality", "column_shapes", "pair_trends", "ml_efficacy", "ml_efficacy_real",
        "privacy", "copies", "missing_gap")  # fmt: skip

#: name -> {"module": genlab.gan.table constants, "target": genlab.gan.table_target's,
#: "config": GanConfig fields, "options": the data's options (``types``), "mmd": a weight}
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},  # genlab's defaults
    "nocalibration": {"module": {"CALIBRATE": False}},
    "critic": {"options": {"critic": True}},
    "notarget": {"module": {"TARGET_MODEL": False}},
    "target_bins64": {"target": {"BINS": 64}},
    "target_pieces16": {"target": {"PIECES": 16}},
    "target_pieces128": {"target": {"PIECES": 128}},
    "target_noise0.1": {"target": {"NOISE": 0.1}},
    "target_noise0.3": {"target": {"NOISE": 0.3}},
    "target_wide": {"target": {"HIDDEN": (512, 512)}},
    "critic_noise0.1": {"options": {"critic": True}, "module": {"CRITIC_NOISE": 0.1}},
    "critic_noise0.5": {"options": {"critic": True}, "module": {"CRITIC_NOISE": 0.5}},
    "cond0.2": {"module": {"CONDITIONED_SHARE": 0.2}},
    "cond0": {"module": {"CONDITIONED_SHARE": 0.0}},
    "moment0": {"module": {"MOMENT_WEIGHT": 0.0}},
    "moment0.3": {"module": {"MOMENT_WEIGHT": 0.3}},
    "moment1": {"module": {"MOMENT_WEIGHT": 1.0}},
    "moment3": {"module": {"MOMENT_WEIGHT": 3.0}},
    "moment10": {"module": {"MOMENT_WEIGHT": 10.0}},
    "moment1_lr2e-4": {"module": {"MOMENT_WEIGHT": 1.0}, "config": {"lr": 2e-4}},
    "moment1_patience30": {"module": {"MOMENT_WEIGHT": 1.0}, "config": {"patience": 30}},
    "moment3_patience30": {"module": {"MOMENT_WEIGHT": 3.0}, "config": {"patience": 30}},
    "moment1_wide": {
        "module": {"MOMENT_WEIGHT": 1.0},
        "config": {"g_hidden": (512, 512), "d_hidden": (512, 512)},
    },
    "moment1_cond0.8": {"module": {"MOMENT_WEIGHT": 1.0, "CONDITIONED_SHARE": 0.8}},
    "moment1_pack5": {"module": {"MOMENT_WEIGHT": 1.0, "PACK": 5}},
    "moment1_ema0": {"module": {"MOMENT_WEIGHT": 1.0}, "config": {"ema": 0.0}},
    "moment1_deep": {
        "module": {"MOMENT_WEIGHT": 1.0},
        "config": {"g_hidden": (256, 256, 256), "d_hidden": (256, 256, 256)},
    },
    "moment1_batch1000": {"module": {"MOMENT_WEIGHT": 1.0}, "config": {"batch_size": 1000}},
    "onestage": {"module": {"TWO_STAGE": False}},
    "ts_moment0": {"module": {"MOMENT_WEIGHT": 0.0}},
    "ts_latent16": {"config": {"latent_dim": 16}},
    "ts_g2": {"config": {"g_hidden": (256, 256)}},
    "ts_g4": {"config": {"g_hidden": (256, 256, 256, 256)}},
    "ts_d512": {"config": {"d_hidden": (512, 512)}},
    "ts_dlr2e-4": {"config": {"d_lr": 2e-4}},
    "ts_patience30": {"config": {"patience": 30}},
    "ts_pack5": {"module": {"PACK": 5}},
    "ts_reveal0.3": {"module": {"EXTRA_REVEAL": 0.3}},
    "ts_cond0.2": {"module": {"CONDITIONED_SHARE": 0.2}},
    "ts_cond0.8": {"module": {"CONDITIONED_SHARE": 0.8}},
    "occ_cat": {"options": {"types": {"occ10": "categorical"}}},
    "moment3_mmd1": {"module": {"MOMENT_WEIGHT": 3.0}, "mmd": 1.0},
    "moment3_mmd10": {"module": {"MOMENT_WEIGHT": 3.0}, "mmd": 10.0},
}


def mmd(fake: Any, real: Any) -> Any:
    """The squared maximum mean discrepancy of two batches under a sum of Gaussian kernels
    (bandwidths around the rows' typical distance)."""
    import torch

    both = torch.cat([fake, real])
    d2 = torch.cdist(both, both).square()  # (2B, 2B)
    scale = d2.detach().mean().clamp_min(1e-6)
    kernel = sum(torch.exp(-d2 / (scale * f)) for f in (0.25, 1.0, 4.0))
    n = fake.shape[0]
    return kernel[:n, :n].mean() + kernel[n:, n:].mean() - 2 * kernel[:n, n:].mean()


def run_one(data: str, variant: str, seed: int) -> dict[str, Any]:
    """Train one variant on ``data``'s bench train part; its figures on genlab's test part."""
    import genlab.gan
    import genlab.gan.table as table
    import genlab.gan.table_target as table_target

    sys.path.insert(0, str(HERE))
    from table_gan import CACHE, DATA, load

    path = CACHE / f"table_{data}_train.csv"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        load(data)[0].to_csv(path, index=False)
    spec = VARIANTS[variant]
    for name, value in spec.get("module", {}).items():
        if not hasattr(table, name):
            raise SystemExit(f"genlab.gan.table has no {name}")
        setattr(table, name, value)
    for name, value in spec.get("target", {}).items():
        if not hasattr(table_target, name):
            raise SystemExit(f"genlab.gan.table_target has no {name}")
        setattr(table_target, name, value)
    if spec.get("mmd"):
        weight, plain = float(spec["mmd"]), table.TableGanData.generator_penalty

        def penalty(self: Any, fake: Any, real: Any, noise: Any) -> Any:
            base = plain(self, fake, real, noise)
            extra = weight * mmd(fake, real)
            return extra if base is None else base + extra

        table.TableGanData.generator_penalty = penalty  # type: ignore[method-assign]
    run = genlab.gan.train("csv", csv=str(path), seed=seed, quiet=True, plots=False,
                           target=DATA[data][2], **spec.get("config", {}),
                           **spec.get("options", {}))  # fmt: skip
    summary = run.summary
    figures = {k: summary["metrics"].get(k) for k in KEYS}
    return {"data": data, "variant": variant, "seed": seed, **figures,
            "best_epoch": summary["best_epoch"], "epochs_run": summary["epochs_run"],
            "train_seconds": round(summary["train_seconds"], 1)}  # fmt: skip


def main() -> None:
    tune_main(__file__, __doc__.split("\n\n")[0], VARIANTS, run_one, "diamonds")


if __name__ == "__main__":
    main()
