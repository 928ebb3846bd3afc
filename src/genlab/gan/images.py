"""Fashion-MNIST images for the one GAN engine: the ``fashion`` data kind.

:class:`ImageGanData` is one more :class:`~genlab.gan.adapter.GanAdapter`:

* **Parts.** The 60,000 training images are split once (seed :data:`SPLIT_SEED`) into the
  **train** part (55,000; the only images the discriminator sees) and the **validation**
  part (5,000; what the checks during training and early stopping look at). The **test**
  part is the 10,000 test images: the reported figures only. ``--classes`` keeps the images
  of those classes in every part.
* **Model space** is a flat image ``(784,)`` in [-1, 1] (the book's ``ToTensor`` +
  ``Normalize([0.5], [0.5])``); decoded samples are uint8 images ``(N, 28, 28)``, 0-255, a
  light item on a dark background, as in the data set.
* **Class-conditional** runs (``--conditional``) give the generator the class; real batches
  are ``(images, labels)``; sampling takes a class (``--class``) or goes through the run's
  classes in turn.
* **Self-conditioned** runs (``--clusters K``, genlab's unconditional default) use no
  labels: the train part's images are grouped into ``K`` k-means clusters of their pixels
  (:func:`kmeans`, seeded), real batches are ``(images, clusters)`` and G and D are
  conditioned on the cluster as a conditional pair is on the class (Liu et al. 2020,
  "Diverse image generation via self-conditioned GANs"). The generator draws its cluster
  from its noise, in the clusters' training shares, so it samples like any unconditional
  one (:meth:`~genlab.models.image_gan.ConvGenerator.split_noise`).
* **Figures** come from the judge (:mod:`genlab.gan.judge`): ``fid_judge`` (monitored, on
  the validation part during training), ``kid_judge`` ± ``kid_judge_se``, ``precision`` /
  ``recall`` and ``recall_<class>`` (the share of the class's real test images the samples
  reach), ``classes_found`` / ``min_class_share`` / ``share_<class>``, and for
  conditional runs ``class_fidelity`` and ``fidelity_<class>``. Each has a floor
  (``floor_<figure>``): the same figure for real training images that the judge never
  trained on (its validation split) against the real test images (for fidelity: the
  judge's accuracy on the real test images of that class).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from torch import nn

from genlab.config import GanConfig, check_positive
from genlab.data.fashion_mnist import CLASS_NAMES, find_data_dir, load_split, split_indices
from genlab.errors import ConfigError, DataError, GenlabError, RunFileError
from genlab.evaluation import image_figures as figures
from genlab.gan.adapter import GanAdapter
from genlab.gan.judge import SECOND_JUDGE, Judge, default_judge_dir, load_judge, train_judge
from genlab.gan.registry import DataKind

__all__ = [
    "BOOK_IMAGES",
    "ImageDecoder",
    "ImageGanData",
    "make_image_gan_data",
    "parse_classes",
    "split_train",
]

#: Training images held out as the GAN's validation part (seeded, the same for every run).
VALIDATION_IMAGES = 5_000
#: Seed of that split.
SPLIT_SEED = 0
#: Real training images (those the judge never trained on) compared with the test images
#: for the floors.
FLOOR_IMAGES = 10_000
#: The book's job in :data:`genlab.book.BOOK`.
BOOK_IMAGES = "gan-fashion"
#: Seed of the KID subsets (the same for a run and its floor).
KID_SEED = 0
#: Seed of the k-means clusters of a self-conditioned run.
CLUSTER_SEED = 0
#: Lloyd iterations of those k-means.
CLUSTER_ITERATIONS = 20
#: Clusters of genlab's unconditional image GAN (``--clusters``).
DEFAULT_CLUSTERS = 100
#: Weight of the mode-seeking term of genlab's image generators (``--mode-seeking``).
MODE_SEEKING = 0.4
#: What genlab's conv generators multiply their noise by when sampling (``--noise-scale``).
NOISE_SCALE = 0.8


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def class_key(index: int) -> str:
    """The class's part of figure names (``share_<key>``, ``fidelity_<key>``): its name in
    lower case, letters and digits only (``tshirttop``, ``ankleboot``)."""
    return _slug(CLASS_NAMES[index])


def parse_class(value: Any) -> int:
    """A class the user names -> its index 0-9: an index, or a name in any case (spaces,
    dashes and slashes ignored; a prefix naming one class will do: ``t-shirt``, ``ankle``).
    """
    if isinstance(value, bool):
        raise ConfigError(f"unknown class {value!r}")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        index = int(value)
        if 0 <= index < len(CLASS_NAMES):
            return index
        raise ConfigError(f"class index {index} is out of range: use 0-{len(CLASS_NAMES) - 1}")
    wanted = _slug(str(value))
    slugs = [_slug(name) for name in CLASS_NAMES]
    if wanted in slugs:
        return slugs.index(wanted)
    matches = [i for i, slug in enumerate(slugs) if wanted and slug.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    raise ConfigError(f"unknown class {value!r}; choose one of: {', '.join(CLASS_NAMES)} (or 0-9)")


def parse_classes(value: Any) -> tuple[int, ...]:
    """``"sneaker,bag"`` / ``["Sneaker", 8]`` / None (all) -> sorted class indices."""
    if value is None:
        return tuple(range(len(CLASS_NAMES)))
    items = value.split(",") if isinstance(value, str) else list(value)
    chosen = sorted({parse_class(i.strip() if isinstance(i, str) else i) for i in items})
    if not chosen:
        raise ConfigError("--classes names no class")
    return tuple(chosen)


def split_train(
    data_dir: str | Path | None, download: bool = True, part: str = "train"
) -> tuple[torch.Tensor, torch.Tensor]:
    """The GAN's ``part`` ("train" or "validation") of the training images: uint8 images
    ``(N, 28, 28)`` and labels ``(N,)``."""
    images, labels = load_split(find_data_dir(data_dir, download=download), "train")
    held_out = validation_size(images.shape[0])
    train_idx, val_idx = split_indices(images.shape[0], held_out, SPLIT_SEED)
    index = train_idx if part == "train" else val_idx
    return images[index], labels[index]


def validation_size(n_train: int) -> int:
    """Training images held out for validation: 5,000 of the official 60,000; a tenth of a
    small custom set."""
    if n_train >= 12 * VALIDATION_IMAGES:
        return VALIDATION_IMAGES
    if n_train < 20:
        raise DataError(f"an image GAN needs at least 20 training images, not {n_train}")
    return max(10, n_train // 10)


def kmeans(
    points: torch.Tensor, k: int, *, seed: int = 0, iterations: int = CLUSTER_ITERATIONS
) -> torch.Tensor:
    """The k-means cluster ``(N,)`` int64 of each of ``points`` ``(N, D)``: k-means++ seeding
    (``seed``), then ``iterations`` Lloyd steps, in float64 (so that a resumed run finds the
    same clusters). An emptied cluster keeps its centre."""
    x = points.double()
    n = x.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k-means needs 1 <= k <= {n} (the points), not {k}")
    rng = torch.Generator().manual_seed(seed)
    squared = (x * x).sum(1)

    def distances(centres: torch.Tensor) -> torch.Tensor:  # (N, k) squared distances
        return (squared[:, None] - 2 * x @ centres.T + (centres * centres).sum(1)).clamp(min=0)

    centres = x[torch.randint(n, (1,), generator=rng)]
    nearest = distances(centres)[:, 0]
    for _ in range(1, k):
        weights = nearest if nearest.sum() > 0 else torch.ones_like(nearest)
        pick = x[torch.multinomial(weights, 1, generator=rng)]
        centres = torch.cat([centres, pick])
        nearest = torch.minimum(nearest, distances(pick)[:, 0])
    for _ in range(iterations):
        assign = distances(centres).argmin(1)
        counts = torch.bincount(assign, minlength=k).double()
        sums = torch.zeros_like(centres).index_add_(0, assign, x)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return distances(centres).argmin(1)


def to_model_space(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, 28, 28)`` -> float32 ``(N, 784)`` in [-1, 1]."""
    return images.flatten(1).float().div(127.5).sub(1.0)


