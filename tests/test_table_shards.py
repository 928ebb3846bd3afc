"""A table kept in shard files (a folder or a glob of CSVs with one header): each process
under torchrun reads only its own shards, types and summaries come from the first shard,
each shard is split on its own, and ``gan eval`` rebuilds the same parts in one process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import genlab.gan
from genlab.cli import main
from genlab.errors import ConfigError
from genlab.gan.table import make_table_gan_data

#: Rows of each shard (unequal: the processes' batch counts differ).
SIZES = (400, 300, 250)


def write_shards(folder: Path, sizes: tuple[int, ...] = SIZES) -> Path:
    """Shards ``part-0.csv`` ... of one table: shard k's number ``x`` lies in
    [1000 k, 1000 k + 100), so a row tells which shard it came from; the last shard has a
    level of ``cat`` the first never had."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, n in enumerate(sizes):
        rng = np.random.default_rng(k)
        cat = rng.choice(["a", "b", "c"], n).astype(object)
        if k == len(sizes) - 1:
            cat[: n // 5] = "new"
        frame = pd.DataFrame(
            {
                "cat": cat,
                "x": np.round(1000 * k + rng.uniform(0, 100, n), 2),
                "y": np.round(rng.normal(0, 1, n), 3),
            }
        )
        frame.to_csv(folder / f"part-{k}.csv", index=False)
    return folder


def _rows(data: genlab.gan.GanAdapter) -> pd.DataFrame:
    parts = data.parts
    return pd.concat([parts.train, parts.validation, parts.test], ignore_index=True)


def test_each_process_reads_only_its_shards(tmp_path: Path, monkeypatch) -> None:
    folder = write_shards(tmp_path / "orders")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    second = make_table_gan_data(csv=str(folder / "part-*.csv"))
    x = pd.to_numeric(_rows(second)["x"])
    assert len(x) == SIZES[1] and x.between(1000, 1100).all()  # shard 1 only
    assert second.local_rows and second.splits()["shards_read"] == 1
    codec = second.codec
    knots = next(s.knots for s in codec.specs if s.name == "x")
    assert 0 <= min(knots) and max(knots) < 100  # summaries from the first shard
    monkeypatch.setenv("RANK", "0")
    first = make_table_gan_data(csv=str(folder))
    shard_of = (pd.to_numeric(_rows(first)["x"]) // 1000).astype(int)
    assert sorted(set(shard_of)) == [0, 2]  # shards 0 and 2
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.delenv("RANK")
    whole = make_table_gan_data(csv=str(folder))
    assert not whole.local_rows and len(_rows(whole)) == sum(SIZES)
    # the parts do not depend on who reads them; nor does the fingerprint gan eval checks
    for part in ("train", "validation", "test"):
        own = pd.concat([getattr(first.parts, part), getattr(second.parts, part)])
        assert sorted(own["x"]) == sorted(getattr(whole.parts, part)["x"])
    assert whole.to_dict()["fingerprint"] == first.to_dict()["fingerprint"]
    assert whole.to_dict()["fingerprint"] == second.to_dict()["fingerprint"]
    # a level the first shard never had is "other", not another level
    cat = next(s for s in codec.specs if s.name == "cat")
    codes = whole.codec.codes(pd.DataFrame({"cat": ["new", "a"], "x": ["1", "2"], "y": ["0", "0"]}))
    assert codes[0, 0] == cat.levels.index("(other)") != codes[1, 0]


def test_shard_mistakes_are_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    folder = write_shards(tmp_path / "orders")
    monkeypatch.setenv("WORLD_SIZE", "4")
    with pytest.raises(ConfigError, match="3 shard files for 4 processes"):
        make_table_gan_data(csv=str(folder))
    monkeypatch.setenv("WORLD_SIZE", "1")
    (folder / "part-9.csv").write_text("cat,x,z\na,1,2\n" * 20)
    out = tmp_path / "run"
    assert main(["gan", "train", "csv", "--csv", str(folder), "--out", str(out), "--quiet"]) == 2
    assert "part-9.csv: its columns differ from part-0.csv's" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    args = ["gan", "train", "csv", "--csv", str(tmp_path / "empty"), "--out", str(out)]
    assert main([*args, "--quiet"]) == 2
    assert "no CSV file there" in capsys.readouterr().err
    assert not out.exists()


def test_a_sharded_table_trains_samples_and_evaluates(tmp_path: Path) -> None:
    folder = write_shards(tmp_path / "orders")
    out = tmp_path / "run"
    flags = ["--epochs", "4", "--eval-every", "2", "--batch-size", "100", "--quiet",
             "--no-report", "--no-plots"]  # fmt: skip
    assert main(["gan", "train", "csv", "--csv", str(folder / "part-*.csv"), "--out", str(out),
                 *flags]) == 0  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["splits"]["shards"] == 3 and summary["splits"]["shards_read"] == 3
    assert summary["splits"]["test"] == sum(max(2, round(0.15 * n)) for n in SIZES)
    rows = genlab.gan.sample(out, 200, where={"cat": "b"})
    assert list(rows.columns) == ["cat", "x", "y"] and (rows["cat"] == "b").all()
    figures = genlab.gan.evaluate(out, n=500)  # the recorded pattern, one process
    assert 0 < figures["quality"] <= 1


@pytest.mark.slow  # multi-process, notebook or kill-and-resume: in CI, not the quick loop
def test_two_processes_read_their_own_shards(tmp_path: Path) -> None:
    """torchrun, two CPU processes on three shards of unequal size: each holds its own
    rows, both take as many steps (else DDP would hang), ranks stay in step."""
    from tests.test_table_gan import train_two_processes

    summary = train_two_processes(write_shards(tmp_path / "orders"), tmp_path / "ddp")
    assert summary["splits"]["shards_read"] == 2  # rank 0: shards 0 and 2
    assert summary["splits"]["train"] == sum(n - 2 * max(2, round(0.15 * n)) for n in SIZES[::2])
