"""The one registry of GAN data kinds: the CLI, the Python API and the model-file loader all
look kinds up here.

A *kind* is what a user names (``exp``, ``sine``, ``formula``, ``csv``, ``integers``): its
options, its CLI flags, how to build its :class:`~genlab.gan.adapter.GanAdapter`, its base
settings for a preset, and which :class:`~genlab.config.GanConfig` settings it takes besides
:data:`SHARED_FLAGS` (``extra_flags``: the image networks' ``--width``, the curves'
``--transform``). ``gan train KIND --help`` shows that kind's flags only, each with the
default that kind's run uses (:meth:`DataKind.defaults`). A *family* is the adapter class
behind one or more kinds (``curve``, ``integers``), named in every model file so that
:func:`adapter_class` can rebuild it.

Each module in :data:`MODULES` defines ``KINDS`` (a sequence of :class:`DataKind`) and
``ADAPTERS`` (its adapter classes). Adding a kind of data is one such module plus one line in
:data:`MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import torch

from genlab.config import GanConfig
from genlab.errors import ConfigError, GenlabError, RunFileError
from genlab.gan.adapter import GanAdapter

__all__ = ["MODULES", "SHARED_FLAGS", "DataKind", "adapter_class", "get_kind", "kinds"]

#: Modules that define data kinds (``KINDS``) and their adapters (``ADAPTERS``).
MODULES: tuple[str, ...] = (
    "genlab.gan.curves",
    "genlab.gan.integers",
    "genlab.gan.images",
    "genlab.gan.table",  # its "csv" kind takes over the curves' (numbers-only files stay curves)
)

Options = Mapping[str, Any]

#: The :class:`~genlab.config.GanConfig` settings every kind takes, as ``gan train`` flags
#: (by ``dest``; ``activation`` sets ``g_activation`` and ``d_activation``). A kind that
#: takes more names them in ``DataKind.extra_flags``; the CLI refuses any other kind's.
SHARED_FLAGS: tuple[str, ...] = (
    "epochs",
    "patience",
    "min_delta",
    "batch_size",
    "lr",
    "seed",
    "device",
    "threads",
    "latent_dim",
    "g_hidden",
    "d_hidden",
    "activation",
    "d_dropout",
    "d_lr",
    "beta1",
    "beta2",
    "ema",
    "eval_every",
    "plot_every",
    "checkpoint_interval",
)


@dataclass(frozen=True)
class DataKind:
    """One kind of GAN training data.

    Attributes:
        name: what users type (``gan train NAME``, ``genlab.gan.train(NAME)``).
        help: one line for ``--help``.
        options: the Python API's data options for this kind (the CLI flags' ``dest``s).
        add_flags: adds the kind's CLI flags (their ``dest``s are ``options``).
        build: ``(options, config) -> GanAdapter``; options not given are absent.
        base_config: ``(preset, options) -> GanConfig``: the settings before the user's.
        show: ``options -> (points, columns, title)`` for ``genlab data show``.
        extra_flags: the GanConfig settings this kind takes besides :data:`SHARED_FLAGS`
            (e.g. the curves' ``transform``).
        config_class: the settings class of this kind's runs: :class:`GanConfig`, or the
            kind's own subclass (its adapter's ``config_class``) whose fields only this kind
            takes; ``add_flags`` adds their flags (the image networks' ``--width``, ...).
        help_configs: ``() -> {label: GanConfig}``, the base settings ``--help`` shows when
            one ``base_config("genlab", {})`` does not tell them (it needs a file, or options
            change them), e.g. ``{"tables": ..., "numbers-only CSV": ...}``; the label ``""``
            is the plain case.
        flag_notes: ``(dest, text)`` pairs added to a flag's default in ``--help``.
    """

    name: str
    help: str
    options: tuple[str, ...]
    add_flags: Callable[[argparse.ArgumentParser], None]
    build: Callable[[Options, GanConfig], GanAdapter]
    base_config: Callable[[str, Options], GanConfig]
    show: Callable[[Options], tuple[torch.Tensor, list[str] | None, str]]
    extra_flags: tuple[str, ...] = ()
    config_class: type[GanConfig] = GanConfig
    help_configs: Callable[[], Mapping[str, GanConfig]] | None = None
    flag_notes: tuple[tuple[str, str], ...] = ()

    @property
    def config_flags(self) -> tuple[str, ...]:
        """The settings this kind takes as ``gan train`` flags (by ``dest``): the shared
        ones, its ``extra_flags`` and its own ``config_class``'s fields."""
        return (*SHARED_FLAGS, *self.extra_flags, *self.own_settings)

    @property
    def own_settings(self) -> tuple[str, ...]:
        """The fields of this kind's ``config_class`` that :class:`GanConfig` lacks."""
        return tuple(f for f in self.config_class.__dataclass_fields__
                     if f not in GanConfig.__dataclass_fields__)  # fmt: skip

    def with_(self, **changes: Any) -> DataKind:
        """A copy with some attributes changed (e.g. ``extra_flags``)."""
        return replace(self, **changes)

    def defaults(self) -> dict[str, GanConfig]:
        """The settings a genlab-preset run of this kind starts from, by what they are for
        (one entry, label ``""``, when one set tells them): what ``--help`` shows.
        ``help_configs`` when the kind declares it, else ``base_config("genlab", {})``;
        a base config that cannot be made without options falls back to ``GanConfig()``."""
        if self.help_configs is not None:
            return dict(self.help_configs())
        try:
            return {"": self.base_config("genlab", {})}
        except (GenlabError, OSError, KeyError, TypeError, ValueError):
            return {"": self.config_class()}

    def split_options(self, given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``given`` -> (data options, config fields); anything else is a ConfigError, as is
        a setting only other kinds take (another kind's ``extra_flags``)."""
        others = {f for kind in kinds().values() for f in kind.extra_flags}
        config_fields = set(self.config_class.__dataclass_fields__) - (
            others - set(self.extra_flags)
        )
        data = {k: v for k, v in given.items() if k in self.options}
        config = {k: v for k, v in given.items() if k in config_fields and k not in data}
        unknown = sorted(set(given) - set(data) - set(config))
        if unknown:
            not_ours = sorted(others - set(self.extra_flags))
            but = f" but {', '.join(not_ours)}" if not_ours else ""
            owners = sorted({k.name for k in kinds().values() for f in unknown
                             if f in k.own_settings})  # fmt: skip
            whose = f" ({', '.join(owners)} runs take it)" if owners else ""
            raise ConfigError(
                f"{self.name!r} data takes no option {', '.join(unknown)}{whose}; its options: "
                f"{', '.join(self.options)}, and any GanConfig field{but}"
            )
        return data, config


@cache
def kinds() -> dict[str, DataKind]:
    """Every data kind by name, in the order of :data:`MODULES`."""
    out: dict[str, DataKind] = {}
    for module in MODULES:
        for kind in importlib.import_module(module).KINDS:
            out[kind.name] = kind
    return out


def get_kind(name: str) -> DataKind:
    """The data kind called ``name``; a ConfigError lists the others."""
    found = kinds().get(name)
    if found is None:
        raise ConfigError(f"unknown data kind {name!r}; choose one of {', '.join(kinds())}")
    return found


@cache
def _families() -> dict[str, type[GanAdapter]]:
    out: dict[str, type[GanAdapter]] = {}
    for module in MODULES:
        for adapter in importlib.import_module(module).ADAPTERS:
            out[adapter.kind] = adapter
    return out


def adapter_class(family: Any) -> type[GanAdapter]:
    """The adapter class a model file's ``data["kind"]`` names (a RunFileError if none)."""
    found = _families().get(str(family))
    if found is None:
        raise RunFileError(
            f"the model file describes data of unknown kind {family!r}; "
            "it was written by another genlab version"
        )
    return found
