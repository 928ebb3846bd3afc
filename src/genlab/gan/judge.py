"""The judge of image GANs: a genlab Fashion-MNIST classifier trained on training images only.

A judge supplies two things for every image: its **features** (the input of the classifier's
last linear layer: 128 numbers for genlab's CNN) and its **class probabilities**. The image
figures (:mod:`genlab.evaluation.image_figures`) compare generated and real images through
them: ``fid_judge`` is the Fréchet distance in these features (not Inception FID: another
network, another scale), ``kid_judge`` the kernel distance, precision/recall k-NN manifolds,
and the predicted classes give coverage and fidelity.

The default judge is genlab's CNN (``genlab classify train --model cnn --seed 0 --epochs 20
--min-delta 1e-4``, otherwise genlab's settings), trained once on the 60,000 training images
(its own train/validation split of them; the test images are never used to train or choose
it) and cached in
``GENLAB_CACHE_DIR/judges/cnn-seed0`` (default: the user cache folder,
``~/.cache/genlab/judges/cnn-seed0`` on Linux). ``--judge RUN`` takes any 10-class genlab
classifier run instead. A run's ``summary.json`` names the judge by folder and by the
SHA-256 of its model file; ``gan eval`` refuses a judge whose file has changed since.

A **second judge** of another architecture and seed (genlab's MLP, seed 1, the same
settings: ``judges/mlp-seed1``) counts the classes again (``second_share_<class>``): a
generator that fools one judge only is not diverse, and the classes one judge confuses are
where a generator can be thin unseen.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from genlab.errors import ConfigError, RunFileError

__all__ = [
    "JUDGE_BATCH",
    "SECOND_JUDGE",
    "Judge",
    "default_judge_dir",
    "file_digest",
    "load_judge",
    "train_judge",
]

#: Images through the judge at once.
JUDGE_BATCH = 2048
#: Seed of the default judge.
JUDGE_SEED = 0
#: The default judge's model, and the second judge's (another architecture, another seed).
JUDGE_MODEL = "cnn"
SECOND_JUDGE = ("mlp", 1)
#: The default judge's settings beyond genlab's CNN defaults: at most 20 epochs, and an
#: improvement of the validation loss counts from 1e-4 (with the learning rate decayed to
#: nothing, ever smaller improvements would otherwise keep it training for 100 epochs).
#: (threads 0: torch's own choice, as when the committed image figures' judge was trained)
JUDGE_SETTINGS: dict[str, object] = {"epochs": 20, "min_delta": 1e-4, "threads": 0}


def default_judge_dir(model: str = JUDGE_MODEL, seed: int = JUDGE_SEED) -> Path:
    """Where a default judge is cached: ``GENLAB_CACHE_DIR/judges/MODEL-seedN`` or the user
    cache folder's ``genlab/judges/MODEL-seedN`` (default: the CNN of seed 0)."""
    env = os.environ.get("GENLAB_CACHE_DIR")
    if env:
        return Path(env) / "judges" / f"{model}-seed{seed}"
    import pooch

    return Path(pooch.os_cache("genlab")) / "judges" / f"{model}-seed{seed}"


