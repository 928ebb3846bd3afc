"""Every examples/*.ipynb runs top to bottom with tiny settings (GENLAB_SMOKE=1).

Each notebook is executed by nbclient in a kernel of this Python (ipykernel), in a temporary
working directory, with tiny Fashion-MNIST files (tests/conftest.py) in GENLAB_FASHION_DIR;
any cell's error fails the test, and so does a cell meant to show a picture that shows none.
The notebooks are committed without outputs. nbclient, nbformat and ipykernel come with the
``test`` extra.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

from tests.conftest import write_fashion

NOTEBOOKS = sorted((Path(__file__).parent.parent / "examples").glob("*.ipynb"))
#: Seconds a single cell may take in smoke mode before the test fails.
CELL_TIMEOUT = 300
#: A code cell with one of these shows a picture (a run's PNG, or matplotlib's).
PICTURE_CALLS = ("show(", "display(Image")


def test_there_are_the_four_notebooks() -> None:
    expected = {"ch2_classifiers", "ch3_curves_and_integers", "ch4_image_gan", "your_own_table"}
    assert expected <= {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_clean(path: Path) -> None:
    """No outputs or execution counts in git (small diffs), and each ends with what to try."""
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, path.name
    last = notebook["cells"][-1]
    assert last["cell_type"] == "markdown" and "What to try next" in "".join(last["source"])


@pytest.mark.slow  # multi-process, notebook or kill-and-resume: in CI, not the quick loop
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fashion = write_fashion(tmp_path / "fashion", n_train=600, n_test=200)
    work = tmp_path / "work"
    work.mkdir()
    # the kernel inherits this environment
    monkeypatch.setenv("GENLAB_SMOKE", "1")
    monkeypatch.setenv("GENLAB_FASHION_DIR", str(fashion))
    monkeypatch.setenv("GENLAB_FASHION_SUBSET", "1")
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))  # no judge from elsewhere
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own default, as for a learner
    monkeypatch.delenv("GENLAB_DATA_DIR", raising=False)
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(work)}},
    )
    # one more cell: the kernel is this interpreter (jupyter_client maps the spec's "python")
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    client.execute(cwd=str(work))  # raises CellExecutionError on any cell's error
    assert notebook.cells[-1].outputs[0]["text"].strip() == sys.executable
    pictures = 0
    for cell in notebook.cells:
        if cell.cell_type != "code" or "def show(" in cell.source:  # the helper's definition
            continue
        if any(call in cell.source for call in PICTURE_CALLS):
            shown = [o for o in cell.outputs if {"image/png", "image/gif"} & set(o.get("data", {}))]
            assert shown, f"{path.name}: no picture inline from\n{cell.source}"
            pictures += 1
    assert pictures >= 2, f"{path.name} shows fewer than two pictures"
    assert (work / "runs").is_dir()
    assert os.listdir(work / "runs")