class ImageDecoder(nn.Module):
    """Model space ``(N, 784)`` in [-1, 1] -> uint8 images ``(N, 28, 28)``, 0-255."""

    def forward(self, model_space: torch.Tensor) -> torch.Tensor:
        pixels = (model_space + 1.0) * 127.5
        return pixels.round().clamp(0, 255).to(torch.uint8).view(-1, 28, 28)


#: The image kind's networks: the book's MLPs or genlab's conv pair.
ARCHITECTURES = ("mlp", "conv")


@dataclass(frozen=True)
class ImageGanConfig(GanConfig):
    """The settings of an image GAN run: :class:`~genlab.config.GanConfig`'s, plus the
    networks' own (``--architecture``, ``--width``, ``--d-width``, ``--clusters``,
    ``--mode-seeking``, ``--noise-scale``), which only this kind takes."""

    architecture: str = "mlp"  # "mlp" (g_hidden/d_hidden) or "conv" (width, d_width)
    width: int = 32  # channels of the conv generator
    d_width: int | None = None  # channels of the conv discriminator (None: width)
    clusters: int = 0  # k-means clusters of the training images G and D are conditioned on
    # the mode-seeking term's weight (Mao et al. 2019): pairs of G's images asked for the same
    # condition from other noise are pushed apart, weight / (mean |G(z1) - G(z2)| /
    # mean |z1 - z2|) added to G's loss; 0 = none
    mode_seeking: float = 0.0
    # the conv generator's noise times this when it samples (set after training; below 1:
    # less variety, more precision)
    noise_scale: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(
                f"--architecture {self.architecture!r}: choose one of {', '.join(ARCHITECTURES)}"
            )
        check_positive("width", self.width)
        check_positive("d_width", self.d_width)
        check_positive("clusters", self.clusters, allow_zero=True)
        check_positive("mode_seeking", self.mode_seeking, allow_zero=True)
        check_positive("noise_scale", self.noise_scale)
        if self.architecture == "mlp" and self.noise_scale != 1.0:
            raise ConfigError("--noise-scale needs the conv networks (genlab's preset): drop it")


