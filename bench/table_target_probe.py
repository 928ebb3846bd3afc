"""What the table GAN's target model keeps of its target's predictability, without a GAN.

On a bench table's train part (the 80% of bench/table_gan.py, split again 70/15/15 as genlab
does), the target model (:mod:`genlab.gan.table_target`) is fitted on genlab's train part,
stopping on its validation part, as in a real run. Then ``--rows`` of genlab's train rows
(about as many as the bench's synthetic rows with a target value) train scikit-learn's
HistGradientBoosting model of the ML-efficacy figure, scored on genlab's own test part:

* ``real``: the rows as they are (the ceiling at that many rows);
* ``redrawn``: the rows with the target drawn by the target model given the other columns
  (the GAN's other columns replaced by real ones: the target model's own loss);
* ``oracle``: the target redrawn uniformly within its own bin (the binning's loss alone);
* ``located`` (a number target): the target model's located draw
  (:meth:`~genlab.gan.table_target.TargetModel.located_value`: its mean given the other
  columns plus a residual from the train rows' residual quantiles, clipped to the column's
  range; its spread does not depend on the row).

The bins' draw passes its calibration map as in a run (read over 50,000 other train rows, in
place of a run's generated rows; a run leaves the located draw as it is: ``--calibrated
run``); ``--calibrated none`` or ``both`` calibrate neither or both (printed only).

Each over ``--seeds`` (the model's seed and the rows picked) times ``--draws``, with the
SDMetrics quality of each seed's first draw against the test part (the other columns are
real rows, so it differs between the modes only by the target's shape and pairs). It takes a
minute a table, where a bench run takes half an hour, and nothing in it sees the bench's
test part. ``--set NAME=VALUE`` changes a ``genlab.gan.table_target`` constant first.

    python bench/table_target_probe.py --data gss_wages            # results/table_target_probe.json
    python bench/table_target_probe.py --data gss_wages --set BINS=64 --quick   # printed only
"""

from __future__ import annotations

import argparse
import ast
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _results import emit

HERE = Path(__file__).resolve().parent
MODES = ("real", "redrawn", "oracle", "located")


def probe(data: str, rows: int, seeds: list[int], draws: int, calibrated: str) -> dict[str, Any]:
    """Each mode's ML efficacy over the seeds and draws (see the module docstring)."""
    import torch

    import genlab.gan.table_target as table_target
    from genlab.evaluation.table_figures import metric_frame, ml_score, quality
    from genlab.gan.table import make_table_gan_data

    sys.path.insert(0, str(HERE))
    from table_gan import CACHE, DATA, load

    path = CACHE / f"table_{data}_train.csv"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        load(data)[0].to_csv(path, index=False)
    target = DATA[data][2]
    table = make_table_gan_data(csv=str(path), target=target)
    codec, parts = table.codec, table.parts
    assert parts is not None
    train = table._train_model(torch.device("cpu"))
    validation = codec.encode(table._val_codes, torch.Generator().manual_seed(1))
    dims = table._target_dims()
    assert dims is not None, "the table has no target model"
    values = [codec.starts[j] for j, spec in enumerate(codec.modelled) if spec.numeric]
    numeric = codec.names_of()
    test, real_train = metric_frame(codec, parts.test), metric_frame(codec, parts.train)
    latent = 32
    figures: dict[str, list[float]] = {mode: [] for mode in MODES}
    qualities: dict[str, list[float]] = {mode: [] for mode in MODES}
    epochs = []
    knots = codec.knots_of(target) if dims[2] else None
    for seed in seeds:
        model = table_target.TargetModel(table.dim, latent, *dims, values, knots)
        epochs.append(
            table_target.fit_target_model(model, train, validation, seed)["target_epochs"]
        )
        if calibrated != "none":  # maps read over other train rows (a run's: generated rows)
            other = torch.Generator().manual_seed(77 + seed)
            calibration = train[torch.randperm(train.shape[0], generator=other)[:50_000]]
            calibration_noise = torch.randn(calibration.shape[0], latent, generator=other)
        maps = {}
        for located in (False, True) if model.numeric else (False,):
            model.use_located(located)
            if calibrated == "both" or (calibrated == "run" and not located):
                table_target.calibrate_target(model, calibration, calibration_noise, None)
            maps[located] = model.value_from.clone()
        for draw in range(draws):
            seeded = torch.Generator().manual_seed(1000 * seed + draw)
            picked = train[torch.randperm(train.shape[0], generator=seeded)[:rows]]
            noise = torch.randn(picked.shape[0], latent, generator=seeded)
            made = {"real": picked}
            with torch.no_grad():
                for located, mode in ((False, "redrawn"), (True, "located")):
                    if located in maps:
                        model.use_located(located)
                        model.value_from.copy_(maps[located])
                        made[mode] = model(picked, noise)
            oracle = picked.clone()
            if model.numeric:
                uniform = torch.rand(picked.shape[0], generator=seeded, dtype=torch.float64)
                value = model.bin_value(model.labels(picked), uniform).float()
                present = model.present(picked)
                oracle[present, model.start] = value[present]
            made["oracle"] = oracle
            codes = {mode: table.decode(model_space) for mode, model_space in made.items()}
            for mode, drawn in codes.items():
                frame = metric_frame(codec, table.present(drawn))
                levels = [real_train, frame]  # as ml_efficacy's (without its real-rows fit)
                figures[mode].append(ml_score(frame, test, target, numeric, levels_from=levels))
                if draw == 0:  # the other columns are real: the target's shape and pairs
                    qualities[mode].append(quality(test, frame, numeric)["quality"])
    out: dict[str, Any] = {"target": target, "rows": rows, "seeds": seeds, "draws": draws,
                           "calibrated": calibrated,
                           "target_epochs": statistics.mean(epochs)}  # fmt: skip
    for mode, runs in figures.items():
        if not runs:
            continue
        out[mode] = {"mean": statistics.mean(runs),
                     "std": statistics.stdev(runs) if len(runs) > 1 else 0.0,
                     "runs": [round(r, 4) for r in runs],
                     "quality": statistics.mean(qualities[mode])}  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=("diamonds", "gss_wages"), nargs="+",
                        default=["gss_wages"])  # fmt: skip
    parser.add_argument("--rows", type=int, default=12_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a genlab.gan.table_target constant (a Python literal)")  # fmt: skip
    parser.add_argument("--calibrated", choices=("none", "run", "both"), default="run",
                        help="which draws pass a calibration map first (run: the bins' draw, "
                        "as a run does; read over 50,000 other train rows)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="print only (results/ unchanged)")
    args = parser.parse_args()
    import genlab.gan.table_target as table_target

    changed = {}
    for item in args.set:
        name, _, text = item.partition("=")
        if not hasattr(table_target, name):
            raise SystemExit(f"genlab.gan.table_target has no {name}")
        changed[name] = ast.literal_eval(text)
        setattr(table_target, name, changed[name])
    start = time.perf_counter()
    tables = {
        name: probe(name, args.rows, args.seeds, args.draws, args.calibrated) for name in args.data
    }
    variant = bool(args.quick or changed or args.calibrated != "run")
    emit(__file__, {"bench": "table_target_probe", "quick": variant,
                    "set": changed, "tables": tables,
                    "seconds": round(time.perf_counter() - start, 1)})  # fmt: skip


if __name__ == "__main__":
    main()
