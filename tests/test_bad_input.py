"""Bad input across every command: one clear line, exit status 2, nothing already saved lost.

Each row of BAD is (id, argv, expected message fragment). ``{data}`` is a tiny valid
Fashion-MNIST folder, ``{run}`` a finished classifier run, ``{ws}`` the workspace; the files
that rows need are made by ``_workspace``. After every row, every file that existed before is
byte-identical (nothing lost or changed). Property-based tests feed random bytes to the IDX
reader and random text to the CSV reader and the formula/rule parsers.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genlab.cli import main
from genlab.errors import GenlabError
from genlab.training import runs
from tests.conftest import idx_bytes, write_fashion, write_idx

CLS = ["classify", "train", "--quiet", "--no-plots", "--epochs", "1"]
GAN = ["gan", "train"]

BAD: list[tuple[str, list[str], str]] = [
    # Fashion-MNIST files
    ("missing-data-dir", [*CLS, "--data-dir", "{ws}/nope", "--out", "{ws}/o"], "does not exist"),
    (
        "empty-data-dir",
        [*CLS, "--data-dir", "{ws}/empty", "--out", "{ws}/o"],
        "lacks the Fashion-MNIST files",
    ),
    (
        "truncated-gz",
        [*CLS, "--data-dir", "{ws}/cut_gz", "--out", "{ws}/o"],
        "truncated or corrupt .gz",
    ),
    (
        "not-gzip-garbage",
        [*CLS, "--data-dir", "{ws}/garbage", "--out", "{ws}/o"],
        "not an IDX file",
    ),
    ("wrong-magic", [*CLS, "--data-dir", "{ws}/magic", "--out", "{ws}/o"], "wrong magic"),
    ("wrong-count", [*CLS, "--data-dir", "{ws}/count", "--out", "{ws}/o"], "header promises"),
    ("images-labels-mismatch", [*CLS, "--data-dir", "{ws}/mismatch", "--out", "{ws}/o"], "labels"),
    (
        "label-out-of-range",
        [*CLS, "--data-dir", "{ws}/label", "--out", "{ws}/o"],
        "labels must be 0-9",
    ),
    ("wrong-image-size", [*CLS, "--data-dir", "{ws}/size", "--out", "{ws}/o"], "not 28x28"),
    # flags and ranges
    ("batch-size-0", [*CLS, "--batch-size", "0", "--out", "{ws}/o"], "--batch-size must be > 0"),
    ("negative-epochs", [*CLS, "--epochs", "-2", "--out", "{ws}/o"], "--epochs must be > 0"),
    ("zero-lr", [*CLS, "--lr", "0", "--out", "{ws}/o"], "--lr must be > 0"),
    ("negative-patience", [*CLS, "--patience", "-1", "--out", "{ws}/o"], "--patience"),
    ("threshold-1", [*CLS, "--threshold", "1", "--out", "{ws}/o"], "--threshold"),
    ("threshold-negative", [*CLS, "--threshold", "-0.2", "--out", "{ws}/o"], "--threshold"),
    ("unknown-task", [*CLS, "--task", "ternary", "--out", "{ws}/o"], "invalid choice"),
    ("unknown-flag", [*CLS, "--epochz", "3", "--out", "{ws}/o"], "unrecognized arguments"),
    ("non-integer-epochs", [*CLS, "--epochs", "ten", "--out", "{ws}/o"], "invalid int value"),
    ("no-out", [*CLS], "--out DIR is required"),
    ("out-is-a-file", [*CLS, "--data-dir", "{data}", "--out", "{ws}/afile"], "is not a folder"),
    (
        "out-finished-run",
        [*CLS, "--data-dir", "{data}", "--out", "{run}"],
        "already holds a finished run",
    ),
    (
        "resume-nothing",
        [*CLS, "--data-dir", "{data}", "--out", "{ws}/fresh", "--resume"],
        "no checkpoint to resume",
    ),
    ("resume-finished", [*CLS, "--resume", "{run}"], "nothing to resume"),
    (
        "resume-out-mismatch",
        [*CLS, "--resume", "{run}", "--out", "{ws}/other"],
        "name different folders",
    ),
    (
        "cuda-missing",
        [*CLS, "--device", "cuda", "--data-dir", "{data}", "--out", "{ws}/o"],
        "no CUDA GPU",
    ),
    # run folders and model files
    ("eval-not-a-run", ["classify", "eval", "{ws}/empty"], "not a genlab run folder"),
    ("eval-missing-path", ["classify", "eval", "{ws}/nope"], "does not exist"),
    ("eval-wrong-kind", ["classify", "eval", "{ws}/gan.pt"], "not a classifier model"),
    ("eval-foreign-pickle", ["classify", "eval", "{ws}/foreign.pt"], "not a genlab model file"),
    ("eval-truncated", ["classify", "eval", "{ws}/truncated.pt"], "truncated or corrupt"),
    ("eval-future", ["classify", "eval", "{ws}/future.pt"], "newer genlab"),
    ("eval-malicious", ["classify", "eval", "{ws}/evil.pt"], "never runs code"),
    ("eval-text-file", ["classify", "eval", "{ws}/afile"], "truncated or corrupt"),
    (
        "predict-bad-index",
        ["classify", "predict", "{run}", "--index", "-1", "--data-dir", "{data}"],
        "out of range",
    ),
    (
        "predict-bad-image",
        ["classify", "predict", "{run}", "--image", "{ws}/afile"],
        "not a readable image",
    ),
    (
        "predict-missing-image",
        ["classify", "predict", "{run}", "--image", "{ws}/none.png"],
        "does not exist",
    ),
    ("predict-nothing", ["classify", "predict", "{run}"], "one of the arguments"),
    # GANs: formulas, ranges, CSV files, integer patterns, run folders
    (
        "formula-import",
        [
            *GAN,
            "formula",
            "--formula",
            "__import__('os').system('touch {ws}/PWNED')",
            "--out",
            "{ws}/o",
        ],
        "not allowed",
    ),
    (
        "formula-attribute",
        [*GAN, "formula", "--formula", "x.real", "--out", "{ws}/o"],
        "not allowed",
    ),
    (
        "formula-lambda",
        [*GAN, "formula", "--formula", "(lambda: 1)()", "--out", "{ws}/o"],
        "not allowed",
    ),
    ("formula-unknown-name", [*GAN, "formula", "--formula", "y + 1", "--out", "{ws}/o"], "y"),
    ("formula-syntax", [*GAN, "formula", "--formula", "x +* 2", "--out", "{ws}/o"], "formula"),
    (
        "formula-nan",
        [*GAN, "formula", "--formula", "log(x)", "--x-range", "-5", "5", "--out", "{ws}/o"],
        "x =",
    ),
    (
        "formula-empty-range",
        [*GAN, "formula", "--formula", "x", "--x-range", "2", "2", "--out", "{ws}/o"],
        "range",
    ),
    (
        "formula-reversed-range",
        [*GAN, "formula", "--formula", "x", "--x-range", "5", "-5", "--out", "{ws}/o"],
        "range",
    ),
    ("csv-missing", [*GAN, "csv", "--csv", "{ws}/none.csv", "--out", "{ws}/o"], "none.csv"),
    ("csv-empty", [*GAN, "csv", "--csv", "{ws}/empty.csv", "--out", "{ws}/o"], "empty"),
    ("csv-one-row", [*GAN, "csv", "--csv", "{ws}/one.csv", "--out", "{ws}/o"], "row"),
    # Not clean numbers: the table reader takes these (a text cell is a category there), and
    # what it refuses is the length.
    (
        "csv-text-cell",
        [*GAN, "csv", "--csv", "{ws}/text.csv", "--out", "{ws}/o"],
        "text.csv has 2 data rows; a GAN needs at least 10",
    ),
    (
        "csv-nan",
        [*GAN, "csv", "--csv", "{ws}/nan.csv", "--out", "{ws}/o"],
        "data rows; a GAN needs at least 10",
    ),
    ("csv-binary", [*GAN, "csv", "--csv", "{ws}/binary.csv", "--out", "{ws}/o"], "binary.csv"),
    ("gan-batch-0", [*GAN, "exp", "--batch-size", "0", "--out", "{ws}/o"], "--batch-size"),
    (
        "int-multiple-0",
        [*GAN, "integers", "--multiple-of", "0", "--out", "{ws}/o"],
        "--multiple-of",
    ),
    (
        "int-max-too-large",
        [*GAN, "integers", "--max", "100000", "--out", "{ws}/o"],
        "--encoding binary",
    ),
    (
        "int-rule-unsafe",
        [*GAN, "integers", "--rule", "open('x')", "--out", "{ws}/o"],
        "not allowed",
    ),
    ("int-rule-nothing", [*GAN, "integers", "--rule", "n < 0", "--out", "{ws}/o"], "no value"),
    ("int-odd-even", [*GAN, "integers", "--odd", "--even", "--out", "{ws}/o"], "contradict"),
    (
        "int-file-words",
        [*GAN, "integers", "--from-file", "{ws}/text.csv", "--out", "{ws}/o"],
        "line",
    ),
    ("sample-zero", ["gan", "sample", "{gan_run}", "-n", "0"], "-n must be a positive"),
    ("sample-classifier-run", ["gan", "sample", "{run}", "-n", "5"], "not a gan model"),
    ("eval-classifier-run", ["gan", "eval", "{run}"], "not a gan model"),
    (
        "export-not-a-run",
        ["gan", "export", "{ws}/empty", "--out", "{ws}/g.pt2"],
        "not a genlab run folder",
    ),
    ("classify-eval-gan-run", ["classify", "eval", "{gan_run}"], "not a classifier model"),
    (
        "interpolate-steps-1",
        ["gan", "interpolate", "{gan_run}", "--steps", "1", "--out", "{ws}/i.png"],
        "--steps",
    ),
]


def _workspace(ws: Path) -> dict[str, str]:
    data = write_fashion(ws / "data", 60, 20)
    (ws / "empty").mkdir()
    (ws / "afile").write_text("just text\n")

    def broken(name: str, mutate) -> None:
        folder = write_fashion(ws / name, 60, 20)
        mutate(folder)

    def cut(folder: Path) -> None:
        p = folder / "train-images-idx3-ubyte.gz"
        p.write_bytes(p.read_bytes()[:300])

    def garbage(folder: Path) -> None:
        (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"hello, I am not IDX")

    def magic(folder: Path) -> None:
        (folder / "train-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(b"\x00\x01\x08\x01" + bytes(64))
        )

    def count(folder: Path) -> None:
        blob = idx_bytes((torch.arange(60) % 10).to(torch.uint8))
        (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(blob[:-5]))

    def mismatch(folder: Path) -> None:
        write_idx(folder / "train-labels-idx1-ubyte.gz", torch.zeros(59, dtype=torch.uint8))

    def label(folder: Path) -> None:
        write_idx(folder / "train-labels-idx1-ubyte.gz", torch.full((60,), 10, dtype=torch.uint8))

    def size(folder: Path) -> None:
        write_idx(folder / "train-images-idx3-ubyte.gz", torch.zeros(60, 27, 28, dtype=torch.uint8))

    for name, fn in [
        ("cut_gz", cut),
        ("garbage", garbage),
        ("magic", magic),
        ("count", count),
        ("mismatch", mismatch),
        ("label", label),
        ("size", size),
    ]:
        broken(name, fn)
    run = ws / "run"
    assert main([*CLS, "--data-dir", str(data), "--out", str(run), "--device", "cpu"]) == 0
    runs.save_model_file(ws / "gan.pt", "gan", {}, {"w": torch.zeros(1)})
    torch.save({"weights": torch.zeros(2)}, ws / "foreign.pt")
    blob = (run / "model.pt").read_bytes()
    (ws / "truncated.pt").write_bytes(blob[: len(blob) // 2])
    payload = torch.load(run / "model.pt", weights_only=True)
    payload["version"] = 1000
    torch.save(payload, ws / "future.pt")

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {ws / 'PWNED'}",))

    torch.save(
        {"format": "genlab", "version": 1, "kind": "classifier", "x": Evil()}, ws / "evil.pt"
    )
    (ws / "empty.csv").write_text("")
    (ws / "one.csv").write_text("x,y\n1,2\n")
    (ws / "text.csv").write_text("x,y\n1,2\n3,abc\n")
    (ws / "nan.csv").write_text("1,2\nnan,3\n4,5\n")
    (ws / "binary.csv").write_bytes(bytes(range(256)) * 4)
    gan_run = ws / "gan_run"
    assert (
        main(
            [
                "gan",
                "train",
                "integers",
                "--out",
                str(gan_run),
                "--quiet",
                "--no-plots",
                "--no-report",
            ]
        )
        == 0
    )
    return {"ws": str(ws), "data": str(data), "run": str(run), "gan_run": str(gan_run)}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _workspace(tmp_path_factory.mktemp("bad"))


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".genlab.lock")
    }


@pytest.mark.parametrize("argv,message", [row[1:] for row in BAD], ids=[row[0] for row in BAD])
def test_bad_input_one_line_exit_2_nothing_lost(
    argv: list[str], message: str, workspace: dict[str, str], capsys: pytest.CaptureFixture
) -> None:
    root = Path(workspace["ws"])
    before = _snapshot(root)
    args = [a.format(**workspace) for a in argv]
    try:
        rc = main(args)
    except SystemExit as exc:  # argparse errors
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert message in err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    after = _snapshot(root)
    assert {k: v for k, v in after.items() if k in before} == before, "a saved file changed"
    assert set(before) <= set(after), "a saved file was lost"
    assert not (root / "PWNED").exists()


def test_docs_report_the_table_size() -> None:
    """docs/bad-input.md (linked from the README) says how many bad inputs are tried; keep it
    true."""
    page = (Path(__file__).parent.parent / "docs" / "bad-input.md").read_text()
    assert f"{len(BAD)} bad inputs" in page


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(blob=st.binary(max_size=400))
def test_idx_reader_random_bytes(blob: bytes, tmp_path: Path) -> None:
    from genlab.data.fashion_mnist import read_idx

    for payload in (blob, gzip.compress(blob), b"\x00\x00\x08\x03" + blob):
        path = tmp_path / "random.idx"
        path.write_bytes(payload)
        try:
            read_idx(path)
        except GenlabError as exc:
            assert "\n" not in str(exc)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=300))
def test_csv_reader_random_text(text: str, tmp_path: Path) -> None:
    from genlab.data.curves import read_csv_points

    path = tmp_path / "random.csv"
    path.write_bytes(text.encode("utf-8", errors="replace"))
    try:
        points, columns = read_csv_points(path)
    except GenlabError as exc:
        assert "\n" not in str(exc)
    else:
        assert points.dim() == 2 and points.shape[0] >= 2 and len(columns) == points.shape[1]
        assert bool(torch.isfinite(points).all())


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=200))
def test_integer_file_random_text(text: str, tmp_path: Path) -> None:
    from genlab.data.integers import make_pattern

    path = tmp_path / "numbers.txt"
    path.write_bytes(text.encode("utf-8", errors="replace"))
    try:
        pattern = make_pattern(from_file=path)
    except GenlabError as exc:
        assert "\n" not in str(exc)
    else:
        assert pattern.values.numel() >= 1 and int(pattern.values.min()) >= 0
