"""Export a trained generator as one file that plain PyTorch runs without genlab.

The exported module maps noise ``(N, latent_dim)`` to points in the data's original units
(``generator`` followed by the data's decoding: for curves, the inverse column transform), so

    module = torch.export.load("exp_generator.pt2").module()     # format "export" (default)
    module = torch.jit.load("exp_generator.pt")                  # format "torchscript"
    points = module(torch.randn(1000, 2))

gives the same points as ``genlab gan sample`` for the same noise. ``torch.export`` (.pt2) is
PyTorch's current format; TorchScript is the book's (``torch.jit.script(G).save(...)``), kept
for compatibility although current PyTorch deprecates it.
"""

from __future__ import annotations

import copy
import io
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from genlab.errors import ConfigError, GenlabError
from genlab.gan.adapter import GanAdapter
from genlab.gan.engine import GanRun, load_gan
from genlab.training import runs

FORMATS = ("export", "torchscript")
#: The file suffix each format gets when ``--out`` has none.
SUFFIXES = {"export": ".pt2", "torchscript": ".pt"}


class NoiseToPoints(nn.Module):
    """``generator`` then ``decoder``: noise (N, latent_dim) -> points in the data's units."""

    def __init__(self, generator: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.generator = generator
        self.decoder = decoder

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) -> (N, dim) points (or whatever the data decodes to)."""
        return self.decoder(self.generator(noise))


class KeptNoiseToPoints(NoiseToPoints):
    """:class:`NoiseToPoints` with the data's support filter: only the points it keeps, in
    order, as ``gan sample`` gives them (K <= N rows)."""

    def __init__(self, generator: nn.Module, decoder: nn.Module, support: nn.Module) -> None:
        super().__init__(generator, decoder)
        self.support = support

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) -> (K, dim) points that lie on the data."""
        points = self.decoder(self.generator(noise))
        return points[self.support(points)]


class LabelledNoiseToPoints(nn.Module):
    """A class-conditional ``generator`` then ``decoder``: noise (N, latent_dim) and labels
    (N,) int64 -> samples in the data's units (images: uint8 (N, 28, 28))."""

    def __init__(self, generator: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.generator = generator
        self.decoder = decoder

    def forward(self, noise: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim), (N,) -> (N, ...) samples of those classes."""
        return self.decoder(self.generator(noise, labels))


def sampler_module(generator: nn.Module, data: GanAdapter) -> nn.Module:
    """The generator and the data's decoding as one module on the CPU, in eval mode (a copy:
    ``generator`` itself is left as it was)."""
    if data.n_classes:
        module = LabelledNoiseToPoints(copy.deepcopy(generator), data.decoder()).cpu().eval()
        module.example_labels = data.labels_for(8)  # what its second input looks like
        return module
    support = data.support()
    if support is None:
        return NoiseToPoints(copy.deepcopy(generator), data.decoder()).cpu().eval()
    module = KeptNoiseToPoints(copy.deepcopy(generator), data.decoder(), copy.deepcopy(support))
    return module.cpu().eval()


def _example_inputs(module: nn.Module, latent_dim: int) -> tuple[torch.Tensor, ...]:
    noise = torch.randn(8, latent_dim, generator=torch.Generator().manual_seed(0))
    if isinstance(module, LabelledNoiseToPoints):
        labels = getattr(module, "example_labels", None)
        if labels is None:
            labels = torch.arange(8) % max(1, module.generator.n_classes)
        return noise, labels
    return (noise,)


def to_torch_export(module: nn.Module, latent_dim: int, path: Path) -> None:
    """``torch.export`` with a dynamic batch size, saved as a .pt2 archive."""
    batch = torch.export.Dim("batch", min=1, max=2**31 - 1)
    inputs = _example_inputs(module, latent_dim)
    shapes = tuple({0: batch} for _ in inputs)
    with torch.no_grad():
        program = torch.export.export(module, inputs, dynamic_shapes=shapes)
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    runs.atomic_write_bytes(path, buffer.getvalue())


def to_torchscript(module: nn.Module, latent_dim: int, path: Path) -> None:
    """TorchScript (the book's format): scripted where possible, else traced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript's deprecation notices
        try:
            scripted: Any = torch.jit.script(module)
        except Exception:  # noqa: BLE001 - a decoder that TorchScript cannot compile
            with torch.no_grad():
                scripted = torch.jit.trace(module, _example_inputs(module, latent_dim))
        buffer = io.BytesIO()
        torch.jit.save(scripted, buffer)
    runs.atomic_write_bytes(path, buffer.getvalue())


def export_generator(gan: GanRun | str | Path, out: str | Path, fmt: str = "export") -> Path:
    """Write the generator of the trained GAN ``gan`` (a run, its folder or model file) to
    ``out`` as one module: noise ``(N, latent_dim)`` -> samples in the data's units, plain
    torch. ``fmt`` is ``"export"`` (torch.export, .pt2) or ``"torchscript"`` (the book's
    format). Returns the path written.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if not isinstance(gan, GanRun):
        gan = load_gan(gan)
    if fmt == "export" and gan.data.support() is not None:
        raise ConfigError(
            "this run redraws generated points that lie off the data (--support), so its "
            "output size varies, which torch.export cannot express: use --format torchscript"
        )
    out = Path(out)
    if not out.parent.is_dir():
        raise ConfigError(
            f"--out {out}: the folder {out.parent} does not exist; create it first or choose "
            "another path"
        )
    if out.is_dir():
        out = out / f"generator{SUFFIXES[fmt]}"
    module = sampler_module(gan.generator, gan.data)
    try:
        if fmt == "export":
            to_torch_export(module, gan.config.latent_dim, out)
        else:
            to_torchscript(module, gan.config.latent_dim, out)
    except GenlabError:
        raise
    except Exception as exc:  # noqa: BLE001 - report PyTorch's export failure in one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GenlabError(
            f"this PyTorch could not export the generator as {fmt} ({first}); "
            f"try --format {'torchscript' if fmt == 'export' else 'export'}"
        ) from exc
    return out
