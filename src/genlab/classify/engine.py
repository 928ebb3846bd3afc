"""Training and evaluating the Fashion-MNIST classifiers: a few short plain functions."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from genlab.config import ClassifierConfig
from genlab.data.batching import batch_indices, epoch_permutation
from genlab.data.fashion_mnist import (
    IMAGE_SIZE,
    ClassificationData,
    load_classification_data,
    load_image,
)
from genlab.errors import ConfigError, DataError
from genlab.evaluation.classification import confusion_matrix, per_class_accuracy
from genlab.models.classifiers import build_classifier
from genlab.models.modes import eval_mode
from genlab.progress import Reporter
from genlab.training import runs
from genlab.training.checkpoint import Checkpoint
from genlab.training.distributed import (
    DistContext,
    ProcessGroup,
    check_global_batch,
    flat_weights,
)
from genlab.training.early_stopping import EarlyStopping
from genlab.training.loop import (
    Callback,
    EarlyStop,
    LoopResult,
    LRSchedule,
    MetricsFile,
    Progress,
    SaveCheckpoint,
    SyncStop,
    make_adam,
    run_epochs,
)

KIND = "classifier"
SINGLE = DistContext()
EVAL_BATCH = 4096
EVAL_FILE = "eval.json"
#: The split each reported figure comes from: the keys of summary.json and eval.json, and the
#: columns of metrics.csv. The model is selected (early stopping, best weights, learning-rate
#: decay) on the validation split only; the test split is used once, after training.
FIGURE_SPLIT: dict[str, str] = {
    "train_loss": "train",
    "val_loss": "validation",
    "val_accuracy": "validation",
    "best_val_loss": "validation",
    "best_epoch": "validation",
    "epochs_run": "validation",
    "stopped_early": "validation",
    "test_loss": "test",
    "test_accuracy": "test",
    "test_correct": "test",
    "test_total": "test",
    "per_class_accuracy": "test",
    "confusion_matrix": "test",
}
#: Settings that must match the stored run's on ``--resume``. ``device`` and ``data_dir`` say
#: where to run and where the files are, not what is trained: given again, they replace the
#: stored ones.
RESUME_KEYS: tuple[str, ...] = tuple(
    f.name for f in fields(ClassifierConfig) if f.name not in ("device", "threads", "data_dir")
)


def loss_function(task: str) -> nn.Module:
    """Binary: one logit per image with BCEWithLogitsLoss; multiclass: CrossEntropyLoss."""
    return nn.BCEWithLogitsLoss() if task == "binary" else nn.CrossEntropyLoss()


def _loss(
    loss_fn: nn.Module, logits: torch.Tensor, targets: torch.Tensor, task: str
) -> torch.Tensor:
    if task == "binary":
        return loss_fn(logits.squeeze(1), targets.float())
    return loss_fn(logits, targets)


def train_epoch(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    task: str,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    generator: torch.Generator,
    ctx: DistContext = SINGLE,
) -> float:
    """One pass over (x, y) in shuffled batches; returns the mean loss per image.

    With several ranks, ``batch_size`` is the global batch: this rank steps through its
    shard of the permutation in batches of ``batch_size / world_size`` (a whole number:
    :func:`~genlab.training.distributed.check_global_batch` refuses others).
    """
    model.train()
    order = epoch_permutation(x.shape[0], generator, x.device, ctx.rank, ctx.world_size)
    local_batch = batch_size // ctx.world_size
    total = torch.zeros((), device=x.device)
    for idx in batch_indices(order, local_batch):
        loss = _loss(loss_fn, model(x[idx]), y[idx], task)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * idx.shape[0]
    seen = torch.tensor(float(order.shape[0]), device=x.device)
    ctx.all_reduce_sum(total)
    ctx.all_reduce_sum(seen)
    return float(total / seen)


def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = EVAL_BATCH) -> torch.Tensor:
    """Logits for every image, in eval mode and without gradients (the model's mode is
    restored afterwards)."""
    with eval_mode(model), torch.no_grad():
        return torch.cat([model(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)])


def logits_to_labels(logits: torch.Tensor, task: str, threshold: float = 0.5) -> torch.Tensor:
    """Binary: ``sigmoid(logit) > threshold`` (the book's ``torch.where(p > 0.5, 1, 0)``);
    multiclass: argmax."""
    if task == "binary":
        return (torch.sigmoid(logits.squeeze(1)) > threshold).long()
    return logits.argmax(dim=1)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    task: str,
    threshold: float = 0.5,
    ctx: DistContext = SINGLE,
) -> dict[str, Any]:
    """Mean loss, exact accuracy (correct / all) and the predicted labels.

    With several ranks each evaluates every N-th image and the sums are all-reduced, so the
    figures are those of the whole set (``predictions`` then holds this rank's share only).
    """
    if ctx.enabled:
        x, y = x[ctx.rank :: ctx.world_size], y[ctx.rank :: ctx.world_size]
    logits = predict_logits(model, x)
    predictions = logits_to_labels(logits, task, threshold)
    loss_fn = loss_function(task)
    loss_fn.reduction = "sum"
    sums = torch.stack(
        [
            _loss(loss_fn, logits, y, task).double(),
            (predictions == y).sum().double(),
            torch.tensor(float(y.numel()), dtype=torch.float64, device=y.device),
        ]
    )
    ctx.all_reduce_sum(sums)
    return {
        "loss": float(sums[0] / sums[2]),
        "accuracy": float(sums[1] / sums[2]),
        "predictions": predictions.cpu(),
    }


@dataclass(frozen=True)
class ImagePrediction:
    """The prediction for one image file.

    ``score`` is the probability of the positive class (binary: ``score_name`` is
    ``"p(Ankle boot)"``) or the softmax probability of the predicted class (multiclass:
    ``"confidence"``). ``top`` holds the likeliest classes, most probable first, with their
    probabilities: three of ten (multiclass), or both classes (binary).
    """

    path: str
    label: str
    score: float
    score_name: str
    top: tuple[tuple[str, float], ...] = ()


@dataclass
class ClassifierRun:
    """A trained classifier, its figures, and where its files are."""

    model: nn.Module
    config: ClassifierConfig
    class_names: tuple[str, ...]
    summary: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    out_dir: Path | None = None
    rank: int = 0  # under torchrun, only rank 0's run has a summary and files

    @property
    def test_accuracy(self) -> float:
        """Exact accuracy on the test set."""
        return float(self.summary["test_accuracy"])

    @property
    def device(self) -> torch.device:
        """Where the model's weights are."""
        return next(self.model.parameters()).device

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Labels (N,) for float images in [-1, 1] of shape (N, 1, 28, 28).

        The model runs in eval mode without gradients; its own mode is restored afterwards.
        """
        shape = (1, IMAGE_SIZE, IMAGE_SIZE)
        if images.dim() != 4 or tuple(images.shape[1:]) != shape:
            raise DataError(f"images must have shape (N, 1, 28, 28), not {tuple(images.shape)}")
        logits = predict_logits(self.model, images.to(self.device, torch.float32))
        return logits_to_labels(logits, self.config.task, self.config.threshold).cpu()

    def data(self, data_dir: str | Path | None = None) -> ClassificationData:
        """The run's train/validation/test split again (its seed and sizes), on the CPU.

        ``data_dir`` replaces the folder stored in the run's config.
        """
        config = self.config
        return load_classification_data(
            config.task, data_dir or config.data_dir, config.seed, val_size=config.val_size
        )

    def evaluate(self, data_dir: str | Path | None = None, write: bool = False) -> dict[str, Any]:
        """Test figures: loss, exact accuracy, per-class accuracy, confusion matrix, and the
        split each comes from (``splits``, ``figure_split``).

        ``write=True`` also writes them to ``eval.json`` in the run folder.
        """
        data = self.data(data_dir)
        report = test_report(self.model, data.to(self.device), self.config)
        report.pop("predictions")
        report.update(split_info(data, self.config, report))
        if write:
            if self.out_dir is None:
                raise ConfigError(f"this run has no folder to write {EVAL_FILE} to")
            runs.write_json(self.out_dir / EVAL_FILE, report)
        return report

    def predict_indices(
        self, indices: Sequence[int], data_dir: str | Path | None = None
    ) -> list[tuple[str, str]]:
        """(true, predicted) class names of test images by index (0 .. test size - 1)."""
        data = self.data(data_dir)
        positions = check_indices(indices, data.test_y.numel())
        idx = torch.tensor(positions, dtype=torch.long)
        predicted = self.predict(data.test_x[idx]).tolist()
        names = self.class_names
        return [
            (names[t], names[p]) for t, p in zip(data.test_y[idx].tolist(), predicted, strict=True)
        ]

    def predict_images(
        self, paths: Sequence[str | Path], invert: bool = True
    ) -> list[ImagePrediction]:
        """Predictions for image files (any size, grayscale or colour), each with its three
        likeliest classes; the images are trimmed, centred and inverted like Fashion-MNIST's
        (see :func:`~genlab.data.fashion_mnist.load_image` for ``invert``)."""
        if isinstance(paths, (str, Path)) or not paths:
            raise ConfigError("--image needs a list of one or more image files")
        images = torch.stack([load_image(path, invert=invert) for path in paths])
        logits = predict_logits(self.model, images.to(self.device)).cpu()
        labels = logits_to_labels(logits, self.config.task, self.config.threshold)
        if self.config.task == "binary":
            scores, score_name = torch.sigmoid(logits.squeeze(1)), f"p({self.class_names[1]})"
            probabilities = torch.stack([1 - scores, scores], dim=1)
        else:
            probabilities, score_name = torch.softmax(logits, dim=1), "confidence"
            scores = probabilities.max(dim=1).values
        best = probabilities.topk(min(3, probabilities.shape[1]), dim=1)
        tops = [
            tuple((self.class_names[i], p) for i, p in zip(idx, ps, strict=True))
            for idx, ps in zip(best.indices.tolist(), best.values.tolist(), strict=True)
        ]
        return [
            ImagePrediction(str(path), self.class_names[label], float(score), score_name, top)
            for path, label, score, top in zip(
                paths, labels.tolist(), scores.tolist(), tops, strict=True
            )
        ]

    def __repr__(self) -> str:
        accuracy = self.summary.get("test_accuracy")
        figure = f", test accuracy {accuracy:.4f}" if isinstance(accuracy, float) else ""
        where = f", {self.out_dir}" if self.out_dir is not None else ""
        return f"<genlab classifier: {self.config.task} {self.config.model}{figure}{where}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{k}</td><td>{v:.4f}</td></tr>"
            if isinstance(v, float)
            else f"<tr><td>{k}</td><td>{v}</td></tr>"
            for k, v in self.summary.items()
            if not isinstance(v, (dict, list))
        )
        title = f"<b>genlab classifier</b> ({self.config.task}, {self.config.model})"
        return f"{title}<table>{rows}</table>"


def check_indices(indices: Iterable[Any], n: int) -> list[int]:
    """``indices`` as whole numbers in 0 .. n-1; a :class:`ConfigError` for the first that is
    not, or for an empty list."""
    positions = []
    for value in indices:
        try:
            position = operator.index(value)
        except TypeError:
            raise ConfigError(f"--index {value!r} is not a whole number") from None
        if not 0 <= position < n:
            raise ConfigError(
                f"--index {position} is out of range; the test set has {n} images (0..{n - 1})"
            )
        positions.append(position)
    if not positions:
        raise ConfigError("--index needs at least one test-image index")
    return positions


def split_info(
    data: ClassificationData, config: ClassifierConfig, figures: Iterable[str]
) -> dict[str, Any]:
    """``splits``: the images in each split and the seed that drew train/validation from the
    training files; ``figure_split``: the split each of ``figures`` comes from."""
    return {
        "splits": {**data.sizes(), "seed": config.seed},
        "figure_split": {key: FIGURE_SPLIT[key] for key in figures if key in FIGURE_SPLIT},
    }


def test_report(
    model: nn.Module, data: ClassificationData, config: ClassifierConfig
) -> dict[str, Any]:
    """Test figures: loss, exact accuracy, per-class accuracy and the confusion matrix."""
    result = evaluate(model, data.test_x, data.test_y, config.task, config.threshold)
    matrix = confusion_matrix(result["predictions"], data.test_y, len(data.class_names))
    return {
        "test_loss": result["loss"],
        "test_accuracy": result["accuracy"],
        "test_correct": int(matrix.diag().sum()),
        "test_total": int(data.test_y.numel()),
        "per_class_accuracy": per_class_accuracy(matrix, data.class_names),
        "confusion_matrix": matrix.tolist(),
        "predictions": result["predictions"],
    }


def save_classifier(
    path: Path, model: nn.Module, config: ClassifierConfig, class_names: tuple[str, ...]
) -> None:
    """The model file: config + weights + class names, tensors and plain values only."""
    runs.save_model_file(
        path, KIND, config.to_dict(), model.state_dict(), class_names=list(class_names)
    )


def load_classifier(path: str | Path) -> tuple[nn.Module, ClassifierConfig, tuple[str, ...]]:
    """Rebuild a classifier from its run folder or model file (on the CPU)."""
    payload = runs.load_model_file(path, KIND)
    config = ClassifierConfig.from_dict(payload["config"])
    model = build_classifier(config.model, config.task)
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError) as exc:
        raise runs.RunFileError(f"{path}: the weights do not fit a {config.model} model") from exc
    model.eval()
    return model, config, tuple(payload["class_names"])


def write_plots(
    out: Path,
    history: list[dict[str, Any]],
    result: LoopResult,
    report: dict[str, Any],
    data: ClassificationData,
) -> None:
    """Loss and accuracy curves, confusion matrix and a grid of test predictions."""
    from genlab import plots

    plots.plot_curves(
        history,
        ["train_loss", "val_loss"],
        out / "plots" / "loss.png",
        title="loss per epoch",
        best_epoch=result.best_epoch,
    )
    plots.plot_curves(
        history,
        ["val_accuracy"],
        out / "plots" / "accuracy.png",
        title="validation accuracy",
        ylabel="accuracy",
        best_epoch=result.best_epoch,
    )
    matrix = torch.tensor(report["confusion_matrix"])
    plots.plot_confusion_matrix(matrix, data.class_names, out / "plots" / "confusion_matrix.png")
    n = min(32, data.test_y.numel())
    plots.plot_prediction_grid(
        data.test_images[:n],
        data.test_y[:n].tolist(),
        report["predictions"][:n].tolist(),
        data.class_names,
        out / "plots" / "predictions.png",
    )


def train_classifier(
    config: ClassifierConfig | None = None,
    *,
    out: str | Path | None = None,
    data: ClassificationData | None = None,
    reporter: Reporter | None = None,
    overwrite: bool = False,
    plots: bool = True,
    resume: bool = False,
    requested: Mapping[str, Any] | None = None,
) -> ClassifierRun:
    """Train a classifier on Fashion-MNIST, evaluate it on the test set, save a run folder.

    ``config`` defaults to :class:`ClassifierConfig()` (10-class MLP). ``out`` (optional)
    is the run folder: ``config.json``, ``metrics.csv``, ``checkpoint.pt`` (the full state
    after each epoch), ``model.pt``, ``summary.json``, ``plots/``. ``resume=True`` goes on
    from ``out``'s checkpoint with the config stored there and ends exactly where the
    uninterrupted run would; ``requested`` (the settings the user gave, by config field) must
    then agree with it (see :func:`resumed_config`). Under torchrun the batch size must be a
    multiple of the number of processes. Returns a :class:`ClassifierRun` with the model
    (best weights restored, in eval mode) and the summary.
    """
    config = config or ClassifierConfig()
    check_global_batch(config.batch_size)  # before any process joins the group
    with (
        ProcessGroup(config.device) as (ctx, device),
        runs.open_run_dir(out if ctx.is_main else None, overwrite, resume) as out_dir,
        cpu_threads(config.threads) as threads,
    ):
        if resume and out is not None:
            config = resumed_config(out, config, requested or {})
        training = _Training(config, data, ctx, device, out_dir)
        training.threads = threads
        callbacks = training.callbacks(reporter if ctx.is_main else None, out)
        saver = callbacks[-1] if resume and isinstance(callbacks[-1], SaveCheckpoint) else None
        result = run_epochs(
            training.epoch,
            max_epochs=config.epochs,
            callbacks=callbacks,
            watched=training.model,
            resume_from=saver,
        )
        return training.finish(result, plots)


def resumed_config(
    out: str | Path, current: ClassifierConfig, requested: Mapping[str, Any]
) -> ClassifierConfig:
    """The config stored in run folder ``out``, to go on with.

    A setting in ``requested`` (config field -> value the user gave) that differs from the
    stored one is refused with a :class:`ConfigError` naming each (:data:`RESUME_KEYS`);
    ``device`` and ``threads`` are the current ones and ``data_dir``, when given, replaces
    the stored folder.
    """
    stored = runs.read_json(Path(out) / runs.CONFIG_FILE)
    runs.check_resume_flags(out, stored, requested, RESUME_KEYS)
    config = ClassifierConfig.from_dict(stored)
    config = config.with_(
        device=current.device,
        threads=current.threads,
        data_dir=requested.get("data_dir") or config.data_dir,
    )
    check_global_batch(config.batch_size)
    return config


@contextmanager
def cpu_threads(threads: int) -> Iterator[int]:
    """Run the block on ``threads`` CPU threads (0: leave torch's setting, one per core or
    what torchrun's process share gave); yields the number in use. Restored afterwards."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


class _Training:
    """One classifier run's data, model, optimizer, batch order and callbacks."""

    threads: int = 0  # the CPU threads training runs on (set by train_classifier)

    def __init__(
        self,
        config: ClassifierConfig,
        data: ClassificationData | None,
        ctx: DistContext,
        device: torch.device,
        out_dir: Path | None,
    ) -> None:
        if data is None:
            data = load_classification_data(
                config.task, config.data_dir, config.seed, val_size=config.val_size
            )
        self.config, self.data, self.ctx, self.device = config, data.to(device), ctx, device
        self.out_dir = out_dir
        torch.manual_seed(config.seed)  # weight initialisation
        self.model = build_classifier(config.model, config.task).to(device)
        # DDP syncs the gradients of the training copy; everything else uses the plain model
        self.trained = DistributedDataParallel(self.model) if ctx.enabled else self.model
        self.optimizer, self.scheduler = _optimizer(self.model, config)
        self.loss_fn = loss_function(config.task)
        self.order = torch.Generator().manual_seed(config.seed + 1)  # batch order
        if out_dir is not None:
            runs.write_json(out_dir / runs.CONFIG_FILE, config.to_dict())

    def epoch(self, epoch: int) -> dict[str, Any]:
        """One training pass, then the validation figures."""
        config, data = self.config, self.data
        train_loss = train_epoch(
            self.trained,
            data.train_x,
            data.train_y,
            config.task,
            self.loss_fn,
            self.optimizer,
            config.batch_size,
            self.order,
            self.ctx,
        )
        # Model selection (early stopping, best weights, lr decay) sees the validation split
        # only; the test split is evaluated once, after training (test_report).
        val = evaluate(self.model, data.val_x, data.val_y, config.task, config.threshold, self.ctx)
        return {"train_loss": train_loss, "val_loss": val["loss"], "val_accuracy": val["accuracy"]}

    def callbacks(self, reporter: Reporter | None, run_path: str | Path | None) -> list[Callback]:
        """Early stopping, lr decay, progress, metrics file, rank sync, checkpoint (last)."""
        config = self.config
        stopper = EarlyStopping(config.patience, config.min_delta, "min")
        show = ("train_loss", "val_loss", "val_accuracy")
        out: list[Callback] = [
            EarlyStop(stopper, "val_loss", self.model, restore_best=config.restore_best),
            LRSchedule(self.scheduler, self.optimizer, "val_loss"),
            Progress(reporter, f"{config.task} {config.model}", show),
            MetricsFile(None if self.out_dir is None else self.out_dir / runs.METRICS_FILE),
            SyncStop(lambda stop: self.ctx.broadcast_flag(stop, self.device)),
        ]
        if run_path is not None:  # every rank restores; only rank 0 writes
            checkpoint = Checkpoint(
                run_path,
                {"model": self.model},
                {"optimizer": self.optimizer},
                {"batch_order": self.order},
                writer=self.ctx.is_main,
            )
            out.append(SaveCheckpoint(checkpoint, out))
        return out

    def finish(self, result: LoopResult, plots: bool) -> ClassifierRun:
        """The test figures (rank 0), the summary and the run folder's files."""
        ctx, data = self.ctx, self.data
        consistent = ctx.same_everywhere(flat_weights(self.model))
        self.model.eval()  # returned ready for inference, as load() gives it
        run = ClassifierRun(
            model=self.model,
            config=self.config,
            class_names=data.class_names,
            history=result.history,
            rank=ctx.rank,
        )
        if not ctx.is_main:
            return run
        report = test_report(self.model, data, self.config)
        where = {
            "device": str(self.device),
            "threads": self.threads or torch.get_num_threads(),
            "world_size": ctx.world_size,
            "ranks_consistent": consistent,
        }
        run.summary = run_summary(self.config, result, report, data, where)
        if self.out_dir is not None:
            run.out_dir = self.out_dir
            _write_run_files(self.out_dir, run, result, report, data, plots)
        return run


def _optimizer(
    model: nn.Module, config: ClassifierConfig
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.ReduceLROnPlateau | None]:
    """Adam, and optionally a learning rate multiplied by ``lr_decay`` after ``lr_patience``
    epochs without a better validation loss (ReduceLROnPlateau; its state is checkpointed)."""
    optimizer = make_adam(model.parameters(), config.lr)
    if config.lr_decay <= 0:
        return optimizer, None
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=config.lr_decay, patience=config.lr_patience
    )
    return optimizer, scheduler


def run_summary(
    config: ClassifierConfig,
    result: LoopResult,
    report: Mapping[str, Any],
    data: ClassificationData,
    where: Mapping[str, Any],
) -> dict[str, Any]:
    """``summary.json``: how training went, the test figures, the splits each figure comes
    from, and where it ran (``where``: device, threads, world_size, ranks_consistent;
    ``threads``: the CPU threads training ran on, ``--threads`` or torch's own choice)."""
    figures = {k: v for k, v in report.items() if k != "predictions"}
    return {
        "kind": KIND,
        "task": config.task,
        "model": config.model,
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "best_val_loss": result.best_value,
        **figures,
        "train_seconds": result.train_seconds,
        "seconds_per_epoch": result.seconds_per_epoch,
        "seed": config.seed,
        **split_info(data, config, FIGURE_SPLIT),
        "device": where["device"],
        "threads": where.get("threads", config.threads),
        "restored_best": config.restore_best,
        "world_size": where["world_size"],
        "ranks_consistent": where["ranks_consistent"],
        "config": config.to_dict(),
        "versions": runs.versions(),
    }


def _write_run_files(
    out_dir: Path,
    run: ClassifierRun,
    result: LoopResult,
    report: Mapping[str, Any],
    data: ClassificationData,
    plots: bool,
) -> None:
    save_classifier(out_dir / runs.MODEL_FILE, run.model, run.config, data.class_names)
    if plots:
        write_plots(out_dir, run.history, result, dict(report), data)
    runs.write_json(
        out_dir / "confusion_matrix.json",
        {"class_names": list(data.class_names), "matrix": report["confusion_matrix"]},
    )
    runs.write_json(out_dir / runs.SUMMARY_FILE, run.summary)
