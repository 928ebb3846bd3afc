"""The contract between the one GAN engine and a kind of data: :class:`GanAdapter`.

The engine (:mod:`genlab.gan.engine`) never looks inside the data. It asks an adapter for real
batches in *model space* (what the networks see: transformed columns, one-hot codes, pixels in
[-1, 1]), hands generated model-space points to :meth:`GanAdapter.decode` to get them in the
user's units, and asks for figures at two moments, on two disjoint parts of the data:

* **validation** (:meth:`GanAdapter.validation_figures`): every few epochs, on one fixed noise
  batch. It must return the figure named by ``monitor``; early stopping and best-weights
  restore look at nothing else. It should be cheap (milliseconds).
* **test** (:meth:`GanAdapter.test_figures`): once, after training, on fresh noise from a seed
  that training never used (:func:`genlab.gan.engine.final_noise_seed`). These are the figures
  of ``summary.json``, ``gan eval`` and the report. Nothing chooses on them.

Where the truth is known exactly (a formula's y = f(x), an integer pattern's valid set and its
probabilities), figures about it use the truth itself; distribution figures use the test part
(or the known distribution). The discriminator sees the **train** part only.

Everything needed to decode and evaluate again later is in :meth:`GanAdapter.to_dict`, which
the model file stores; :meth:`GanAdapter.from_dict` rebuilds the adapter from it (without the
training part), so ``gan sample`` / ``gan eval`` need nothing but the model file.

A new kind of data is one module holding a subclass of :class:`GanAdapter` and its
:class:`~genlab.gan.registry.DataKind` entries, plus one line in
:data:`genlab.gan.registry.MODULES`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from genlab.config import GanConfig

__all__ = ["GanAdapter", "GanData", "fingerprint", "samples_csv"]

#: File types CSV text may be written to.
TEXT_SUFFIXES = ("", ".csv", ".txt")


def fingerprint(values: torch.Tensor) -> str:
    """A hex sha256 of ``values``' float32 bytes: names the data a run trained on (so that
    ``gan eval`` can check it was handed the same data) without holding any of it."""
    array = values.detach().cpu().float().contiguous().numpy()
    return hashlib.sha256(array.tobytes()).hexdigest()


class GanAdapter:
    """A GAN's data, its three parts and its figures. Subclass it; override what says so.

    Class attributes:
        kind: the adapter's family (``"curve"``, ``"integers"``); stored in the model file as
            ``data["kind"]`` and looked up in :mod:`genlab.gan.registry` to rebuild the adapter.
        monitor: the :meth:`validation_figures` key that early stopping watches.
        monitor_mode: ``"min"`` (lower is better) or ``"max"``.
        monitor_target: the best value ``monitor`` can ever take (training stops when it is
            reached), or None.
        progress_keys: more validation figures worth showing on the progress bar.
        config_class: the settings class of this kind's runs: :class:`GanConfig`, or the
            kind's own subclass when its networks take settings of their own.

    Instance attributes (set by ``__init__`` of the subclass):
        name: what the data is, for people (``"exp"``, ``"multiples of 5 in [0, 100)"``).
        dim: width of one model-space sample.
        columns: column names of decoded samples (None when they are not points).
        book_reference: the key of this job in :data:`genlab.book.BOOK`, or None.
        origin: how the data was made: ``{"kind": "exp", "options": {...}}`` (set by
            :func:`genlab.gan.train`; a resumed run rebuilds its data from it).
        batches_per_epoch: real batches in one epoch (an attribute or a property).
    """

    kind: ClassVar[str] = ""
    monitor: ClassVar[str] = ""
    monitor_mode: ClassVar[str] = "min"
    monitor_target: ClassVar[float | None] = None
    progress_keys: ClassVar[tuple[str, ...]] = ()
    config_class: ClassVar[type[GanConfig]] = GanConfig

    name: str = ""
    dim: int = 0
    columns: list[str] | None = None
    book_reference: str | None = None
    origin: dict[str, Any] | None = None
    batches_per_epoch: int
    #: Classes a class-conditional generator is given (0: unconditional). When > 0,
    #: :meth:`real_batches` yields ``(samples, labels)`` pairs and :meth:`labels_for` /
    #: :meth:`class_index` must be overridden.
    n_classes: int = 0
    #: Generated samples in each training snapshot (plots and animation).
    snapshot_size: int = 1000
    #: Noise vectors through the generator at once while sampling (0: the engine's default,
    #: by the samples' width); a generator that makes several candidates a sample says less.
    decode_batch: int = 0
    #: Whether :meth:`to_dict` (the model file) holds the parts that :meth:`test_figures`
    #: needs. A user's own data is never stored: such an adapter says False, stores a
    #: ``"fingerprint"`` (:func:`fingerprint` of its train part) instead, and ``gan eval``
    #: rebuilds it from the data file (:func:`genlab.gan.evaluate`).
    holds_data: ClassVar[bool] = True
    #: Whether this process holds only its own share of the train rows (a table read in
    #: shards under torchrun): the engine draws local batches of ``batch_size / N`` from
    #: them, as many on every rank, instead of every N-th row of a global batch.
    local_rows: bool = False

    # ------------------------------------------------------------------ networks

    def build_networks(self, config: GanConfig) -> tuple[nn.Module, nn.Module]:
        """The generator and discriminator for this data, as ``config`` sizes them. Default:
        the MLP pair of :mod:`genlab.models.gan` (``dim`` wide). A kind that needs its own
        networks (conv layers for images, conditional MLPs for tables) overrides this; the
        generator must have a ``latent_dim`` attribute (the width of its noise)."""
        from genlab.models.gan import build_discriminator, build_generator

        generator = build_generator(
            config.latent_dim, self.dim, config.g_hidden, config.g_activation,
            config.g_out_activation,
        )  # fmt: skip
        discriminator = build_discriminator(
            self.dim, config.d_hidden, config.d_activation, config.d_dropout
        )
        return generator, discriminator

    # ------------------------------------------------------------------ training (train part)

    def setup_generator(self, generator: nn.Module) -> None:
        """Give a newly built generator what it learns from the train part before training
        (default: nothing; a self-conditioned image generator gets its clusters' shares)."""

    def finish_generator(self, generator: nn.Module, seed: int) -> None:
        """Give the trained generator (the chosen weights, in eval mode, on the CPU) what it
        learns after training, before its test figures and its model file (default: nothing;
        a table's generator calibrates its columns' shares to the train part's). ``seed``:
        the run's, for any noise it draws."""

    def generator_figures(self, generator: nn.Module) -> dict[str, Any]:
        """What a trained generator chose after training, as figures beside its test figures
        (also for a loaded run, whose adapter never saw the choice; default: none; a table's
        generator: its target model's draw)."""
        return {}

    def real_batches(
        self, batch_size: int, generator: torch.Generator, device: torch.device
    ) -> list[torch.Tensor]:
        """One epoch of real model-space batches from the **train** part, each
        ``(batch_size, dim)`` (the last may be shorter), shuffled by ``generator``. Override."""
        raise NotImplementedError

    #: Whether the generator step asks row ``i + n // 2`` for the same condition as row
    #: ``i`` (for a :meth:`generator_penalty` that compares such pairs, e.g. mode seeking).
    paired_conditions: bool = False

    def generator_penalty(
        self, fake: torch.Tensor, real: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor | None:
        """An extra term of the generator's loss, from a batch of its rows ``fake``, the
        real batch ``real`` they were asked for (same conditions) and the ``noise`` they were
        made from, or None (the default: the discriminator's verdict alone)."""
        return None

    # ------------------------------------------------------------------ decoding

    def decode(self, model_space: torch.Tensor) -> torch.Tensor:
        """Model-space points ``(N, dim)`` -> samples in the user's units. Override."""
        raise NotImplementedError

    def decoder(self) -> nn.Module:
        """:meth:`decode` as a plain-torch module (for :mod:`genlab.gan.export`). Override."""
        raise NotImplementedError

    def labels_for(self, n: int) -> torch.Tensor:
        """The classes asked of a class-conditional generator when the caller names none:
        ``n`` labels (int64), the data's classes in turn. Override when ``n_classes > 0``."""
        raise NotImplementedError

    def class_index(self, label: Any) -> int:
        """A class the user names (its name in any case, or its index) -> the label the
        generator takes; a ConfigError for one this data lacks. Override when conditional."""
        from genlab.errors import ConfigError

        raise ConfigError("this GAN is not class-conditional: it takes no class")

    def request_labels(self, n: int, label: Any = None) -> torch.Tensor | None:
        """What a conditional generator is given for ``n`` samples when the caller asks for
        ``label`` (None: the default, :meth:`labels_for`); None for an unconditional one.
        Default: one class, :meth:`class_index` of ``label``, for every sample."""
        if label is None:
            return self.labels_for(n) if self.n_classes else None
        return torch.full((n,), self.class_index(label), dtype=torch.int64)

    def present(self, samples: torch.Tensor, request: Any = None) -> Any:
        """Decoded samples as the user gets them from :meth:`GanRun.sample` (default: the
        tensor itself; a table gives a pandas DataFrame). ``request``: what was asked (a
        class, a table's ``where``)."""
        return samples

    def sample_labels(self, n: int, label: Any = None) -> torch.Tensor:
        """The class of each of ``n`` samples as :meth:`request_labels` asks for them: the
        asked class, the data's classes in turn (class-conditional), or -1 (unconditional)."""
        if not self.n_classes:
            if label is not None:
                self.class_index(label)  # the one-line refusal
            return torch.full((n,), -1, dtype=torch.int64)
        if label is not None:
            return torch.full((n,), self.class_index(label), dtype=torch.int64)
        return self.labels_for(n)

    # ------------------------------------------------------------------ output

    #: Whether samples can be asked for by column values (``--where``; tables).
    takes_where = False
    #: What one sample is called in messages.
    sample_noun = "points"
    #: Whether samples are text (CSV) at all (images are not).
    text_samples = True

    def samples_text(self, samples: Any) -> str:
        """Samples (from :meth:`present`) as CSV text (default: :func:`samples_csv`)."""
        return samples_csv(samples, getattr(self, "columns", None))

    def write_samples(self, out: str | Path | None, samples: Any, label: Any = None) -> str:
        """``gan sample``'s output: samples (from :meth:`present`) to the file ``out``, or
        to stdout when None; returns a line for people (empty for stdout). ``label``: the
        class asked for. A ConfigError (one line) for a file type the samples cannot be."""
        from genlab.errors import ConfigError
        from genlab.training.runs import atomic_write_bytes

        if out is not None and Path(out).suffix.lower() not in TEXT_SUFFIXES:
            raise ConfigError(
                f"--out {out}: a {self.kind} run's samples are CSV text; write them "
                "to a .csv or .txt file, or leave out --out for stdout"
            )
        text = self.samples_text(samples)
        if out is None:
            sys.stdout.write(text)
            return ""
        atomic_write_bytes(out, text.encode())
        return f"wrote {len(samples):,} {self.sample_noun} to {out}"

    def plot_walks(self, walks: torch.Tensor, out: str | Path, title: str) -> Path:
        """Latent walks ``(walks, steps, ...)`` as a PNG ``out`` (default: points over up to
        2,000 real ones, or alone where the model file holds no rows)."""
        from genlab import plots

        return plots.plot_interpolation(
            self.real_points(2000), walks, out, title=title, columns=getattr(self, "columns", None)
        )

    def export_inputs(self) -> str:
        """What an exported generator takes beside its noise, for people (default: labels
        for a class-conditional one)."""
        return " and labels (N,) int64" if self.n_classes else ""

    def support(self) -> nn.Module | None:
        """A module mapping decoded samples ``(N, ...)`` to a bool mask ``(N,)`` of those to
        keep (samples off the data are redrawn), or None: keep every sample."""
        return None

    # ------------------------------------------------------------------ figures

    def validation_figures(self, samples: torch.Tensor) -> dict[str, float]:
        """Figures of decoded samples against the **validation** part (must include
        ``monitor``); what the checks during training see. Override."""
        raise NotImplementedError

    def test_figures(self, samples: torch.Tensor) -> dict[str, float]:
        """Every reported figure of decoded samples against the **test** part (and the known
        truth, where there is one). Plain floats, JSON-ready. Override."""
        raise NotImplementedError

    def write_plots(
        self,
        folder: Path,
        history: list[dict[str, Any]],
        best_epoch: int,
        snapshots: list[tuple[int, torch.Tensor]],
        final: torch.Tensor,
    ) -> None:
        """The run's figures in ``folder``: by default points over the real data (snapshots,
        final samples, an animation) and the training curves. ``snapshots`` are (epoch,
        decoded samples of the fixed validation noise); ``final`` the test samples."""
        from genlab.gan.engine import write_point_plots

        write_point_plots(folder, self, history, best_epoch, snapshots, final)

    def headline(self, figures: dict[str, Any]) -> str:
        """The one test figure (a key of ``figures``) that says how good a run is: shown first
        by the CLI, the report, the index page and the demo. Default: ``monitor``."""
        return self.monitor

    def warnings(self, figures: dict[str, Any]) -> list[str]:
        """One-line warnings about test figures (mode collapse, a tiny test part); may be
        empty."""
        return []

    # ------------------------------------------------------------------ description

    def splits(self) -> dict[str, Any]:
        """Sizes and seeds of the train / validation / test parts (for ``summary.json``)."""
        return {}

    def real_points(self, n: int) -> torch.Tensor:
        """Up to ``n`` real samples in the user's units, for plots (the test part when there
        is one). Override."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for people: what the data is and how it is prepared."""
        return self.name

    def to_dict(self) -> dict[str, Any]:
        """Plain values and tensors that :meth:`from_dict` rebuilds the adapter from (for
        decoding and evaluating; not the train part). Must hold ``"kind": self.kind``.
        Override."""
        raise NotImplementedError

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GanAdapter:
        """Rebuild from :meth:`to_dict`; raise :class:`~genlab.errors.RunFileError` on a
        damaged description. Override."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


#: The name earlier versions used; the same class.
GanData = GanAdapter


def samples_csv(points: torch.Tensor, columns: list[str] | None = None) -> str:
    """Points (N, C) or values (N,) as CSV text with a header row (whole numbers one per
    line, no header, so ``--from-file`` reads them back)."""
    values = points.detach().cpu()
    if values.dim() == 1:
        values = values.unsqueeze(1)
    names = list(columns) if columns and len(columns) == values.shape[1] else None
    if names is None:
        names = (
            ["value"]
            if values.shape[1] == 1
            else [f"column_{i + 1}" for i in range(values.shape[1])]
        )
    if not values.dtype.is_floating_point and values.shape[1] == 1:
        return "".join(f"{v}\n" for v in values[:, 0].tolist())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    if values.dtype.is_floating_point:
        # 9 significant digits: exactly the float32 value, without float64 noise digits.
        writer.writerows([[f"{v:.9g}" for v in row] for row in values.double().tolist()])
    else:
        writer.writerows(values.tolist())
    return buffer.getvalue()
