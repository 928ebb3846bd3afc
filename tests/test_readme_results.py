"""The README's results table against the committed benchmark results (bench/results/*.json).

Every figure in the table must be the one its benchmark wrote: the table between the README's
results markers is rendered again from the committed JSON (``bench/table.py``) and compared
cell by cell, and every figure is shown to depend on its JSON value (changing the value
changes the cell). Also: ``bench/_results.emit`` prints and writes, and ``table.py --write`` /
``--check`` do what they say.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


@pytest.fixture(scope="module")
def bench_modules() -> tuple[ModuleType, ModuleType]:
    """bench/table.py and bench/_results.py (bench/ is not a package: the scripts run as
    ``python bench/NAME.py``, which puts bench/ on the path)."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("table"), importlib.import_module("_results")
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def table(bench_modules: tuple[ModuleType, ModuleType]) -> ModuleType:
    assert Path(bench_modules[0].__file__).resolve() == BENCH / "table.py"
    return bench_modules[0]


@pytest.fixture(scope="module")
def results_module(bench_modules: tuple[ModuleType, ModuleType]) -> ModuleType:
    return bench_modules[1]


@pytest.fixture(scope="module")
def committed(table: ModuleType) -> dict[str, dict[str, Any]]:
    return table.load_results()


def table_rows(text: str) -> list[list[str]]:
    """The cells of a Markdown table's body rows (header and separator dropped)."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len(rows) >= 3 and set(rows[1]) <= {"|", "-"}, "no Markdown table"
    return [[cell.strip() for cell in row.strip().strip("|").split(" | ")] for row in rows[2:]]


def readme_section(table: ModuleType) -> str:
    return table.section((ROOT / "README.md").read_text(encoding="utf-8"))


def test_readme_table_is_the_committed_results(
    table: ModuleType, committed: dict[str, dict[str, Any]]
) -> None:
    section = readme_section(table)
    rendered = table.render(committed)
    readme_rows, expected_rows = table_rows(section), table_rows(rendered)
    assert len(readme_rows) == len(expected_rows) == len(table.ROWS)
    for row, shown, expected in zip(table.ROWS, readme_rows, expected_rows, strict=True):
        assert shown == expected, (
            f"README row {shown[:2]} differs from bench/results/{row.bench}.json; "
            "run python bench/table.py --write"
        )
    assert section == rendered  # the notes under the table too (provisional figures)
    assert table.main(["--check"]) == 0


def test_figures_come_only_from_the_json(table: ModuleType) -> None:
    """The book and genlab cells have no digits of their own: every number is a JSON field."""
    for row in table.ROWS:
        assert table.fields(row.genlab), row
        for template in (row.book, row.genlab):
            literal = table.literal_text(template)
            assert not re.search(r"\d", literal), f"{row.bench}: a number typed in: {template!r}"


def _nudge(value: Any) -> Any:
    """A value that shows differently in any format the table uses."""
    if isinstance(value, bool) or value is None:
        raise AssertionError(f"the table shows {value!r}, which is no figure")
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 1.5 + 1.0
    return f"{value}?"


def _set(figures: dict[str, Any], path: str, value: Any) -> None:
    *head, last = path.split(".")
    for part in head:
        figures = figures[int(part)] if isinstance(figures, list) else figures[part]
    if isinstance(figures, list):
        figures[int(last)] = value
    else:
        figures[last] = value


def _get(figures: Any, path: str) -> Any:
    for part in path.split("."):
        figures = figures[int(part)] if isinstance(figures, list) else figures[part]
    return figures


def test_every_readme_figure_follows_its_json(
    table: ModuleType, committed: dict[str, dict[str, Any]]
) -> None:
    """Change any one figure a README row shows in its JSON and that row no longer matches."""
    readme_rows = table_rows(readme_section(table))
    checked = 0
    for row, shown in zip(table.ROWS, readme_rows, strict=True):
        templates = (row.job, row.figure, row.book, row.genlab)
        for path in dict.fromkeys(f for t in templates for f in table.fields(t)):
            figures = copy.deepcopy(committed[row.bench])
            _set(figures, path, _nudge(_get(figures, path)))
            assert list(table.render_row(row, figures)) != shown, f"{row.bench}: {path}"
            checked += 1
    assert checked >= 40  # every field of every row


def test_each_row_names_the_bench_that_writes_its_json(
    table: ModuleType, committed: dict[str, dict[str, Any]]
) -> None:
    for row in table.ROWS:
        script = BENCH / f"{row.bench}.py"
        assert row.command.split()[:2] == ["python", f"bench/{row.bench}.py"]
        assert script.exists(), row.command
        source = script.read_text(encoding="utf-8")
        assert re.search(r"\bemit\(\s*__file__\s*,", source), f"{script} writes no JSON"
    for name, figures in committed.items():
        assert figures["bench"] == name
        assert not figures.get("quick"), f"{name}.json holds a smoke run"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    for name in table.benches():
        assert f"bench/{name}.py" in recipe, f"make bench does not run bench/{name}.py"
    assert recipe.rstrip().endswith("bench/table.py --write")


def test_committed_files_are_as_emit_writes_them(
    results_module: ModuleType, committed: dict[str, dict[str, Any]]
) -> None:
    for name, figures in committed.items():
        path = results_module.results_path(name)
        assert path.read_text(encoding="utf-8") == results_module.results_text(figures)


def test_emit_prints_one_line_and_writes_the_file(
    results_module: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = {"bench": "demo", "quick": False, "b": {"z": 1, "a": 0.5}, "a": [1, 2]}
    path = results_module.emit(str(tmp_path / "bench" / "demo.py"), figures, tmp_path / "out")
    assert path == tmp_path / "out" / "demo.json"
    assert capsys.readouterr().out == json.dumps(figures) + "\n"
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == figures
    assert text.index('"a"') < text.index('"b"') and text.index('"z"') > text.index('"a": 0.5')
    assert text.endswith("}\n") and "\n  " in text
    assert [p.name for p in path.parent.iterdir()] == ["demo.json"]  # no temporary left
    # A smoke run is printed, never written over measured figures.
    assert results_module.emit("demo.py", {**figures, "quick": True}, tmp_path / "out") is None
    assert '"quick": true' in capsys.readouterr().out
    assert json.loads(path.read_text(encoding="utf-8")) == figures


def test_write_and_check(
    table: ModuleType, committed: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    results = tmp_path / "results"
    results.mkdir()
    for name, figures in committed.items():
        (results / f"{name}.json").write_text(json.dumps(figures), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{table.START}\n| stale |\n{table.END}\n\n## After\n")
    args = ["--readme", str(readme), "--results", str(results)]
    assert table.main([*args, "--check"]) == 1
    assert table.main([*args, "--write"]) == 0
    text = readme.read_text()
    assert text.startswith(f"# x\n\n{table.START}\n| job |") and text.endswith(
        f"{table.END}\n\n## After\n"
    )
    assert table.section(text) == table.render(committed)
    assert table.main([*args, "--check"]) == 0
    # One changed figure in a JSON file and the README is stale again.
    figures = committed["classifier"]
    changed = {**figures, "genlab": {**figures["genlab"], "test_accuracy": 0.5}}
    (results / "classifier.json").write_text(json.dumps(changed), encoding="utf-8")
    assert table.main([*args, "--check"]) == 1


def test_a_missing_figure_names_its_file(
    table: ModuleType, committed: dict[str, dict[str, Any]]
) -> None:
    figures = copy.deepcopy(committed["distributed"])
    figures["runs"] = figures["runs"][:1]
    row = next(r for r in table.ROWS if r.bench == "distributed")
    with pytest.raises(KeyError, match=r"bench/results/distributed\.json has no 'runs\.1\."):
        table.render_row(row, figures)
    with pytest.raises(ValueError, match="exactly one"):
        table.section("no markers here")


# --------------------------------------------------------------------------- the front page

DOCS = ROOT / "docs"
#: docs/table.md ("Your own table") is written with the table kind; the link stands meanwhile.
WRITTEN_SEPARATELY = {DOCS / "table.md"}


def _links(page: Path) -> list[Path]:
    """The local files a Markdown page links to (links and images; anchors dropped)."""
    text = page.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [
        (page.parent / target.split("#", 1)[0]).resolve()
        for target in targets
        if not re.match(r"[a-z]+:", target) and not target.startswith("#")
    ]


def test_readme_is_a_front_page_with_its_pictures() -> None:
    """The README stays short (the reference lives in docs/) and its pictures are small."""
    readme = ROOT / "README.md"
    assert len(readme.read_text(encoding="utf-8").splitlines()) <= 150
    pictures = [p for p in _links(readme) if p.suffix == ".png"]
    assert pictures, "the README shows no picture"
    for picture in pictures:
        assert picture.is_file() and picture.stat().st_size < 200_000, picture


def test_readme_and_docs_links_resolve() -> None:
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    linked = {target for page in pages for target in _links(page)}
    assert {DOCS / name for name in ("usage.md", "honest-figures.md", "privacy.md")} <= linked
    for page in pages:
        for target in _links(page):
            assert target.exists() or target in WRITTEN_SEPARATELY, f"{page.name} -> {target}"
