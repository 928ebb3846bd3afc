"""Issue 21, findings 6, 7 and 10: the CLI's flags, errors and end-of-training lines."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from genlab import cli
from genlab.cli import build_parser, main
from tests.test_help import parser_tree


def _run(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)``: exit status (a SystemExit's too), stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def curve_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A tiny exp run (2 epochs, 256 points) and what ``gan train`` printed."""
    out = tmp_path_factory.mktemp("cli") / "exp"
    argv = ["gan", "train", "exp", "--epochs", "2", "--n", "256", "--final-samples", "500"]
    status, printed, _ = _run([*argv, "--no-plots", "--no-report", "--quiet", "--out", str(out)])
    assert status == 0
    return out, printed


# --------------------------------------------------------------- 10: abbreviations, errors


def test_every_parser_refuses_abbreviations() -> None:
    tree = list(parser_tree(build_parser()))
    assert len(tree) > 10
    for path, parser in tree:
        assert isinstance(parser, cli.ArgumentParser), path
        assert parser.allow_abbrev is False, path


@pytest.mark.parametrize(
    ("argv", "prog", "hint"),
    [
        (["gan", "train", "exp", "--epoch", "2"], "genlab gan train exp", "--epochs"),
        (
            ["gan", "train", "integers", "--max-val", "50"],
            "genlab gan train integers",
            "--max-value",
        ),
        (["classify", "train", "--epoch", "2"], "genlab classify train", "--epochs"),
        (["gan", "sample", "RUN", "-n", "5", "--sed", "1"], "genlab gan sample", "--seed"),
    ],
)
def test_an_unknown_flag_points_to_the_subcommands_help(
    argv: list[str], prog: str, hint: str, tmp_path: Path
) -> None:
    status, out, err = _run([*argv, "--out", str(tmp_path / "run")])
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    flag = argv[-2]
    assert err.startswith(f"{prog}: error: unrecognized arguments: {flag} {argv[-1]}")
    assert f"did you mean {hint}?" in err
    assert err.rstrip().endswith(f"(see {prog} --help)")
    assert not (tmp_path / "run").exists()


def test_no_hint_when_nothing_is_close(tmp_path: Path) -> None:
    status, _, err = _run(["gan", "train", "exp", "--bogus", "--out", str(tmp_path / "run")])
    assert status == 2
    assert err == (
        "genlab gan train exp: error: unrecognized arguments: --bogus "
        "(see genlab gan train exp --help)\n"
    )


def test_whole_flags_and_their_aliases_still_parse() -> None:
    parser = build_parser()
    args = parser.parse_args(["gan", "train", "integers", "--max", "50", "--epochs", "3"])
    assert (args.max_value, args.epochs) == (50, 3)
    args = parser.parse_args(["gan", "train", "integers", "--max-value", "60", "-q"])
    assert (args.max_value, args.quiet) == (60, True)
    assert not hasattr(args, cli._LEAF)  # the bookkeeping does not reach the handlers


def test_top_level_help_names_the_chapters(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "ch. 2.4, 3 and 4" in text
    assert "ch. 2.4 and 3)" not in text


# --------------------------------------------------------------- 7: end-of-training lines


def test_train_prints_the_headline_once_and_labels_the_books_figures(
    curve_run: tuple[Path, str],
) -> None:
    _, printed = curve_run
    lines = printed.splitlines()
    assert lines[0].startswith("GAN on exp: run folder ")
    figures = [line.strip() for line in lines[1:] if line.startswith("  ")]
    assert figures[0].startswith("headline: relation_median_rel_error (median relative error")
    assert sum("relation_median_rel_error" in line for line in lines) == 1
    assert sum(line.startswith("headline:") for line in figures) == 1
    assert not any(line.startswith("book_") for line in figures)
    book = [line for line in figures if line.startswith("the book's ")]
    assert len(book) == 2
    assert book[0].startswith("the book's median relative error of y vs the formula (ch. 3, ")
    assert book[1].startswith("the book's epochs run (ch. 3, ")
    assert "1050" in book[1]
    (js,) = [line for line in figures if line.startswith("js (")]
    assert "pattern" not in js and "test points" in js


def test_integer_runs_say_js_is_to_the_pattern(tmp_path: Path) -> None:
    argv = ["gan", "train", "integers", "--epochs", "2", "--final-samples", "500"]
    status, printed, _ = _run([*argv, "--no-plots", "--no-report", "-q", "--out", str(tmp_path)])
    assert status == 0
    lines = [line.strip() for line in printed.splitlines()]
    assert any(line.startswith("js (JS divergence to the pattern, bits)") for line in lines)
    assert sum(line.startswith("headline: validity") for line in lines) == 1
    assert sum(line.startswith("validity") for line in lines) == 0
    epochs = [line for line in lines if line.startswith("the book's epochs run")]
    assert len(epochs) == 1 and "iterations" in epochs[0]


# --------------------------------------------------------------- 6: sample --out


@pytest.mark.parametrize("name", ["pts.png", "pts.PNG", "pts.npz", "pts.json"])
def test_sample_refuses_a_non_text_file_for_points(
    curve_run: tuple[Path, str], tmp_path: Path, name: str
) -> None:
    run, _ = curve_run
    target = tmp_path / name
    status, out, err = _run(["gan", "sample", str(run), "-n", "5", "--out", str(target)])
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"genlab: error: --out {target}: a curve run's samples are CSV text")
    assert ".csv or .txt" in err
    assert not target.exists()


@pytest.mark.parametrize("name", ["pts.csv", "pts.txt", "pts"])
def test_sample_writes_csv_to_text_files(
    curve_run: tuple[Path, str], tmp_path: Path, name: str
) -> None:
    run, _ = curve_run
    target = tmp_path / name
    status, _, _ = _run(["gan", "sample", str(run), "-n", "5", "--out", str(target), "-q"])
    assert status == 0
    rows = target.read_text().splitlines()
    assert rows[0] == "x,y" and len(rows) == 6


def test_sample_to_stdout_still_works(curve_run: tuple[Path, str]) -> None:
    run, _ = curve_run
    status, out, _ = _run(["gan", "sample", str(run), "-n", "3"])
    assert status == 0
    assert out.splitlines()[0] == "x,y" and len(out.splitlines()) == 4


def test_demo_suggests_a_genlab_command_that_works(monkeypatch: pytest.MonkeyPatch) -> None:
    """After `make demo` genlab is in .venv/bin, not on PATH: the demo's "try next" lines
    name the console script beside this Python."""
    import shutil
    import subprocess

    from genlab.demo import genlab_command

    monkeypatch.setattr(shutil, "which", lambda name: None)
    command = genlab_command()
    assert command.endswith("genlab")
    done = subprocess.run([*command.split(), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("genlab")