def image_networks(config: ImageGanConfig, n_classes: int = 0) -> tuple[nn.Module, nn.Module]:
    """The conv pair for 28x28 images: class-conditional when ``n_classes`` > 0, or
    self-conditioned on ``config.clusters`` clusters."""
    from genlab.models.image_gan import build_conv_networks

    if n_classes and config.clusters:
        raise ConfigError("a class-conditional GAN has its classes: --clusters must be 0")
    return build_conv_networks(
        config.latent_dim, n_classes, config.width, config.d_width, config.clusters
    )


#: Figures far from the real images' earn a warning: (key, what it says, the bad side:
#: under half the real images' figure, or a distance over ten times it plus one and over
#: :data:`FID_WARNING`).
#: fid_judge above this is a warning (the book's ch. 4 GAN after its 50 epochs: 36).
FID_WARNING = 50.0
FAR_FROM_REAL = (
    ("recall", "the variety of real images the samples reach", "below"),
    ("precision", "the share of samples that look real", "below"),
    ("class_fidelity", "the share drawn as the class asked for", "below"),
    ("fid_judge", "the distance to the real images", "above"),
)


class ImageGanData(GanAdapter):
    """Fashion-MNIST images (some or all classes, optionally class-conditional), judged by a
    genlab classifier. Build with :func:`make_image_gan_data`; the training images are read
    only when a training run asks for batches."""

    kind = "images"
    config_class = ImageGanConfig
    monitor = "fid_judge"
    monitor_mode = "min"
    snapshot_size = 64
    dim = 784

    def __init__(
        self,
        *,
        classes: Sequence[int],
        conditional: bool,
        judge: Judge,
        data_dir: str | None = None,
        clusters: int = 0,
        second_judge: Judge | None = None,
        mode_seeking: float = 0.0,
        noise_scale: float = 1.0,
    ) -> None:
        self.classes = tuple(int(c) for c in classes)
        self.mode_seeking = float(mode_seeking)
        self.noise_scale = float(noise_scale)
        self.second_judge = second_judge
        self.conditional = bool(conditional)
        self.clusters = int(clusters)
        self.n_classes = len(CLASS_NAMES) if conditional else 0
        self.judge = judge
        self.data_dir = data_dir
        names = [CLASS_NAMES[c] for c in self.classes]
        every = len(self.classes) == len(CLASS_NAMES)
        self.name = "Fashion-MNIST" + ("" if every else f" ({', '.join(names)})")
        if conditional:
            self.name += ", class-conditional"
        if self.clusters:
            self.name += f", self-conditioned on {self.clusters} clusters"
        self.columns = None
        self.book_reference = BOOK_IMAGES if every and not conditional else None
        self.progress_keys = ("class_fidelity",) if conditional else ("min_class_share",)

    # ------------------------------------------------------------------ the parts

    def _folder(self) -> Path:
        return find_data_dir(self.data_dir)

    def _keep(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mask = torch.isin(labels, torch.tensor(self.classes))
        return images[mask], labels[mask]

    @cached_property
    def train_part(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(model-space images ``(N, 784)``, labels) of the train part."""
        images, labels = self._keep(*split_train(self.data_dir))
        return to_model_space(images), labels

    @cached_property
    def validation_part(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(judge features, labels) of the validation part."""
        images, labels = self._keep(*split_train(self.data_dir, part="validation"))
        return self.judge.features_and_labels(images)[0], labels

    @cached_property
    def test_part(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(uint8 images, labels, judge features, judge's classes) of the test part."""
        images, labels = self._keep(*load_split(self._folder(), "test"))
        if images.shape[0] < 2:
            raise DataError("the test images hold fewer than 2 images of the chosen classes")
        return images, labels, *self.judge.features_and_labels(images)

    @cached_property
    def cluster_of(self) -> torch.Tensor:
        """The k-means cluster ``(N,)`` of each train-part image (self-conditioned runs)."""
        if not self.clusters:
            raise ValueError("this run is not self-conditioned")
        images = self.train_part[0]  # a tiny set: fewer clusters, the rest stay empty
        return kmeans(images, min(self.clusters, images.shape[0]), seed=CLUSTER_SEED)

    def build_networks(self, config: ImageGanConfig) -> tuple[nn.Module, nn.Module]:  # type: ignore[override]
        """The conv pair for 28x28 images (class-conditional or self-conditioned as the data
        is), or the book's MLPs (``--architecture mlp``, the book preset)."""
        if config.architecture == "conv":
            return image_networks(config, self.n_classes)
        if self.n_classes:
            raise ConfigError("a class-conditional GAN needs --architecture conv")
        return super().build_networks(config)

    @property
    def paired_conditions(self) -> bool:  # type: ignore[override]
        """The mode-seeking term compares pairs asked for the same condition."""
        return self.mode_seeking > 0

    def finish_generator(self, generator: nn.Module, seed: int) -> None:
        """A conv generator samples with its noise scaled by ``noise_scale``."""
        if hasattr(generator, "noise_scale"):
            generator.noise_scale.fill_(self.noise_scale)

    def setup_generator(self, generator: nn.Module) -> None:
        """A self-conditioned generator learns the clusters' shares of the train part."""
        built_for = getattr(generator, "clusters", 0)
        if built_for != self.clusters:
            raise ConfigError(
                f"the data has {self.clusters} clusters but the networks {built_for}: "
                "give the same --clusters to both"
            )
        if self.clusters:
            counts = torch.bincount(self.cluster_of, minlength=self.clusters)
            generator.set_cluster_shares(counts / counts.sum())

    def generator_penalty(
        self, fake: torch.Tensor, real: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor | None:
        """The mode-seeking term (:data:`MODE_SEEKING`): rows ``i`` and ``i + n // 2`` were
        asked for the same condition (``paired_conditions``); the smaller their images'
        distance for their noise's, the larger the term. None when off."""
        half = fake.shape[0] // 2
        if self.mode_seeking <= 0 or half == 0:
            return None
        images = (fake[:half] - fake[half : 2 * half]).abs().mean()
        apart = (noise[:half] - noise[half : 2 * half]).abs().mean()
        return self.mode_seeking / (images / apart + 1e-5)

    def real_batches(
        self, batch_size: int, generator: torch.Generator, device: torch.device | str
    ) -> list[Any]:
        """One epoch of the train part in shuffled batches: flat images ``(B, 784)``, or
        ``(images, labels)`` pairs for a class-conditional run (``(images, clusters)`` for a
        self-conditioned one)."""
        images, labels = self.train_part
        if self.clusters:
            labels = self.cluster_of
        paired = self.conditional or self.clusters > 0
        self.batches_per_epoch = math.ceil(images.shape[0] / batch_size)
        order = torch.randperm(images.shape[0], generator=generator)
        out: list[Any] = []
        for start in range(0, images.shape[0], batch_size):
            index = order[start : start + batch_size]
            batch = images[index].to(device)
            out.append((batch, labels[index].to(device)) if paired else batch)
        return out

    # ------------------------------------------------------------------ classes

    def labels_for(self, n: int) -> torch.Tensor:
        """The run's classes in turn: ``n`` labels (int64)."""
        cycle = torch.tensor(self.classes, dtype=torch.int64)
        return cycle.repeat(-(-n // len(self.classes)))[:n]

    def class_label(self, index: int) -> str:
        """The name of class ``index``."""
        return CLASS_NAMES[int(index)]

    def class_index(self, label: Any) -> int:
        """A class name (any case) or index -> its index; the run must know the class."""
        if not self.conditional:
            raise ConfigError("--class needs a class-conditional run (train with --conditional)")
        index = parse_class(label)
        if index not in self.classes:
            known = ", ".join(CLASS_NAMES[c] for c in self.classes)
            raise ConfigError(f"this run did not learn {CLASS_NAMES[index]!r}; it knows {known}")
        return index

    # ------------------------------------------------------------------ decoding

    def decode(self, model_space: torch.Tensor) -> torch.Tensor:
        """(N, 784) in [-1, 1] -> uint8 (N, 28, 28)."""
        return ImageDecoder()(model_space)

    def decoder(self) -> nn.Module:
        """:meth:`decode` as a module (for export)."""
        return ImageDecoder()

    # ------------------------------------------------------------------ figures

    def _class_figures(
        self, predicted: torch.Tensor, requested: torch.Tensor | None
    ) -> dict[str, float]:
        names = [CLASS_NAMES[c] for c in range(len(CLASS_NAMES))]
        coverage = figures.class_coverage(predicted, names)
        out: dict[str, float] = {
            "classes_found": float(coverage["classes_found"]),
            "min_class_share": min(coverage["shares"][CLASS_NAMES[c]] for c in self.classes),
        }
        for c in self.classes:
            out[f"share_{class_key(c)}"] = coverage["shares"][CLASS_NAMES[c]]
        if requested is not None:
            fidelity = figures.class_fidelity(predicted, requested, names)
            out["class_fidelity"] = fidelity["overall"]
            for c in self.classes:
                out[f"fidelity_{class_key(c)}"] = fidelity["per_class"].get(CLASS_NAMES[c], 0.0)
        return out

    def validation_figures(self, samples: torch.Tensor) -> dict[str, float]:
        """fid_judge of the samples against the validation part, and the class figures."""
        features, predicted = self.judge.features_and_labels(samples)
        real_features, _ = self.validation_part
        out = {"fid_judge": figures.frechet_distance(real_features, features)}
        requested = self.labels_for(samples.shape[0]) if self.conditional else None
        class_figures = self._class_figures(predicted, requested)
        out["min_class_share"] = class_figures["min_class_share"]
        if requested is not None:
            out["class_fidelity"] = class_figures["class_fidelity"]
        return out

    def _pair_figures(
        self, real: torch.Tensor, fake: torch.Tensor, real_labels: torch.Tensor | None = None
    ) -> dict[str, float]:
        """fid_judge, kid_judge, precision and recall; with ``real_labels`` (the real
        images' true classes) also ``recall_<class>``: the share of that class's real images
        the samples reach (where the generator is thin)."""
        kid, kid_se = figures.kernel_distance(real, fake, seed=KID_SEED)
        precision, reached = figures.precision_and_recalled(real, fake)
        out = {
            "fid_judge": figures.frechet_distance(real, fake),
            "kid_judge": kid,
            "kid_judge_se": kid_se,
            "precision": precision,
            "recall": float(reached.double().mean()),
        }
        if real_labels is not None:
            for c in self.classes:
                mine = reached[real_labels == c]
                if mine.numel():
                    out[f"recall_{class_key(c)}"] = float(mine.double().mean())
        return out

    def test_figures(self, samples: torch.Tensor) -> dict[str, float]:
        """Every reported figure of the samples against the test part, each with its floor
        (real training images against the test images)."""
        features, predicted = self.judge.features_and_labels(samples)
        _, test_labels, test_features, _ = self.test_part
        out = self._pair_figures(test_features, features, test_labels)
        requested = self.labels_for(samples.shape[0]) if self.conditional else None
        out.update(self._class_figures(predicted, requested))
        out.update(self._second_opinion(samples))
        out.update({f"floor_{k}": v for k, v in self.floors.items()})
        return out

    def _second_opinion(self, images: torch.Tensor) -> dict[str, float]:
        """The class shares again, by the second judge (another architecture and seed):
        ``second_share_<class>`` and ``second_min_class_share`` (none without one)."""
        if self.second_judge is None:
            return {}
        _, predicted = self.second_judge.features_and_labels(images)
        shares = self._class_figures(predicted, None)
        out = {"second_min_class_share": shares["min_class_share"]}
        out.update({f"second_{k}": v for k, v in shares.items() if k.startswith("share_")})
        return out

    @cached_property
    def floors(self) -> dict[str, float]:
        """Each figure for real images: up to 10,000 training images the judge never trained
        on (its validation split; seeded) against the test images; for fidelity, the judge's
        accuracy on the test images."""
        images, labels = self.floor_images()
        pick = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(1))
        pick = pick[:FLOOR_IMAGES]
        features, predicted = self.judge.features_and_labels(images[pick])
        _, test_labels, test_features, test_predicted = self.test_part
        out = self._pair_figures(test_features, features, test_labels)
        coverage = self._class_figures(predicted, labels[pick])
        out["min_class_share"] = coverage["min_class_share"]
        if self.second_judge is not None:  # on the images it never trained on
            held_out = self.second_judge.held_out
            if held_out is not None:
                everything, every_label = self._train_file
                second = self._keep(everything[held_out], every_label[held_out])[0]
            else:
                second = images[pick]
            out["second_min_class_share"] = self._second_opinion(second)["second_min_class_share"]
        accuracy = self._class_figures(test_predicted, test_labels)
        if self.conditional:
            out["class_fidelity"] = accuracy["class_fidelity"]
            for c in self.classes:
                out[f"fidelity_{class_key(c)}"] = accuracy[f"fidelity_{class_key(c)}"]
        return out

    @cached_property
    def _train_file(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The training images file, read once (both judges' floor images come from it)."""
        return load_split(self._folder(), "train")

    def floor_images(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Real images for the floors, uint8 ``(N, 28, 28)`` and labels: the training images
        the judge never trained on (a judge that trained on them would rate them too well).
        A judge whose run does not record its split: the GAN's train part, as before."""
        held_out = self.judge.held_out
        if held_out is None:
            images, labels = self.train_part
            return self.decode(images), labels
        images, labels = self._train_file
        if int(held_out.max()) >= images.shape[0]:
            raise DataError("the judge was trained on other training files than these")
        return self._keep(images[held_out], labels[held_out])

    def warnings(self, metrics: dict[str, Any]) -> list[str]:
        """Classes the samples almost lack (mode collapse)."""
        out: list[str] = []
        for key, who in (("min_class_share", "the judge"), ("second_min_class_share",
                                                            "the second judge")):  # fmt: skip
            share = metrics.get(key)
            if share is not None and share < 0.02 and len(self.classes) > 1:
                out.append(
                    f"{who} finds some classes in under 2% of the samples (smallest share "
                    f"{share:.1%}): the generator leaves parts of the data out (mode collapse)"
                )
        for key, what, worse in FAR_FROM_REAL:
            value, real = metrics.get(key), metrics.get(f"floor_{key}")
            if value is None or real is None:
                continue
            if (worse == "below" and value < 0.5 * real) or (
                worse == "above" and value > max(10 * real + 1, FID_WARNING)
            ):
                out.append(
                    f"{key} {value:.3g} is far from the real images' {real:.3g} ({what}): "
                    "the samples are not yet like the data; train longer or check the settings"
                )
        thin = [
            f"{CLASS_NAMES[c]} {metrics[key]:.2f} (real {metrics[f'floor_{key}']:.2f})"
            for c in self.classes
            if (key := f"recall_{class_key(c)}") in metrics
            and f"floor_{key}" in metrics
            and metrics[key] < 0.5 * metrics[f"floor_{key}"]
        ]
        if thin and len(self.classes) > 1:
            out.append(
                "the samples reach under half as many real images of these classes as real "
                f"images do (recall per class): {', '.join(thin)}"
            )
        return out

    # ------------------------------------------------------------------ description

    def splits(self) -> dict[str, Any]:
        """Where each part comes from."""
        return {
            "train": f"training images less {VALIDATION_IMAGES:,} held out (seed {SPLIT_SEED})",
            "validation": f"{VALIDATION_IMAGES:,} held-out training images (seed {SPLIT_SEED})",
            "test": "the test images",
            "classes": [CLASS_NAMES[c] for c in self.classes],
            "judge": self.judge.describe(),
        }

    sample_noun = "images"
    text_samples = False

    def write_samples(self, out: str | Path | None, samples: Any, label: Any = None) -> str:
        """Images to a ``.png`` grid or an ``.npz`` of arrays (images and their classes)."""
        if out is None:
            raise ConfigError("images need --out FILE.png (a grid) or --out FILE.npz (arrays)")
        from genlab.gan import write_images

        path = write_images(out, samples, self.sample_labels(samples.shape[0], label))
        return f"wrote {samples.shape[0]:,} images to {path}"

    def plot_walks(self, walks: torch.Tensor, out: str | Path, title: str) -> Path:
        """One row of images per walk, named by its class where the run has classes."""
        from genlab import plots

        classes = self.labels_for(len(walks)).tolist() if self.n_classes else None
        rows = [
            (f"walk {i + 1}" if classes is None else self.class_label(classes[i]), walk)
            for i, walk in enumerate(walks)
        ]
        return plots.plot_image_rows(rows, out, title, columns=walks.shape[1])

    def real_points(self, n: int) -> torch.Tensor:
        """Up to ``n`` real test images (uint8), the run's classes in turn where it can."""
        images, labels, _, _ = self.test_part
        by_class = [images[labels == c] for c in self.classes]
        longest = max(len(b) for b in by_class)
        rows = [img[k] for k in range(longest) for img in by_class if k < len(img)]
        return torch.stack(rows[:n]) if rows else images[:n]

    def describe(self) -> str:
        """One line: the images, the classes, the judge."""
        return f"{self.name}; judged by {self.judge.folder}"

    def to_dict(self) -> dict[str, Any]:
        """Plain values: the classes, conditioning, the judge's folder and hash, the data."""
        return {
            "kind": self.kind,
            "name": self.name,
            "classes": list(self.classes),
            "conditional": self.conditional,
            "clusters": self.clusters,
            "judge": str(self.judge.folder),
            "judge_sha256": self.judge.digest,
            "second_judge": None if self.second_judge is None else str(self.second_judge.folder),
            "second_judge_sha256": None if self.second_judge is None else self.second_judge.digest,
            "data_dir": self.data_dir,
            "book_reference": self.book_reference,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ImageGanData:
        """Rebuild from :meth:`to_dict` (the judge must be the same file)."""
        if not isinstance(values, dict) or values.get("kind") != cls.kind:
            raise RunFileError("the stored GAN data is not Fashion-MNIST images")
        try:
            judge = load_judge(values["judge"], expect_digest=values["judge_sha256"])
            second = values.get("second_judge")
            if second is not None:
                second = load_judge(second, expect_digest=values["second_judge_sha256"])
            return cls(
                classes=[int(c) for c in values["classes"]],
                conditional=bool(values["conditional"]),
                judge=judge,
                data_dir=values.get("data_dir"),
                clusters=int(values.get("clusters", 0)),
                second_judge=second,
            )
        except GenlabError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise RunFileError(
                f"the model file's image data description is damaged ({exc})"
            ) from exc

    # ------------------------------------------------------------------ plots

    def write_plots(
        self,
        folder: Path,
        history: list[dict[str, Any]],
        best_epoch: int,
        snapshots: list[tuple[int, torch.Tensor]],
        final: torch.Tensor,
    ) -> None:
        """Real and generated grids, per-class rows, snapshots and their animation, curves."""
        from genlab import plots
        from genlab.gan.engine import animation_frames, write_training_curves

        folder.mkdir(parents=True, exist_ok=True)
        real = self.real_points(64)
        plots.plot_image_pair(
            real,
            final[:64],
            folder / "generated.png",
            (f"real test images: {self.name}", f"generated (best generator, epoch {best_epoch})"),
        )
        _, predicted = self.judge.features_and_labels(final)
        asked = self.labels_for(final.shape[0]) if self.conditional else predicted
        rows = [(CLASS_NAMES[c], final[asked == c][:10]) for c in self.classes]
        rows = [(label, images) for label, images in rows if images.shape[0]]
        if rows:
            how = "asked for" if self.conditional else "as the judge classifies them"
            title = f"generated images by class ({how})"
            plots.plot_image_rows(rows, folder / "classes.png", title)
        write_training_curves(folder, self, history, best_epoch)
        if snapshots:
            plots.image_snapshots(animation_frames(snapshots), folder, folder / "training.gif")


# --------------------------------------------------------------------------------------------
# Building it, and the data kind (see genlab.gan.registry)
# --------------------------------------------------------------------------------------------


def make_image_gan_data(
    *,
    conditional: bool = False,
    classes: Any = None,
    judge: str | Path | None = None,
    data_dir: str | Path | None = None,
    clusters: int = 0,
    second_judge: str | Path | None = None,
    mode_seeking: float = 0.0,
    noise_scale: float = 1.0,
) -> ImageGanData:
    """The ``fashion`` data: ``classes`` (names or indices; default all ten), class-
    conditional or not (or self-conditioned on ``clusters`` k-means clusters), judged by
    ``judge`` (a classifier run; default: genlab's cached CNN, trained on first use) and
    counted again by ``second_judge`` (default: genlab's cached MLP of seed 1 when ``judge``
    is the default one; none beside a ``judge`` of your own unless you give one)."""
    chosen = parse_classes(classes)
    if conditional and clusters:  # before any judge is trained
        raise ConfigError(
            "--clusters is for unconditional runs (a --conditional run has the classes)"
        )
    if conditional and len(chosen) < 2:
        raise ConfigError("a class-conditional GAN needs at least two classes")
    find_data_dir(data_dir)  # a clear error before any judge is trained
    folder = judge if judge is not None else train_judge(default_judge_dir(), data_dir)
    if second_judge is None and judge is None:
        model, seed = SECOND_JUDGE
        second_judge = train_judge(default_judge_dir(model, seed), data_dir, model=model, seed=seed)
    return ImageGanData(
        classes=chosen,
        conditional=conditional,
        judge=load_judge(folder),
        data_dir=None if data_dir is None else str(data_dir),
        clusters=clusters,
        second_judge=None if second_judge is None else load_judge(second_judge),
        mode_seeking=mode_seeking,
        noise_scale=noise_scale,
    )


#: The Python API's options of ``fashion`` (the CLI flags' dests).
OPTIONS = ("conditional", "classes", "judge", "second_judge", "data_dir")


def _add_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data (Fashion-MNIST images)")
    group.add_argument(
        "--conditional",
        action="store_true",
        default=None,
        help="a class-conditional GAN: draw the class you ask for (gan sample --class)",
    )
    group.add_argument(
        "--classes",
        metavar="LIST",
        help="only these classes, comma-separated names or indices (e.g. sneaker,bag); "
        f"classes: {', '.join(CLASS_NAMES)}",
    )
    group.add_argument(
        "--judge",
        metavar="RUN",
        help="the 10-class classifier run that scores the images (default: genlab's CNN, "
        "trained once on the training images and cached)",
    )
    group.add_argument(
        "--second-judge",
        metavar="RUN",
        help="another 10-class classifier run that counts the classes again (default: "
        "genlab's MLP of seed 1, trained once and cached, when --judge is the default; "
        "none beside your own --judge unless given)",
    )
    group.add_argument("--data-dir", metavar="DIR", help="folder with the Fashion-MNIST files")
    plain, conditional = recommended_config("genlab"), recommended_config("genlab", True)
    networks = parser.add_argument_group("image networks (this kind's own settings)")
    networks.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        help="mlp (--g-hidden, --d-hidden; the book's image GAN) or conv (28x28 images, "
        f"--width) (default {plain.architecture}; --preset book: mlp)",
    )
    for flag, kind, metavar, text in (
        ("--width", int, "N", f"channels of the conv generator (default {plain.width})"),
        ("--d-width", int, "N", f"channels of the conv discriminator (default {plain.d_width})"),
        ("--clusters", int, "K", "self-conditioning: group the training images into K k-means "
         "clusters of their pixels (no labels) and condition the conv G and D on the cluster; G "
         "draws its cluster from its noise, so it samples like any unconditional GAN; 0 = off "
         f"(default {plain.clusters}; --conditional: {conditional.clusters})"),
        ("--mode-seeking", float, "W", "weight of a term that pushes apart G's images of the "
         "same condition made from other noise (more variety, less precision; Mao et al. "
         f"2019); 0 = off (default {plain.mode_seeking}; --preset book: 0)"),
        ("--noise-scale", float, "S", "the conv generator's noise is multiplied by S when it "
         "samples, after training (below 1: fewer odd images, less variety; training and its "
         f"checks use 1) (default {plain.noise_scale})"),
    ):  # fmt: skip
        networks.add_argument(flag, type=kind, metavar=metavar, help=text)


def _build(given: Mapping[str, Any], config: ImageGanConfig | None = None) -> ImageGanData:
    options = {k: v for k, v in given.items() if v is not None}
    if config is not None and config.architecture == "mlp" and options.get("conditional"):
        raise ConfigError(
            "the book's image GAN (--preset book) is unconditional: drop --conditional"
        )
    if config is not None and config.architecture == "mlp" and config.clusters:
        raise ConfigError("--clusters needs the conv networks (genlab's preset): drop it")
    return make_image_gan_data(
        **options,
        clusters=config.clusters if config else 0,
        mode_seeking=config.mode_seeking if config else 0.0,
        noise_scale=config.noise_scale if config else 1.0,
    )


def recommended_config(preset: str, conditional: bool = False) -> ImageGanConfig:
    """genlab's image GAN (``"genlab"``) or the book's chapter-4 GAN (``"book"``).

    ``"book"``: G 100-256-512-1024-784 (ReLU, Tanh out), D 784-1024-512-256-1 (ReLU,
    dropout 0.3; the Sigmoid is folded into the loss), Adam lr 1e-4 with default betas,
    batch 32, 50 epochs, no weight averaging (markhliu/DGAI ch05ImageGan.ipynb). Still
    genlab's: one D step on the real and the fake batch (the book takes two), checks on the
    validation part every epoch and the best generator kept.

    ``"genlab"``: the convolutional pair of :mod:`genlab.models.image_gan` (G 32 channels,
    D 64, a class projection), latent 64, batch 64, Adam lr 2e-4 with betas (0.5, 0.999), an
    exponential average of G's weights (0.99), up to 10 epochs (the default run's 10-minute
    budget on 2 cores), patience 3 checks. Unconditional runs are self-conditioned on
    :data:`DEFAULT_CLUSTERS` k-means clusters of the training images; ``conditional`` ones
    have the classes instead. For variety (issue 22), a mode-seeking term of weight
    :data:`MODE_SEEKING` in G's loss, and noise scaled by :data:`NOISE_SCALE` when the
    trained generator samples. Measured on the validation part (notes in
    :mod:`genlab.models.image_gan` and bench/image_tune.py; figures in
    bench/results/image_gan.json).
    """
    if preset == "book":
        return ImageGanConfig(
            architecture="mlp",
            latent_dim=100,
            g_hidden=(256, 512, 1024),
            d_hidden=(1024, 512, 256),
            g_activation="relu",
            d_activation="relu",
            g_out_activation="tanh",
            d_dropout=0.3,
            lr=1e-4,
            beta1=0.9,
            beta2=0.999,
            batch_size=32,
            epochs=50,
            patience=None,
            eval_every=1,
            eval_samples=2000,
            ema=0.0,
            transform="none",
            plot_every=1,
            threads=0,
            preset="book",
        )
    return ImageGanConfig(
        architecture="conv",
        width=32,
        d_width=64,
        clusters=0 if conditional else DEFAULT_CLUSTERS,
        latent_dim=64,
        lr=2e-4,
        beta1=0.5,
        beta2=0.999,
        batch_size=64,
        epochs=10,
        patience=3,
        eval_every=1,
        eval_samples=2000,
        ema=0.99,
        transform="none",
        plot_every=1,
        threads=0,
        mode_seeking=MODE_SEEKING,
        noise_scale=NOISE_SCALE,
    )


def _base_config(preset: str, given: Mapping[str, Any]) -> ImageGanConfig:
    return recommended_config(preset, conditional=bool(given.get("conditional")))


def _show(given: Mapping[str, Any]) -> tuple[torch.Tensor, list[str] | None, str]:
    images, labels = split_train(given.get("data_dir"))
    chosen = parse_classes(given.get("classes"))
    keep = torch.isin(labels, torch.tensor(chosen))
    return images[keep][:64], None, "Fashion-MNIST training images"


KINDS = (
    DataKind(
        "fashion",
        "Fashion-MNIST clothing images (28x28), unconditional (self-conditioned on k-means "
        "clusters, no labels) or class-conditional, judged by genlab's own classifier",
        OPTIONS,
        _add_flags,
        _build,
        _base_config,
        _show,
        config_class=ImageGanConfig,  # the networks' own flags: _add_flags
        help_configs=lambda: {
            "": _base_config("genlab", {}),
            "--conditional": _base_config("genlab", {"conditional": True}),
        },
        flag_notes=tuple(
            (name, f"mlp only; --preset book: {' '.join(map(str, widths))}")
            for name, widths in (
                ("g_hidden", recommended_config("book").g_hidden),
                ("d_hidden", recommended_config("book").d_hidden),
            )
        ),
    ),
)
ADAPTERS = (ImageGanData,)