def file_digest(path: Path) -> str:
    """The SHA-256 of a file (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Judge:
    """A loaded judge: the classifier (CPU, eval mode), where it lives and its file's hash."""

    model: nn.Module
    folder: Path
    digest: str
    class_names: tuple[str, ...]
    test_accuracy: float | None
    #: indices of the training images the judge never trained on (its validation split),
    #: for the floors; None when its run does not record its split
    held_out: torch.Tensor | None = None

    def describe(self) -> dict[str, object]:
        """What ``summary.json`` records about the judge."""
        return {
            "folder": str(self.folder),
            "sha256": self.digest,
            "test_accuracy": self.test_accuracy,
            "features": "input of the classifier's last linear layer",
        }

    @torch.no_grad()
    def features_and_labels(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 images ``(N, 28, 28)`` -> (features ``(N, F)`` float32, predicted classes
        ``(N,)`` int64), in batches of :data:`JUDGE_BATCH`."""
        if images.dim() != 3 or tuple(images.shape[1:]) != (28, 28):
            raise ConfigError(f"the judge takes (N, 28, 28) images, not {tuple(images.shape)}")
        last = [m for m in self.model.modules() if isinstance(m, nn.Linear)][-1]
        captured: list[torch.Tensor] = []
        hook = last.register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0]))
        labels: list[torch.Tensor] = []
        try:
            self.model.eval()
            for start in range(0, images.shape[0], JUDGE_BATCH):
                chunk = images[start : start + JUDGE_BATCH]
                model_input = chunk.unsqueeze(1).float().div(255.0).sub(0.5).div(0.5)
                labels.append(self.model(model_input).argmax(dim=1))
        finally:
            hook.remove()
        return torch.cat(captured).flatten(1).float(), torch.cat(labels)


def load_judge(path: str | Path, expect_digest: str | None = None) -> Judge:
    """A 10-class genlab classifier run as a judge (its folder or model file).

    Raises:
        RunFileError: not a classifier run (a GAN run, a damaged file), a binary
            classifier, or (with ``expect_digest``) a model file that has changed.
    """
    from genlab.classify import load

    folder = Path(path)
    try:
        run = load(folder)
    except RunFileError as exc:
        raise RunFileError(f"--judge {path}: not a usable classifier run ({exc})") from exc
    if run.config.task != "multiclass" or len(run.class_names) != 10:
        raise RunFileError(
            f"--judge {path}: a judge must be a 10-class classifier, not a {run.config.task} one"
        )
    model_file = folder / "model.pt" if folder.is_dir() else folder
    digest = file_digest(model_file)
    if expect_digest is not None and digest != expect_digest:
        raise RunFileError(
            f"the judge {path} has changed since this run was scored (its model file's "
            "SHA-256 differs): give the original judge with --judge, or train again"
        )
    accuracy = run.summary.get("test_accuracy")
    return Judge(
        model=run.model,
        folder=model_file.parent.resolve(),
        digest=digest,
        class_names=run.class_names,
        test_accuracy=None if accuracy is None else float(accuracy),
        held_out=_held_out(run.summary.get("splits") or {}),
    )


def _held_out(splits: dict[str, object]) -> torch.Tensor | None:
    """The judge's validation images (indices into the training file), from its recorded
    split: sizes and seed, drawn as the classifier drew them."""
    from genlab.data.fashion_mnist import split_indices

    try:
        train, val, seed = (int(splits[k]) for k in ("train", "validation", "seed"))  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        return None
    return split_indices(train + val, val, seed)[1]


def train_judge(
    folder: str | Path | None = None,
    data_dir: str | Path | None = None,
    *,
    quiet: bool = False,
    model: str = JUDGE_MODEL,
    seed: int = JUDGE_SEED,
    **settings: object,
) -> Path:
    """Train a judge (default: genlab's CNN, seed 0; :data:`SECOND_JUDGE` for the second)
    into ``folder`` (default: :func:`default_judge_dir`) unless it is there already; returns
    the folder. ``settings`` change the classifier's settings (tests use fewer epochs)."""
    from genlab import classify

    folder = Path(folder) if folder is not None else default_judge_dir(model, seed)
    if (folder / "model.pt").exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    if not quiet:
        sys.stderr.write(
            f"training genlab's judge once (a {model.upper()} classifier on the training "
            f"images; a few minutes) into {folder}\n"
        )
    given_dir = None if data_dir is None else str(data_dir)
    options = {"seed": seed, "data_dir": given_dir, **JUDGE_SETTINGS, **settings}
    classify.train(
        "multiclass",
        model,
        out=folder,
        quiet=quiet,
        overwrite=True,
        plots=False,
        **{k: v for k, v in options.items() if v is not None},
    )
    return folder
