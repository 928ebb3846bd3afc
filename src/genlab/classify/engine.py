"""Training and evaluating the Fashion-MNIST classifiers: a few short plain functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from genlab.config import ClassifierConfig
from genlab.data.batching import batch_indices, epoch_permutation
from genlab.data.fashion_mnist import ClassificationData, load_classification_data
from genlab.evaluation.classification import confusion_matrix, per_class_accuracy
from genlab.models.classifiers import build_classifier
from genlab.progress import Reporter
from genlab.training import runs
from genlab.training.checkpoint import Checkpoint
from genlab.training.distributed import DistContext, ProcessGroup, flat_weights
from genlab.training.early_stopping import EarlyStopping
from genlab.training.loop import LoopResult, make_adam, run_epochs

KIND = "classifier"
SINGLE = DistContext()
EVAL_BATCH = 4096


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
    shard of the permutation in batches of ``batch_size // world_size``.
    """
    model.train()
    order = epoch_permutation(x.shape[0], generator, x.device, ctx.rank, ctx.world_size)
    local_batch = max(1, batch_size // ctx.world_size)
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


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = EVAL_BATCH) -> torch.Tensor:
    """Logits for every image, in eval mode and without gradients."""
    model.eval()
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

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Labels for float images in [-1, 1] of shape (N, 1, 28, 28)."""
        return logits_to_labels(
            predict_logits(self.model, images), self.config.task, self.config.threshold
        )

    def predict_indices(self, indices: list[int]) -> list[tuple[str, str]]:
        """(true, predicted) class names of test images by index."""
        from genlab.classify import predict_indices

        return predict_indices(self, indices)

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
) -> ClassifierRun:
    """Train a classifier on Fashion-MNIST, evaluate it on the test set, save a run folder.

    ``config`` defaults to :class:`ClassifierConfig()` (10-class MLP). ``out`` (optional)
    is the run folder: ``config.json``, ``metrics.csv``, ``checkpoint.pt`` (the full state
    after each epoch), ``model.pt``, ``summary.json``, ``plots/``. ``resume=True`` goes on
    from ``out``'s checkpoint with the config stored there (``config`` is ignored) and ends
    exactly where the uninterrupted run would. Returns a :class:`ClassifierRun` with the
    model (best weights restored) and the summary.
    """
    config = config or ClassifierConfig()
    with (
        ProcessGroup(config.device) as (ctx, device),
        runs.open_run_dir(out if ctx.is_main else None, overwrite, resume) as out_dir,
    ):
        if resume and out is not None:
            config = ClassifierConfig.from_dict(runs.read_json(Path(out) / runs.CONFIG_FILE))
        return _train_classifier(
            config,
            out_dir,
            data,
            reporter if ctx.is_main else None,
            plots,
            resume,
            ctx,
            device,
            out,
        )


def _train_classifier(
    config: ClassifierConfig,
    out_dir: Path | None,
    data: ClassificationData | None,
    reporter: Reporter | None,
    plots: bool,
    resume: bool,
    ctx: DistContext,
    device: torch.device,
    run_path: str | Path | None,
) -> ClassifierRun:
    if data is None:
        data = load_classification_data(
            config.task, config.data_dir, config.seed, val_size=config.val_size
        )
    data = data.to(device)
    torch.manual_seed(config.seed)  # weight initialisation
    model = build_classifier(config.model, config.task).to(device)
    trained = DistributedDataParallel(model) if ctx.enabled else model  # syncs gradients
    optimizer = make_adam(model.parameters(), config.lr)
    # Optional: multiply the learning rate by lr_decay after lr_patience epochs without a
    # better validation loss (ReduceLROnPlateau); its state is part of the checkpoint.
    scheduler = (
        torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=config.lr_decay, patience=config.lr_patience
        )
        if config.lr_decay > 0
        else None
    )
    loss_fn = loss_function(config.task)
    generator = torch.Generator().manual_seed(config.seed + 1)  # batch order
    stopper = EarlyStopping(config.patience, config.min_delta, "min")
    checkpoint = None
    if out_dir is not None:
        runs.write_json(out_dir / runs.CONFIG_FILE, config.to_dict())
    if run_path is not None:  # every rank restores; only rank 0 writes
        checkpoint = Checkpoint(
            run_path,
            {"model": model},
            {"optimizer": optimizer, **({"scheduler": scheduler} if scheduler else {})},
            {"batch_order": generator},
            writer=ctx.is_main,
        )

    def one_epoch(epoch: int) -> dict[str, Any]:
        train_loss = train_epoch(
            trained,
            data.train_x,
            data.train_y,
            config.task,
            loss_fn,
            optimizer,
            config.batch_size,
            generator,
            ctx,
        )
        val = evaluate(model, data.val_x, data.val_y, config.task, config.threshold, ctx)
        if scheduler is not None:
            scheduler.step(val["loss"])
        return {
            "train_loss": train_loss,
            "val_loss": val["loss"],
            "val_accuracy": val["accuracy"],
            "lr": optimizer.param_groups[0]["lr"],
        }

    def after_epoch(epoch: int, history: list[dict[str, Any]], stop: bool) -> None:
        if out_dir is not None:
            runs.write_metrics_csv(out_dir / runs.METRICS_FILE, history)

    result = run_epochs(
        one_epoch,
        max_epochs=config.epochs,
        stopper=stopper,
        monitor="val_loss",
        watched=model,
        restore_best=config.restore_best,
        reporter=reporter,
        description=f"{config.task} {config.model}",
        show=("train_loss", "val_loss", "val_accuracy"),
        on_epoch_end=after_epoch,
        checkpoint=checkpoint,
        resume=resume,
        sync_stop=lambda stop: ctx.broadcast_flag(stop, device),
    )
    consistent = ctx.same_everywhere(flat_weights(model))
    if not ctx.is_main:
        return ClassifierRun(
            model=model,
            config=config,
            class_names=data.class_names,
            history=result.history,
            rank=ctx.rank,
        )
    report = test_report(model, data, config)
    summary = {
        "kind": KIND,
        "task": config.task,
        "model": config.model,
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "best_val_loss": result.best_value,
        **{k: v for k, v in report.items() if k != "predictions"},
        "train_seconds": result.train_seconds,
        "seconds_per_epoch": result.seconds_per_epoch,
        "seed": config.seed,
        "device": str(device),
        "restored_best": config.restore_best,
        "world_size": ctx.world_size,
        "ranks_consistent": consistent,
        "config": config.to_dict(),
        "versions": runs.versions(),
    }
    run = ClassifierRun(
        model=model,
        config=config,
        class_names=data.class_names,
        summary=summary,
        history=result.history,
        out_dir=out_dir,
    )
    if out_dir is not None:
        save_classifier(out_dir / runs.MODEL_FILE, model, config, data.class_names)
        if plots:
            write_plots(out_dir, result.history, result, report, data)
        runs.write_json(
            out_dir / "confusion_matrix.json",
            {"class_names": list(data.class_names), "matrix": report["confusion_matrix"]},
        )
        runs.write_json(out_dir / runs.SUMMARY_FILE, summary)
    return run
