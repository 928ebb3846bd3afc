"""The table kind: reading spreadsheet CSVs, column types, a short training run on a small
mixed table, --where, the model file holding no rows, gan eval from the CSV, bad input."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

import genlab.gan
from genlab.cli import main
from genlab.data.table import detect_types, read_table
from genlab.errors import ConfigError, DataError

TINY = {"epochs": 6, "eval_every": 2, "eval_samples": 512, "batch_size": 100}


def mixed_table(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """A small shop's orders: every column type, empty cells, one rare category (1%)."""
    rng = np.random.default_rng(seed)
    size = rng.choice(["S", "M", "L"], size=n, p=[0.3, 0.5, 0.2]).astype(object)
    size[: n // 100] = "XXL"  # a rare level, 1% of the rows
    rng.shuffle(size)
    weight = np.round(rng.normal(70, 12, n) + (size == "L") * 15, 1)
    items = rng.integers(1, 9, n) + rng.integers(0, 30, n)
    paid = rng.choice(["yes", "no"], n, p=[0.8, 0.2])
    day = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    note = rng.choice(["fast", "slow", "ok"], n).astype(object)
    note[rng.random(n) < 0.2] = None
    frame = pd.DataFrame(
        {
            "order_id": np.arange(1000, 1000 + n),
            "size": size,
            "weight": weight,
            "items": items,
            "paid": paid,
            "day": day.strftime("%Y-%m-%d"),
            "shop": "Main street",
            "note": note,
        }
    )
    frame.loc[rng.random(n) < 0.1, "weight"] = np.nan
    return frame


@pytest.fixture(scope="module")
def table_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("table") / "orders.csv"
    mixed_table().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def table_run(table_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "orders"
    flags = ["--epochs", "6", "--eval-every", "2", "--batch-size", "100", "--quiet", "--no-report"]
    code = main(["gan", "train", "csv", "--csv", str(table_csv), "--out", str(out), *flags])
    assert code == 0
    return out


# --------------------------------------------------------------------------- types


def test_every_type_is_detected(table_csv: Path) -> None:
    frame, _ = read_table(table_csv)
    found = {name: info.type for name, info in detect_types(frame).items()}
    assert found == {
        "order_id": "identifier",
        "size": "categorical",
        "weight": "continuous",
        "items": "integer",
        "paid": "categorical",
        "day": "datetime",
        "shop": "constant",
        "note": "categorical",
    }
    assert detect_types(frame)["weight"].missing == int(mixed_table()["weight"].isna().sum())


def test_datetimes_with_one_time_zone_are_datetimes_and_keep_it() -> None:
    from genlab.data.table import TableCodec, fit_specs

    stamps = pd.date_range("2024-01-01", periods=60, freq="7h")
    frame = pd.DataFrame(
        {
            "utc": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "paris": stamps.strftime("%Y-%m-%dT%H:%M:%S+01:00"),
            "mixed": [f"{t:%Y-%m-%dT%H:%M:%S}+0{i % 2}:00" for i, t in enumerate(stamps)],
        }
    )
    kinds = {name: info.type for name, info in detect_types(frame).items()}
    assert kinds == {"utc": "datetime", "paris": "datetime", "mixed": "identifier"}
    codec = TableCodec(fit_specs(frame, kinds))
    back = codec.frame(codec.codes(frame))
    assert back["utc"].tolist() == frame["utc"].tolist()
    assert back["paris"].tolist() == frame["paris"].tolist()


def test_spreadsheet_csvs_are_read_as_a_user_expects(tmp_path: Path) -> None:
    qty = ["n/a", "3", "#N/A"] + [f"{i},25" for i in range(3, 20)]  # whole, empty, decimal
    rows = "\r\n".join(
        ['"name";"price";"city";"qty"']
        + [f'"a, ""b""\nline";{i},5;Köln;{q}' for i, q in enumerate(qty)]
    )
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + rows + "\r\n").encode("utf-8"))
    frame, _ = read_table(path)
    assert list(frame.columns) == ["name", "price", "city", "qty"]
    assert frame["name"][0] == 'a, "b"\nline'
    assert frame["price"][3] == "3.5"  # decimal comma
    assert frame["city"][0] == "Köln"
    assert frame["qty"].isna().tolist()[:3] == [True, False, True]
    assert frame["qty"][1] == "3" and frame["qty"][4] == "4.25"
    assert detect_types(frame)["qty"].type == "continuous"
    trailing = tmp_path / "trailing.csv"  # a spreadsheet's separator at every line's end
    trailing.write_text("a,b,\n" + "".join(f"{i},x{i % 3},\n" for i in range(12)))
    assert list(read_table(trailing)[0].columns) == ["a", "b"]
    unnamed = tmp_path / "unnamed.csv"  # a column with cells but no name: refused
    unnamed.write_text("a,,\n" + "".join(f"{i},x,\n" for i in range(12)))
    with pytest.raises(DataError, match="no name"):
        read_table(unnamed)
    tab = tmp_path / "tab.csv"
    tab.write_text("a\tb\n" + "".join(f"{i}\tx{i % 3}\n" for i in range(12)))
    assert list(read_table(tab)[0].columns) == ["a", "b"]


def _written(path: Path, header: str, rows: Iterable[str]) -> pd.DataFrame:
    """The table a CSV of ``header`` and ``rows`` (lines) reads as."""
    path.write_text("".join(f"{line}\n" for line in (header, *rows)), encoding="utf-8")
    return read_table(path)[0]


