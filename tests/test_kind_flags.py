"""Issue 21, findings 3 and 4: each kind's ``--help`` shows its own flags and the defaults
its runs use; one ``--threads`` flag on every training command, stated in summary.json."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
import torch

from genlab.cli import build_parser, main
from genlab.commands.gan import help_defaults
from genlab.config import GanConfig
from genlab.errors import ConfigError
from genlab.gan import registry
from genlab.gan.images import recommended_config
from genlab.gan.table import TABLE_CONFIG

IMAGE_ONLY = (
    "--architecture",
    "--width",
    "--d-width",
    "--clusters",
    "--mode-seeking",
    "--noise-scale",
)


def _sub(parser: argparse.ArgumentParser, *words: str) -> argparse.ArgumentParser:
    for word in words:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[word]
    return parser


def _kind_parser(name: str) -> argparse.ArgumentParser:
    return _sub(build_parser(), "gan", "train", name)


def _flag_help(parser: argparse.ArgumentParser, dest: str) -> str:
    return next(a.help for a in parser._actions if a.dest == dest) or ""


def _shown_default(parser: argparse.ArgumentParser, dest: str) -> str:
    """What the flag's help says after ``(default``."""
    found = re.search(r"\(default (.*)\)", _flag_help(parser, dest))
    assert found, _flag_help(parser, dest)
    return found.group(1)


