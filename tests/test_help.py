"""``--help`` works for every command, subcommand and GAN data kind (issue 21, finding 1).

The tree is walked from :func:`genlab.cli.build_parser`, so a kind or command added later is
covered without naming it here.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from genlab.cli import build_parser, main
from genlab.gan import registry


def parser_tree(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser in the tree with the words that reach it (``()`` for ``genlab`` itself)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parser_tree(sub, (*path, name))


PATHS = [path for path, _ in parser_tree(build_parser())]


def _help(path: tuple[str, ...], capsys: pytest.CaptureFixture) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0, f"genlab {' '.join(path)} --help: {exit_info.value.code}"
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "genlab")
def test_every_help_works(path: tuple[str, ...], capsys: pytest.CaptureFixture) -> None:
    out = _help(path, capsys)
    assert out.strip()
    assert out.startswith(f"usage: {' '.join(('genlab', *path))}")


def test_the_walk_reaches_every_command_and_every_kind() -> None:
    paths = set(PATHS)
    for group in ("classify", "gan", "data", "report", "compare"):
        assert (group,) in paths
    for name in registry.kinds():
        assert ("gan", "train", name) in paths
        assert ("data", "show", name) in paths
    assert ("gan", "train", "integers") in paths  # the help that crashed on a bare %


def test_the_rule_help_shows_its_percent_signs(capsys: pytest.CaptureFixture) -> None:
    for path in (("gan", "train", "integers"), ("data", "show", "integers")):
        assert "'n % 3 == 1'" in _help(path, capsys)


@pytest.fixture
def with_gauss(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The registry with one more kind (tests/gan_kind_example.py, imported by its path: a
    package named ``tests`` elsewhere on sys.path must not hide it)."""
    name = "genlab_test_help_gauss_kind"
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).with_name("gan_kind_example.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(registry, "MODULES", (*registry.MODULES, name))
    registry.kinds.cache_clear()
    registry._families.cache_clear()
    yield
    registry.kinds.cache_clear()
    registry._families.cache_clear()


def test_a_kind_added_later_is_walked_too(with_gauss: None, capsys: pytest.CaptureFixture) -> None:
    paths = [path for path, _ in parser_tree(build_parser())]
    assert ("gan", "train", "gauss") in paths and ("data", "show", "gauss") in paths
    assert "--mu" in _help(("gan", "train", "gauss"), capsys)