def test_thousands_separators_are_read_as_numbers(tmp_path: Path) -> None:
    """Spreadsheets write 2,218.60 (quoted, in a comma file) or 2.218,60 (in a ``;`` file):
    numbers, not a text identifier. A ``;`` file's 2.033 without a decimal comma anywhere in
    its column is a decimal point, and 0,125 or a list of numbers is no grouping."""
    rows = (f'"{1000 + 37 * i:,}.{i % 100:02d}","0,{i:03d}",{i}.5' for i in range(30))
    frame = _written(tmp_path / "us.csv", "price,code,ratio", rows)
    assert frame["price"][1] == "1037.01"
    assert detect_types(frame)["price"].type == "continuous"
    assert frame["code"][0] == "0,000"  # not a grouping (a leading zero): text
    rows = (f"{1 + i}.{100 + i},{i % 10}5;2.{i:03d};{i % 12 + 20}" for i in range(30))
    frame = _written(tmp_path / "de.csv", "price;ratio;count", rows)
    assert frame["price"][2] == "3102.25"
    assert frame["ratio"][7] == "2.007"  # a decimal point: no decimal comma in the column
    assert {k: v.type for k, v in detect_types(frame).items()} == {
        "price": "continuous", "ratio": "continuous", "count": "integer"
    }  # fmt: skip


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "is empty"),
        (b"a,b\n", "no data rows"),
        (b"a,b\n1,x\n3,4,5\n", "line 3: 3 values"),
        (b"a,a\n1,x\n", "appears twice"),
        (b"a,b\n1,x\n\xff\xfe,2\n", "line 3: bytes that are not UTF-8"),
        (b"a,b\n" + b"1,x\n" * 5, "needs at least 10"),
        (b"a,b\n" + b"1,\n" * 20, "no column to model"),
    ],
)
def test_bad_tables_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    code = main(["gan", "train", "csv", "--csv", str(path), "--out", str(tmp_path / "run"),
                 "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "types,message",
    [
        (["nope=categorical"], "lacks; its columns"),
        (["size=banana"], "must be one of"),
        (["size=continuous"], "not a number"),
        (["size"], "COLUMN=TYPE"),
    ],
)
def test_bad_types_are_refused(table_csv: Path, types: list[str], message: str) -> None:
    with pytest.raises((ConfigError, DataError), match=message.replace(";", ".*")):
        genlab.gan.make_data("csv", csv=str(table_csv), types=types)


def test_types_override_and_json_file(table_csv: Path, tmp_path: Path) -> None:
    spec = tmp_path / "types.json"
    spec.write_text('{"items": "categorical"}')
    data = genlab.gan.make_data("csv", csv=str(table_csv), types=[str(spec), "weight=continuous"])
    kinds = {s.name: s.type for s in data.codec.specs}
    assert kinds["items"] == "categorical" and kinds["weight"] == "continuous"


def test_data_show_plots_a_table_alone_with_dates_as_dates(
    table_csv: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    import matplotlib.dates as mdates

    from genlab import plots

    seen = {}
    real = plots.plt.subplots

    def spy(*args, **kwargs):  # keep the figure's axes to look at
        fig, axes = real(*args, **kwargs)
        seen["axes"] = axes
        return fig, axes

    monkeypatch.setattr(plots.plt, "subplots", spy)
    out = tmp_path / "orders.png"
    assert main(["data", "show", "--csv", str(table_csv), "--out", str(out)]) == 0
    assert out.exists() and "day" in capsys.readouterr().out
    axes = {ax.get_title().split()[0]: ax for ax in seen["axes"].flat if ax.get_title()}
    assert isinstance(axes["day"].xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert axes["day"].get_legend() is None and len(axes["size"].patches) == 4  # no fakes


def test_numbers_only_csv_keeps_the_curve_path(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i * i}\n" for i in range(30)))
    assert genlab.gan.make_data("csv", csv=str(path)).kind == "curve"
    assert genlab.gan.make_data("csv", csv=str(path), types=["x=integer"]).kind == "table"
    with pytest.raises(ConfigError, match="--critic is for tables"):
        genlab.gan.make_data("csv", csv=str(path), critic=True)
    with pytest.raises(ConfigError, match="--no-target-model is for tables"):
        genlab.gan.make_data("csv", csv=str(path), target_model=False)


def test_many_levels_are_bounded_and_rare_levels_never_stored(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    common = [f"city{i}" for i in range(300)]
    cities = list(rng.choice(common, 3000)) + [f"lonely{i}" for i in range(400)]
    frame = pd.DataFrame({"city": cities, "v": rng.normal(size=len(cities))})
    data = genlab.gan.make_data("csv", data=frame)
    spec = data.codec.specs[0]
    assert len(spec.levels) <= 101  # MAX_LEVELS + "other"
    stored = set(spec.levels) | set(spec.pooled)
    assert not any(str(level).startswith("lonely") for level in stored)


def test_numbers_come_back_with_the_inputs_decimals_also_in_scientific_notation() -> None:
    """A column of 1e-7s written as ``4.02e-07`` is not rounded to 0; ``2.50`` keeps 2."""
    rng = np.random.default_rng(2)
    tiny = [repr(float(v)) for v in rng.normal(0, 1e-6, 200)]
    price = [f"{v:.2f}" for v in rng.uniform(1, 9, 200)]
    data = genlab.gan.make_data("csv", data=pd.DataFrame({"tiny": tiny, "price": price}))
    back = data.codec.frame(data.codec.codes(data.parts.train))
    expected = pd.to_numeric(data.parts.train["tiny"]).to_numpy()
    assert np.allclose(back["tiny"].to_numpy(), expected, rtol=1e-9, atol=0)
    assert (back["price"] == back["price"].round(2)).all()
    assert not (back["price"] == back["price"].round(1)).all()


# --------------------------------------------------------------------------- a trained run


def test_samples_keep_columns_types_and_ranges(table_run: Path, table_csv: Path) -> None:
    real = pd.read_csv(table_csv)
    run = genlab.gan.load(table_run)
    rows = run.sample(2000, seed=3)
    assert list(rows.columns) == list(real.columns)
    assert rows["order_id"].is_unique and int(rows["order_id"].min()) > int(real["order_id"].max())
    assert set(rows["size"].dropna()) <= {"S", "M", "L", "XXL"}
    assert set(rows["paid"]) <= {"yes", "no"}
    assert (rows["shop"] == "Main street").all()
    items = rows["items"].dropna().astype(float)
    assert (items == items.round()).all()
    assert items.min() >= real["items"].min() and items.max() <= real["items"].max()
    days = pd.to_datetime(rows["day"], format="%Y-%m-%d")
    assert days.min() >= pd.Timestamp("2024-01-01") and days.max() <= pd.Timestamp("2024-12-31")
    # same seed, same rows
    pd.testing.assert_frame_equal(rows, run.sample(2000, seed=3))


def test_where_returns_exactly_the_rows_asked_for(table_run: Path, capsys) -> None:
    run = genlab.gan.load(table_run)
    rare = run.sample(300, where={"size": "XXL", "paid": "no"})
    assert len(rare) == 300
    assert (rare["size"] == "XXL").all() and (rare["paid"] == "no").all()
    assert main(["gan", "sample", str(table_run), "-n", "50", "--where", "size=XXL"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 51 and all(",XXL," in line for line in lines[1:])
    # a date, a whole number and an empty cell come back exactly as asked, every one
    asked = run.sample(200, where={"day": "2024-03-05", "items": 12, "weight": ""})
    assert (asked["day"] == "2024-03-05").all() and (asked["items"] == 12).all()
    assert asked["weight"].isna().all()
    for where, message in (("size=XS", "never took that value"), ("colour=red", "no column"),
                           ("order_id=5", "not modelled"), ("size", "COLUMN=VALUE"),
                           ("day=5 March", "write it as 2024-01-01")):  # fmt: skip
        assert main(["gan", "sample", str(table_run), "-n", "5", "--where", where]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1


def test_summary_has_the_ecosystems_figures(table_run: Path) -> None:
    import json

    summary = json.loads((table_run / "summary.json").read_text())
    metrics = summary["metrics"]
    assert summary["headline"] == "metrics.quality"
    for key in ("quality", "column_shapes", "pair_trends", "ml_efficacy", "privacy", "copies"):
        assert 0.0 <= metrics[key] <= 1.0 or key == "ml_efficacy", key
    assert metrics["copies"] == 0.0
    assert metrics["invalid"] == 0.0
    assert (table_run / "plots" / "columns.png").exists()
    assert (table_run / "plots" / "associations.png").exists()


def _stored(model_file: Path) -> tuple[np.ndarray, list[str]]:
    """Every number (sorted, distinct) and every string in a model file."""
    payload = torch.load(model_file, weights_only=True)
    numbers: list[float] = []
    strings: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, torch.Tensor):
            numbers.extend(value.double().flatten().tolist())
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers.append(float(value))
        elif isinstance(value, str):
            strings.append(value)

    walk(payload)
    return np.array(sorted(set(numbers))), strings


def _share_stored(values: pd.Series, stored: np.ndarray) -> float:
    """The share of ``values`` (a column's cells) found among the ``stored`` numbers (a
    quantile knot may equal a value by chance; rows would put all of them there)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return float(np.isin(np.round(values, 6), np.round(stored, 6)).mean())


def test_model_file_holds_no_rows(table_run: Path, table_csv: Path) -> None:
    """Every number and every string in model.pt: no training row, no identifier, no value
    of a level seen fewer than 5 times."""
    stored, strings = _stored(table_run / "model.pt")
    real = pd.read_csv(table_csv)
    found = _share_stored(real["weight"], stored)
    assert found < 0.2, found
    ids = set(real["order_id"].astype(str))
    assert not ids & {s for s in strings}
    assert not {int(v) for v in stored if v == int(v) and 1000 < v < 2000} - {1000 + len(real)}


def test_eval_rebuilds_the_test_part_from_the_csv(
    table_run: Path, table_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import json

    summary = json.loads((table_run / "summary.json").read_text())
    again = genlab.gan.evaluate(table_run)
    assert math.isclose(again["quality"], summary["metrics"]["quality"], rel_tol=1e-9)
    other = tmp_path / "other.csv"
    mixed_table(seed=5).to_csv(other, index=False)
    assert main(["gan", "eval", str(table_run), "--csv", str(other)]) == 2
    assert "not the data this run trained on" in capsys.readouterr().err
    moved = tmp_path / "gone.csv"
    assert main(["gan", "eval", str(table_run), "--csv", str(moved)]) == 2
    assert "is not there" in capsys.readouterr().err


def test_python_api_takes_and_gives_dataframes(tmp_path: Path) -> None:
    frame = mixed_table(400, seed=2)
    run = genlab.gan.train("csv", data=frame, quiet=True, plots=False, final_samples=500, **TINY)
    rows = run.sample(5, where={"size": "L"})
    assert isinstance(rows, pd.DataFrame) and list(rows.columns) == list(frame.columns)
    assert (rows["size"] == "L").all()
    with pytest.raises(DataError, match="give the data"):
        genlab.gan.evaluate(run)
    figures = genlab.gan.evaluate(run, n=500, data=frame)
    assert 0 < figures["quality"] <= 1


def test_a_number_targets_draw_is_chosen_on_the_validation_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a number target, a run tries the target model's two draws: it keeps the located
    one only when the trees fitted on its rows score on the validation part at least
    LOCATED_MARGIN above the trees fitted on the bins' rows; the summary says which, with
    both figures; the model file reloads with that draw, sampling the same rows. With the
    margin forced the other way, the choice follows; the located run's exports draw as it
    does, and its model file holds no row's weight (the bins' means, the residuals'
    quantiles)."""
    import genlab.gan.table as table
    from genlab.evaluation import table_figures

    frame = mixed_table(600, seed=3)
    margin = table.LOCATED_MARGIN
    scored: list[tuple[int, float]] = []  # (rows, R²) of every tree the run fits
    ml_score = table_figures.ml_score

    def recording(frame: pd.DataFrame, *args: Any, **options: Any) -> float:
        scored.append((len(frame), ml_score(frame, *args, **options)))
        return scored[-1][1]

    monkeypatch.setattr(table_figures, "ml_score", recording)
    chosen: list[str | None] = []
    for forced in (False, True):
        expect: str | None = None
        if forced:  # the margin forced against the first run's choice: the choice follows
            expect = "bins" if chosen[0] == "located" else "located"
            monkeypatch.setattr(table, "LOCATED_MARGIN", 1.0 if expect == "bins" else -1.0)
        out = tmp_path / f"run{forced}"
        run = genlab.gan.train("csv", data=frame, target="weight", out=out, quiet=True,
                               plots=False, final_samples=500, **TINY)  # fmt: skip
        figures = run.summary["metrics"]
        bins, located = (figures[f"target_draw_validation_{d}"] for d in ("bins", "located"))
        assert -1 < bins < 1 and -1 < located < 1 and bins != located
        if not forced:
            expect = "located" if located >= bins + margin else "bins"
            # each way's figure: the mean over CHOICE_DRAWS disjoint sets of generated rows
            draws = table.CHOICE_DRAWS
            size = min(table.CHOICE_ROWS, max(table.MIN_CHOICE_ROWS, run.data.splits()["train"]))
            assert size == table.MIN_CHOICE_ROWS  # a small table: sets of the smallest size
            assert [rows for rows, _ in scored[: 2 * draws]] == [size] * 2 * draws
            each = [r2 for _, r2 in scored[: 2 * draws]]
            assert len(set(each)) == 2 * draws
            assert bins == pytest.approx(sum(each[:draws]) / draws)
            assert located == pytest.approx(sum(each[draws:]) / draws)
        assert figures["target_draw"] == expect
        chosen.append(expect)
        assert run.generator.target_model.locate is (expect == "located")
        again = genlab.gan.load(out)
        assert again.generator.target_model.locate is (expect == "located")
        assert genlab.gan.evaluate(again, n=200, data=frame)["target_draw"] == expect
        pd.testing.assert_frame_equal(again.sample(50, seed=4), run.sample(50, seed=4))
        if expect == "located":
            _exports_give_what_sampling_gives(out, tmp_path)
            assert _share_stored(frame["weight"], _stored(out / "model.pt")[0]) < 0.2


def train_two_processes(csv: Path | str, out: Path) -> dict:
    """A short table run under torchrun, two CPU processes: one run folder, ranks in step,
    the figures there; its summary."""
    import json

    from tests.test_distributed import torchrun

    result = torchrun("gan", "train", "csv", "--csv", str(csv), "--epochs", "4",
                      "--eval-every", "2", "--batch-size", "100", "--quiet", "--no-plots",
                      "--no-report", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["ranks_consistent"] is True
    assert summary["epochs_run"] == 4 and 0 < summary["metrics"]["quality"] <= 1
    return summary


@pytest.mark.slow  # multi-process, notebook or kill-and-resume: in CI, not the quick loop
def test_two_process_table_gan(table_csv: Path, tmp_path: Path) -> None:
    """torchrun, two CPU processes: one run folder, ranks in step, the same figures' keys."""
    train_two_processes(table_csv, tmp_path / "ddp")
    rows = genlab.gan.sample(tmp_path / "ddp", 50, where={"paid": "no"})
    assert (rows["paid"] == "no").all()


def test_a_dataframe_gets_its_dtypes_back() -> None:
    """bool, float categories, int categories, whole numbers, datetimes and pandas
    categories come back in the DataFrame's own dtypes (a CSV's cells keep their text
    spelling instead)."""
    from genlab.data.table import TableCodec, fit_specs
    from genlab.gan.table import column_types

    n = 120
    frame = pd.DataFrame(
        {
            "flag": np.arange(n) % 3 == 0,
            "kids": (np.arange(n) % 4).astype(float),
            "rooms": np.arange(n) % 4,
            "price": np.arange(n) * 7,
            "when": pd.date_range("2024-01-01", periods=n),
            "hourly": pd.date_range("2024-01-01", periods=n, freq="h"),  # midnights too
            "c": ["a", "b"] * (n // 2),
            "grade": pd.Categorical(["x", "y", "z"] * (n // 3)),
        }
    )
    text, _ = read_table(frame)
    assert column_types(text)["hourly"] == "datetime"  # unique, but not an identifier
    codec = TableCodec(fit_specs(text, column_types(text), dtypes=text.attrs["dtypes"]))
    back = codec.frame(codec.codes(text))
    assert back.dtypes.to_dict() == frame.dtypes.to_dict()
    pd.testing.assert_frame_equal(back, frame)


def test_currency_and_percent_signs_are_read_as_numbers(tmp_path: Path) -> None:
    """A spreadsheet's $1,234.00, 12.5 % and (in a ``;`` file) 3,50 € are the numbers shown,
    not text; a column of text that happens to end in % stays text."""
    rows = (
        f'"{"-" if i == 3 else ""}${1000 + 37 * i:,}.{i:02d}",{i}.5 %,{"ab"[i % 2]}%'
        for i in range(30)
    )
    frame = _written(tmp_path / "shop.csv", "price,share,note", rows)
    assert frame["price"][1] == "1037.01" and frame["price"][3] == "-1111.03"
    assert frame["share"][4] == "4.5"
    assert frame["note"][0] == "a%"
    kinds = {k: v.type for k, v in detect_types(frame).items()}
    assert kinds == {"price": "continuous", "share": "continuous", "note": "categorical"}
    rows = (f"{i},{i % 10}0 €;{i % 12}" for i in range(30))
    frame = _written(tmp_path / "laden.csv", "preis;n", rows)
    assert frame["preis"][7] == "7.70"
    assert detect_types(frame)["preis"].type == "continuous"


def test_time_zone_aware_pandas_datetimes_come_back_in_their_zone() -> None:
    """A DataFrame's zone-aware datetimes (one across a daylight-saving change, one at
    midnight in UTC) come back zone-aware, in their zone, at the same instants (they came
    back naive: the zone was lost)."""
    from genlab.data.table import TableCodec, fit_specs
    from genlab.gan.table import column_types

    n = 60
    frame = pd.DataFrame(
        {
            "berlin": pd.date_range("2024-03-30 20:00", periods=n, freq="h", tz="Europe/Berlin"),
            "utc": pd.date_range("2024-01-01", periods=n, tz="UTC"),
            "x": np.linspace(0.0, 1.0, n),
        }
    )
    text, _ = read_table(frame)
    assert column_types(text) == {"berlin": "datetime", "utc": "datetime", "x": "continuous"}
    codec = TableCodec(fit_specs(text, column_types(text), dtypes=text.attrs["dtypes"]))
    back = codec.frame(codec.codes(text))
    assert back.dtypes.to_dict() == frame.dtypes.to_dict()
    pd.testing.assert_frame_equal(back, frame)


def test_datetimes_come_back_on_the_grid_their_values_lie_on() -> None:
    """Monthly figures (each on the 1st) come back on the 1st, yearly ones on 1 January,
    hourly readings on the hour, whatever the model space between them (a monthly series
    came back with 1993-03-05); dates of any day keep any day."""
    from genlab.data.table import TableCodec, fit_specs
    from genlab.gan.table import column_types

    n = 120
    frame = pd.DataFrame(
        {
            "month": pd.date_range("2010-01-01", periods=n, freq="MS").strftime("%Y-%m-%d"),
            "year": pd.date_range("1900-01-01", periods=n, freq="YS").strftime("%Y-%m-%d"),
            "hour": pd.date_range("2024-05-01", periods=n, freq="h").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "day": pd.date_range("2024-05-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        }
    )
    text, _ = read_table(frame)
    codec = TableCodec(fit_specs(text, column_types(text)))
    assert [s.grid for s in codec.specs] == ["month", "year", "3600", ""]
    codes = codec.codes(text)
    jitter = torch.rand(
        codes.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    moved = codes + (jitter - 0.5) * torch.tensor([80 * 86400.0, 150 * 86400.0, 3000.0, 86400.0])
    back = codec.frame(moved)
    month, year = pd.to_datetime(back["month"]), pd.to_datetime(back["year"])
    hour = pd.to_datetime(back["hour"], format="%Y-%m-%dT%H:%M:%SZ")
    assert (month.dt.day == 1).all() and (year.dt.dayofyear == 1).all()
    assert ((hour.dt.minute == 0) & (hour.dt.second == 0)).all()
    assert back["month"].between(frame["month"].min(), frame["month"].max()).all()
    assert (back["month"] != frame["month"]).any()  # moved, and back on the grid
    assert pd.to_datetime(back["day"]).dt.day.nunique() > 20


def test_rare_numbers_of_a_category_count_as_the_nearest_stored_one() -> None:
    """A few-valued number column whose rarest values are seen under 5 times (Cars93's
    passengers: 2 seats twice, 8 once) is never given back as the text "(other)", which made
    an int64 column Int64 with holes: a rare number counts as the nearest stored one (still
    never written itself). A DataFrame's int64 identifiers come back int64."""
    from genlab.data.table import OTHER, TableCodec, fit_specs
    from genlab.gan.table import column_types

    seats = [4] * 20 + [5] * 40 + [6] * 20 + [7] * 15 + [2, 2, 8]
    frame = pd.DataFrame({"id": np.arange(len(seats)), "seats": seats})
    text, _ = read_table(frame)
    types = column_types(text)
    assert types == {"id": "identifier", "seats": "categorical"}
    codec = TableCodec(fit_specs(text, types, dtypes=text.attrs["dtypes"]))
    spec = codec.specs[1]
    assert OTHER not in spec.levels and not spec.other
    assert sorted(spec.levels) == ["4", "5", "6", "7"]
    codes = codec.codes(text)[:, 0]
    levels = np.array(spec.levels)[codes.long().numpy()]
    assert list(levels[-3:]) == ["4", "4", "7"]  # 2 -> 4, 8 -> 7
    back = codec.frame(codec.codes(text))
    assert back.dtypes.to_dict() == frame.dtypes.to_dict()
    assert set(back["seats"]) == {4, 5, 6, 7}


def test_copy_on_write_pandas_tables_are_coded() -> None:
    """pandas 3 (copy on write) hands out read-only arrays: a table with empty categories,
    integers, numbers and dates is still coded and decoded (it crashed on gss_wages)."""
    from genlab.data.table import TableCodec, fit_specs
    from genlab.gan.table import column_types

    n = 200
    frame = pd.DataFrame(
        {
            "c": (["a", "b", None, "a"] * n)[:n],
            "i": np.arange(n) % 5,
            "x": np.where(np.arange(n) % 6 == 0, np.nan, np.linspace(0, 1, n)),
            "when": pd.date_range("2024-01-01", periods=n).astype(str),
        }
    )
    with pd.option_context("mode.copy_on_write", True):
        text, _ = read_table(frame)
        codec = TableCodec(fit_specs(text, column_types(text)))
        codes = codec.codes(text)
        back = codec.frame(codes)
    assert back["c"].isna().sum() == frame["c"].isna().sum()
    assert back["x"].isna().sum() == frame["x"].isna().sum()
    assert set(back["c"].dropna()) == {"a", "b"}


def test_moment_gap_sees_a_broken_dependency() -> None:
    """The generator's moment term is 0 for the real batch itself and large for rows whose
    columns keep their marginals but lose their dependency (a price that ignores clarity)."""
    from genlab.gan.table import moment_gap

    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 1, generator=g)
    real = torch.cat([x, 0.9 * x + 0.1 * torch.randn(500, 1, generator=g)], dim=1)
    broken = torch.stack([real[:, 0], real[torch.randperm(500, generator=g), 1]], dim=1)
    assert float(moment_gap(real, real)) == 0.0
    assert float(moment_gap(broken, real)) > 1.0 > 3 * float(moment_gap(real[:250], real[250:]))


def _toy_generator(
    seed: int = 0,
    two_stage: bool = True,
    candidates: int = 1,
    target: tuple[int, int, bool, bool] | None = None,
):
    """An untrained table generator: one 3-level category, one number with empty cells (its
    present/empty one-hot), one plain number: model space [cat x3 | value, present, empty |
    value]; ``target``: its target model's dims (a number's values are its model-space
    values: its knots the normal's quantiles)."""
    from genlab.gan.table import TableGenerator

    torch.manual_seed(seed)
    column_dims = torch.zeros(3, 7, dtype=torch.bool)
    column_dims[0, 0:3] = column_dims[1, 3:6] = column_dims[2, 6] = True
    levels = torch.linspace(0, 1, 257, dtype=torch.float64).clamp(1e-6, 1 - 1e-6)
    knots = torch.special.ndtri(levels) if target is not None and target[2] else None
    return TableGenerator(
        8, 7, [(0, 3), (4, 2)], column_dims, (32,), gated=[(3, 4)], values=[3, 6],
        two_stage=two_stage, candidates=candidates, target=target, target_knots=knots,
    ).eval()  # fmt: skip


def test_calibration_brings_shares_and_marginals_to_the_train_parts() -> None:
    """After :func:`calibrate`, an (untrained, badly skewed) generator makes each level and
    each column's empty cells in the shares asked for, and each number's non-empty values
    follow the standard normal (the train part's own model-space marginal); training mode
    and revealed columns are untouched."""
    from scipy.stats import kstest

    from genlab.gan.table import calibrate

    gen = _toy_generator()
    shares = [torch.tensor([0.6, 0.3, 0.1]), torch.tensor([0.62, 0.38])]
    noise = torch.randn(20_000, 8, generator=torch.Generator().manual_seed(1))
    condition = torch.zeros(20_000, 7 + 3)
    with torch.no_grad():
        before = gen(noise, condition)
        calibrate(gen, shares, seed=5, rows=20_000)
        after = gen(noise, condition)  # other noise than calibrate's
    made = torch.bincount(after[:, :3].argmax(dim=1), minlength=3).double() / 20_000
    assert torch.allclose(made, shares[0].double(), atol=0.01)
    assert float(after[:, 5].mean()) == pytest.approx(0.38, abs=0.01)  # empty share
    raw_made = torch.bincount(before[:, :3].argmax(dim=1), minlength=3).double() / 20_000
    assert float((raw_made - shares[0]).abs().max()) > 0.05  # there was something to fix
    present = after[:, 4] > 0.5
    for values in (after[present, 3], after[:, 6]):
        assert kstest(values.numpy(), "norm").statistic < 0.02
    assert kstest(before[:, 6].numpy(), "norm").statistic > 0.05
    assert torch.all(after[~present, 3] == 0)  # an empty cell's value stays 0
    raw = _toy_generator()  # the same weights, never calibrated
    gen.train(), raw.train()
    with torch.no_grad():  # training sees the raw generator
        assert torch.equal(gen(noise[:100], condition[:100]), raw(noise[:100], condition[:100]))
    gen.eval()
    revealed = condition[:10].clone()
    revealed[:, 6], revealed[:, 7 + 2] = 1.234, 1.0  # reveal the plain number
    with torch.no_grad():
        assert torch.all(gen(noise[:10], revealed)[:, 6] == 1.234)


def test_fit_bias_meets_the_shares_and_old_model_files_load() -> None:
    """The dual ascent of :func:`fit_bias` meets wanted shares far from the raw argmax's;
    a generator saved before calibration existed loads as the identity."""
    from genlab.gan.table import fit_bias

    logits = torch.randn(10_000, 4, generator=torch.Generator().manual_seed(0)) * 3
    logits[:, 0] += 4  # level 0 wins almost everywhere
    wanted = torch.tensor([0.1, 0.2, 0.3, 0.4])
    bias = fit_bias(logits, wanted)
    made = torch.bincount((logits + bias).argmax(dim=1), minlength=4).float() / 10_000
    assert torch.allclose(made, wanted, atol=0.005)
    gen = _toy_generator()
    old = {k: v for k, v in gen.state_dict().items()
           if not k.startswith(("logit_bias", "calibration", "value_dims"))}  # fmt: skip
    fresh = _toy_generator(seed=1)
    fresh.load_state_dict(old)
    assert torch.equal(fresh.calibration_from, fresh.calibration_to)
    assert float(fresh.logit_bias.abs().sum()) == 0.0


def test_the_critic_picks_rows_nearer_the_real_ones_keeping_shares_and_marginals() -> None:
    """:func:`fit_critic` on real rows whose two numbers go together (correlation 0.9) and
    an untrained generator's, whose do not: the rows it picks have the two numbers go
    together far more, while the levels' and empty cells' shares and each number's marginal
    stay the train part's; the same noise gives the same rows, revealed values are kept,
    training mode sees the plain generator, and a model file with the critic loads it on
    (one from before the critic loads without)."""
    from scipy.stats import kstest

    from genlab.gan.table import calibrate, fit_critic

    gen = _toy_generator(candidates=10)
    shares = [torch.tensor([0.6, 0.3, 0.1]), torch.tensor([0.62, 0.38])]
    calibrate(gen, shares, seed=5, rows=20_000)

    def real(n: int, seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        rows = gen.rows(torch.randn(n, 8, generator=g), torch.zeros(n, 10)).detach()
        present = rows[:, 4] > 0.5
        paired = 0.9 * rows[:, 3] + 0.19**0.5 * torch.randn(n, generator=g)
        rows[:, 6] = torch.where(present, paired, torch.randn(n, generator=g))
        return rows

    noise = torch.randn(20_000, 8, generator=torch.Generator().manual_seed(1))
    condition = torch.zeros(20_000, 10)

    def paired(rows: torch.Tensor) -> float:
        present = rows[:, 4] > 0.5
        return float(torch.corrcoef(rows[present][:, [3, 6]].T)[0, 1])

    with torch.no_grad():
        before = gen(noise, condition)
        figures = fit_critic(gen, real(8000, 2), real(2000, 3), shares, seed=7)
        after = gen(noise, condition)
        assert torch.equal(gen(noise[:500], condition[:500]), after[:500])
    assert figures["critic_epochs"] >= 1 and gen.refine
    assert paired(before) < 0.3 < 0.6 < paired(after)
    made = torch.bincount(after[:, :3].argmax(dim=1), minlength=3).double() / 20_000
    assert torch.allclose(made, shares[0].double(), atol=0.015)
    assert float(after[:, 5].mean()) == pytest.approx(0.38, abs=0.015)  # empty share
    present = after[:, 4] > 0.5
    for values in (after[present, 3], after[:, 6]):
        assert kstest(values.numpy(), "norm").statistic < 0.03
    assert torch.all(after[~present, 3] == 0)
    revealed = condition[:10].clone()
    revealed[:, 6], revealed[:, 7 + 2] = 1.234, 1.0
    with torch.no_grad():
        assert torch.all(gen(noise[:10], revealed)[:, 6] == 1.234)
        training = copy.deepcopy(gen).train()  # (batch norm's statistics move in training)
        plain = copy.deepcopy(training)
        assert torch.equal(
            training(noise[:100], condition[:100]), plain.rows(noise[:100], condition[:100])
        )
        saved = _toy_generator(seed=1, candidates=10)
        saved.load_state_dict(gen.state_dict())
        assert saved.refine and torch.equal(saved(noise[:100], condition[:100]), after[:100])
        old = {k: v for k, v in gen.state_dict().items()
               if not k.startswith(("critic", "refined", "rotations"))}  # fmt: skip
        before_critic = _toy_generator(seed=1, candidates=10)
        before_critic.load_state_dict(old)
        assert before_critic.critic is None and not before_critic.refine
        assert torch.equal(
            before_critic(noise[:100], condition[:100]), gen.rows(noise[:100], condition[:100])
        )


def _dependent_rows(
    gen: torch.nn.Module, n: int, seed: int, target: str, spreads: tuple = (0.5, 0.5, 0.5)
) -> torch.Tensor:
    """``gen``'s own rows (model space) with its ``target`` remade from another column:
    the empty-celled number ("number") from the category (means -1.5, 0, 1.5 for its three
    levels, sd ``spreads``), or the category ("category") from the plain number (level 2
    below 0, else 0 below 0.7, else 1)."""
    g = torch.Generator().manual_seed(seed)
    rows = gen.rows(torch.randn(n, 8, generator=g), torch.zeros(n, 10)).detach()
    if target == "number":
        level = rows[:, 0:3].argmax(dim=1)
        sd = torch.tensor(spreads)[level]
        value = torch.tensor([-1.5, 0.0, 1.5])[level] + sd * torch.randn(n, generator=g)
        rows[:, 3] = torch.where(rows[:, 4] > 0.5, value, 0.0)
    else:
        plain = rows[:, 6]
        level = torch.where(plain < 0, 2, torch.where(plain < 0.7, 0, 1))
        rows[:, 0:3] = torch.nn.functional.one_hot(level, 3).float()
    return rows


def _with_target_model(
    target: str, spreads: tuple = (0.5, 0.5, 0.5)
) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor, dict]:
    """A calibrated toy generator with a target model for ``target`` ("number": the
    empty-celled number; "category"), its rows on 20,000 noise vectors before and after the
    model is fitted on :func:`_dependent_rows` (``spreads``), and the fit's figures."""
    from genlab.gan.table import calibrate
    from genlab.gan.table_target import fit_target_model

    dims = (3, 3, True, True) if target == "number" else (0, 3, False, False)
    gen = _toy_generator(target=dims)
    calibrate(gen, [torch.tensor([0.4, 0.35, 0.25]), torch.tensor([0.62, 0.38])], 5, 20_000)
    noise = torch.randn(20_000, 8, generator=torch.Generator().manual_seed(1))
    condition = torch.zeros(20_000, 10)
    with torch.no_grad():
        before = gen(noise, condition)
        real = _dependent_rows(gen, 8000, 2, target, spreads)
        held = _dependent_rows(gen, 2000, 3, target, spreads)
        figures = fit_target_model(gen.target_model, real, held, seed=7)
        gen.redraw = True
        gen.target_on.fill_(1.0)
        return gen, before, gen(noise, condition), figures


def test_the_target_model_draws_a_number_given_the_other_columns() -> None:
    """:func:`fit_target_model` on rows whose empty-celled number depends on the category:
    an untrained generator's rows then get that number drawn as the real rows have it (each
    level's mean and spread, a normal by the KS test), while its empty cells stay as the
    generator made them (value 0); the same noise gives the same rows, a revealed number is
    kept, training mode sees the plain generator, a saved model reloads on, and a model file
    from before the target model loads without it; calibrated, the drawn values' marginal
    becomes the normal's, in the same order."""
    from scipy.stats import kstest

    from genlab.gan.table_target import calibrate_target

    gen, before, after, figures = _with_target_model("number")
    noise = torch.randn(20_000, 8, generator=torch.Generator().manual_seed(1))
    condition = torch.zeros(20_000, 10)
    with torch.no_grad():
        assert torch.equal(gen(noise[:500], condition[:500]), after[:500])
    assert figures["target_epochs"] >= 1
    assert torch.equal(after[:, [0, 1, 2, 4, 5, 6]], before[:, [0, 1, 2, 4, 5, 6]])
    present = after[:, 4] > 0.5
    assert 0.2 < float(present.float().mean()) < 0.8
    assert torch.all(after[~present, 3] == 0)
    level = after[:, :3].argmax(dim=1)
    for k, mean in enumerate((-1.5, 0.0, 1.5)):
        values = after[present & (level == k), 3]
        assert values.numel() > 500
        assert kstest(values.numpy(), "norm", args=(mean, 0.5)).statistic < 0.06
    revealed = condition[:10].clone()
    revealed[:, 3], revealed[:, 4], revealed[:, 7 + 1] = 1.234, 1.0, 1.0
    with torch.no_grad():
        assert torch.all(gen(noise[:10], revealed)[:, 3] == 1.234)
        training = copy.deepcopy(gen).train()
        plain = copy.deepcopy(training)
        assert torch.equal(
            training(noise[:100], condition[:100]), plain.rows(noise[:100], condition[:100])
        )
        saved = _toy_generator(seed=1, target=(3, 3, True, True))
        saved.load_state_dict(gen.state_dict())
        assert saved.redraw and torch.equal(saved(noise[:100], condition[:100]), after[:100])
        old = {k: v for k, v in gen.state_dict().items() if not k.startswith("target")}
        before_model = _toy_generator(seed=1, target=(3, 3, True, True))
        before_model.load_state_dict(old)
        assert before_model.target_model is None and not before_model.redraw
        assert torch.equal(before_model(noise[:100], condition[:100]), before[:100])
        # calibrated: the drawn values' marginal is the normal (the train part's in model
        # space), in the same order
        calibrate_target(gen.target_model, before, noise, None)
        calibrated = gen(noise, condition)
    assert kstest(calibrated[present, 3].numpy(), "norm").statistic < 0.02
    assert kstest(after[present, 3].numpy(), "norm").statistic > 0.05  # (it was not)
    order = torch.argsort(after[present, 3])
    assert torch.all(calibrated[present, 3][order].diff() >= 0)


def test_the_located_draw_is_the_mean_given_the_row_plus_a_residual() -> None:
    """The located draw of a number target (:meth:`TargetModel.located_value`), on rows whose
    number is its category's mean (-1.5, 0, 1.5) plus a normal residual (sd 0.5): each
    level's draws have that mean and spread (the KS test), empty cells stay empty, the same
    noise gives the same rows; the bins' means rise with the bins, and a bin of fewer than 5
    train rows keeps its middle's value; a saved model reloads located, and a model file from
    before the located draw loads with the bins' draw."""
    from scipy.stats import kstest

    from genlab.data.table import knot_value

    gen, before, binned, _ = _with_target_model("number")
    model = gen.target_model
    assert torch.allclose(model.bin_mean[60:68], model.bin_mean[60:68].sort().values)
    # a bin of fewer than 5 train rows keeps its middle's value, not theirs
    real = _dependent_rows(gen, 8000, 2, "number")
    counts = torch.bincount(model.labels(real[model.present(real)]), minlength=model.outputs)
    few = (counts > 0) & (counts < 5)
    assert int(few.sum()) > 0
    half = torch.full((model.outputs,), 0.5, dtype=torch.float64)
    middle = knot_value(model.knots, model.bin_value(torch.arange(model.outputs), half))
    assert torch.equal(model.bin_mean[few], middle[few])
    noise = torch.randn(20_000, 8, generator=torch.Generator().manual_seed(1))
    condition = torch.zeros(20_000, 10)
    model.use_located(True)
    with torch.no_grad():
        after = gen(noise, condition)
        assert torch.equal(gen(noise[:500], condition[:500]), after[:500])
    assert not torch.equal(after[:, 3], binned[:, 3])
    present = after[:, 4] > 0.5
    assert torch.all(after[~present, 3] == 0)
    assert torch.equal(after[:, [0, 1, 2, 4, 5, 6]], before[:, [0, 1, 2, 4, 5, 6]])
    level = after[:, :3].argmax(dim=1)
    for k, mean in enumerate((-1.5, 0.0, 1.5)):
        values = after[present & (level == k), 3]
        assert abs(float(values.mean()) - mean) < 0.05
        assert kstest(values.numpy(), "norm", args=(mean, 0.5)).statistic < 0.06
    saved = _toy_generator(seed=1, target=(3, 3, True, True))
    saved.load_state_dict(gen.state_dict())
    assert saved.target_model.locate
    with torch.no_grad():
        assert torch.equal(saved(noise[:100], condition[:100]), after[:100])
    old = {k: v for k, v in gen.state_dict().items()
           if not k.endswith(("bin_mean", "residual", "located"))}  # fmt: skip
    before_located = _toy_generator(seed=1, target=(3, 3, True, True))
    before_located.load_state_dict(old)
    assert not before_located.target_model.locate
    with torch.no_grad():
        assert torch.equal(before_located(noise[:100], condition[:100]), binned[:100])


def test_the_target_model_averages_heads_fitted_from_several_seeds() -> None:
    """The target model's :data:`MEMBERS` heads are each fitted (from its own seed, each
    stopping on the validation part), so they differ; the model's bin probabilities are
    their mean, and its reported loss is that mean's on the validation rows. A model file
    from before the ensemble (one head) loads with that head alone and draws as it does."""
    from genlab.gan.table_target import MEMBERS

    gen, _, after, figures = _with_target_model("number")
    model = gen.target_model
    heads = model.heads()
    assert len(heads) == MEMBERS >= 2
    weights = [next(head.parameters()) for head in heads]
    assert all(not torch.equal(weights[0], w) for w in weights[1:])
    held = _dependent_rows(gen, 2000, 3, "number")
    held = held[model.present(held)]
    with torch.no_grad():
        each = torch.stack([torch.softmax(h(model.features(held)), dim=1) for h in heads])
        probs = torch.softmax(model.logits(held), dim=1)
        assert torch.allclose(probs, each.mean(dim=0), atol=1e-6)
        assert not torch.allclose(probs, each[0], atol=1e-3)
        loss = torch.nn.functional.cross_entropy(model.logits(held), model.labels(held))
    assert figures["target_loss"] == pytest.approx(float(loss), rel=1e-6)
    assert figures["target_epochs"] > 0
    noise = torch.randn(2000, 8, generator=torch.Generator().manual_seed(1))
    condition = torch.zeros(2000, 10)
    old = {k: v for k, v in gen.state_dict().items() if ".more_heads." not in k}
    one_head = _toy_generator(seed=1, target=(3, 3, True, True))
    one_head.load_state_dict(old)
    assert len(one_head.target_model.heads()) == 1
    gen.target_model.more_heads = torch.nn.ModuleList()
    with torch.no_grad():
        assert torch.equal(one_head(noise, condition), gen(noise, condition))
        assert not torch.equal(one_head(noise, condition), after[:2000])


def test_located_residuals_can_follow_the_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    """With GROUPS > 1 the located draw reads its residuals per group of rows of about the
    same mean: on rows whose number spreads more at a higher mean (sd 0.2, 0.5, 0.8 by
    level), the top level's draws spread about 3 times as much as the bottom one's, where
    one group for every row gives each level the same spread."""
    import genlab.gan.table_target as table_target

    ratios = {}
    for groups in (1, 4):
        monkeypatch.setattr(table_target, "GROUPS", groups)
        gen, _, _, _ = _with_target_model("number", spreads=(0.2, 0.5, 0.8))
        gen.target_model.use_located(True)
        noise = torch.randn(20_000, 8, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            after = gen(noise, torch.zeros(20_000, 10))
        present, level = after[:, 4] > 0.5, after[:, :3].argmax(dim=1)
        sd = [float(after[present & (level == k), 3].std()) for k in (0, 2)]
        ratios[groups] = sd[1] / sd[0]
    assert 2.5 < ratios[4] < 5.0
    assert 0.8 < ratios[1] < 1.25


def test_the_target_model_draws_a_category_given_the_other_columns() -> None:
    """A category target: drawn from the plain number as the real rows have it (level 2 for
    a negative number, level 1 above 0.7), over the untrained generator's rows; calibrated,
    its levels come out in the shares asked for."""
    from genlab.gan.table_target import calibrate_target

    gen, before, after, _ = _with_target_model("category")
    assert torch.equal(after[:, 3:], before[:, 3:])
    assert torch.all(after[:, :3].sum(dim=1) == 1)
    level, plain = after[:, :3].argmax(dim=1), after[:, 6]
    wanted = torch.where(plain < 0, 2, torch.where(plain < 0.7, 0, 1))
    far = (plain.abs() > 0.2) & ((plain - 0.7).abs() > 0.2)  # away from the borders
    assert float((level == wanted)[far].float().mean()) > 0.97
    assert float((before[:, :3].argmax(dim=1) == wanted)[far].float().mean()) < 0.6
    # calibrated to other shares: the drawn levels come out in them
    noise = torch.randn(20_000, 8, generator=torch.Generator().manual_seed(1))
    shares = torch.tensor([0.2, 0.3, 0.5])
    with torch.no_grad():
        assert calibrate_target(gen.target_model, before, noise, shares) < 0.005
        calibrated = gen(noise, torch.zeros(20_000, 10))
    made = torch.bincount(calibrated[:, :3].argmax(dim=1), minlength=3).double() / 20_000
    assert torch.allclose(made, shares.double(), atol=0.015)


def test_numbers_follow_the_categories_as_they_come_out() -> None:
    """The second stage makes the numbers from the categories the first stage chose: the same
    noise with another level chosen (here by shifting the level's logits) gives other numbers,
    which one stage cannot do (its numbers do not see its categories); a model file from
    before the second stage loads as one stage and samples as before."""
    gen, one = _toy_generator(), _toy_generator(two_stage=False)
    assert gen.numbers is not None and one.numbers is None
    noise = torch.randn(2000, 8, generator=torch.Generator().manual_seed(1))
    condition = torch.zeros(2000, 7 + 3)

    def shifted(generator: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            before = generator(noise, condition)
            generator.logit_bias[0] = 50.0  # level 0 of the category, always
            after = generator(noise, condition)
            generator.logit_bias.zero_()
        return before, after

    for generator, moves in ((gen, True), (one, False)):
        before, after = shifted(generator)
        changed = before[:, :3].argmax(dim=1) != 0  # rows whose level the shift changed
        assert bool(torch.all(after[:, 0] == 1)) and 0.2 < float(changed.float().mean()) < 0.9
        number_moved = (after[:, 6] - before[:, 6]).abs() > 1e-6
        assert bool(torch.equal(number_moved, changed)) is moves  # only where the level changed
        assert bool(number_moved.any()) is moves
    old = dict(one.state_dict())  # a one-stage model file
    fresh = _toy_generator(seed=1)
    fresh.load_state_dict(old)
    assert fresh.numbers is None
    with torch.no_grad():
        assert torch.equal(fresh(noise, condition), one(noise, condition))


def test_generator_step_adds_the_datas_penalty() -> None:
    """The engine adds the adapter's penalty to the generator's loss, with its gradient."""
    from genlab.gan.engine import generator_step

    torch.manual_seed(0)
    gen, disc = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
    noise = torch.randn(8, 2)
    plain = generator_step(gen, disc, torch.optim.SGD(gen.parameters(), lr=0.0), noise)
    total = generator_step(
        gen, disc, torch.optim.SGD(gen.parameters(), lr=0.0), noise,
        penalty=lambda fake: 5.0 + 0 * fake.sum(),
    )  # fmt: skip
    assert float(total) == pytest.approx(float(plain) + 5.0)


def test_interpolate_and_export_speak_the_tables_language(
    table_run: Path, table_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The table adapter answers for its own output (no table branches in the CLI): a
    latent walk prints as rows of the table's columns; an export says it takes conditions,
    and gives what sampling gives (the target model drawing the target too), also with the
    critic (``--critic``) in both formats; ``--no-target-model`` leaves the model out."""
    walk = tmp_path / "walk.png"
    assert main(["gan", "interpolate", str(table_run), "--steps", "4", "--out", str(walk)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[lines.index(next(x for x in lines if x.startswith("wrote"))) + 1]
    assert header.split(",") == list(mixed_table().columns)
    assert walk.stat().st_size > 0 and len(lines) >= 2 + 4
    assert main(["gan", "export", str(table_run), "--out", str(tmp_path / "g.pt2")]) == 0
    assert "conditions torch.zeros(N, " in capsys.readouterr().out
    # with --critic, both formats give what the run's generator (its critic picking the
    # rows) and decoding give
    critic = tmp_path / "critic"
    flags = ["--epochs", "2", "--eval-every", "2", "--batch-size", "100", "--quiet", "--no-report"]
    code = main(["gan", "train", "csv", "--csv", str(table_csv), "--out", str(critic), "--critic",
                 *flags])  # fmt: skip
    assert code == 0
    run = _exports_give_what_sampling_gives(critic, tmp_path)
    assert run.generator.refine and not genlab.gan.load(table_run).generator.refine
    assert run.generator.redraw and genlab.gan.load(table_run).generator.redraw
    plain = genlab.gan.make_data("csv", csv=str(table_csv), target_model=False)
    assert plain.build_networks(run.config)[0].target_model is None


def _exports_give_what_sampling_gives(folder: Path, tmp_path: Path) -> genlab.gan.GanRun:
    """Export the run in ``folder`` in both formats; each gives what the run's generator and
    decoding give on the same noise. Returns the loaded run."""
    exported, scripted = tmp_path / f"{folder.name}.pt2", tmp_path / f"{folder.name}.pt"
    assert main(["gan", "export", str(folder), "--out", str(exported)]) == 0
    out = ["--format", "torchscript", "--out", str(scripted)]
    assert main(["gan", "export", str(folder), *out]) == 0
    run = genlab.gan.load(folder)
    noise = torch.randn(64, run.generator.latent_dim, generator=torch.Generator().manual_seed(3))
    condition = torch.zeros(64, run.data.condition_dim)
    with torch.no_grad():
        want = torch.nan_to_num(run.data.decode(run.generator(noise, condition)), nan=-1.0)
        for module in (torch.export.load(str(exported)).module(), torch.jit.load(str(scripted))):
            got = torch.nan_to_num(module(noise, condition).double(), nan=-1.0)
            assert torch.allclose(got, want, atol=1e-5)
    return run


def test_ml_efficacy_of_a_table_with_no_other_column_is_nan() -> None:
    from genlab.evaluation.table_figures import ml_efficacy

    frame = pd.DataFrame({"y": np.arange(50.0)})
    figures = ml_efficacy(frame, frame, frame, "y", ["y"])
    assert math.isnan(figures["ml_efficacy"]) and math.isnan(figures["ml_efficacy_real"])


def test_ml_efficacy_takes_a_category_of_more_levels_than_the_model_does() -> None:
    """A category of 400 levels (past HistGradientBoosting's 255): the model sees the real
    train part's most common levels, the rest as empty, and still learns what they mean."""
    from genlab.evaluation.table_figures import MAX_MODEL_LEVELS, ml_efficacy

    rng = np.random.default_rng(0)

    def frame(n: int) -> pd.DataFrame:
        # levels 0..99 common, 100..399 rare; y follows the level's number (and noise)
        code = np.where(rng.random(n) < 0.8, rng.integers(0, 100, n), rng.integers(100, 400, n))
        return pd.DataFrame({"job": [f"j{c}" for c in code], "y": code + rng.normal(0, 5, n)})

    train, test = frame(6000), frame(2000)
    assert train["job"].nunique() > MAX_MODEL_LEVELS
    figures = ml_efficacy(train, train.copy(), test, "y", ["y"])
    assert figures["ml_task"] == "R2"
    assert figures["ml_efficacy"] == pytest.approx(figures["ml_efficacy_real"])
    assert figures["ml_efficacy_real"] > 0.5  # the common levels still tell y


def test_a_category_of_rare_levels_is_named_in_a_warning() -> None:
    """A category whose levels are mostly seen under 5 times (Cars93's 32 makers in 93
    rows) comes back mostly as "(other)": ``data show`` counts them, and the run's warnings
    say so, with the share, leaving out a category whose levels are all stored."""
    from genlab.gan.table import make_table_gan_data

    n = 300
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "maker": [f"maker-{i // 2}" if i < 120 else "big" for i in range(n)],
            "colour": rng.choice(["red", "blue"], n),
            "price": rng.normal(size=n),
        }
    )
    reasons = {k: v.reason for k, v in detect_types(read_table(frame)[0]).items()}
    assert reasons["maker"] == "text with 61 values, 60 seen under 5 times"
    assert reasons["colour"] == "text with 2 values"
    data = make_table_gan_data(data=frame)
    rare = [w for w in data.warnings({}) if "(other)" in w]
    assert len(rare) == 1 and "maker (" in rare[0] and "colour" not in rare[0]
    share = float(rare[0].split("maker (")[1].split("%")[0]) / 100
    assert abs(share - 120 / n) < 0.08  # the train part's share of rare makers' rows


def test_calibration_shares_are_the_train_and_validation_parts() -> None:
    """The shares a run calibrates its levels and empty cells to are counted over the train
    and validation parts together (not the test part); a validation cell of a level the
    train part never had is left out of its column's count."""
    from genlab.gan.table import make_table_gan_data, split_frame

    n = 400
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "blue", "grey"], n, p=[0.5, 0.3, 0.2]),
            "size": rng.normal(size=n),
            "price": rng.normal(size=n),
        }
    )
    parts = split_frame(frame, 0, "t")  # the same rows the run's split picks
    position = {tuple(row): i for i, row in enumerate(frame.itertuples(index=False))}
    val = [position[tuple(r)] for r in parts.validation.itertuples(index=False)]
    test = [position[tuple(r)] for r in parts.test.itertuples(index=False)]
    frame.loc[val[:40], "size"] = np.nan  # the validation part: many empty sizes
    frame.loc[val[40:45], "colour"] = "green"  # a level the train part never had
    frame.loc[test, "colour"] = "grey"  # the test part: not counted
    frame.loc[test, "size"] = np.nan
    frame.loc[[i for i in range(n) if i not in val and i not in test][:7], "size"] = np.nan
    data = make_table_gan_data(data=frame)
    parts = data._require_parts()
    seen = pd.concat([parts.train, parts.validation])
    shares = data._shares(data.codec.encode(data._val_codes))
    codec = data.codec
    assert sorted(codec.modelled[column].name for _, _, column in codec.discrete) == [
        "colour", "size"]  # fmt: skip
    for (_, width, column), share in zip(codec.discrete, shares, strict=True):
        spec = codec.modelled[column]
        if spec.name == "colour":
            counted = seen["colour"][seen["colour"] != "green"].value_counts()
            wanted = [counted.get(level, 0) / counted.sum() for level in spec.levels]
            assert share.tolist() == pytest.approx(wanted)
            assert wanted != pytest.approx(
                (parts.train["colour"].value_counts() / len(parts.train)).reindex(
                    spec.levels).fillna(0).tolist())  # fmt: skip
        else:  # size's present / empty flags
            assert spec.name == "size" and width == 2
            empty = float(seen["size"].isna().mean())
            assert share.tolist() == pytest.approx([1 - empty, empty])
            assert abs(empty - float(parts.train["size"].isna().mean())) > 0.05