def _help_text(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse's wrapping undone


# ------------------------------------------------------------------ 3: each kind's defaults

SINGLE = [name for name, kind in registry.kinds().items() if kind.help_configs is None]


@pytest.mark.parametrize("name", SINGLE)
@pytest.mark.parametrize("dest", ["epochs", "batch_size", "lr", "latent_dim", "patience"])
def test_help_shows_the_default_a_run_of_the_kind_uses(name: str, dest: str) -> None:
    run_config = registry.get_kind(name).base_config("genlab", {})
    shown = _shown_default(_kind_parser(name), dest)
    assert float(shown) == getattr(run_config, dest), (name, dest, shown)


def test_fashion_help_is_the_image_runs(capsys: pytest.CaptureFixture) -> None:
    run = registry.get_kind("fashion").base_config("genlab", {})
    assert run == recommended_config("genlab")
    assert (run.epochs, run.batch_size, run.lr, run.latent_dim, run.patience) == (
        10,
        64,
        2e-4,
        64,
        3,
    )
    text = _help_text(["gan", "train", "fashion"], capsys)
    for phrase in (
        "maximum number of epochs (default 10)",
        "batch size (default 64)",
        "Adam learning rate (default 0.0002)",
        "noise size (default 64)",
        "without improvement (default 3)",
        "channels of the conv generator (default 32)",
        "channels of the conv discriminator (default 64)",
        f"(default {run.clusters}; --conditional: 0)",
    ):
        assert phrase in text, phrase
    assert "default 3000" not in text and "default 0.001)" not in text


def test_csv_help_shows_both_routes_defaults(tmp_path: Path) -> None:
    table = tmp_path / "table.csv"
    table.write_text(
        "x,colour\n" + "".join(f"{i},{'red' if i % 3 else 'blue'}\n" for i in range(60))
    )
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("x,y\n" + "".join(f"{i},{i * i}\n" for i in range(60)))
    kind = registry.get_kind("csv")
    tables = kind.base_config("genlab", {"csv": str(table)})
    points = kind.base_config("genlab", {"csv": str(numbers)})
    assert tables == GanConfig(**TABLE_CONFIG)  # type: ignore[arg-type]
    parser = _kind_parser("csv")
    for dest in ("epochs", "batch_size", "lr"):
        shown = _shown_default(parser, dest)
        table_text = re.search(r"tables: ([^,;]+)", shown)
        curve_text = re.search(r"numbers-only CSV: ([^,;]+)", shown)
        assert table_text and curve_text, shown
        assert float(table_text.group(1)) == getattr(tables, dest)
        assert float(curve_text.group(1)) == getattr(points, dest)
    assert "a big table fewer" in _shown_default(parser, "epochs")


def test_a_kind_whose_base_config_needs_options_falls_back_to_the_defaults() -> None:
    def needs_a_file(preset: str, given: object) -> GanConfig:
        raise ConfigError("needs --csv FILE")

    kind = registry.get_kind("exp").with_(base_config=needs_a_file)
    assert kind.defaults() == {"": GanConfig()}
    assert help_defaults(kind)["epochs"] == str(GanConfig().epochs)


@pytest.mark.parametrize("name", list(registry.kinds()))
def test_image_only_flags_only_for_the_image_kind(name: str) -> None:
    parser = _kind_parser(name)
    offered = {flag for action in parser._actions for flag in action.option_strings}
    takes_images = name == "fashion"
    for flag in IMAGE_ONLY:
        assert (flag in offered) is takes_images, (name, flag)
    assert ("--transform" in offered) is (name in ("exp", "sine", "formula", "csv")), name
    for flag in ("--epochs", "--lr", "--threads", "--latent-dim", "--ema"):
        assert flag in offered, (name, flag)


@pytest.mark.parametrize("module", registry.MODULES)
def test_a_kinds_settings_class_is_its_adapters(module: str) -> None:
    """A kind names its settings class twice (the CLI and API need it before any data, a
    model file's loader from the adapter): in each kind's module the two agree."""
    import importlib

    found = importlib.import_module(module)
    declared = {kind.config_class for kind in found.KINDS}
    assert declared == {adapter.config_class for adapter in found.ADAPTERS}, module


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["gan", "train", "exp", "--clusters", "4"], "--clusters"),
        (["gan", "train", "sine", "--architecture", "conv"], "--architecture"),
        (["gan", "train", "integers", "--width", "8"], "--width"),
        (["gan", "train", "integers", "--transform", "none"], "--transform"),
    ],
)
def test_a_flag_the_kind_does_not_take_is_unknown(
    argv: list[str], flag: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments" in err and flag in err
    assert not (tmp_path / "run").exists()


def test_the_python_api_refuses_another_kinds_setting_too() -> None:
    with pytest.raises(ConfigError, match=r"no option clusters \(fashion runs take it\)"):
        registry.get_kind("exp").split_options({"clusters": 4})
    # the image networks' settings are the image kind's own, declared in its module
    image_only = {"architecture", "width", "d_width", "clusters", "mode_seeking", "noise_scale"}
    assert not image_only & set(GanConfig.__dataclass_fields__)
    assert set(registry.get_kind("fashion").own_settings) == image_only
    assert all(
        not kind.own_settings for name, kind in registry.kinds().items() if name != "fashion"
    )
    data, config = registry.get_kind("fashion").split_options({"clusters": 4, "epochs": 2})
    assert (data, config) == ({}, {"clusters": 4, "epochs": 2})


def test_flags_keep_their_dests() -> None:
    args = build_parser().parse_args(
        ["gan", "train", "fashion", "--d-width", "16", "--latent-dim", "8", "--out", "x"]
    )
    from genlab.commands.gan import train_options

    assert train_options(args) == {"d_width": 16, "latent_dim": 8}


# ----------------------------------------------------------------------- 4: one --threads


def test_every_training_command_has_threads() -> None:
    parser = build_parser()
    paths = [("classify", "train")] + [("gan", "train", name) for name in registry.kinds()]
    for path in paths:
        sub = _sub(parser, *path)
        assert any("--threads" in a.option_strings for a in sub._actions), path
        assert "--threads" in _flag_help(sub, "resume")  # what --resume's help promises


def test_classify_train_threads_reach_the_config_and_the_summary(tiny_fashion: Path) -> None:
    from genlab.classify.engine import RESUME_KEYS
    from genlab.commands.classify import SETTING_FLAGS
    from genlab.commands.common import overrides
    from genlab.config import ClassifierConfig

    assert ClassifierConfig().threads == 1  # a default that stays fast on a busy machine
    assert "threads" not in RESUME_KEYS  # may change on --resume, as its help says
    argv = ["classify", "train", "--threads", "2", "--epochs", "1", "--data-dir"]
    args = build_parser().parse_args([*argv, str(tiny_fashion), "--out", "x"])
    assert overrides(args, SETTING_FLAGS)["threads"] == 2
    out = tiny_fashion.parent / "run"
    before = torch.get_num_threads()
    tail = ["--quiet", "--no-plots", "--no-report", "--device", "cpu", "--out", str(out)]
    assert main([*argv, str(tiny_fashion), *tail]) == 0
    assert torch.get_num_threads() == before  # restored
    summary = json.loads((out / "summary.json").read_text())
    assert summary["threads"] == 2
    assert summary["config"]["threads"] == 2
    assert json.loads((out / "config.json").read_text())["threads"] == 2


def test_gan_train_threads_reach_the_config_and_the_summary(tmp_path: Path) -> None:
    assert GanConfig().threads == 1
    out = tmp_path / "exp"
    argv = ["gan", "train", "exp", "--threads", "2", "--epochs", "2", "--n", "256"]
    tail = ["--final-samples", "500", "--no-plots", "--no-report", "--quiet", "--out", str(out)]
    args = build_parser().parse_args([*argv, *tail])
    from genlab.commands.gan import train_options

    assert train_options(args)["threads"] == 2
    assert main([*argv, *tail]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["threads"] == 2
    assert summary.get("threads", 2) == 2  # top-level once the engine writes it
